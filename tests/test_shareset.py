"""keyceremony.shares.shareset: make a signed share set, verify one share alone, recover the secret.

Tampering with any signed field is caught by verify_share; recover_secret sets such shares
aside with a reason naming the source, and so for foreign-set and repeated shares; wrong shares
that carry a valid signature (made with the set key) are found by robust decoding. No message
or repr ever carries secret bytes.
"""

from __future__ import annotations

import base64
import itertools
import random
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keyceremony.errors import (
    AmbiguousShareSets,
    AnchorMismatch,
    DuplicateShare,
    ForeignShare,
    InconsistentShares,
    KeyCeremonyError,
    ShareSetError,
    ShareSignatureError,
    ThresholdNotMet,
)
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import (
    Recovery,
    check_fingerprint,
    create_share_set,
    describe_set,
    format_fingerprint,
    format_set_id,
    recover_secret,
    verify_share,
)

CREATED = 1_735_689_600  # 2025-01-01T00:00:00Z
SECRET = bytes.fromhex("5ec2e7000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c")


def seeded(seed: int):
    return random.Random(seed).randbytes


def make_set(secret: bytes = SECRET, k: int = 3, n: int = 5, *, seed: int = 1, label: str = "root-2025"):
    return create_share_set(secret, k, n, label=label, created=CREATED, randbytes=seeded(seed))


def make_set_with_key(secret: bytes = SECRET, k: int = 3, n: int = 5, *, seed: int = 1, label: str = "root-2025"):
    """The set and its signing key: the key seed is the last thing create_share_set draws."""
    calls: list[bytes] = []
    draw = seeded(seed)

    def recording(count: int) -> bytes:
        calls.append(draw(count))
        return calls[-1]

    shares = create_share_set(secret, k, n, label=label, created=CREATED, randbytes=recording)
    key = Ed25519PrivateKey.from_private_bytes(calls[-1])
    assert key.public_key().public_bytes_raw() == shares[0].public_key
    return shares, key


def resign(payload: SharePayload, key: Ed25519PrivateKey, **changes: object) -> SharePayload:
    draft = replace(payload, **changes)
    return replace(draft, signature=key.sign(draft.signing_input()))


def named(shares, prefix: str = "share") -> list[tuple[str, SharePayload]]:
    return [(f"{prefix}-{p.x}.txt", p) for p in shares]


def flip(data: bytes, index: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


SHARES = make_set()
OTHER = make_set(seed=2)  # another ceremony: same parameters and label, other set
OURS = SHARES[0].fingerprint()  # the set fingerprint the ceremony's paper log recorded


# --- create, verify, recover ------------------------------------------------------------------------


def test_create_share_set():
    assert [p.x for p in SHARES] == [1, 2, 3, 4, 5]
    for p in SHARES:
        assert (p.threshold, p.count, p.label, p.created, len(p.y)) == (3, 5, "root-2025", CREATED, 32)
        assert p.set_id == SHARES[0].set_id and p.public_key == SHARES[0].public_key
        assert p.y != SECRET
        verify_share(p)  # returns nothing or raises


def test_injected_randomness_makes_it_deterministic():
    again = make_set()
    assert [p.to_bytes() for p in again] == [p.to_bytes() for p in SHARES]
    assert [p.to_bytes() for p in make_set(seed=9)] != [p.to_bytes() for p in SHARES]


def test_default_created_is_now_and_default_randomness_differs():
    a = create_share_set(b"\x01" * 16, 2, 3)
    b = create_share_set(b"\x01" * 16, 2, 3)
    assert a[0].set_id != b[0].set_id and a[0].public_key != b[0].public_key
    assert a[0].created > 1_700_000_000


@pytest.mark.parametrize("subset", list(itertools.combinations(range(5), 3)))
def test_recover_from_every_threshold_subset(subset):
    items = named([SHARES[i] for i in subset])
    recovery = recover_secret(items)
    assert recovery.secret == SECRET
    assert recovery.used == tuple(name for name, _ in items)
    assert recovery.rejected == ()
    assert recovery.reference.fingerprint() == SHARES[0].fingerprint()


def test_recover_from_all_shares_in_any_order():
    items = named(SHARES)
    random.Random(3).shuffle(items)
    assert recover_secret(items).secret == SECRET


@pytest.mark.parametrize("k, n, size", [(1, 1, 1), (1, 3, 5), (2, 2, 1), (2, 3, 700), (5, 9, 33), (255, 255, 2)])
def test_recover_edge_parameters(k, n, size):
    secret = random.Random(size).randbytes(size)
    shares = create_share_set(secret, k, n, created=CREATED, randbytes=seeded(k * 1000 + n))
    assert recover_secret(named(shares[-k:])).secret == secret


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((SECRET, 0, 3), {}),
        ((SECRET, 4, 3), {}),
        ((SECRET, 2, 256), {}),
        ((b"", 2, 3), {}),
        ((SECRET, 2, 3), {"label": "tab\t"}),
        ((SECRET, 2, 3), {"label": "x" * 65}),
    ],
)
def test_create_rejects_misuse(args, kwargs):
    with pytest.raises(ValueError):
        create_share_set(*args, **kwargs)


# --- tampering is caught by verify_share ---------------------------------------------------------------


TAMPERED = {
    "a byte of y": lambda p: replace(p, y=flip(p.y, 7)),
    "the last byte of y": lambda p: replace(p, y=flip(p.y, len(p.y) - 1)),
    "the label": lambda p: replace(p, label="root-2026"),
    "the threshold": lambda p: replace(p, threshold=2),
    "the count": lambda p: replace(p, count=6),
    "x": lambda p: replace(p, x=p.x % 5 + 1),
    "created": lambda p: replace(p, created=p.created + 1),
    "the set id": lambda p: replace(p, set_id=flip(p.set_id)),
    "a byte of the signature": lambda p: replace(p, signature=flip(p.signature, 10)),
    "the public key (another set's)": lambda p: replace(p, public_key=OTHER[0].public_key),
    "the public key (not a point)": lambda p: replace(p, public_key=b"\xff" * 32),
    "the signature (another set's share)": lambda p: replace(p, signature=OTHER[p.x - 1].signature),
}


@pytest.mark.parametrize("what", TAMPERED)
def test_verify_share_catches_tampering(what):
    bad = TAMPERED[what](SHARES[2])
    # Still a well-formed payload: the damage is only visible to the signature.
    assert SharePayload.from_bytes(bad.to_bytes()) == bad
    with pytest.raises(ShareSignatureError) as info:
        verify_share(bad, source="share-3.txt")
    message = str(info.value)
    assert message.startswith("share-3.txt: ")
    assert "altered or forged" in message and "administrator" in message


def test_forged_with_another_key_keeping_the_set_public_key():
    attacker = Ed25519PrivateKey.from_private_bytes(bytes(32))
    forged = resign(SHARES[2], attacker, y=flip(SHARES[2].y))
    forged = replace(forged, public_key=SHARES[2].public_key)
    with pytest.raises(ShareSignatureError):
        verify_share(forged, source="share-3.txt")


def test_forged_with_another_key_and_its_public_key_is_caught_by_the_fingerprint():
    # Self-consistent, so the signature verifies; the fingerprint recorded at the ceremony does not.
    attacker = Ed25519PrivateKey.from_private_bytes(bytes(32))
    forged = resign(SHARES[2], attacker, y=flip(SHARES[2].y), public_key=attacker.public_key().public_bytes_raw())
    verify_share(forged)
    with pytest.raises(ForeignShare, match="not the one recorded at the ceremony"):
        check_fingerprint(forged, SHARES[0].fingerprint().hex(), source="share-3.txt")
    items = named(SHARES[:2]) + [("share-3.txt", forged)]
    with pytest.raises(ThresholdNotMet, match="share-3.txt belongs to set") as info:
        recover_secret(items, expected_fingerprint=OURS)
    # Same set id and label: only the fingerprints tell the two apart, and the message shows both.
    assert format_fingerprint(forged.fingerprint()) in str(info.value)
    assert format_fingerprint(SHARES[0].fingerprint()) in str(info.value)
    with pytest.raises(AmbiguousShareSets, match="belong to 2 different sets"):
        recover_secret(items)  # unanchored: the forged share is not quietly the odd one out


# --- recover_secret sets bad shares aside, with a reason that names them ----------------------------


@pytest.mark.parametrize("what", TAMPERED)
def test_tampered_share_is_set_aside_and_named(what):
    bad = TAMPERED[what](SHARES[3])
    # Enough genuine shares: recovery succeeds and says which one it set aside, and why.
    recovery = recover_secret(named(SHARES[:3]) + [("share-4.txt", bad)])
    assert recovery.secret == SECRET
    assert [r.source for r in recovery.rejected] == ["share-4.txt"]
    assert recovery.rejected[0].reason.startswith("share-4.txt: ")
    assert "signature does not verify" in recovery.rejected[0].reason
    assert "share-4.txt" not in recovery.used
    # Too few genuine ones: the error says how many more, and lists the one set aside.
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(named(SHARES[:2]) + [("share-4.txt", bad)])
    message = str(info.value)
    assert "bring 1 more" in message and "Set aside" in message
    assert "share-4.txt: the share's signature does not verify" in message
    assert (info.value.have, info.value.need) == (2, 3)


def test_a_single_bad_share_raises_its_own_error():
    with pytest.raises(ShareSignatureError, match="^share-1.txt: "):
        recover_secret([("share-1.txt", replace(SHARES[0], y=flip(SHARES[0].y)))])


def test_several_bad_shares_are_each_named():
    bad = [(f"share-{p.x}.txt", replace(p, y=flip(p.y))) for p in SHARES[:3]]
    with pytest.raises(KeyCeremonyError) as info:
        recover_secret(bad)
    for name, _ in bad:
        assert name in str(info.value)
    assert len(info.value.set_aside) == len(bad)
    assert [type(c) for c in info.value.causes] == [ShareSignatureError] * len(bad)
    assert [str(c) for c in info.value.causes] == list(info.value.set_aside)


def test_each_reason_for_setting_a_share_aside_is_also_a_typed_error():
    """Programs tell the reasons apart by type (ThresholdNotMet.causes, Rejected.error), not by
    reading the sentences."""
    items = named(SHARES[:1]) + [("again.txt", SHARES[0])] + [("other-1.txt", OTHER[1])] + [
        ("share-4.txt", replace(SHARES[3], y=flip(SHARES[3].y)))]
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(items, expected_fingerprint=OURS)
    causes = sorted(type(c).__name__ for c in info.value.causes)
    assert causes == ["DuplicateShare", "ForeignShare", "ShareSignatureError"]
    recovery = recover_secret(items + named(SHARES[1:3]), expected_fingerprint=OURS)
    assert {r.source: type(r.error) for r in recovery.rejected} == {
        "again.txt": DuplicateShare, "other-1.txt": ForeignShare, "share-4.txt": ShareSignatureError}
    assert all(r.reason == str(r.error) for r in recovery.rejected)


def test_foreign_share_is_named_with_its_set():
    items = named(SHARES[:2]) + [("other-3.txt", OTHER[2])]
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(items, expected_fingerprint=OURS)
    message = str(info.value)
    assert f"other-3.txt belongs to set {format_set_id(OTHER[0].set_id)}" in message
    assert f"not to set {format_set_id(SHARES[0].set_id)}" in message
    assert "bring 1 more" in message
    assert "bring a share of the right set" in message


def test_foreign_share_beside_enough_good_ones_is_set_aside():
    recovery = recover_secret(named(SHARES[:3]) + [("other-1.txt", OTHER[0])], expected_fingerprint=OURS)
    assert recovery.secret == SECRET and recovery.anchored
    assert [r.source for r in recovery.rejected] == ["other-1.txt"]
    assert format_set_id(OTHER[0].set_id) in recovery.rejected[0].reason


@pytest.mark.parametrize(
    "k, n, size, words",
    [(2, 5, 32, ("any 2 of 5", "any 3 of 5")), (3, 5, 16, ("16-byte secret", "32-byte secret"))],
)
def test_foreign_share_with_another_threshold_or_length_says_so(k, n, size, words):
    other = create_share_set(SECRET[:size], k, n, label="root-2025", created=CREATED, randbytes=seeded(5))
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(named(SHARES[:2]) + [("odd-3.txt", other[2])], expected_fingerprint=OURS)
    for word in words:
        assert word in str(info.value)


def test_the_majority_does_not_decide_which_set_is_ours():
    # Two shares of OTHER and one of SHARES: counting would pick OTHER. Unanchored, nothing is
    # chosen and every set is named; anchored, the lone share of ours is the reference.
    items = [("a.txt", SHARES[0]), ("b.txt", OTHER[1]), ("c.txt", OTHER[2])]
    with pytest.raises(AmbiguousShareSets) as info:
        recover_secret(items)
    message = str(info.value)
    assert "a.txt (1 share(s))" in message and "b.txt, c.txt (2 share(s))" in message
    assert format_fingerprint(SHARES[0].fingerprint()) in message and "paper log" in message
    with pytest.raises(ThresholdNotMet) as anchored:
        recover_secret(items, expected_fingerprint=OURS)
    assert f"b.txt belongs to set {format_set_id(OTHER[0].set_id)}" in str(anchored.value)


def test_two_complete_sets_are_refused_unless_anchored():
    items = named(OTHER[:3]) + named(SHARES[:3])
    with pytest.raises(AmbiguousShareSets):
        recover_secret(items)
    recovery = recover_secret(items, expected_fingerprint=OURS)
    assert recovery.secret == SECRET and recovery.anchored and len(recovery.rejected) == 3


def test_a_substituted_set_is_refused_when_anchored():
    with pytest.raises(AnchorMismatch, match="none of the shares given is of the set recorded in the paper log"):
        recover_secret(named(OTHER[:3]), expected_fingerprint=OURS)
    assert not recover_secret(named(OTHER[:3])).anchored  # unanchored it recovers, and says so


def test_same_file_twice():
    items = [("share-1.txt", SHARES[0]), ("share-1.txt", SHARES[0]), ("share-2.txt", SHARES[1])]
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(items)
    message = str(info.value)
    assert "share-1.txt was given twice (share 1 of 5)" in message
    assert "bring 1 more" in message


def test_same_share_in_two_files():
    items = [("share-1.txt", SHARES[0]), ("copy.txt", SHARES[0]), ("share-2.txt", SHARES[1])]
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(items)
    assert "copy.txt is the same share as share-1.txt" in str(info.value)


def test_different_share_with_the_same_number():
    shares, key = make_set_with_key()
    twin = resign(shares[0], key, y=flip(shares[0].y))  # signed by the set key, yet not share 1
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret([("share-1.txt", shares[0]), ("twin.txt", twin), ("share-2.txt", shares[1])])
    assert "twin.txt is a different share with the same number as share-1.txt" in str(info.value)


def test_duplicate_beside_enough_shares_is_set_aside():
    items = named(SHARES[:3]) + [("again.txt", SHARES[1])]
    recovery = recover_secret(items)
    assert recovery.secret == SECRET
    assert [r.source for r in recovery.rejected] == ["again.txt"]
    assert "each share counts once" in recovery.rejected[0].reason


@pytest.mark.parametrize("given, more", [(0, 3), (1, 2), (2, 1)])
def test_too_few(given, more):
    with pytest.raises(ThresholdNotMet) as info:
        recover_secret(named(SHARES[:given]))
    if given:
        assert f"bring {more} more" in str(info.value)
        assert (info.value.have, info.value.need) == (given, 3)
        assert "Set aside" not in str(info.value)


# --- more shares than the threshold, one of them wrong ------------------------------------------------


def test_corrupted_share_with_a_bad_signature_among_more_than_threshold():
    items = named(SHARES)
    items[4] = ("share-5.txt", replace(SHARES[4], y=flip(SHARES[4].y, 3)))
    recovery = recover_secret(items)
    assert recovery.secret == SECRET
    assert [r.source for r in recovery.rejected] == ["share-5.txt"]


def test_validly_signed_wrong_share_is_found_by_robust_decoding():
    shares, key = make_set_with_key()
    items = named(shares)
    items[1] = ("share-2.txt", resign(shares[1], key, y=flip(shares[1].y, 20)))
    recovery = recover_secret(items)
    assert recovery.secret == SECRET
    assert [r.source for r in recovery.rejected] == ["share-2.txt"]
    assert "share-2.txt: its share 2 disagrees with the other shares" == recovery.rejected[0].reason
    assert isinstance(recovery.rejected[0].error, InconsistentShares) and recovery.rejected[0].error.bad_x == (2,)
    assert "share-2.txt" not in recovery.used and len(recovery.used) == 4


def test_validly_signed_wrong_share_that_cannot_be_told_apart():
    shares, key = make_set_with_key()
    items = named(shares[:4])
    items[0] = ("share-1.txt", resign(shares[0], key, y=flip(shares[0].y, 0)))
    with pytest.raises(InconsistentShares) as info:
        recover_secret(items)
    assert describe_set(shares[0]) in str(info.value)
    assert "bring more shares" in str(info.value)


# --- fingerprints --------------------------------------------------------------------------------------


def test_fingerprint_is_equal_across_a_set_and_different_across_sets():
    assert len({p.fingerprint() for p in SHARES}) == 1
    assert len({p.fingerprint() for p in OTHER}) == 1
    assert SHARES[0].fingerprint() != OTHER[0].fingerprint()
    # Same secret, same parameters, same label and time: still another set.
    assert make_set(seed=3)[0].fingerprint() != SHARES[0].fingerprint()


def test_check_fingerprint():
    fp = SHARES[0].fingerprint()
    for written in (fp.hex(), fp.hex().upper(), format_fingerprint(fp), " " + format_fingerprint(fp).lower() + "\n"):
        for p in SHARES:
            check_fingerprint(p, written, source="share.txt")  # returns nothing or raises
    with pytest.raises(ForeignShare) as info:
        check_fingerprint(OTHER[0], format_fingerprint(fp), source="card-1.pdf")
    message = str(info.value)
    assert message.startswith("card-1.pdf: ")
    assert format_fingerprint(OTHER[0].fingerprint()) in message
    assert "not from that ceremony" in message
    with pytest.raises(ForeignShare):
        check_fingerprint(SHARES[0], fp.hex()[:-1])
    with pytest.raises(ForeignShare):
        check_fingerprint(SHARES[0], "")


def test_format_helpers():
    fp = bytes(range(16))
    assert format_fingerprint(fp) == "0001 0203 0405 0607 0809 0A0B 0C0D 0E0F"
    assert format_set_id(bytes.fromhex("0011223344556677")) == "00112233-44556677"
    assert describe_set(SHARES[0]) == (
        f"set {format_set_id(SHARES[0].set_id)} ('root-2025', any 3 of 5, 32-byte secret)"
    )


def test_error_classes():
    assert issubclass(ThresholdNotMet, ShareSetError) and issubclass(DuplicateShare, ShareSetError)
    assert issubclass(ShareSignatureError, KeyCeremonyError)


# --- no secret material in any message or repr -----------------------------------------------------------


def secret_forms(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.b32encode(secret).decode().rstrip("="),
        secret.decode("latin-1"),
    ]


def collected_texts() -> list[str]:
    shares, key = make_set_with_key()
    texts: list[str] = []
    attempts = [
        named(shares[:2]),
        named(shares[:2]) + [("o.txt", OTHER[0])],
        [("a", shares[0]), ("a", shares[0]), ("b", shares[1])],
        named(shares[:2]) + [("x.txt", replace(shares[2], y=flip(shares[2].y)))],
        [("x.txt", replace(shares[2], y=flip(shares[2].y)))],
        [("1", resign(shares[0], key, y=flip(shares[0].y)))] + named(shares[1:4]),
        [],
    ]
    for items in attempts:
        try:
            texts.append(repr(recover_secret(items)))
        except KeyCeremonyError as err:
            texts += [str(err), repr(err), err.diagnostics()]
    recovery = recover_secret(named(shares[:3]) + [("bad", replace(shares[3], y=flip(shares[3].y)))])
    texts += [repr(recovery), str(recovery), repr(recovery.rejected)]
    texts += [repr(p) for p in shares]
    try:
        check_fingerprint(shares[0], "00")
    except ForeignShare as err:
        texts.append(str(err))
    return texts


def test_no_secret_or_share_bytes_in_messages_or_reprs():
    shares, _ = make_set_with_key()
    texts = collected_texts()
    assert len(texts) > 15
    assert any("bring 1 more" in t for t in texts)  # the attempts did raise
    for material in [SECRET] + [p.y for p in shares]:
        for form in secret_forms(material):
            for text in texts:
                assert form not in text


def test_recovery_repr_hides_the_secret():
    recovery = recover_secret(named(SHARES[:3]))
    assert isinstance(recovery, Recovery)
    assert repr(recovery).startswith("Recovery(secret=<32 bytes>")
    assert SECRET.hex() not in repr(recovery)
