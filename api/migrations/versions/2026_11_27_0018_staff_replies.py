"""Staff replies in the patient's transcript: role `staff` rows carry the nurse's display name
as the patient saw it when it was sent (a later rename does not rewrite what was said).

Revision ID: 0018_staff_replies
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_staff_replies"
down_revision = "0017_checkin_reminders"


def upgrade() -> None:
    op.add_column("messages", sa.Column("author_name", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("author_name")
