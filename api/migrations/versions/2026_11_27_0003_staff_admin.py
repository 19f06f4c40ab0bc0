"""Staff admin: last login per account, one-time set-password links (stored hashed).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:  # SQLite needs the batch form
        batch.add_column(sa.Column("last_login_at", TZ))
    op.create_table(
        "staff_password_links",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff_users.id"), nullable=False, index=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
    )


def downgrade() -> None:
    op.drop_table("staff_password_links")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("last_login_at")
