"""email keys in their NFKC_Casefold form

`paced.core.accounts.email_key` now NFKC-normalises as well as case-folds, so that
`kate@example.com` typed with a fullwidth `k` (U+FF4B) is the account of
`kate@example.com`. Keys stored before were only case-folded: each is computed again. Where two accounts now have one key, the older
claim wins: an account whose key is unchanged keeps it, then the oldest account first;
an account that finds its new key taken keeps its old key (never the new form of any
address, so nobody can sign in to it by typing an address) and is logged by id for an
operator to look at. The same goes for a key that NFKC would make longer than the column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-14 09:05:00.000000
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
MAX_KEY = 254
_users = sa.table(
    "users",
    sa.column("id", sa.String),
    sa.column("email", sa.String),
    sa.column("email_key", sa.String),
    sa.column("created_at", sa.DateTime),
)


def nfkc_casefold(email: str) -> str:
    """`email_key` as of this revision, kept here: a later change to it needs a migration
    of its own."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


def casefold(email: str) -> str:
    """`email_key` before this revision."""
    return email.strip().casefold()


def rekey(key_of: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_users.c.id, _users.c.email, _users.c.email_key).order_by(
            _users.c.created_at, _users.c.id
        )
    ).all()
    taken = {row.email_key for row in rows}
    moving = [(row.id, row.email_key, key_of(row.email)) for row in rows]
    kept: list[str] = []
    for user_id, old, new in moving:
        if new == old:
            continue
        # One row at a time, onto a key no row holds: the unique constraint holds throughout.
        if new in taken or len(new) > MAX_KEY:
            kept.append(user_id)
            continue
        connection.execute(sa.update(_users).where(_users.c.id == user_id).values(email_key=new))
        taken.discard(old)
        taken.add(new)
    if kept:
        log.warning(
            "%d account(s) kept their old email key, their new one being taken or too "
            "long; no address signs in to them: %s",
            len(kept),
            ", ".join(kept),
        )


def upgrade() -> None:
    rekey(nfkc_casefold)


def downgrade() -> None:
    rekey(casefold)
