from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from api.core.audit_log import AuditEvent
from api.core.time import as_utc

FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "actor_email",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "client_address",
)


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime = Field(..., description="UTC")
    actor_id: str | None = Field(None, description="Staff id; on a failed login the attempted e-mail")
    actor_name: str | None = Field(None, description="The staff member's display name")
    actor_email: str | None = Field(None, description="The staff member's e-mail")
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    object_name: str | None = Field(None, description="For a staff account: its name")
    outcome: str = Field(..., description="success | failure | denied")
    request_id: str | None
    client_address: str | None

    @classmethod
    def build(cls, row: AuditEvent, staff: dict[str, tuple[str, str]]) -> AuditEventOut:
        """`staff`: (name, e-mail) by staff id, for the actor and a staff object."""
        actor = staff.get(row.actor_id or "")
        target = staff.get(row.object_id or "") if row.object_type == "staff" else None
        values = {name: getattr(row, name) for name in FIELDS if hasattr(AuditEvent, name)}
        return cls(
            **{**values, "at": as_utc(row.at)},
            actor_name=actor[0] if actor else None,
            actor_email=actor[1] if actor else None,
            object_name=target[0] if target else None,
        )


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_before_id: int | None = Field(None, description="Pass as before_id for the next (older) page")
