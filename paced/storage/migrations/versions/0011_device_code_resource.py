"""device authorizations name a resource

`device_codes.resource` is the RFC 8707 resource the device authorization request named
(NULL: none named); the grant made when the person approves is bound to it.

A plain ADD COLUMN (and, going down, DROP COLUMN), never a batch rebuild: on SQLite a
rebuild drops the table, and with foreign keys on that deletes the rows of every table
that refers to it with ON DELETE CASCADE.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("device_codes", sa.Column("resource", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) drops a column in place; Alembic's drop_column outside a
    # batch emits that same statement on both databases.
    op.drop_column("device_codes", "resource")
