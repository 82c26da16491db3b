"""sessions remember the one reveal they may still be shown

`paced.web.reveal` carries a new secret to its page in a cookie; the session row now
holds that cookie's one-time nonce, cleared when the page shows it, so that the same
cookie sent again shows nothing (docs/reference.md §7: shown once).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-14 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reveal_nonce", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("reveal_nonce")
