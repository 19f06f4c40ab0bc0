"""`aftercare enroll --csv FILE` and `aftercare checkins run-due [--now ISO]`.

Outside the domains on purpose: it wires enrollments (the schedule) to sms (the sender)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

CSV_LIST_SEPARATOR = ";"  # channels and risk_flags inside one CSV cell: "portal;sms"


def _iso_with_offset(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a UTC offset, e.g. 2026-12-01T10:05:00-06:00")
    return moment


def _open_database(settings: Any) -> Any:
    from api.db import make_engine, make_session_factory, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    return make_session_factory(engine)


def _row_to_fields(row: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
    for name in ("channels", "risk_flags"):
        fields[name] = [part.strip() for part in fields.get(name, "").split(CSV_LIST_SEPARATOR) if part.strip()]
    return {k: v for k, v in fields.items() if v not in ("", None) or k in ("channels", "risk_flags")}


def _describe(error: ValidationError) -> str:
    def where(error: Any) -> str:
        loc = ".".join(str(part) for part in error["loc"] if part != "__root__")
        return f"{loc}: " if loc else ""

    return "; ".join(f"{where(e)}{e['msg']}" for e in error.errors())


def _enroll_csv(args: argparse.Namespace) -> None:
    from api.core.audit_log import CLI_CONTEXT
    from api.db import transaction
    from api.enrollments.schemas import EnrollmentIn
    from api.enrollments.service import enroll
    from api.settings import Settings

    path = Path(args.csv)
    if not path.is_file():
        sys.exit(f"error: no such file: {path}")
    settings = Settings()
    sessions = _open_database(settings)
    errors = 0
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):  # line 1 is the header
            try:
                data = EnrollmentIn(**_row_to_fields(row))
            except ValidationError as error:
                errors += 1
                print(f"line {line}: error: {_describe(error)}")
                continue
            with transaction(sessions) as session:
                enrollment, created = enroll(session, data, "csv", settings, CLI_CONTEXT)
                enrollment_id = enrollment.id
            verb = "enrolled" if created else "already enrolled"
            print(f"line {line}: {verb} {data.external_id} (enrollment {enrollment_id})")
    if errors:
        sys.exit(f"{errors} row(s) not enrolled; fix them and run again (enrolled rows are not repeated)")


def _run_due(args: argparse.Namespace) -> None:
    from api.core.time import utcnow
    from api.enrollments.checkins import run_due
    from api.enrollments.reminders import send_reminders
    from api.settings import Settings
    from api.sms.client import sms_sender

    settings = Settings()
    sessions = _open_database(settings)
    now, sms = args.now or utcnow(), sms_sender(settings)
    result = run_due(sessions, settings, now, sms)
    reminded = send_reminders(sessions, settings, now, sms)
    print(
        f"sent {result.sent} check-in(s)"
        + (f", {result.failed} failed (retried later)" if result.failed else "")
        + (f", {reminded} reminder(s)" if reminded else "")
    )


def register(sub: argparse._SubParsersAction[Any]) -> None:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser("enroll", help="enroll patients for check-ins from a CSV file", formatter_class=formatter)
    p.add_argument(
        "--csv",
        required=True,
        metavar="FILE",
        help="header: external_id,patient_id,procedure_at,timezone,channels,phone_number,"
        "language,site,risk_flags (lists separated by ';')",
    )
    p.set_defaults(func=_enroll_csv)

    p = sub.add_parser("checkins", help="proactive check-ins", formatter_class=formatter)
    actions = p.add_subparsers(dest="checkins_command", required=True)
    run = actions.add_parser("run-due", help="send the check-ins due now, each exactly once", formatter_class=formatter)
    run.add_argument(
        "--now",
        type=_iso_with_offset,
        default=None,
        help="the moment to run at, ISO 8601 with offset (default: the clock)",
    )
    run.set_defaults(func=_run_due)
