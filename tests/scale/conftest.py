"""Real PostgreSQL and Redis for the several-process tests. Outside CI a missing server skips
them; in CI (CI=true, where .ci/run starts both) a missing URL fails."""

from __future__ import annotations

import os
import uuid
from typing import NoReturn

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("AFTERCARE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("AFTERCARE_TEST_REDIS_URL")


def _absent(what: str, variable: str) -> NoReturn:
    message = f"{what} tests need {variable} (.ci/run starts a server and sets it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def new_postgres_database() -> str:
    """A new, empty database, so tests never see each other's rows."""
    if not PG_URL:
        _absent("PostgreSQL", "AFTERCARE_TEST_POSTGRES_URL")
    name = f"aftercare_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def emptied_redis() -> str:
    """The test Redis, emptied first (locks, rate-limit windows)."""
    if not REDIS_URL:
        _absent("Redis", "AFTERCARE_TEST_REDIS_URL")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


@pytest.fixture
def postgres_url() -> str:
    return new_postgres_database()


@pytest.fixture
def redis_url() -> str:
    return emptied_redis()


@pytest.fixture
def shared_settings(make_settings, tmp_path, postgres_url, redis_url):
    """shared_settings(name): settings for one of several app instances on the same PostgreSQL
    and Redis (each with its own spool file, as each replica has its own disk)."""
    return lambda name="a", **overrides: make_settings(
        database_url=postgres_url, redis_url=redis_url, spool_path=tmp_path / f"{name}-spool.jsonl", **overrides
    )
