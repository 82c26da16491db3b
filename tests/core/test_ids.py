from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from paced.core.ids import BASE62, is_base62, new_id, ordered_id, random_base62


@pytest.mark.parametrize("length", [1, 24, 30, 32, 300])
def test_random_base62_has_the_length_and_alphabet_asked_for(length: int) -> None:
    drawn = random_base62(length)
    assert len(drawn) == length and is_base62(drawn)


def test_random_base62_draws_every_character_about_equally() -> None:
    # 62,000 characters, 1,000 expected of each: a gross bias (a character never drawn,
    # part of the alphabet twice as likely) fails. With 61 degrees of freedom a fair
    # draw exceeds 140 with a probability far below one in a million.
    counts = Counter("".join(random_base62(62) for _ in range(1000)))
    assert set(counts) == set(BASE62)
    chi_square = sum((n - 1000) ** 2 / 1000 for n in counts.values())
    assert chi_square < 140


def test_ids_are_distinct_and_prefixed() -> None:
    ids = {new_id("grant") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("grant_") and len(i) == 30 for i in ids)


def test_bytes_from_248_up_are_dropped_not_folded(monkeypatch: pytest.MonkeyPatch) -> None:
    # 248-255 modulo 62 would be "0"-"7" again: taking them would bias those eight.
    draws = iter([bytes([248, 255, 0, 61, 62]) + bytes([250] * 8), bytes([1] * 13)])
    monkeypatch.setattr("paced.core.ids.secrets.token_bytes", lambda n: next(draws))
    assert random_base62(5) == "0z011"


def test_ordered_ids_sort_by_their_time_and_differ_within_one() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    same_time = {ordered_id("rt", now) for _ in range(1000)}
    assert len(same_time) == 1000
    assert all(i.startswith("rt_") and len(i) == 27 and is_base62(i[3:]) for i in same_time)
    later = [ordered_id("rt", now + timedelta(milliseconds=n)) for n in (1, 1000, 10**9)]
    assert sorted([max(same_time), *later]) == [max(same_time), *later]
