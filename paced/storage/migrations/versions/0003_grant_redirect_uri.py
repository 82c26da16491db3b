"""grants remember the redirect URI they were approved for

A remembered approval spares the consent screen only for the exact redirect URI it was
given for (paced.core.consent). Grants made before have none (NULL): they never spare it,
so their users are asked once more.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("grants", sa.Column("redirect_uri", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("redirect_uri")
