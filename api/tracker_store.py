"""Rasa's SQL tracker store on the service's own database."""
from __future__ import annotations

from sqlalchemy.engine import make_url


def build_tracker_store(database_url: str):
    from rasa.core.tracker_store import SQLTrackerStore

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SQLTrackerStore(dialect="sqlite", db=url.database)
    return SQLTrackerStore(
        dialect=url.drivername,
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username,
        password=url.password,
        query=dict(url.query),
    )
