"""Two replicas (real model) behind HAProxy on one PostgreSQL and one Redis, as
deploy/compose.yaml runs them: ordering, live queue, one rate limit, a rolling restart with
SIGTERM, and kill -9 of a replica under load."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from api.db import make_engine, make_session_factory, transaction
from api.messaging.service import RASA_WINDOW_TURNS
from api.staff.accounts import create_staff
from tests.conftest import auth, settings_in
from tests.scale.cluster import Cluster
from tests.scale.conftest import emptied_redis, new_postgres_database
from tests.scale.servers import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.integration]
PATIENT_LIMIT = 40
PASSWORD = "correct horse battery staple"
WARNING = "the biopsy site is bleeding and swollen"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    database_url = new_postgres_database()
    running = Cluster(folder, database_url, emptied_redis(), f"{PATIENT_LIMIT}/minute")
    try:
        running.start("api1")
        running.start("api2")
        running.start_haproxy()
        running.wait_all_up()
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return settings_in(tmp_path_factory.mktemp("tokens"))  # the replicas' development keys


def _conversation(cluster: Cluster, headers: dict) -> str:
    response = httpx.post(f"{cluster.url}/api/v1/conversations", headers=headers, timeout=30)
    assert response.status_code == 201, response.status_code
    return str(response.json()["conversation_id"])


def _say(cluster: Cluster, headers: dict, conversation: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{cluster.url}/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers, timeout=30
    )


def _database(cluster: Cluster):
    return make_engine(cluster.database_url)


def test_one_conversation_through_both_replicas_keeps_its_turns_together(cluster, settings):
    headers = auth(settings, "ordering")
    conversation = _conversation(cluster, headers)
    results: list[int] = []
    threads = [
        threading.Thread(
            target=lambda n=n: results.append(
                _say(cluster, headers, conversation, f"can I shower today, question {n}?").status_code
            )
        )
        for n in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [200] * 12
    lines = httpx.get(
        f"{cluster.url}/api/v1/conversations/{conversation}/messages?limit=200", headers=headers, timeout=30
    ).json()["messages"]
    roles = [line["role"] for line in lines]
    assert roles.count("patient") == 12
    turns = "".join("P" if role == "patient" else "a" for role in roles)
    assert turns.startswith("P") and turns.endswith("a")
    assert "PP" not in turns  # every patient line is followed by its replies before the next one


TRACKER_TURNS = 12  # more than RASA_WINDOW_TURNS: in order inside each Rasa tracker window and across them


def _tracker_turns(cluster: Cluster, sender: str) -> list[tuple[str, list[str]]]:
    """Rasa's stored events for `sender` (the SQL tracker store in the shared PostgreSQL), cut
    into turns: (the user's text, the event types and action names from it to the next one)."""
    engine = _database(cluster)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT type_name, action_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
            {"sender": sender},
        ).all()
    engine.dispose()
    turns: list[tuple[str, list[str]]] = []
    for type_name, action_name, data in rows:
        if type_name == "user":
            turns.append((json.loads(data)["text"], []))
        elif turns:
            turns[-1][1].append(action_name if type_name == "action" else type_name)
    return turns


def test_one_conversation_sent_alternately_to_both_replicas_keeps_rasa_turns_in_order(cluster, settings):
    """Not only the transcript: in Rasa's tracker too, turn n's events (the patient's message,
    the actions, the bot's reply, back to listening) all come before turn n+1's message."""
    assert TRACKER_TURNS > RASA_WINDOW_TURNS
    headers = auth(settings, "tracker-order")
    conversation = _conversation(cluster, headers)
    texts = [f"is it ok to shower today, question number {n}?" for n in range(TRACKER_TURNS)]

    def send(n: int) -> httpx.Response:  # straight to a replica, alternating, all at once
        replica = cluster.replica_url(("api1", "api2")[n % 2])
        return httpx.post(
            f"{replica}/api/v1/conversations/{conversation}/messages",
            json={"text": texts[n]},
            headers=headers,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=TRACKER_TURNS) as pool:
        responses = list(pool.map(send, range(TRACKER_TURNS)))
    assert [r.status_code for r in responses] == [200] * TRACKER_TURNS
    assert {r.json()["answered_by"] for r in responses} == {"assistant"}  # every turn went through Rasa
    lines = httpx.get(
        f"{cluster.url}/api/v1/conversations/{conversation}/messages?limit=200", headers=headers, timeout=30
    ).json()["messages"]
    transcript = [line["text"] for line in lines if line["role"] == "patient"]
    assert sorted(transcript) == sorted(texts)

    windows = [_tracker_turns(cluster, f"{conversation}.{n}") for n in range(-(-TRACKER_TURNS // RASA_WINDOW_TURNS))]
    assert [len(window) for window in windows[:-1]] == [RASA_WINDOW_TURNS] * (len(windows) - 1)
    turns = [turn for window in windows for turn in window]
    assert [text for text, _ in turns] == transcript  # the tracker's order is the transcript's
    for text, events in turns:
        assert "bot" in events, (text, events)  # this turn's reply is in this turn
        assert events[-1] == "action_listen", (text, events)  # and it ended before the next began


def test_a_nurse_sees_escalations_raised_on_either_replica(cluster, settings):
    engine = _database(cluster)
    with transaction(make_session_factory(engine)) as session:
        create_staff(session, "nurse@clinic.test", "Nora Nurse", "nurse", PASSWORD)
    engine.dispose()
    login = httpx.post(
        f"{cluster.url}/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": PASSWORD}, timeout=30
    )
    staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
    headers = auth(settings, "live-queue")
    raised: set[str] = set()
    seen: set[str] = set()
    with (
        httpx.Client(timeout=10) as client,
        client.stream("GET", f"{cluster.url}/api/v1/escalations/stream", headers=staff) as stream,
    ):
        deadline = time.monotonic() + 60
        event = ""
        for line in stream.iter_lines():
            assert time.monotonic() < deadline, f"missing on the stream: {raised - seen}"
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "ready":
                for _ in range(4):  # round robin: two on each replica
                    conversation = _conversation(cluster, headers)
                    raised.add(_say(cluster, headers, conversation, WARNING).json()["escalation_id"])
            elif line.startswith("data:") and event == "escalation.created":
                seen.add(json.loads(line.split(":", 1)[1])["escalation_id"])
                if raised and raised <= seen:
                    break
    assert len(raised) == 4 and raised <= seen


def test_the_patient_rate_limit_holds_across_replicas(cluster, settings):
    headers = auth(settings, "rate-limit")
    statuses = [
        httpx.post(f"{cluster.url}/api/v1/conversations", headers=headers, timeout=30).status_code
        for _ in range(PATIENT_LIMIT + 10)
    ]
    assert statuses.count(201) == PATIENT_LIMIT
    assert set(statuses) == {201, 429}


class Load:
    """Patients writing through HAProxy in the background, each in their own conversation."""

    def __init__(
        self, cluster: Cluster, settings, name: str, patients: int, text: str, limit: int, pause: float = 0.0
    ) -> None:
        self.cluster, self.text, self.limit, self.pause = cluster, text, limit, pause
        self.headers = [auth(settings, f"{name}-{n}") for n in range(patients)]
        self.conversations = [_conversation(cluster, headers) for headers in self.headers]
        self.acknowledged: list[str | None] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(patients)]

    def _write(self, n: int) -> None:
        for _ in range(self.limit):  # bounded: at most `limit` messages per patient
            if self.stop.wait(self.pause):  # a pause keeps a long run under the patient rate limit
                return
            try:
                response = _say(self.cluster, self.headers[n], self.conversations[n], self.text)
            except httpx.TransportError as error:
                self.failures.append(type(error).__name__)
                continue
            if response.status_code == 200:
                self.acknowledged.append(response.json()["escalation_id"])
            else:
                self.failures.append(str(response.status_code))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def test_a_rolling_restart_with_sigterm_fails_no_request(cluster, settings):
    with Load(cluster, settings, "rolling", patients=2, text="when can I shower?", limit=200, pause=2.0) as load:
        for name in ("api1", "api2"):
            wait_for(lambda: len(load.acknowledged) >= 2, 60, "answers before the restart")
            before = len(load.acknowledged)
            cluster.stop(name, signal.SIGTERM)
            cluster.start(name)
            cluster.wait_all_up()
            wait_for(lambda: len(load.acknowledged) > before, 60, "answers after the restart")  # noqa: B023
    assert load.failures == []
    assert len(load.acknowledged) >= 4


def test_kill_9_under_load_loses_no_acknowledged_escalation(cluster, settings):
    with Load(cluster, settings, "kill", patients=3, text=WARNING, limit=12) as load:
        wait_for(lambda: len(load.acknowledged) >= 6, 120, "escalations before the kill")
        cluster.replicas["api2"].kill()  # SIGKILL: no drain, no shutdown
        cluster.replicas["api2"].wait(timeout=30)
        wait_for(lambda: not any(t.is_alive() for t in load.threads), 300, "the patients to finish")
    acknowledged = [escalation for escalation in load.acknowledged if escalation]
    assert len(acknowledged) == len(load.acknowledged) >= 6
    engine = _database(cluster)
    with engine.connect() as connection:
        stored = set(connection.execute(sa.text("SELECT id FROM escalations")).scalars())
        reports = connection.execute(sa.text("SELECT count(*) FROM escalation_reports")).scalar_one()
        doubled = connection.execute(
            sa.text("SELECT message_id FROM escalation_reports GROUP BY message_id HAVING count(*) > 1")
        ).all()
        split = connection.execute(
            sa.text("SELECT conversation_id FROM escalations GROUP BY conversation_id HAVING count(*) > 1")
        ).all()
    engine.dispose()
    assert set(acknowledged) <= stored  # every escalation a patient was told about is in the queue
    # Each acknowledged report is stored once, in its conversation's one case.
    assert reports >= len(acknowledged) and doubled == [] and split == []
    for headers, conversation in zip(load.headers, load.conversations, strict=True):  # the next message goes through
        assert _say(cluster, headers, conversation, "when can I shower?").status_code == 200
