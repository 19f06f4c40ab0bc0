"""Two processes running the same background claim at the same moment, each until nothing is
left: what the "exactly once across replicas" tests race."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.db import make_engine, make_session_factory, transaction
from tests.conftest import settings_in

HOOK = "https://hooks.clinic.example/aftercare"
Claim = Callable[..., list[dict[str, Any]]]


def _drain(claim: Claim, url: str, folder: str, ready, go, results) -> None:
    sessions = make_session_factory(make_engine(url))
    settings = settings_in(Path(folder), database_url=url, webhook_url=HOOK)
    ready.wait()
    go.wait()  # both start claiming together
    claimed = 0
    while True:
        with transaction(sessions) as session:
            events = claim(session, settings)
        if not events:
            break
        claimed += len(events)
    results.put(claimed)


def race_two_processes(claim: Claim, url: str, folder: str) -> list[int]:
    """How many rows each of two forked processes claimed; both must exit cleanly."""
    fork = multiprocessing.get_context("fork")
    ready, go, results = fork.Barrier(3), fork.Event(), fork.Queue()
    workers = [fork.Process(target=_drain, args=(claim, url, folder, ready, go, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    ready.wait()
    go.set()
    counts = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    return counts
