"""mail: the outbox, one-time links, verified and disabled accounts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paced.storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

At = paced.storage.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", At(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", At(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sign_in_unlocked_at", At(timezone=True), nullable=True))
    with op.batch_alter_table("personal_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expiry_notified_at", At(timezone=True), nullable=True))
    op.create_table(
        "one_time_links",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("created_at", At(timezone=True), nullable=False),
        sa.Column("expires_at", At(timezone=True), nullable=False),
        sa.Column("used_at", At(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_one_time_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_one_time_links")),
    )
    with op.batch_alter_table("one_time_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_one_time_links_user_id"), ["user_id"], unique=False)
    op.create_table(
        "mail_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", At(timezone=True), nullable=False),
        sa.Column("next_attempt_at", At(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("sent_at", At(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mail_queue_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_queue")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_queue_message_id")),
    )
    with op.batch_alter_table("mail_queue", schema=None) as batch_op:
        batch_op.create_index("ix_mail_queue_next_attempt_at", ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_queue_next_attempt_at")
    op.drop_table("mail_queue")
    with op.batch_alter_table("one_time_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_time_links_user_id"))
    op.drop_table("one_time_links")
    with op.batch_alter_table("personal_tokens", schema=None) as batch_op:
        batch_op.drop_column("expiry_notified_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("sign_in_unlocked_at")
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("email_verified_at")
