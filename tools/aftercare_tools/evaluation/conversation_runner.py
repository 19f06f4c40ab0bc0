"""Plays each evaluation conversation through the patient HTTP API, the product's real path.

POST /api/v1/conversations, then one POST .../messages per turn, so the detector safety net,
the Rasa assistant with its conversation memory, escalations and persistence are all in the
measurement. Either in process (the FastAPI app from api.main.create_app on a temporary SQLite
database, through Starlette's TestClient) or against a live `aftercare serve` (`--url`).
Each conversation belongs to its own patient, so the per-patient rate limit never trips.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aftercare_tools.evaluation.conversations import ASKS, Conversation
from aftercare_tools.evaluation.metrics import tier_value

MESSAGES_PATH = "/api/v1/conversations"
# Reply kinds that are questions even without a '?' (the ask-temperature follow-up has none).
QUESTION_KINDS = frozenset({"follow_up", "question", "clarify", "clarifying_question"})
# What a question asks, by the words it uses: reported only, never gated.
ASK_WORDS = {
    "temperature": re.compile(r"temperature|thermometer|degrees|°", re.I),
    "duration": re.compile(r"how long|minutes|pressure|pressing|stopped", re.I),
    "trend": re.compile(r"worse|better|same|getting", re.I),
    "size": re.compile(r"size|bigger|larger|spread|grow", re.I),
}
assert set(ASK_WORDS) == set(ASKS)
MAX_RATE_LIMIT_WAITS = 5


class HttpClient(Protocol):
    """The part of httpx.Client (and Starlette's TestClient) the runner uses."""

    def post(self, url: str, *, headers: Any = ..., json: Any = ...) -> Any: ...


TokenFor = Callable[[str], str]


@dataclass(frozen=True)
class TurnObservation:
    """What the API did with one turn."""

    level: str = "none"
    asked_question: bool = False
    asked: tuple[str, ...] = ()  # which of ASKS the reply's questions are about
    answered_by: str | None = None  # assistant | safety_net | failsafe
    status: int | None = None
    error: str | None = None  # the turn got no usable reply (HTTP error, transport failure)
    latency_ms: float = 0.0

    @classmethod
    def from_body(cls, body: dict[str, Any], latency_ms: float, status: int = 200) -> TurnObservation:
        replies = [r for r in body.get("replies") or [] if isinstance(r, dict)]
        if not replies:
            return cls(status=status, error="no reply", latency_ms=latency_ms)
        questions = [r for r in replies if _is_question(r)]
        return cls(
            level=tier_value((body.get("triage") or {}).get("level")),
            asked_question=bool(questions),
            asked=tuple(
                name for name, words in ASK_WORDS.items() if any(words.search(r.get("text") or "") for r in questions)
            ),
            answered_by=body.get("answered_by"),
            status=status,
            latency_ms=latency_ms,
        )


def _is_question(reply: dict[str, Any]) -> bool:
    return "?" in (reply.get("text") or "") or reply.get("kind") in QUESTION_KINDS


def play_conversations(
    client: HttpClient,
    token_for: TokenFor,
    conversations: Sequence[Conversation],
    *,
    progress: bool = True,
) -> list[tuple[Conversation, list[TurnObservation]]]:
    """Every conversation, turn by turn; a failed turn is a result, never an abort."""
    from tqdm import tqdm

    run_id = uuid.uuid4().hex[:8]
    results = []
    bar = tqdm(conversations, desc="conversations", unit="conv", file=sys.stderr, disable=not progress, leave=False)
    for conversation in bar:
        headers = {"Authorization": f"Bearer {token_for(f'eval-{run_id}-{conversation.id}')}"}
        results.append((conversation, _play_one(client, headers, conversation)))
    bar.close()
    return results


def _play_one(client: HttpClient, headers: dict[str, str], conversation: Conversation) -> list[TurnObservation]:
    started = time.perf_counter()
    try:
        created = _post(client, MESSAGES_PATH, headers, None)
    except Exception as error:  # noqa: BLE001 - transport failure: every turn is unanswered
        return [TurnObservation(error=type(error).__name__, latency_ms=_ms_since(started))] * len(conversation.turns)
    if created.status_code != 201:
        failed = TurnObservation(status=created.status_code, error=f"HTTP {created.status_code} creating")
        return [failed] * len(conversation.turns)
    path = f"{MESSAGES_PATH}/{created.json()['conversation_id']}/messages"
    observations = []
    for turn in conversation.turns:
        started = time.perf_counter()
        try:
            response = _post(client, path, headers, {"text": turn.text})
        except Exception as error:  # noqa: BLE001 - only the type: the message could quote the text
            observations.append(TurnObservation(error=type(error).__name__, latency_ms=_ms_since(started)))
            continue
        if response.status_code != 200:
            observations.append(
                TurnObservation(
                    status=response.status_code, error=f"HTTP {response.status_code}", latency_ms=_ms_since(started)
                )
            )
            continue
        observations.append(TurnObservation.from_body(response.json(), _ms_since(started), response.status_code))
    return observations


def _post(client: HttpClient, path: str, headers: dict[str, str], body: dict[str, Any] | None) -> Any:
    """One POST, waiting out a live server's rate limit (its Retry-After) a few times."""
    for _ in range(MAX_RATE_LIMIT_WAITS):
        response = client.post(path, headers=headers, json=body)
        if response.status_code != 429:
            return response
        wait = float(response.headers.get("Retry-After", "60"))
        print(f"rate limited by the server; waiting {wait:.0f} s", file=sys.stderr)
        time.sleep(wait)
    return response


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


@contextmanager
def in_process_api(assistant: Any, workdir: Path | None = None) -> Iterator[tuple[HttpClient, TokenFor]]:
    """The FastAPI app on a throw-away SQLite database, serving `assistant` (already loaded).

    Rate limits are lifted (one process sends every turn) and server errors come back as
    HTTP 500 responses instead of exceptions, so a 500 is counted, not raised.
    """
    from fastapi.testclient import TestClient

    from api.identity import mint_patient_token
    from api.main import create_app
    from api.settings import Settings

    with tempfile.TemporaryDirectory(prefix="aftercare-eval-", dir=workdir) as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/eval.db",
            spool_path=Path(tmp) / "spool.jsonl",
            patient_rate_limit="100000/minute",
            client_rate_limit="100000/minute",
            log_level="ERROR",  # the safety net's warnings would drown the progress bar
        )
        app = create_app(settings, assistant=assistant, load_assistant=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, lambda patient_id: mint_patient_token(patient_id, settings)


@contextmanager
def live_api(url: str, timeout: float = 30.0) -> Iterator[tuple[HttpClient, TokenFor]]:
    """A running `aftercare serve`; tokens are minted with the AFTERCARE_PATIENT_TOKEN_* keys
    from this environment, which must be the server's."""
    import httpx

    from api.identity import mint_patient_token
    from api.settings import Settings

    settings = Settings()
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        yield client, lambda patient_id: mint_patient_token(patient_id, settings)
