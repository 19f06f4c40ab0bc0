"""Migration 0018 on a database with escalations: each keeps its id and gets its report row;
an acknowledged one is held by whoever acknowledged it; none is announced overdue late."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from api.db import MIGRATIONS


def _upgrade(engine: sa.engine.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_existing_escalations_become_cases(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/old.db")
    _upgrade(engine, "0016_append_only")
    with engine.begin() as db:
        db.execute(sa.text("INSERT INTO conversations (id, patient_id, created_at) VALUES ('c1', 'p1', '2026-11-01')"))
        db.execute(
            sa.text(
                "INSERT INTO messages (id, conversation_id, role, text, triage_level, created_at) "
                "VALUES (1, 'c1', 'patient', 'fever', 'call_provider', '2026-11-01'), "
                "(2, 'c1', 'patient', 'worse', 'call_provider', '2026-11-01')"
            )
        )
        db.execute(
            sa.text(
                "INSERT INTO escalations (id, conversation_id, message_id, tier, priority, signs, status, created_at, "
                "acknowledged_at, acknowledged_by) VALUES "
                "('e1', 'c1', 1, 'call_provider', 1, '[\"fever\"]', 'acknowledged', '2026-11-01 10:00:00', "
                "'2026-11-01 10:05:00', 's1'), "
                "('e2', 'c1', 2, 'call_provider', 1, '[]', 'open', '2026-11-01 11:00:00', NULL, NULL)"
            )
        )
    _upgrade(engine, "head")
    with engine.connect() as db:
        reports = db.execute(sa.text("SELECT escalation_id, message_id FROM escalation_reports ORDER BY id")).all()
        cases = db.execute(
            sa.text(
                "SELECT id, assigned_to, report_count, overdue_notified_at IS NOT NULL, tier_since IS NOT NULL "
                "FROM escalations ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in reports] == [("e1", 1), ("e2", 2)]
    assert [tuple(c) for c in cases] == [("e1", "s1", 1, 1, 1), ("e2", None, 1, 1, 1)]
