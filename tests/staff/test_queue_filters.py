"""The queue API at scale: filters, sorts, counts per tier and cursor pagination (no cap)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.conversations import repository
from api.db import transaction
from api.escalations.service import open_escalation
from tests.staff.conftest import login

BASE = "/api/v1/escalations"
TIERS = ("emergency", "call_provider", "callback")


@pytest.fixture
def many(ctx):
    """250 cases, one per conversation, over 5 patients and 3 tiers, a minute apart."""
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone.utc)
    ids = []
    with transaction(ctx.sessions) as session:
        for n in range(250):
            conversation = repository.create_conversation(session, f"patient-{n % 5}")
            message = repository.add_message(session, conversation.id, "patient", "report", "call_provider")
            row = open_escalation(session, conversation.id, message.id, TIERS[n % 3], ["fever"], False)
            row.created_at = row.tier_since = row.last_report_at = start + dt.timedelta(minutes=n)
            ids.append(row.id)
    return ids


def _all_pages(client, headers, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = client.get(BASE, params={**params, **({"cursor": cursor} if cursor else {})}, headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_cursor_pages_walk_every_case_once_past_the_old_cap(client, nurse_headers, many):
    items = _all_pages(client, nurse_headers, limit=37)
    assert len(items) == 250 and len({i["id"] for i in items}) == 250
    keys = [(i["priority"], i["created_at"]) for i in items]
    assert keys == sorted(keys)


@pytest.mark.parametrize("sort", ["oldest", "newest", "latest_report"])
def test_every_sort_pages_consistently(client, nurse_headers, many, sort):
    items = _all_pages(client, nurse_headers, limit=60, sort=sort)
    created = [i["created_at"] for i in items]
    assert len(set(i["id"] for i in items)) == 250
    assert created == sorted(created, reverse=sort != "oldest")


def test_counts_per_tier_ignore_the_tier_filter_and_total_follows_it(client, nurse_headers, many):
    page = client.get(BASE, params={"tier": "emergency", "limit": 5}, headers=nurse_headers).json()
    assert page["counts"] == {"emergency": 84, "call_provider": 83, "callback": 83}
    assert page["total"] == 84 and {i["tier"] for i in page["items"]} == {"emergency"}


def test_patient_and_date_filters(client, nurse_headers, many):
    page = client.get(
        BASE,
        params={
            "patient_id": "patient-3",
            "created_after": "2026-11-01T09:00:00+00:00",
            "created_before": "2026-11-01T10:00:00+00:00",
            "limit": 500,
        },
        headers=nurse_headers,
    ).json()
    # minutes 60..119 are in the hour; every fifth case is patient-3's (n % 5 == 3)
    assert page["total"] == 12 and len(page["items"]) == 12


def test_overdue_and_assigned_filters(client, nurse_headers, many):
    # Every case started in the past (the SLA clock of a month ago): all overdue, none held.
    assert client.get(BASE, params={"overdue": "true"}, headers=nurse_headers).json()["total"] == 250
    client.post(f"{BASE}/{many[0]}/assign", headers=nurse_headers)
    assert client.get(BASE, params={"status": "active", "assigned": "me"}, headers=nurse_headers).json()["total"] == 1
    assert (
        client.get(BASE, params={"status": "active", "assigned": "none"}, headers=nurse_headers).json()["total"] == 249
    )
    assert client.get(BASE, params={"status": "active", "overdue": "false"}, headers=nurse_headers).json()["total"] == 1


def test_a_cursor_from_another_sort_or_forged_is_422(client, nurse_headers, many):
    cursor = client.get(BASE, params={"limit": 10}, headers=nurse_headers).json()["next_cursor"]
    assert client.get(BASE, params={"cursor": cursor, "sort": "newest"}, headers=nurse_headers).status_code == 422
    assert client.get(BASE, params={"cursor": "bm9wZQ"}, headers=nurse_headers).status_code == 422


def test_the_queue_page_pages_with_a_next_link(client, nurse, many):
    login(client, "nurse@clinic.test", keep_cookie=True)
    html = client.get("/staff/").text
    assert 'id="next-page"' in html and '<span id="queue-total">250</span>' in html
