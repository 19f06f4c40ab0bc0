"""The benchmark plays the patient portal: the service it starts accepts the tokens it signs."""

from __future__ import annotations

import pytest

from aftercare_tools.benchmark.systems import BenchPortal
from api.errors import ApiError
from api.identity import verify_patient_token
from api.settings import Settings


def _service_settings(monkeypatch, environment: dict[str, str]) -> Settings:
    """The settings `aftercare serve` reads when started with this environment."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_the_service_started_with_the_portal_environment_accepts_its_tokens(monkeypatch):
    portal = BenchPortal()
    settings = _service_settings(monkeypatch, portal.environment())
    assert verify_patient_token(portal.mint("bench-coldstart-0"), settings) == "bench-coldstart-0"


def test_each_run_has_its_own_key(monkeypatch):
    """A token of one run (or the development key's) is refused by a service started by another."""
    settings = _service_settings(monkeypatch, BenchPortal().environment())
    with pytest.raises(ApiError, match="signature"):
        verify_patient_token(BenchPortal().mint("bench-1"), settings)
