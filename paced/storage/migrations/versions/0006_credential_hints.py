"""personal tokens and client secrets keep their public hint

A hint (`pt_secret_…x9Qa`: the secret's prefix and its last four characters) lets a
person tell which credential a leaked value is. It can only be taken from the secret, at
creation: rows made before have none (NULL), and pages show a placeholder for them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("personal_tokens", "client_secrets")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("hint", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("hint")
