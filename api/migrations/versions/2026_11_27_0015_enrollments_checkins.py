"""Enrollments and their scheduled check-ins (issue 15).

Revision ID: 0015_checkins
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_checkins"
down_revision = "0003"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "enrollments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("external_id", sa.String(128), nullable=False, unique=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("patient_id", sa.String(128), nullable=False, index=True),
        sa.Column("procedure_at", TZ, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("phone_number", sa.String(16), index=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("site", sa.String(16)),
        sa.Column("risk_flags", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sms_opted_out_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("enrollment_id", sa.String(64), sa.ForeignKey("enrollments.id"), nullable=False, index=True),
        sa.Column("day_offset", sa.Integer, nullable=False),
        sa.Column("due_at", TZ, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("lease_until", TZ),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", TZ),
        sa.Column("sent_channels", sa.JSON),
        sa.Column("sms_sid", sa.String(64), index=True),
        sa.Column("sms_status", sa.String(16)),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id")),
        sa.Column("answered_at", TZ),
        sa.Column("response", sa.JSON),
        sa.Column("last_error", sa.String(200)),
        sa.UniqueConstraint("enrollment_id", "day_offset", name="uq_checkins_enrollment_day"),
    )


def downgrade() -> None:
    op.drop_table("checkins")
    op.drop_table("enrollments")
