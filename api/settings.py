"""Service settings from AFTERCARE_* environment variables (pydantic v1, which Rasa pins).

One object for the whole service: the clinic's own details are nested in it (`settings.clinic`,
read from the same AFTERCARE_CLINIC_*, AFTERCARE_FEVER_THRESHOLD_C ... variables), and
`create_app(settings)` hands them to everything that needs them. Nothing in api/ reads a global.
"""
from __future__ import annotations

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

    allowed_origins: str = "http://127.0.0.1:8000,http://localhost:8000"  # comma-separated
    max_text_chars: int = 2000
    max_body_bytes: int = 16 * 1024
    patient_rate_limit: str = "30/minute"
    client_rate_limit: str = "120/minute"
    login_rate_limit: str = "5/minute"

    webhook_url: str = ""  # optional outbound notification of new escalations
    webhook_key: str = DEV_WEBHOOK_KEY

    log_level: str = "INFO"

    clinic: ClinicSettings = Field(default_factory=ClinicSettings)

    class Config:
        env_prefix = "AFTERCARE_"

    @validator("environment")
    def _known_environment(cls, value: str) -> str:
        if value not in {"development", "production"}:
            raise ValueError("environment must be 'development' or 'production'")
        return value

    @root_validator(skip_on_failure=True)
    def _no_dev_secrets(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["environment"] == "production":
            dev = {DEV_PATIENT_KEY, DEV_STAFF_KEY, DEV_WEBHOOK_KEY}
            in_use = [k for k in ("staff_session_key", "webhook_key") if values[k] in dev]
            if DEV_PATIENT_KEY in _split(values["patient_token_hs256_keys"]):
                in_use.append("patient_token_hs256_keys")
            if in_use:
                raise ValueError(f"production refuses development secrets in: {', '.join(in_use)}")
        return values

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
    def origins(self) -> list[str]:
        return _split(self.allowed_origins)

    @property
    def console_url(self) -> str:
        return (self.public_url or (self.origins or ["http://127.0.0.1:8000"])[0]).rstrip("/")

    def sla_minutes(self, tier: str) -> int:
        return int(getattr(self, f"sla_{tier}_minutes"))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
