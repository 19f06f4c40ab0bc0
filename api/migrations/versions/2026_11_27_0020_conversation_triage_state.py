"""The triage state of each conversation: findings, risk factors and the question left open
(issue 11). One row per conversation, rewritten each turn in the turn's own transaction.

Revision ID: 0020_triage_state
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_triage_state"
down_revision = "0019_cases"


def upgrade() -> None:
    op.create_table(
        "conversation_triage_states",
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("state", sa.Text, nullable=False),  # ConversationState.to_dict() as JSON
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_triage_states")
