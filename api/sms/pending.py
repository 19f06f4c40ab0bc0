"""Warning-sign texts (and STOP/START) that arrived while the database could not be reached.

Safety rule 3 (no escalation is lost): the sender already got the call-now reply; the text
waits here (owner-only file, appended and fsynced like the escalation spool) until the
database answers again, then goes to the escalation spool under the sender's conversation,
and from there into the staff queue. A number nobody enrolled has no conversation: its entry
is dropped then (it had the fixed reply with the clinic's numbers)."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from api.context import AppContext
from api.db import transaction

log = logging.getLogger("aftercare.sms")
_lock = threading.Lock()


def pending_path(ctx: AppContext) -> Path:
    spool = Path(ctx.settings.spool_path)
    return spool.with_name(f"sms-{spool.name}")


def save(ctx: AppContext, phone: str, text: str, tier: str, signs: list[str]) -> None:
    path = pending_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = json.dumps({"phone": phone, "text": text, "tier": tier, "signs": signs})
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as pending:
            pending.write(entry + "\n")
            pending.flush()
            os.fsync(pending.fileno())


OPT_OUT, OPT_IN = "stop", "start"  # a STOP or START kept the same way, applied first


def drain(ctx: AppContext, conversation_for: Any, set_opt_out: Any) -> int:
    """Moves every waiting text to the escalation spool and applies waiting STOP/START; the file
    goes only when all is done. `conversation_for(session, phone)` is the SMS service's lookup
    (None for unknown numbers); `set_opt_out(session, phone, bool)` the enrollment service's."""
    path = pending_path(ctx)
    with _lock:
        if not path.exists():
            return 0
        entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        with transaction(ctx.sessions) as session:
            found = []
            for entry in entries:
                if entry["tier"] in (OPT_OUT, OPT_IN):
                    set_opt_out(session, entry["phone"], entry["tier"] == OPT_OUT)
                else:
                    found.append((entry, conversation_for(session, entry["phone"])))
        for entry, target in found:
            if target is not None:
                ctx.spool.save(target[0], entry["text"], entry["tier"], entry["signs"])
        path.unlink()
    ctx.spool.replay(ctx.sessions, notify_webhook=bool(ctx.settings.webhook_url))
    log.warning("moved waiting sms escalations to the spool", extra={"attempts": len(entries)})
    return len(entries)
