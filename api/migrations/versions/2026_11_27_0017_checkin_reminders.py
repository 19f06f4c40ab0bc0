"""One automatic reminder per unanswered check-in, claimed like the check-in itself (issue 15).

Revision ID: 0017_checkin_reminders
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_checkin_reminders"
down_revision = "0016_append_only"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("checkins") as table:
        table.add_column(sa.Column("reminder_lease_until", TZ))
        table.add_column(sa.Column("reminder_sent_at", TZ))
        table.add_column(sa.Column("reminder_attempts", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("checkins") as table:
        table.drop_column("reminder_attempts")
        table.drop_column("reminder_sent_at")
        table.drop_column("reminder_lease_until")
