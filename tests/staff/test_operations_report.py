"""The operations report computed from cases with known timestamps (nearest-rank percentiles,
overdue against the per-tier targets), its page, CSV and chart, admins only."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from api.conversations.models import Conversation, Message
from api.db import make_engine, make_session_factory, migrate, transaction
from api.escalations.models import Escalation
from api.reports import service
from bot.triage.vocabulary import EscalationTier
from tests.api.test_persistence import _fresh_postgres_schema
from tests.staff.conftest import audit_rows, login

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday in 2026-W48
W47 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # Tuesday of 2026-W47


def _minutes(start: dt.datetime, minutes: float | None) -> dt.datetime | None:
    return None if minutes is None else start + dt.timedelta(minutes=minutes)


def seed(
    sessions,
    created: dt.datetime,
    tier: str | None,
    ack: float | None = None,
    resolved: float | None = None,
    spoke: bool = True,
) -> None:
    """One conversation started at `created`; with `tier`, the case it raised at once."""
    with transaction(sessions) as session:
        conversation = Conversation(patient_id="p", created_at=created)
        session.add(conversation)
        session.flush()
        if not spoke:
            return
        message = Message(
            conversation_id=conversation.id, role="patient", text="x", triage_level="none", created_at=created
        )
        session.add(message)
        session.flush()
        if tier:
            session.add(
                Escalation(
                    conversation_id=conversation.id,
                    message_id=message.id,
                    tier=tier,
                    priority=EscalationTier(tier).priority,
                    signs=[],
                    status="resolved" if resolved else ("acknowledged" if ack else "open"),
                    created_at=created,
                    acknowledged_at=_minutes(created, ack),
                    resolved_at=_minutes(created, resolved),
                )
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    """A migrated database: SQLite, and PostgreSQL when AFTERCARE_TEST_POSTGRES_URL is set."""
    url = f"sqlite:///{tmp_path}/report.db"
    if request.param == "postgresql":
        url = _fresh_postgres_schema()  # skips without a server
    engine = make_engine(url)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def history(sessions):
    for ack, resolved in ((2, 30), (4, 60), (10, 90), (None, None)):
        seed(sessions, W47, "emergency", ack, resolved)
    seed(sessions, W47, "call_provider", 30, 120)  # exactly on target: not overdue
    seed(sessions, W47, None)
    seed(sessions, W47, None)
    seed(sessions, W47, None, spoke=False)  # opened, never written in: not counted
    seed(sessions, NOW - dt.timedelta(hours=1), "callback")  # 60 of 240 min: not overdue yet
    seed(sessions, NOW - dt.timedelta(minutes=2), "emergency")  # 2 of 5 min: not overdue yet
    seed(sessions, NOW - dt.timedelta(minutes=30), None)
    seed(sessions, dt.datetime(2026, 7, 21, tzinfo=UTC), "emergency")  # outside a 2-week window
    return sessions


def test_nearest_rank_percentiles():
    assert service.nearest_rank([], 50) is None
    assert service.nearest_rank([7.0], 90) == 7.0
    assert service.nearest_rank([10, 2, 4], 50) == 4 and service.nearest_rank([10, 2, 4], 90) == 10
    assert service.nearest_rank(list(range(1, 11)), 90) == 9 and service.nearest_rank(list(range(1, 11)), 50) == 5


def test_figures_per_week_and_tier(settings, history):
    with history() as session:
        report = service.build(session, settings, weeks=2, now=NOW)
    rows = {(r.week, r.tier): r for r in report.rows}
    assert sorted(rows) == [
        ("2026-W47", "call_provider"),
        ("2026-W47", "emergency"),
        ("2026-W48", "callback"),
        ("2026-W48", "emergency"),
    ]
    emergency = rows[("2026-W47", "emergency")]
    assert emergency.cases == 4
    assert (emergency.ack_p50, emergency.ack_p90) == (4, 10)
    assert (emergency.resolve_p50, emergency.resolve_p90) == (60, 90)
    assert emergency.overdue == 2 and emergency.overdue_share == 0.5  # 10 min late, and never acknowledged
    provider = rows[("2026-W47", "call_provider")]
    assert (provider.cases, provider.ack_p50, provider.ack_p90, provider.overdue) == (1, 30, 30, 0)
    assert rows[("2026-W48", "callback")].overdue == 0 and rows[("2026-W48", "callback")].ack_p50 is None
    assert rows[("2026-W48", "emergency")].overdue == 0
    w47, w48 = report.weeks
    assert (w47.week, w47.cases, w47.callback_requests, w47.conversations, w47.without_case) == ("2026-W47", 5, 0, 7, 2)
    assert (w48.week, w48.cases, w48.callback_requests, w48.conversations, w48.without_case) == ("2026-W48", 2, 1, 3, 1)
    assert report.targets == {"emergency": 5, "call_provider": 30, "callback": 240}


def test_the_targets_are_settings(settings, history):
    with history() as session:
        report = service.build(session, settings.copy(update={"sla_emergency_minutes": 3}), weeks=2, now=NOW)
    emergency = next(r for r in report.rows if (r.week, r.tier) == ("2026-W47", "emergency"))
    assert emergency.overdue == 3  # 4 min is late against 3


def test_empty_weeks_are_listed(ctx):
    with ctx.sessions() as session:
        report = service.build(session, ctx.settings, weeks=4, now=NOW)
    assert [w.week for w in report.weeks] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert report.rows == [] and all(w.without_case_share is None for w in report.weeks)


@pytest.fixture
def recent(ctx):
    """Cases raised minutes ago, so the page (which reports up to now) counts them."""
    now = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    seed(ctx.sessions, now - dt.timedelta(minutes=20), "emergency", ack=3, resolved=15)
    seed(ctx.sessions, now - dt.timedelta(minutes=20), "emergency", ack=9)
    seed(ctx.sessions, now - dt.timedelta(minutes=20), None)


def test_page_shows_figures_and_an_svg_chart(client, ctx, admin, recent):
    login(client, "admin@clinic.test", keep_cookie=True)
    html = client.get("/staff/admin/report").text
    week = service.iso_week(dt.datetime.now(UTC) - dt.timedelta(minutes=21))
    row = " ".join(html.split(f'data-week="{week}" data-tier="emergency"', 1)[1].split("</tr>", 1)[0].split())
    assert "<td>2</td>" in row and "3.0 min" in row and "9.0 min" in row and "50%" in row
    assert '<svg class="chart"' in html and 'class="bar-emergency"' in html and "style=" not in html
    assert [r.actor_id for r in audit_rows(ctx, action="report.view")] == [admin]


def test_csv_export_is_audited(client, ctx, admin, recent):
    login(client, "admin@clinic.test", keep_cookie=True)
    response = client.get("/staff/admin/report.csv", params={"weeks": 4})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    [emergency] = [r for r in rows if r["tier"] == "emergency"]
    assert (emergency["cases"], emergency["ack_p50_min"], emergency["ack_p90_min"]) == ("2", "3.00", "9.00")
    assert (emergency["resolve_p50_min"], emergency["overdue_share"], emergency["target_min"]) == ("15.00", "0.50", "5")
    latest = [r for r in rows if r["tier"] == "all"][-1]
    assert (latest["cases"], latest["conversations"], latest["answered_without_case_share"]) == ("2", "3", "0.33")
    assert [r.actor_id for r in audit_rows(ctx, action="report.export")] == [admin]


@pytest.mark.parametrize("path", ["/staff/admin/report", "/staff/admin/report.csv"])
def test_nurses_get_an_audited_403(client, ctx, nurse, path):
    login(client, "nurse@clinic.test", keep_cookie=True)
    assert client.get(path).status_code == 403
    assert [r.actor_id for r in audit_rows(ctx, action="authz.denied")] == [nurse]
    assert audit_rows(ctx, action="report.export") == []
