"""The audit trail for a privacy officer: filters, export, and append-only storage (AUD-1..3)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from tests.staff.conftest import audit_rows

AUDIT = "/api/v1/audit-events"


@pytest.fixture
def history(client, nurse, nurse_headers, escalation):
    """A little activity: a failed login, a view, an acknowledge."""
    client.post("/api/v1/staff/session", json={"email": "intruder@example.org", "password": "x" * 12})
    client.get(f"/api/v1/escalations/{escalation}", headers=nurse_headers)
    client.post(f"/api/v1/escalations/{escalation}/acknowledge", headers=nurse_headers)
    return escalation


def _items(client, headers, **params):
    response = client.get(AUDIT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_rows_carry_every_aud1_field(client, admin_headers, history, nurse):
    [row] = _items(client, admin_headers, action="escalation.acknowledge")
    assert row["actor_id"] == nurse and row["actor_role"] == "nurse" and row["outcome"] == "success"
    assert row["object_type"] == "escalation" and row["object_id"] == history
    assert row["request_id"] and row["client_address"] == "testclient"
    assert dt.datetime.fromisoformat(row["at"]).utcoffset() == dt.timedelta(0)


def test_filter_by_actor(client, admin_headers, history, nurse):
    assert {i["actor_id"] for i in _items(client, admin_headers, actor=nurse)} == {nurse}
    [failed] = _items(client, admin_headers, actor="intruder@example.org")
    assert (failed["action"], failed["outcome"]) == ("staff.login", "failure")


def test_filter_by_action_and_object(client, admin_headers, history):
    actions = {i["action"] for i in _items(client, admin_headers, object_type="escalation", object_id=history)}
    assert actions == {"escalation.acknowledge"}
    assert len(_items(client, admin_headers, action="transcript.view")) == 1


def test_filter_by_time(client, admin_headers, history):
    now = dt.datetime.now(dt.timezone.utc)
    assert _items(client, admin_headers, since=(now + dt.timedelta(minutes=1)).isoformat()) == []
    assert _items(client, admin_headers, until=(now - dt.timedelta(minutes=1)).isoformat()) == []
    assert len(_items(client, admin_headers, since=(now - dt.timedelta(minutes=5)).isoformat())) >= 5


def test_newest_first_with_keyset_pages(client, admin_headers, history):
    first = client.get(AUDIT, params={"limit": 2}, headers=admin_headers).json()
    ids = [i["id"] for i in first["items"]]
    assert ids == sorted(ids, reverse=True) and first["next_before_id"] == ids[-1]
    second = _items(client, admin_headers, limit=2, before_id=first["next_before_id"])
    assert all(i["id"] < ids[-1] for i in second)
    assert client.get(AUDIT, params={"limit": 501}, headers=admin_headers).status_code == 422


def test_reading_the_trail_is_itself_audited(client, ctx, admin, admin_headers):
    client.get(AUDIT, headers=admin_headers)
    [row] = audit_rows(ctx, action="audit.query")
    assert (row.actor_id, row.actor_role, row.outcome) == (admin, "admin", "success")


def test_export_is_csv_and_is_audited(client, ctx, admin, admin_headers, history):
    response = client.get(f"{AUDIT}/export", params={"action": "staff.login"}, headers=admin_headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["action"] for r in rows} == {"staff.login"} and len(rows) == 3  # nurse, admin, intruder
    assert [r.actor_id for r in audit_rows(ctx, action="audit.export")] == [admin]


def test_export_neutralises_spreadsheet_formulas(client, admin_headers):
    client.post("/api/v1/staff/session", json={"email": "=cmd()@evil.example", "password": "x" * 12})
    text = client.get(f"{AUDIT}/export", params={"action": "staff.login"}, headers=admin_headers).text
    assert "'=cmd()@evil.example" in text


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET outcome = 'success'", "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_audit_rows(ctx, history, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with ctx.engine.begin() as connection:
            connection.execute(sa.text(statement))
