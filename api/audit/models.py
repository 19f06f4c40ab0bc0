from __future__ import annotations

import sqlalchemy as sa

from api.conversations.models import utcnow
from api.db import Base


class AuditEvent(Base):
    """Append-only (AUD-1..3): the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor_id = sa.Column(sa.String(254))  # staff id, or the attempted e-mail on a failed login
    actor_role = sa.Column(sa.String(16))
    action = sa.Column(sa.String(64), nullable=False, index=True)
    object_type = sa.Column(sa.String(32))
    object_id = sa.Column(sa.String(64))
    outcome = sa.Column(sa.String(16), nullable=False)  # success | failure | denied
    request_id = sa.Column(sa.String(64))
    client_address = sa.Column(sa.String(64))
