"""Reading the audit trail (admins only); the read is itself audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.audit.repository import AuditFilter, search, staff_labels
from api.audit.schemas import AuditEventOut
from api.core.audit_log import RequestContext, record


def read_trail(session: Session, actx: RequestContext, f: AuditFilter, limit: int, action: str) -> list[AuditEventOut]:
    """Reading the trail is itself an audited action (audit.query, audit.export)."""
    rows = search(session, f, limit)
    record(session, actx, action, "audit", None, "success")
    ids = {r.actor_id for r in rows} | {r.object_id for r in rows if r.object_type == "staff"}
    staff = staff_labels(session, {i for i in ids if i})
    return [AuditEventOut.build(row, staff) for row in rows]
