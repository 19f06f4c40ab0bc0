"""Reading the audit trail (admins only); the read is itself audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.audit.repository import AuditFilter, search
from api.audit.schemas import AuditEventOut
from api.core.audit_log import RequestContext, record


def read_trail(
    session: Session, actx: RequestContext, f: AuditFilter, limit: int, action: str
) -> list[AuditEventOut]:
    """Reading the trail is itself an audited action (audit.query, audit.export)."""
    rows = search(session, f, limit)
    record(session, actx, action, "audit", None, "success")
    return [AuditEventOut.build(row) for row in rows]
