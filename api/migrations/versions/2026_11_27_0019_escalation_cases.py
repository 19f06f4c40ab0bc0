"""Escalations become cases (issue 12): each report in a case, holding, SLA targets, and the
patient's callback contact on the conversation.

Existing escalations keep their ids; each gets its own report row (its raising message), and a
SLA clock started at its creation.

Revision ID: 0019_cases
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_cases"
down_revision = "0018_staff_replies"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("escalations") as table:
        table.add_column(sa.Column("last_report_at", TZ))
        table.add_column(sa.Column("report_count", sa.Integer, nullable=False, server_default="1"))
        table.add_column(sa.Column("tier_since", TZ))
        table.add_column(sa.Column("assigned_to", sa.String(64)))
        table.add_column(sa.Column("assigned_at", TZ))
        table.add_column(sa.Column("overdue_notified_at", TZ))
        table.create_index("ix_escalations_assigned_to", ["assigned_to"])
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("contact_name", sa.String(80)))
        table.add_column(sa.Column("contact_phone", sa.String(32)))
    op.create_table(
        "escalation_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("escalation_id", sa.String(64), sa.ForeignKey("escalations.id"), nullable=False, index=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("signs", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    escalations = sa.table(
        "escalations",
        sa.column("id", sa.String),
        sa.column("message_id", sa.Integer),
        sa.column("tier", sa.String),
        sa.column("signs", sa.JSON),
        sa.column("created_at", TZ),
        sa.column("last_report_at", TZ),
        sa.column("tier_since", TZ),
        sa.column("status", sa.String),
        sa.column("acknowledged_by", sa.String),
        sa.column("acknowledged_at", TZ),
        sa.column("assigned_to", sa.String),
        sa.column("assigned_at", TZ),
        sa.column("overdue_notified_at", TZ),
    )
    reports = sa.table(
        "escalation_reports",
        sa.column("escalation_id", sa.String),
        sa.column("message_id", sa.Integer),
        sa.column("tier", sa.String),
        sa.column("signs", sa.JSON),
        sa.column("created_at", TZ),
    )
    rows = bind.execute(
        sa.select(
            escalations.c.id,
            escalations.c.message_id,
            escalations.c.tier,
            escalations.c.signs,
            escalations.c.created_at,
            escalations.c.status,
            escalations.c.acknowledged_by,
            escalations.c.acknowledged_at,
        )
    ).all()
    for row in rows:
        bind.execute(
            reports.insert().values(
                escalation_id=row.id,
                message_id=row.message_id,
                tier=row.tier,
                signs=row.signs,
                created_at=row.created_at,
            )
        )
        held = row.status == "acknowledged"  # whoever acknowledged it holds it
        # Old cases get no late overdue event: only work from now on is announced.
        bind.execute(
            escalations.update()
            .where(escalations.c.id == row.id)
            .values(
                last_report_at=row.created_at,
                tier_since=row.created_at,
                overdue_notified_at=row.created_at,
                assigned_to=row.acknowledged_by if held else None,
                assigned_at=row.acknowledged_at if held else None,
            )
        )


def downgrade() -> None:
    op.drop_table("escalation_reports")
    with op.batch_alter_table("conversations") as table:
        table.drop_column("contact_phone")
        table.drop_column("contact_name")
    with op.batch_alter_table("escalations") as table:
        table.drop_index("ix_escalations_assigned_to")
        for column in (
            "overdue_notified_at",
            "assigned_at",
            "assigned_to",
            "tier_since",
            "report_count",
            "last_report_at",
        ):
            table.drop_column(column)
