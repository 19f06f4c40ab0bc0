"""Escalations that could not be written because the database failed.

Safety rule: no escalation is lost. When the transaction fails, the escalation (and the patient
message that raised it) is appended to a local file with owner-only permissions, and replayed
into the database at the next start and before the next successful write.

Several workers of one replica share the file: an exclusive `flock` on a sidecar lock file
covers every append and every replay (read, write, commit, delete), so an entry is replayed
once and none is appended between a replay's read and its delete.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from api.conversations import repository
from api.db import transaction
from api.escalations.service import open_escalation
from bot.triage.vocabulary import EscalationTier, Tier

log = logging.getLogger("aftercare.spool")
_lock = threading.Lock()


class EscalationSpool:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def save(self, conversation_id: str, text: str, tier: str, signs: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = json.dumps({"conversation_id": conversation_id, "text": text, "tier": tier, "signs": signs})
        with self._exclusive():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as spool:
                spool.write(entry + "\n")
                spool.flush()
                os.fsync(spool.fileno())

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Held by one thread of one process at a time (flock alone is per open file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock:
            fd = os.open(f"{self.path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def pending(self) -> bool:
        return self.path.exists()

    def replay(self, sessions: sessionmaker, notify_webhook: bool) -> int:
        """Writes every spooled escalation in one transaction; the file goes only after commit."""
        with self._exclusive():
            if not self.path.exists():
                return 0
            entries = [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
            with transaction(sessions) as session:
                for entry in entries:
                    message = repository.add_message(
                        session,
                        entry["conversation_id"],
                        "patient",
                        entry["text"],
                        Tier.NONE.value if entry["tier"] == EscalationTier.CALLBACK else entry["tier"],
                    )
                    open_escalation(
                        session, entry["conversation_id"], message.id, entry["tier"], entry["signs"], notify_webhook
                    )
            self.path.unlink()
        log.warning("replayed spooled escalations", extra={"attempts": len(entries)})
        return len(entries)
