"""A callback number the patient confirms in the chat, and the time a clarifying question was
asked (issue 12 item 2, issue 11: an unanswered temperature question still reaches a nurse).

conversations: where the callback number came from (portal, chat; NULL on older rows = the
portal's claims) and the chat's callback-number step (asking, confirming) with its candidate.
conversation_triage_states: the question left open as a column (the worker queries it), when
it was asked, and when the worker opened a case for it being unanswered (once per question).
escalation_reports: a note for a report no patient message states (the unanswered question).

Revision ID: 0021_callback_question
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0021_callback_question"
down_revision = "0020_triage_state"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("contact_phone_source", sa.String(16)))
        table.add_column(sa.Column("callback_step", sa.String(16)))
        table.add_column(sa.Column("callback_candidate", sa.String(32)))
        table.add_column(sa.Column("callback_asks", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("conversation_triage_states") as table:
        table.add_column(sa.Column("pending_question", sa.String(32)))
        table.add_column(sa.Column("question_asked_at", TZ))
        table.add_column(sa.Column("question_escalated_at", TZ))
        table.create_index("ix_triage_states_question_asked_at", ["question_asked_at"])
    with op.batch_alter_table("escalation_reports") as table:
        table.add_column(sa.Column("note", sa.String(200)))
    _backfill()


def _backfill() -> None:
    """A question left open before this revision: asked when its state was last written."""
    states = sa.table(
        "conversation_triage_states",
        sa.column("conversation_id", sa.String),
        sa.column("state", sa.Text),
        sa.column("updated_at", TZ),
        sa.column("pending_question", sa.String),
        sa.column("question_asked_at", TZ),
    )
    bind = op.get_bind()
    for conversation_id, state, updated_at in bind.execute(
        sa.select(states.c.conversation_id, states.c.state, states.c.updated_at)
    ).all():
        try:
            pending = json.loads(state).get("pending_question")
        except (ValueError, AttributeError):  # an unreadable state starts afresh anyway
            continue
        if isinstance(pending, str):
            bind.execute(
                sa.update(states)
                .where(states.c.conversation_id == conversation_id)
                .values(pending_question=pending[:32], question_asked_at=updated_at)
            )


def downgrade() -> None:
    with op.batch_alter_table("escalation_reports") as table:
        table.drop_column("note")
    with op.batch_alter_table("conversation_triage_states") as table:
        table.drop_index("ix_triage_states_question_asked_at")
        table.drop_column("question_escalated_at")
        table.drop_column("question_asked_at")
        table.drop_column("pending_question")
    with op.batch_alter_table("conversations") as table:
        table.drop_column("callback_asks")
        table.drop_column("callback_candidate")
        table.drop_column("callback_step")
        table.drop_column("contact_phone_source")
