"""Enrolled patients and their scheduled check-ins: the database is the schedule's only source
of truth (no in-memory scheduler), so restarts and extra workers lose and repeat nothing."""

from __future__ import annotations

import sqlalchemy as sa

from api.core.ids import new_id
from api.core.time import utcnow
from api.db import Base

CHECKIN_STATUSES = ("pending", "sending", "sent", "answered", "cancelled", "failed")


class Enrollment(Base):
    __tablename__ = "enrollments"

    id = sa.Column(sa.String(64), primary_key=True, default=new_id)
    external_id = sa.Column(sa.String(128), nullable=False, unique=True)  # the caller's id: idempotency
    source = sa.Column(sa.String(128), nullable=False)  # the calling system (token subject, or "csv")
    patient_id = sa.Column(sa.String(128), nullable=False, index=True)
    procedure_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    timezone = sa.Column(sa.String(64), nullable=False)
    channels = sa.Column(sa.JSON, nullable=False)
    phone_number = sa.Column(sa.String(16), index=True)
    language = sa.Column(sa.String(16), nullable=False, default="en")
    site = sa.Column(sa.String(16))
    risk_flags = sa.Column(sa.JSON, nullable=False, default=list)
    status = sa.Column(sa.String(16), nullable=False, default="active")  # active | withdrawn
    sms_opted_out_at = sa.Column(sa.DateTime(timezone=True))  # STOP received; START clears it
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (sa.UniqueConstraint("enrollment_id", "day_offset", name="uq_checkins_enrollment_day"),)

    id = sa.Column(sa.String(64), primary_key=True, default=new_id)
    enrollment_id = sa.Column(sa.String(64), sa.ForeignKey("enrollments.id"), nullable=False, index=True)
    day_offset = sa.Column(sa.Integer, nullable=False)
    due_at = sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    status = sa.Column(sa.String(16), nullable=False, default="pending", index=True)
    lease_until = sa.Column(sa.DateTime(timezone=True))  # while "sending": claimed until then
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    sent_at = sa.Column(sa.DateTime(timezone=True))
    sent_channels = sa.Column(sa.JSON)
    sms_sid = sa.Column(sa.String(64), index=True)
    sms_status = sa.Column(sa.String(16))  # Twilio's delivery status callback
    conversation_id = sa.Column(sa.String(64), sa.ForeignKey("conversations.id"))
    answered_at = sa.Column(sa.DateTime(timezone=True))
    response = sa.Column(sa.JSON)  # the structured answer (no free text: that is in the transcript)
    last_error = sa.Column(sa.String(200))
    # The one automatic reminder: claimed (lease) before it is sent, like the check-in itself.
    reminder_lease_until = sa.Column(sa.DateTime(timezone=True))
    reminder_sent_at = sa.Column(sa.DateTime(timezone=True))
    reminder_attempts = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
