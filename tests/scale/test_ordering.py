"""One conversation's messages, sent together to two app instances (as two replicas behind a
load balancer would get them), come out as patient line then its replies, never interleaved."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import auth, make_client

MESSAGES = 12


def _roles_per_turn(lines: list[dict]) -> list[list[str]]:
    turns: list[list[str]] = []
    for line in lines:
        if line["role"] == "patient":
            turns.append(["patient"])
        else:
            turns[-1].append(line["role"])
    return turns


def _send_concurrently(clients, headers, conversation):
    def send(n: int):
        client = clients[n % len(clients)]
        return client.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"text": f"when can I shower, question {n}?"},
            headers=headers,
        )

    with ThreadPoolExecutor(max_workers=MESSAGES) as pool:
        responses = list(pool.map(send, range(MESSAGES)))
    assert [r.status_code for r in responses] == [200] * MESSAGES


def _assert_turns_adjacent(client, headers, conversation):
    lines = client.get(f"/api/v1/conversations/{conversation}/messages?limit=200", headers=headers).json()["messages"]
    turns = _roles_per_turn(lines)
    assert len(turns) == MESSAGES
    # every patient line is followed by its own replies before the next patient line
    assert all(len(turn) >= 2 and set(turn[1:]) == {"assistant"} for turn in turns), turns
    assert [line["id"] for line in lines] == sorted(line["id"] for line in lines)


@pytest.mark.redis
@pytest.mark.integration
def test_messages_sent_to_two_instances_keep_their_turns_together(shared_settings, assistant):
    settings_a, settings_b = shared_settings("a"), shared_settings("b")
    headers = auth(settings_a)
    with make_client(settings_a, assistant) as a, make_client(settings_b, assistant) as b:
        conversation = a.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        _send_concurrently([a, b], headers, conversation)
        _assert_turns_adjacent(b, headers, conversation)


@pytest.mark.integration
def test_one_process_keeps_turns_together_with_its_own_locks(settings, assistant):
    headers = auth(settings)
    with make_client(settings, assistant) as client:
        conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        _send_concurrently([client], headers, conversation)
        _assert_turns_adjacent(client, headers, conversation)


@pytest.mark.integration
def test_redis_down_still_answers_and_escalates(make_settings, assistant):
    """Safety rule 3: nothing listens on port 1, so the lock cannot be taken; the patient still
    gets the call-your-provider reply and the escalation is stored."""
    settings = make_settings(redis_url="redis://127.0.0.1:1/0")
    headers = auth(settings)
    with make_client(settings, assistant) as client:
        conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        response = client.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"text": "the biopsy site is bleeding a lot"},
            headers=headers,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["triage"]["level"] != "none"
        assert body["escalation_id"] is not None
        lines = client.get(f"/api/v1/conversations/{conversation}/messages", headers=headers).json()["messages"]
        assert [line["role"] for line in lines][0] == "patient"
