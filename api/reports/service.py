"""The operations report: per ISO week and tier, how fast cases were acknowledged and resolved.

Definitions (also on the page):
- a case is an escalation, counted in the ISO week (UTC) it was raised;
- time to first acknowledgement / to resolution run from when it was raised; p50 and p90 are
  nearest-rank percentiles over the cases that got there (the smallest value with at least
  50 % / 90 % of the values at or below it);
- overdue: acknowledged later than the tier's target (AFTERCARE_SLA_*_MINUTES), or not
  acknowledged and the target has passed;
- callback requests: cases of the callback tier (a patient asking to talk to a person);
- answered without a case: conversations started that week, with at least one patient
  message, that raised no escalation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.conversations.models import Conversation, Message
from api.core.time import as_utc, utcnow
from api.escalations.models import Escalation
from api.settings import Settings
from bot.triage.vocabulary import EscalationTier

# emergency, call_provider, callback: the queue order
TIERS = tuple(t.value for t in sorted(EscalationTier, key=lambda t: t.priority))
MAX_WEEKS = 52


def nearest_rank(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)), 1) - 1]


def iso_week(moment: dt.datetime) -> str:
    year, week, _ = as_utc(moment).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(moment: dt.datetime) -> dt.datetime:
    day = as_utc(moment).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime(monday.year, monday.month, monday.day, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class TierWeek:
    week: str
    tier: str
    cases: int
    ack_p50: float | None  # minutes
    ack_p90: float | None
    resolve_p50: float | None
    resolve_p90: float | None
    overdue: int

    @property
    def overdue_share(self) -> float:
        return self.overdue / self.cases if self.cases else 0.0


@dataclass(frozen=True)
class Week:
    week: str
    cases: int
    callback_requests: int
    conversations: int
    without_case: int

    @property
    def without_case_share(self) -> float | None:
        return self.without_case / self.conversations if self.conversations else None


@dataclass(frozen=True)
class Report:
    weeks: list[Week]  # oldest first, every week of the window (empty ones included)
    rows: list[TierWeek]  # week, then tier order; only weeks and tiers with cases
    targets: dict[str, int]  # minutes per tier
    generated_at: dt.datetime


def _minutes(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (as_utc(end) - as_utc(start)).total_seconds() / 60


def build(session: Session, settings: Settings, weeks: int = 12, now: dt.datetime | None = None) -> Report:
    now = now or utcnow()
    weeks = min(max(weeks, 1), MAX_WEEKS)
    start = week_start(now) - dt.timedelta(weeks=weeks - 1)
    labels = [iso_week(start + dt.timedelta(weeks=i)) for i in range(weeks)]
    targets = {tier: settings.sla_minutes(tier) for tier in TIERS}

    cases = session.execute(
        sa.select(Escalation.tier, Escalation.created_at, Escalation.acknowledged_at, Escalation.resolved_at).where(
            Escalation.created_at >= start, Escalation.created_at <= now
        )
    ).all()
    grouped: dict[tuple[str, str], list[sa.engine.Row]] = defaultdict(list)
    for case in cases:
        grouped[(iso_week(case.created_at), case.tier)].append(case)

    rows = []
    for label in labels:
        for tier in TIERS:
            group = grouped.get((label, tier), [])
            if not group:
                continue
            acks = [m for c in group if (m := _minutes(c.created_at, c.acknowledged_at)) is not None]
            fixes = [m for c in group if (m := _minutes(c.created_at, c.resolved_at)) is not None]
            overdue = sum(1 for c in group if (_minutes(c.created_at, c.acknowledged_at or now) or 0) > targets[tier])
            rows.append(
                TierWeek(
                    label,
                    tier,
                    len(group),
                    nearest_rank(acks, 50),
                    nearest_rank(acks, 90),
                    nearest_rank(fixes, 50),
                    nearest_rank(fixes, 90),
                    overdue,
                )
            )

    escalated = sa.select(Escalation.conversation_id)
    spoke = sa.select(Message.conversation_id).where(Message.role == "patient")
    conversations = session.execute(
        sa.select(Conversation.created_at, Conversation.id.in_(escalated).label("escalated")).where(
            Conversation.created_at >= start, Conversation.created_at <= now, Conversation.id.in_(spoke)
        )
    ).all()
    talked: dict[str, list[bool]] = defaultdict(list)
    for conversation in conversations:
        talked[iso_week(conversation.created_at)].append(bool(conversation.escalated))

    summary = [
        Week(
            label,
            sum(r.cases for r in rows if r.week == label),
            sum(r.cases for r in rows if r.week == label and r.tier == "callback"),
            len(talked[label]),
            sum(1 for escalated_ in talked[label] if not escalated_),
        )
        for label in labels
    ]
    return Report(summary, rows, targets, now)
