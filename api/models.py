"""Every table, imported in one place for Alembic and for tests."""

from api.conversations.models import Conversation, Message, TriageState
from api.core.audit_log import AuditEvent
from api.db import Base
from api.enrollments.models import CheckIn, Enrollment
from api.escalations.models import Escalation, OutboxEvent
from api.staff.models import StaffSession, StaffUser

__all__ = [
    "AuditEvent",
    "Base",
    "CheckIn",
    "Conversation",
    "Enrollment",
    "Escalation",
    "Message",
    "OutboxEvent",
    "StaffSession",
    "StaffUser",
    "TriageState",
]
