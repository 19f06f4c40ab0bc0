from __future__ import annotations

import sqlalchemy as sa

from api.core.ids import new_id
from api.core.time import utcnow
from api.db import Base


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = sa.Column(sa.String(64), primary_key=True, default=new_id)
    email = sa.Column(sa.String(254), nullable=False, unique=True)
    name = sa.Column(sa.String(200), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)  # nurse | admin
    password_hash = sa.Column(sa.String(200), nullable=False)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = sa.Column(sa.DateTime(timezone=True))


class StaffSession(Base):
    """Server-side session, so logout and disabling end it at once (SES-1)."""

    __tablename__ = "staff_sessions"

    id = sa.Column(sa.String(64), primary_key=True)  # SHA-256 of the token, never the token
    staff_id = sa.Column(sa.String(64), sa.ForeignKey("staff_users.id"), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at = sa.Column(sa.DateTime(timezone=True))


class PasswordLink(Base):
    """A one-time set-password link (new account or reset): stored as its SHA-256 only, used
    once, and void after `expires_at` or when a newer link is issued for the same account."""

    __tablename__ = "staff_password_links"

    id = sa.Column(sa.String(64), primary_key=True)  # SHA-256 of the secret, never the secret
    staff_id = sa.Column(sa.String(64), sa.ForeignKey("staff_users.id"), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    used_at = sa.Column(sa.DateTime(timezone=True))
