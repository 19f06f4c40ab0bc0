"""Migration 0021 on a database with triage states: a question left open before it gets its
column and the time its state was last written (so the unanswered-question pass sees it);
conversations keep their portal contact; it downgrades cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from api.db import MIGRATIONS


def _run(engine: sa.engine.Engine, step, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def test_open_questions_are_backfilled_and_contacts_kept(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/old.db")
    _run(engine, command.upgrade, "0020_triage_state")
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO conversations (id, patient_id, created_at, contact_phone) VALUES "
                "('c1', 'p1', '2026-11-01', '+1 555 0142'), ('c2', 'p2', '2026-11-01', NULL), "
                "('c3', 'p3', '2026-11-01', NULL)"
            )
        )
        db.execute(
            sa.text(
                "INSERT INTO conversation_triage_states (conversation_id, state, updated_at) VALUES "
                "('c1', '{\"pending_question\": \"temperature\"}', '2026-11-01 10:00:00'), "
                "('c2', '{\"pending_question\": null}', '2026-11-01 11:00:00'), "
                "('c3', 'not json', '2026-11-01 12:00:00')"
            )
        )
    _run(engine, command.upgrade, "head")
    with engine.connect() as db:
        states = db.execute(
            sa.text("SELECT conversation_id, pending_question, question_asked_at FROM conversation_triage_states")
        ).all()
        contacts = db.execute(sa.text("SELECT id, contact_phone, callback_asks FROM conversations ORDER BY id")).all()
    assert sorted(tuple(s) for s in states) == [
        ("c1", "temperature", "2026-11-01 10:00:00.000000"),
        ("c2", None, None),
        ("c3", None, None),
    ]
    assert [tuple(c) for c in contacts] == [("c1", "+1 555 0142", 0), ("c2", None, 0), ("c3", None, 0)]
    _run(engine, command.downgrade, "0020_triage_state")
    with engine.connect() as db:
        columns = {c["name"] for c in sa.inspect(db).get_columns("conversation_triage_states")}
    assert "question_asked_at" not in columns
