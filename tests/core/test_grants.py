"""The authorized-applications list and revoking an app (docs/reference.md §6, §7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paced.core import grants
from paced.core.errors import NotFound
from paced.core.records import App, Grant
from tests.helpers import ORIGIN, MemoryLog

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def make_app(app_id: str, name: str) -> App:
    return App(
        app_id,
        "user_owner",
        name,
        "",
        "",
        f"cid_{app_id}",
        ("https://a.example/cb",),
        False,
        T0,
        T0,
    )


ZETA = make_app("app_z", "zeta")
ALPHA = make_app("app_a", "Alpha")


def grant(
    grant_id: str,
    app: App,
    scopes: tuple[str, ...],
    *,
    user_id: str = "user_ann",
    days: int = 0,
    used_days: int | None = None,
) -> Grant:
    return Grant(
        id=grant_id,
        app_id=app.id,
        user_id=user_id,
        scopes=scopes,
        created_at=T0 + timedelta(days=days),
        last_used_at=None if used_days is None else T0 + timedelta(days=used_days),
        revoked_at=None,
    )


class FakeStore(MemoryLog):
    def __init__(self, *pairs: tuple[App, Grant]) -> None:
        self.pairs = list(pairs)
        self.revoked: list[tuple[str, str, datetime]] = []

    async def live_grants_with_apps(
        self, user_id: str, app_id: str | None = None
    ) -> list[tuple[App, Grant]]:
        return [
            (a, g)
            for a, g in self.pairs
            if g.user_id == user_id and g.revoked_at is None and (app_id is None or a.id == app_id)
        ]

    async def revoke_grant(self, grant_id: str, now: datetime) -> None:
        raise AssertionError("not used")

    async def revoke_user_app_grants(self, user_id: str, app_id: str, now: datetime) -> int:
        self.revoked.append((user_id, app_id, now))
        live = [(a, g) for a, g in self.pairs if g.user_id == user_id and a.id == app_id]
        self.pairs = [
            (a, replace(g, revoked_at=now)) if (a, g) in live else (a, g) for a, g in self.pairs
        ]
        return len(live)


async def test_each_app_appears_once_with_the_union_of_scopes_first_grant_and_last_use() -> None:
    store = FakeStore(
        (ZETA, grant("g1", ZETA, ("read",), days=1, used_days=5)),
        (ZETA, grant("g2", ZETA, ("write",), days=3, used_days=9)),
        (ZETA, grant("g3", ZETA, ("read",), days=4)),
        (ALPHA, grant("g4", ALPHA, ("read",), days=2)),
    )
    listed = await grants.authorized_apps(store, "user_ann")
    assert [item.app.name for item in listed] == ["Alpha", "zeta"]  # by name, any case
    alpha, zeta = listed
    assert zeta.scopes == ("read", "write")
    assert zeta.first_granted_at == T0 + timedelta(days=1)
    assert zeta.last_used_at == T0 + timedelta(days=9)
    assert alpha.scopes == ("read",)
    assert alpha.last_used_at is None


async def test_revoked_grants_and_other_users_grants_are_not_listed() -> None:
    store = FakeStore(
        (ZETA, replace(grant("g1", ZETA, ("read",)), revoked_at=T0)),
        (ALPHA, grant("g2", ALPHA, ("read",), user_id="user_bob")),
    )
    assert await grants.authorized_apps(store, "user_ann") == []


async def test_revoking_an_app_ends_all_of_the_users_grants_to_it_at_once() -> None:
    store = FakeStore(
        (ZETA, grant("g1", ZETA, ("read",))),
        (ZETA, grant("g2", ZETA, ("write",))),
        (ALPHA, grant("g3", ALPHA, ("read",))),
    )
    revoked = await grants.revoke_app(store, "user_ann", "app_z", T0, origin=ORIGIN)
    assert revoked.app == ZETA
    assert store.revoked == [("user_ann", "app_z", T0)]
    assert [item.app for item in await grants.authorized_apps(store, "user_ann")] == [ALPHA]


@pytest.mark.parametrize(
    "pairs",
    [(), ((ZETA, grant("g1", ZETA, ("read",), user_id="user_bob")),)],
    ids=["an app never authorized", "an app only another user authorized"],
)
async def test_revoking_an_app_without_access_is_not_found(
    pairs: tuple[tuple[App, Grant], ...],
) -> None:
    store = FakeStore(*pairs)
    with pytest.raises(NotFound):
        await grants.revoke_app(store, "user_ann", "app_z", T0, origin=ORIGIN)
    assert store.revoked == []
