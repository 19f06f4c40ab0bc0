"""Service settings from AFTERCARE_* environment variables (pydantic v1, which Rasa pins).

One object for the whole service: the clinic's own details are nested in it (`settings.clinic`,
read from the same AFTERCARE_CLINIC_*, AFTERCARE_FEVER_THRESHOLD_C ... variables), and
`create_app(settings)` hands them to everything that needs them. Nothing in api/ reads a global.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseSettings, Field, root_validator, validator

from bot.assistant.runtime import DEFAULT_MODEL
from bot.content import ClinicSettings

# Development-only secrets: fine on a laptop, refused in production (see _no_dev_secrets).
DEV_PATIENT_KEY = "dev-only-patient-token-key-change-me-000000"
DEV_STAFF_KEY = "dev-only-staff-session-key-change-me-00000"
DEV_WEBHOOK_KEY = "dev-only-webhook-signing-key-change-me-000"


class Settings(BaseSettings):
    environment: str = "development"  # development | production
    database_url: str = "sqlite:///var/aftercare.db"
    model_path: Path = DEFAULT_MODEL
    agent_timeout_seconds: float = 5.0
    spool_path: Path = Path("var/escalation-spool.jsonl")  # escalations kept while the database is down
    # Shared state for several workers or replicas: per-conversation locks, the live-queue
    # fan-out and rate limits. Empty = one process keeps them in memory (SQLite's embedded mode).
    redis_url: str = ""
    # On SIGTERM /readyz answers 503 for this long before the server stops accepting, so a load
    # balancer's health check takes the replica out first (HAProxy below checks every second).
    drain_seconds: float = 0.0

    # Patient tokens minted by the portal (ID-2). Several keys = rotation in progress.
    patient_token_hs256_keys: str = DEV_PATIENT_KEY  # comma-separated shared secrets
    patient_token_rs256_public_keys: str = ""  # comma-separated PEM file paths
    patient_token_issuer: str = "patient-portal"
    patient_token_audience: str = "marrow-aftercare"
    patient_token_max_lifetime_seconds: int = 900

    staff_session_key: str = DEV_STAFF_KEY
    staff_session_idle_minutes: int = 15
    staff_session_absolute_hours: int = 8
    staff_password_link_hours: int = 72  # a new account's or a reset's one-time link
    public_url: str = ""  # the console's address in set-password links; default: first allowed origin

    # Operations report: time to first acknowledgement before a case counts as overdue.
    sla_emergency_minutes: int = 5
    sla_call_provider_minutes: int = 30
    sla_callback_minutes: int = 240
    # "I feel hot" with no reading gets the temperature question; left unanswered this long
    # (and no case open), it opens a call-provider case (api/escalations/unanswered.py).
    unanswered_question_minutes: int = 30

    allowed_origins: str = "http://127.0.0.1:8000,http://localhost:8000"  # comma-separated
    max_text_chars: int = 2000
    max_body_bytes: int = 16 * 1024
    patient_rate_limit: str = "30/minute"
    client_rate_limit: str = "120/minute"
    login_rate_limit: str = "5/minute;20/hour"  # failed logins per (account, client address)
    login_global_failure_limit: str = "100/minute"  # failed logins service-wide

    # Front proxies whose X-Forwarded-For/-Proto are believed (NET-1): comma-separated addresses
    # or networks. Empty: none, and the audit's client address is the connecting peer.
    trusted_proxies: str = ""
    header_timeout_seconds: float = 10.0  # request line and headers must arrive within this (RES-4)
    body_timeout_seconds: float = 30.0  # and the body within this, from its first read
    keep_alive_seconds: int = 5

    webhook_url: str = ""  # optional outbound notification of new escalations
    webhook_key: str = DEV_WEBHOOK_KEY

    log_level: str = "INFO"

    # Enrollment by the clinic's integration engine (SVC-1): its own key, issuer and audience.
    service_token_hs256_keys: str = ""  # comma-separated; empty = enrollment API closed
    service_token_issuer: str = "clinic-integration"

    # Proactive check-ins: days after the procedure, at a local time in the patient's timezone
    # inside the contact window; never sent in quiet hours (a late run waits for the morning).
    checkin_offsets_days: str = "1,3,7"
    checkin_local_time: str = "10:00"
    checkin_contact_window: str = "09:00-20:00"
    checkin_quiet_hours: str = "21:00-08:00"
    checkin_no_response_hours: int = 24  # then the check-in is on the staff "no response" list
    checkin_reminder_hours: int = 4  # then one automatic reminder (inside the contact window)
    checkin_lease_seconds: int = 300  # a claimed check-in not sent by then is claimed again
    portal_url: str = "https://portal.example.org/aftercare"

    # SMS through Twilio (SMS-1). The public base URL is the one Twilio signs (behind a proxy,
    # the outside address, not the one the app sees).
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    public_base_url: str = "http://127.0.0.1:8000"

    clinic: ClinicSettings = Field(default_factory=ClinicSettings)

    class Config:
        env_prefix = "AFTERCARE_"

    @validator("environment")
    def _known_environment(cls, value: str) -> str:
        if value not in {"development", "production"}:
            raise ValueError("environment must be 'development' or 'production'")
        return value

    @validator("checkin_offsets_days")
    def _offsets_are_days(cls, value: str) -> str:
        days = [int(day) for day in _split(value)]
        if not days or any(not 0 <= day <= 90 for day in days):
            raise ValueError("checkin_offsets_days: comma-separated days between 0 and 90")
        return value

    @validator("checkin_local_time")
    def _local_time_is_a_time(cls, value: str) -> str:
        dt.time.fromisoformat(value)
        return value

    @validator("checkin_contact_window", "checkin_quiet_hours")
    def _window_is_a_range(cls, value: str) -> str:
        opens, _, closes = value.partition("-")
        dt.time.fromisoformat(opens)
        dt.time.fromisoformat(closes)
        return value

    @root_validator(skip_on_failure=True)
    def _checkin_time_is_allowed(cls, values: dict[str, Any]) -> dict[str, Any]:
        at = dt.time.fromisoformat(values["checkin_local_time"])
        if not in_window(at, values["checkin_contact_window"]) or in_window(at, values["checkin_quiet_hours"]):
            raise ValueError("checkin_local_time must be inside the contact window and outside quiet hours")
        return values

    @root_validator(skip_on_failure=True)
    def _no_dev_secrets(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["environment"] == "production":
            dev = {DEV_PATIENT_KEY, DEV_STAFF_KEY, DEV_WEBHOOK_KEY}
            in_use = [k for k in ("staff_session_key", "webhook_key") if values[k] in dev]
            if DEV_PATIENT_KEY in _split(values["patient_token_hs256_keys"]):
                in_use.append("patient_token_hs256_keys")
            if in_use:
                raise ValueError(f"production refuses development secrets in: {', '.join(in_use)}")
            _strong_keys_and_explicit_origins(values)
        return values

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def hs256_keys(self) -> list[str]:
        return _split(self.patient_token_hs256_keys)

    @property
    def rs256_public_keys(self) -> list[str]:
        return [Path(p).read_text() for p in _split(self.patient_token_rs256_public_keys)]

    @property
    def service_keys(self) -> list[str]:
        return _split(self.service_token_hs256_keys)

    @property
    def checkin_offsets(self) -> list[int]:
        return sorted({int(day) for day in _split(self.checkin_offsets_days)})

    @property
    def sms_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _split(self.trusted_proxies)

    @property
    def origins(self) -> list[str]:
        return _split(self.allowed_origins)

    @property
    def console_url(self) -> str:
        return (self.public_url or (self.origins or ["http://127.0.0.1:8000"])[0]).rstrip("/")

    def sla_minutes(self, tier: str) -> int:
        return int(getattr(self, f"sla_{tier}_minutes"))


def in_window(at: dt.time, window: str) -> bool:
    """Is the local time `at` inside "HH:MM-HH:MM"? A window may wrap midnight (21:00-08:00)."""
    opens, closes = (dt.time.fromisoformat(t) for t in window.split("-"))
    if opens <= closes:
        return opens <= at < closes
    return at >= opens or at < closes


MIN_KEY_BYTES = 32


def _strong_keys_and_explicit_origins(values: dict[str, Any]) -> None:
    """KEY-1: every signing key has at least 32 bytes (and is not one character repeated, or
    nearly); allowed origins are explicit, never `*` or `null`."""
    keys = {
        "staff_session_key": [values["staff_session_key"]],
        "webhook_key": [values["webhook_key"]],
        "patient_token_hs256_keys": _split(values["patient_token_hs256_keys"]),
        "service_token_hs256_keys": _split(values["service_token_hs256_keys"]),
    }  # empty: API closed
    weak = [
        name
        for name, group in keys.items()
        if any(len(key.encode()) < MIN_KEY_BYTES or len(set(key)) < 8 for key in group)
    ]
    if weak:
        raise ValueError(
            f"production needs keys of at least {MIN_KEY_BYTES} random bytes in: {', '.join(weak)} "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    origins = _split(values["allowed_origins"])
    if not origins or any("*" in origin or origin == "null" for origin in origins):
        raise ValueError("production needs explicit allowed_origins (no '*', no 'null')")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
