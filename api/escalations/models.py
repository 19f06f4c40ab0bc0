from __future__ import annotations

import sqlalchemy as sa

from api.core.ids import new_id
from api.core.time import utcnow
from api.db import Base
from bot.triage.vocabulary import EscalationStatus


class Escalation(Base):
    __tablename__ = "escalations"

    id = sa.Column(sa.String(64), primary_key=True, default=new_id)
    conversation_id = sa.Column(sa.String(64), sa.ForeignKey("conversations.id"), nullable=False, index=True)
    message_id = sa.Column(sa.Integer, sa.ForeignKey("messages.id"), nullable=False)
    tier = sa.Column(sa.String(16), nullable=False)  # an EscalationTier value
    priority = sa.Column(sa.Integer, nullable=False)  # EscalationTier.priority: the queue order
    signs = sa.Column(sa.JSON, nullable=False, default=list)
    status = sa.Column(sa.String(16), nullable=False, default=EscalationStatus.OPEN.value, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    acknowledged_at = sa.Column(sa.DateTime(timezone=True))
    acknowledged_by = sa.Column(sa.String(64))
    resolved_at = sa.Column(sa.DateTime(timezone=True))
    resolved_by = sa.Column(sa.String(64))
    resolution_note = sa.Column(sa.Text)
    # A case: later reports in the conversation attach here while it is open or acknowledged.
    last_report_at = sa.Column(sa.DateTime(timezone=True))  # the latest attached report
    report_count = sa.Column(sa.Integer, nullable=False, default=1)
    tier_since = sa.Column(sa.DateTime(timezone=True))  # the SLA clock: due at tier_since + sla(tier)
    assigned_to = sa.Column(sa.String(64), index=True)  # the nurse holding the case
    assigned_at = sa.Column(sa.DateTime(timezone=True))
    overdue_notified_at = sa.Column(sa.DateTime(timezone=True))  # the one escalation.overdue event

    # Not a column: what open_escalation did with the latest report (created or updated the case).
    announcement: str = "escalation.created"


class EscalationReport(Base):
    """Each warning-sign report in a case, the first one included: findings and time."""

    __tablename__ = "escalation_reports"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    escalation_id = sa.Column(sa.String(64), sa.ForeignKey("escalations.id"), nullable=False, index=True)
    message_id = sa.Column(sa.Integer, sa.ForeignKey("messages.id"), nullable=False)
    tier = sa.Column(sa.String(16), nullable=False)
    signs = sa.Column(sa.JSON, nullable=False, default=list)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    note = sa.Column(sa.String(200))  # what the report is when no message states it (no patient text)


class OutboxEvent(Base):
    """Notifications to deliver (webhook), written in the escalation's transaction."""

    __tablename__ = "outbox"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    topic = sa.Column(sa.String(64), nullable=False)
    payload = sa.Column(sa.JSON, nullable=False)  # ids, tier, signs: never message text
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_attempt_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = sa.Column(sa.DateTime(timezone=True))
    last_error = sa.Column(sa.String(200))
