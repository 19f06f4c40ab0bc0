from __future__ import annotations

import uuid


def new_id() -> str:
    """A random 32-character hex id: unguessable, so an id alone reveals nothing (ID-3)."""
    return uuid.uuid4().hex
