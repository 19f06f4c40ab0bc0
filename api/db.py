"""Database engine, sessions and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from starlette.concurrency import run_in_threadpool
from typing_extensions import ParamSpec

if TYPE_CHECKING:  # SQLAlchemy 1.4 ships no types: the declarative base as mypy should see it

    class Base:
        __tablename__: str
        metadata: Any

        def __init__(self, **columns: Any) -> None: ...

else:
    Base = declarative_base()
T = TypeVar("T")
P = ParamSpec("P")
MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK_KEY = 0x4166746572  # "After": any fixed number no other advisory lock uses
MAX_ID = 2**63 - 1  # the largest integer id SQLite and PostgreSQL store: bound id parameters by it


def make_engine(url: str, synchronous: str = "FULL") -> sa.engine.Engine:
    """`synchronous` applies to SQLite only: FULL (the default) makes a commit survive a power
    loss, which escalations need; NORMAL suits data that can be rebuilt (Rasa's trackers)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, synchronous)
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def _sqlite_engine(url: str, synchronous: str) -> sa.engine.Engine:
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    path = sa.engine.make_url(url).database
    in_memory = not path or path == ":memory:"
    if not in_memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # SQLAlchemy 1.4 gives file SQLite a NullPool: a connection opened and closed per session,
    # each open re-reading the schema and WAL index. Keeping a few open is part of what took
    # throughput at 8 concurrent conversations from 0.90x to 1.11x of plain Rasa (make bench).
    pooling = {} if in_memory else {"poolclass": sa.pool.QueuePool, "pool_size": 8, "max_overflow": 8}
    engine = sa.create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 15}, **pooling)

    def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: sa.engine.Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def off_loop(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Blocking work (database, files) on a worker thread, off the event loop that serves every
    conversation. Routes are plain `def` functions (FastAPI runs those in its thread pool);
    this is for the few async paths: a patient message, the outbox worker, the live stream."""
    return await run_in_threadpool(work, *args, **kwargs)


async def in_transaction(
    factory: sessionmaker,
    work: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`work(session, *args)` as one transaction, off the event loop."""

    def run() -> T:
        with transaction(factory) as session:
            return work(session, *args, **kwargs)

    return await off_loop(run)


def migrate(engine: sa.engine.Engine) -> None:
    """Apply Alembic migrations up to head (run at start-up)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several workers and replicas start together: one migrates, the others wait for its
            # commit and then find the schema at head (PostgreSQL's DDL is transactional).
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
