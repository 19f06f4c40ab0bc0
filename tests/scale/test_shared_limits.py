"""One rate-limit budget across instances (and a per-process one when Redis is down)."""

from __future__ import annotations

import pytest

from api.ratelimit import RateLimits
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
def test_the_login_limit_holds_across_two_limiters(redis_url):
    a = RateLimits("5/minute", "100/minute", "3/minute", redis_url)
    b = RateLimits("5/minute", "100/minute", "3/minute", redis_url)
    assert [(a, b)[n % 2].hit("login", "nurse@clinic.test") for n in range(5)] == [True] * 3 + [False] * 2


def test_redis_down_falls_back_to_a_per_process_limit():
    limits = RateLimits("2/minute", "100/minute", "3/minute", "redis://127.0.0.1:1/0")
    assert [limits.hit("patient", "p1") for _ in range(3)] == [True, True, False]
