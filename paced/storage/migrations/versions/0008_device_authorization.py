"""the device authorization grant (RFC 8628)

Apps say whether their owner enabled the device flow (off for every existing app), and
device authorizations get a table of their own: the device code and the user code kept
as SHA-256 digests, the polling interval, and the user's answer.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paced.storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, never a batch rebuild: rebuilding `apps` on SQLite drops the
    # table, and with foreign keys on that deletes every grant (ON DELETE CASCADE). A
    # literal default, which SQLite's ADD COLUMN takes and PostgreSQL reads as false.
    op.add_column(
        "apps", sa.Column("device_flow", sa.Boolean(), server_default="0", nullable=False)
    )
    op.create_table(
        "device_codes",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_code_digest", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("poll_interval", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", UTCDateTime(), nullable=False),
        sa.Column("grant_id", sa.String(length=40), nullable=True),
        sa.Column("denied_at", UTCDateTime(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_device_codes_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_device_codes_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_device_codes")),
        sa.UniqueConstraint("user_code_digest", name=op.f("uq_device_codes_user_code_digest")),
    )
    op.create_index(op.f("ix_device_codes_app_id"), "device_codes", ["app_id"], unique=False)
    op.create_index(op.f("ix_device_codes_grant_id"), "device_codes", ["grant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_device_codes_grant_id"), table_name="device_codes")
    op.drop_index(op.f("ix_device_codes_app_id"), table_name="device_codes")
    op.drop_table("device_codes")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("device_flow")
