"""LOG-1: no patient text or token in any log line at the default level."""

import json
import logging

from tests.conftest import auth, make_client

CANARY = "ZEBRA-CANARY-7731"


def test_no_patient_text_or_token_in_logs(settings, assistant, capfd):
    headers = auth(settings, "patient-canary")
    token = headers["Authorization"].split()[1]
    with make_client(settings, assistant) as client:
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        for text in (
            f"hello {CANARY}",
            f"{CANARY} my site is bleeding and I have a fever",
            f"what is {CANARY}?",
            f"{CANARY} " + "x" * 2100,
        ):
            client.post(f"/api/v1/conversations/{cid}/messages", json={"text": text}, headers=headers)
        client.post("/webhooks/rest/webhook", content=f"{CANARY} not json", headers=headers)
        logging.getLogger("aftercare.test").info("test marker")
    out, err = capfd.readouterr()
    logs = out + err
    assert "test marker" in logs, "the log capture saw nothing, so it proves nothing"
    assert CANARY not in logs
    assert token not in logs


def test_log_lines_are_json_with_request_id(settings, assistant, capfd):
    with make_client(settings, assistant) as client:
        response = client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    assert response.headers["x-request-id"] == "req-12345678"
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("route") == "/healthz"]
    assert access and access[0]["request_id"] == "req-12345678"


class _QuotingAssistant:
    """Fails the way careless code does: the patient's words in the exception message."""

    async def respond(self, conversation_id, text, detection=None, assessment=None):
        raise ValueError(f"could not understand {text!r}")


def _log_lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_a_logged_exception_keeps_its_traceback_but_not_its_message(settings, capfd):
    headers = auth(settings, "patient-canary")
    with make_client(settings, _QuotingAssistant()) as client:
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        response = client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": f"{CANARY} is sore"}, headers=headers
        )
    assert response.status_code == 200 and response.json()["answered_by"] == "failsafe"
    out, err = capfd.readouterr()
    [failure] = [line for line in _log_lines(err) if "traceback" in line]
    assert failure["error_type"] == "ValueError"
    assert "in respond" in failure["traceback"] and failure["traceback"].endswith("ValueError")
    assert CANARY not in out + err


def test_an_unhandled_error_is_a_500_with_its_traceback_in_the_log(settings, monkeypatch, capfd):
    from fastapi.testclient import TestClient

    from api.conversations import service
    from api.main import create_app

    def broken_transcript(*args):
        raise RuntimeError(f"boom {CANARY}")

    monkeypatch.setattr(service, "transcript", broken_transcript)
    headers = auth(settings, "patient-canary")
    app = create_app(settings, load_assistant=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        response = client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)
    assert response.status_code == 500 and CANARY not in response.text
    out, err = capfd.readouterr()
    tracebacks = [line["traceback"] for line in _log_lines(err) if "traceback" in line]
    assert any("in broken_transcript" in t and t.endswith("RuntimeError") for t in tracebacks)
    assert CANARY not in out + err
