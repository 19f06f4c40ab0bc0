"""One rate-limit budget across instances (and a per-process one when Redis is down)."""

from __future__ import annotations

import uuid

import pytest

from api.ratelimit import RateLimits
from api.staff.login_guard import LoginGuard
from tests.conftest import auth, make_client


@pytest.mark.redis
def test_the_patient_limit_holds_across_two_instances(shared_settings):
    settings_a = shared_settings("a", patient_rate_limit="5/minute")
    settings_b = shared_settings("b", patient_rate_limit="5/minute")
    headers = auth(settings_a)
    with make_client(settings_a) as a, make_client(settings_b) as b:
        statuses = [(a if n % 2 else b).post("/api/v1/conversations", headers=headers).status_code for n in range(10)]
    assert statuses.count(201) == 5  # not 5 per instance
    assert statuses[5:] == [429] * 5


@pytest.mark.redis
def test_the_login_limit_holds_across_two_instances(redis_url):
    """Failed logins counted on one worker count on the other (RES-2, RES-5)."""
    a = LoginGuard("3/minute", "1000/minute", redis_url=redis_url)
    b = LoginGuard("3/minute", "1000/minute", redis_url=redis_url)
    account, client = f"nurse-{uuid.uuid4().hex}@clinic.test", "203.0.113.9"
    for n in range(3):
        assert (a, b)[n % 2].retry_after(account, client) is None
        (a, b)[n % 2].failed(account, client)
    assert a.retry_after(account, client) is not None
    assert b.retry_after(account, client) is not None


def test_redis_down_falls_back_to_a_per_process_limit():
    limits = RateLimits("2/minute", "100/minute", "3/minute", "redis://127.0.0.1:1/0")
    assert [limits.hit("patient", "p1") for _ in range(3)] == [True, True, False]
