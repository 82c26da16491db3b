"""clients that register themselves, and grants bound to a resource

Apps registered at /oauth/register (RFC 7591) or known by a client ID metadata document
have no owner: `apps.owner_id` may be NULL, `apps.registration` says how the app came to
be, and `apps.client_id` holds a document's URL. `grants.resource` is the RFC 8707
resource the grant's tokens are bound to (NULL: none named).

On SQLite, rebuilding `apps` to drop a NOT NULL would drop the old table, and with
foreign keys on that deletes every grant and token of every app (ON DELETE CASCADE).
SQLite documents a schema edit for changes that leave the stored rows as they are, such
as removing a NOT NULL (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of
Table Schema Changes"): that is used instead.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_OWNER_REQUIRED = "owner_id VARCHAR(40) NOT NULL"
_OWNER_OPTIONAL = "owner_id VARCHAR(40)"
_SHORT_CLIENT_ID = "client_id VARCHAR(64) NOT NULL"
_LONG_CLIENT_ID = "client_id VARCHAR(1024) NOT NULL"


def _edit_sqlite_apps(replacements: list[tuple[str, str]]) -> None:
    connection = op.get_bind()
    before = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'apps'"
    ).scalar_one()
    after = before
    for old, new in replacements:
        if old not in after:
            raise RuntimeError(f"apps table not as expected: no {old!r}")
        after = after.replace(old, new, 1)
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'apps'"),
        {"sql": after},
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_apps([(_OWNER_REQUIRED, _OWNER_OPTIONAL), (_SHORT_CLIENT_ID, _LONG_CLIENT_ID)])
    else:
        op.alter_column("apps", "owner_id", existing_type=sa.String(40), nullable=True)
        op.alter_column(
            "apps",
            "client_id",
            existing_type=sa.String(64),
            type_=sa.String(1024),
            existing_nullable=False,
        )
    op.add_column(
        "apps",
        sa.Column("registration", sa.String(length=16), server_default="developer", nullable=False),
    )
    op.add_column("grants", sa.Column("resource", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM apps WHERE owner_id IS NULL")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("resource")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE apps DROP COLUMN registration")
        _edit_sqlite_apps(
            [(_OWNER_OPTIONAL + ",", _OWNER_REQUIRED + ","), (_LONG_CLIENT_ID, _SHORT_CLIENT_ID)]
        )
    else:
        op.drop_column("apps", "registration")
        op.alter_column(
            "apps",
            "client_id",
            existing_type=sa.String(1024),
            type_=sa.String(64),
            existing_nullable=False,
        )
        op.alter_column("apps", "owner_id", existing_type=sa.String(40), nullable=False)
