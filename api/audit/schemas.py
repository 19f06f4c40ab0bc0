from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from api.core.audit_log import AuditEvent
from api.core.time import as_utc

FIELDS = (
    "id",
    "at",
    "actor_id",
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
    actor_id: str | None = Field(
        None, description="Staff id; on a failed login the attempted e-mail"
    )
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str = Field(..., description="success | failure | denied")
    request_id: str | None
    client_address: str | None

    @classmethod
    def build(cls, row: AuditEvent) -> AuditEventOut:
        values = {name: getattr(row, name) for name in FIELDS}
        return cls(**{**values, "at": as_utc(row.at)})


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_before_id: int | None = Field(
        None, description="Pass as before_id for the next (older) page"
    )
