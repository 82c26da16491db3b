"""AES-GCM sealing (`paced.core.sealing`): what is sealed opens only with its key and its
associated data."""

from __future__ import annotations

from paced.core.sealing import NONCE_BYTES, Sealer

KEY = bytes(range(32))


def test_a_sealed_value_opens_with_its_key_and_associated_data() -> None:
    sealer = Sealer(KEY)
    assert sealer.open(sealer.seal(b"JBSWY3DPEHPK3PXP", b"user-1"), b"user-1") == (
        b"JBSWY3DPEHPK3PXP"
    )


def test_every_seal_has_a_fresh_nonce() -> None:
    sealer = Sealer(KEY)
    first, second = sealer.seal(b"same", b"a"), sealer.seal(b"same", b"a")
    assert first[:NONCE_BYTES] != second[:NONCE_BYTES]
    assert first != second


def test_other_associated_data_opens_to_nothing() -> None:
    sealer = Sealer(KEY)
    assert sealer.open(sealer.seal(b"secret", b"user-1"), b"user-2") is None


def test_another_key_opens_to_nothing() -> None:
    sealed = Sealer(KEY).seal(b"secret", b"a")
    assert Sealer(bytes(32)).open(sealed, b"a") is None


def test_a_changed_or_cut_value_opens_to_nothing() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(b"secret", b"a")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for broken in (flipped, sealed[:-1], sealed[:NONCE_BYTES], sealed[:5], b""):
        assert sealer.open(broken, b"a") is None
