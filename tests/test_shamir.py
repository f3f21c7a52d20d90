"""keyceremony.core.shamir: round trips, secrecy, known answers, outside implementations, errors,
robust combine and batches.

Known answers come from tests/naive_shamir.py (textbook arithmetic, no tables) and, for the
AES-CTR coefficient expansion, from `cryptography` and PyCryptodome. Outside implementations:
pyshamir (a port of HashiCorp Vault's shamir) and trezor's shamir-mnemonic (SLIP-39).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import numpy as np
import pyshamir
import pytest
from Crypto.Cipher import AES as PyCryptodomeAES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from shamir_mnemonic import shamir as slip39

import naive_shamir as naive
from keyceremony.core import coefficients, shamir
from keyceremony.core.coefficients import CoefficientStream
from keyceremony.core.parallel import BLOCK
from keyceremony.core.shamir import Share, combine, combine_many, decode, interpolate, split, split_many
from keyceremony.errors import DuplicateShare, InconsistentShares, ShareSetError, ThresholdNotMet

VECTORS = Path(__file__).parent / "vectors" / "core"
SHORT_MAX = 512  # shamir._INT_PATH_MAX: above it, the numpy engine and the strided layout
DIRECT_MAX = 64 * 1024  # coefficients._DIRECT_MAX: above it, AES-256-CTR from a 32-byte key

NAIVE_TABLE = np.array(naive.mul_table(), dtype=np.uint8)


# --- helpers -------------------------------------------------------------------------------------


class Served:
    """A ``randbytes`` that hands out a fixed stream in order and records what was asked."""

    def __init__(self, stream: bytes):
        self.stream = stream
        self.position = 0
        self.requests: list[int] = []

    def __call__(self, n: int) -> bytes:
        self.requests.append(n)
        out = self.stream[self.position : self.position + n]
        assert len(out) == n, "the split asked for more randomness than the test provides"
        self.position += n
        return out

    @property
    def nonzero_requests(self) -> list[int]:
        return [n for n in self.requests if n]


def seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


def secret_bytes(length: int, seed: int, kind: str = "random") -> bytes:
    if kind == "zeros":
        return bytes(length)
    if kind == "ones":
        return b"\xff" * length
    return random.Random(seed).randbytes(length)


def naive_shares_fast(secret: bytes, xs: Sequence[int], coefficient_rows: Sequence[bytes]) -> list[bytes]:
    """The naive reference's evaluation, vectorized with its own multiplication table.

    Same definition as naive.split_with_coefficients (sum a_i x^i per byte), fast enough for MiBs.
    """
    rows = [np.frombuffer(secret, dtype=np.uint8)] + [np.frombuffer(c, dtype=np.uint8) for c in coefficient_rows]
    shares = []
    for x in xs:
        acc = np.zeros(len(secret), dtype=np.uint8)
        for i, row in enumerate(rows):
            acc ^= NAIVE_TABLE[naive.gf_pow(x, i)][row]
        shares.append(acc.tobytes())
    return shares


def aes_ctr_keystream(key: bytes, n: int) -> bytes:
    """n bytes of AES-256-CTR keystream, counter block starting at 0 (cryptography)."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    return encryptor.update(bytes(n)) + encryptor.finalize()


def stride_for(length: int) -> int:
    return length if length <= SHORT_MAX else -(-length // 16) * 16


def some_subsets(items: Sequence, k: int, rng: random.Random, limit: int = 24) -> list[tuple]:
    """Every k-subset of items when there are at most ``limit``, else a random sample of them."""
    total = len(list(itertools.islice(itertools.combinations(range(len(items)), k), limit + 1)))
    if total <= limit:
        return list(itertools.combinations(items, k))
    return [tuple(rng.sample(list(items), k)) for _ in range(limit)]


def xs_strategy(n: int) -> st.SearchStrategy:
    return st.one_of(st.none(), st.lists(st.integers(1, 255), min_size=n, max_size=n, unique=True))


# --- round trips ---------------------------------------------------------------------------------

ENGINE_EDGES = [1, 2, 7, 8, 9, 15, 16, 17, 511, 512, 513, 514, 520, 527, 528, 1023, 1024, 1025]


@settings(max_examples=70, deadline=None)
@given(
    data=st.data(),
    k=st.integers(1, 8),
    length=st.one_of(st.integers(1, 2000), st.sampled_from(ENGINE_EDGES)),
    kind=st.sampled_from(["random", "random", "zeros", "ones"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_k_subset_reconstructs(data, k, length, kind, seed):
    n = data.draw(st.integers(k, 10))
    xs = data.draw(xs_strategy(n))
    secret = secret_bytes(length, seed, kind)
    shares = split(secret, k, n, xs=xs, randbytes=seeded(seed))
    assert [s.x for s in shares] == (list(xs) if xs else list(range(1, n + 1)))
    assert all(len(s.y) == length for s in shares)
    rng = random.Random(seed)
    for subset in some_subsets(shares, k, rng):
        subset = list(subset)
        rng.shuffle(subset)
        assert combine(subset) == secret
        assert combine(subset, threshold=k) == secret
    assert combine(shares, threshold=k) == secret  # all n, checked against each other
    assert decode(shares, k).bad_x == ()
    base = list(rng.choice(some_subsets(shares, k, rng)))
    for share in shares:  # any k shares determine every other share
        assert interpolate(base, share.x) == share.y
        assert interpolate(shares, share.x) == share.y
    assert interpolate(base, 0) == secret


@pytest.mark.parametrize(
    ("length", "k", "n"),
    [
        (4 * BLOCK + 4101, 3, 5),  # > 2 MiB: several threads, five blocks, odd length
        (2 * BLOCK + 12, 2, 3),  # two blocks and a partial one, length 12 mod 16, one thread
    ],
)
def test_multi_block_round_trip_and_known_answer(length, k, n, monkeypatch):
    assert length % 8 and length % 16
    secret = secret_bytes(length, length)
    key = hashlib.sha256(b"multi-block key").digest()
    served = Served(key)
    monkeypatch.setenv("KEYCEREMONY_THREADS", "2")
    shares = split(secret, k, n, randbytes=served)
    assert served.requests == [32]  # far above 64 KiB of coefficients: one AES key is drawn
    stride = stride_for(length)
    stream = aes_ctr_keystream(key, (k - 1) * stride)
    expected = naive_shares_fast(secret, range(1, n + 1), naive.coefficient_rows(stream, k, length, stride))
    for share, want in zip(shares, expected, strict=True):
        assert share.y == want
    # the result does not depend on how the blocks were scheduled
    monkeypatch.setenv("KEYCEREMONY_THREADS", "1")
    assert [s.y for s in split(secret, k, n, randbytes=Served(key))] == [s.y for s in shares]
    monkeypatch.setenv("KEYCEREMONY_THREADS", "3")
    assert combine(shares[-k:]) == secret
    assert combine(shares, threshold=k) == secret
    assert interpolate(shares[:k], shares[-1].x) == shares[-1].y
    ys = np.stack([np.frombuffer(s.y, dtype=np.uint8) for s in shares[1 : k + 1]])[:, None, :]
    assert combine_many(ys, [s.x for s in shares[1 : k + 1]]).tobytes() == secret


def test_split_accepts_bytes_like_secrets():
    secret = bytes(range(200)) * 3  # 600 bytes: the numpy engine
    for length in (17, 600):
        s = secret[:length]
        expected = [x.y for x in split(s, 2, 3, randbytes=seeded(1))]
        for form in (bytearray(s), memoryview(s)):
            assert [x.y for x in split(form, 2, 3, randbytes=seeded(1))] == expected


# --- secrecy: k - 1 shares say nothing about a 1-byte secret ----------------------------------


def test_one_share_of_two_leaves_every_secret_equally_possible_long_engine():
    # 65536 one-byte secrets in one batch, (secret, coefficient) running over every pair; a batch
    # of 65536 bytes with k = 2 takes its 65536 coefficients straight from randbytes (stride 65536).
    secrets = np.repeat(np.arange(256, dtype=np.uint8), 256)
    a1 = np.tile(np.arange(256, dtype=np.uint8), 256)
    served = Served(a1.tobytes())
    ys = split_many(secrets.reshape(-1, 1), 2, 255, randbytes=served)
    assert served.nonzero_requests == [65536]
    for j, x in enumerate(range(1, 256)):
        observed = ys[j, :, 0].astype(np.int64)
        # counts[s, y]: how many coefficient choices give share value y at x for secret s
        counts = np.bincount(secrets.astype(np.int64) * 256 + observed, minlength=65536).reshape(256, 256)
        assert (counts == 1).all(), f"share x={x} is not uniform given the secret"


def test_one_share_of_two_leaves_every_secret_equally_possible_short_engine():
    counts = np.zeros((255, 256, 256), dtype=np.int64)  # [x, secret, observed y]
    a1 = bytes(range(256))  # 256 secrets of 1 byte: the Python-integer engine
    for s in range(256):
        served = Served(a1)
        ys = split_many(np.full((256, 1), s, dtype=np.uint8), 2, 255, randbytes=served)
        assert served.nonzero_requests == [256]
        for j in range(255):
            counts[j, s] += np.bincount(ys[j, :, 0], minlength=256)
    assert (counts == 1).all()


@pytest.mark.parametrize("observed_xs", [(1, 2), (7, 255), (128, 3)])
def test_two_shares_of_three_leave_every_secret_equally_possible(observed_xs):
    # For each secret s, all 65536 pairs (a1, a2), in two batches of 32768 (each within the 64 KiB
    # direct coefficient stream: a1 at 0..32767, a2 at 32768..65535). The pair of observed values
    # must take each of the 65536 possible values exactly once, for every s.
    a1 = np.repeat(np.arange(256, dtype=np.uint8), 256)
    a2 = np.tile(np.arange(256, dtype=np.uint8), 256)
    halves = [slice(0, 32768), slice(32768, 65536)]
    xs = (*observed_xs, next(x for x in range(1, 256) if x not in observed_xs))  # n >= k; a third unseen
    for s in range(256):
        seen = np.zeros(65536, dtype=np.int64)
        for half in halves:
            served = Served(a1[half].tobytes() + a2[half].tobytes())
            ys = split_many(np.full((32768, 1), s, dtype=np.uint8), 3, 3, xs=xs, randbytes=served)
            assert served.nonzero_requests == [65536]
            seen += np.bincount(ys[0, :, 0].astype(np.int64) * 256 + ys[1, :, 0], minlength=65536)
        assert (seen == 1).all(), f"secret {s}: two shares at {observed_xs} are not uniform"


def test_secrecy_counts_detect_a_leak():
    # The counting above would notice a split that ignored the coefficients (a_i = 0): then the
    # share would be the secret itself and the counts would be 256 on the diagonal.
    secrets = np.repeat(np.arange(256, dtype=np.uint8), 256)
    ys = split_many(secrets.reshape(-1, 1), 2, 2, randbytes=Served(bytes(65536)))
    counts = np.bincount(secrets.astype(np.int64) * 256 + ys[0, :, 0], minlength=65536)
    assert not (counts == 1).all()


# --- known answers ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    k=st.integers(1, 6),
    length=st.one_of(st.integers(1, SHORT_MAX), st.sampled_from([1, 511, 512])),
    seed=st.integers(0, 2**32 - 1),
)
def test_short_layout_matches_naive(data, k, length, seed):
    n = data.draw(st.integers(k, 9))
    xs = data.draw(xs_strategy(n))
    points = list(xs) if xs else list(range(1, n + 1))
    secret = secret_bytes(length, seed)
    stream = random.Random(seed + 1).randbytes((k - 1) * length)
    served = Served(stream)
    shares = split(secret, k, n, xs=xs, randbytes=served)
    assert served.nonzero_requests == ([(k - 1) * length] if k > 1 else [])
    assert served.position == len(stream)
    expected = naive_shares_fast(secret, points, naive.coefficient_rows(stream, k, length, length))
    assert [s.y for s in shares] == expected
    if length <= 24:  # the fully naive reference too, where it is quick
        rows = naive.coefficient_rows(stream, k, length, length)
        assert expected == naive.split_with_coefficients(secret, points, rows)


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 6),
    n_extra=st.integers(0, 3),
    length=st.one_of(st.integers(SHORT_MAX + 1, 4000), st.sampled_from([513, 527, 528, 529, 4095, 4097])),
    seed=st.integers(0, 2**32 - 1),
)
def test_long_direct_layout_matches_naive(k, n_extra, length, seed):
    n = k + n_extra
    stride = stride_for(length)
    assert (k - 1) * stride <= DIRECT_MAX
    secret = secret_bytes(length, seed)
    stream = random.Random(seed + 1).randbytes((k - 1) * stride)
    served = Served(stream)
    shares = split(secret, k, n, randbytes=served)
    assert served.nonzero_requests == ([(k - 1) * stride] if k > 1 else [])
    expected = naive_shares_fast(secret, range(1, n + 1), naive.coefficient_rows(stream, k, length, stride))
    assert [s.y for s in shares] == expected


@pytest.mark.parametrize(
    ("length", "k", "expect_aes"),
    [
        (65536, 2, False),  # exactly 64 KiB of coefficients: still direct
        (65529, 2, False),  # stride rounds up to 65536
        (65537, 2, True),  # stride 65552 > 64 KiB: AES-CTR
        (32768, 3, False),  # 2 * 32768 = 64 KiB
        (32769, 3, True),  # 2 * 32784
        (40001, 4, True),
    ],
)
def test_coefficient_source_switch(length, k, expect_aes):
    stride = stride_for(length)
    secret = secret_bytes(length, 5)
    if expect_aes:
        key = hashlib.sha256(b"aes %d" % length).digest()
        served = Served(key)
        stream = aes_ctr_keystream(key, (k - 1) * stride)
        # an independent second implementation of the same keystream
        pycryptodome = PyCryptodomeAES.new(key, PyCryptodomeAES.MODE_CTR, nonce=b"", initial_value=0)
        assert pycryptodome.encrypt(bytes((k - 1) * stride)) == stream
    else:
        stream = random.Random(length).randbytes((k - 1) * stride)
        served = Served(stream)
    shares = split(secret, k, k + 1, randbytes=served)
    assert served.nonzero_requests == ([32] if expect_aes else [(k - 1) * stride])
    expected = naive_shares_fast(secret, range(1, k + 2), naive.coefficient_rows(stream, k, length, stride))
    assert [s.y for s in shares] == expected
    # spot-check a few positions with the fully naive evaluation too
    rows = naive.coefficient_rows(stream, k, length, stride)
    for p in (0, 15, 16, length // 2, length - 1):
        for share in shares:
            assert share.y[p] == naive.eval_poly([secret[p], *(r[p] for r in rows)], share.x)


@settings(max_examples=60, deadline=None)
@given(offset=st.integers(0, 3000), count=st.integers(1, 600), spare=st.integers(0, 40))
def test_coefficient_stream_any_offset_matches_aes_ctr(offset, count, spare):
    total = DIRECT_MAX + 4096
    key = hashlib.sha256(b"stream").digest()
    stream = CoefficientStream(Served(key), total)
    out = np.full(count + spare, 0xAA, dtype=np.uint8)
    stream.fill(out, offset, count)
    assert out[:count].tobytes() == aes_ctr_keystream(key, offset + count)[offset:]
    assert not out[count:].any()


def test_engine_constants_are_what_these_tests_assume():
    # the layout tests hard-code the engine switch points; fail loudly if they move
    assert shamir._INT_PATH_MAX == SHORT_MAX
    assert coefficients._DIRECT_MAX == DIRECT_MAX
    assert BLOCK % 16 == 0


def load_vectors() -> list[tuple[str, dict]]:
    files = sorted(VECTORS.glob("*.json"))
    assert files, f"no vectors in {VECTORS}"
    return [(f.stem, json.loads(f.read_text())) for f in files]


@pytest.mark.parametrize(("name", "vector"), load_vectors())
def test_stored_vectors(name, vector):
    shares_given = [bytes.fromhex(h) for h in vector["shares_hex"]]
    k, xs = vector["threshold"], vector["xs"]
    if vector["kind"] == "split":
        secret = bytes.fromhex(vector["secret_hex"])
        randomness = bytes.fromhex(vector["randomness_hex"])
        served = Served(randomness)
        shares = split(secret, k, vector["shares"], xs=xs, randbytes=served)
        assert served.position == len(randomness)
        assert [s.y for s in shares] == shares_given
        # the stored file is what the naive reference produces today
        case = next(c for c in naive.VECTOR_CASES if c[0] == name)
        assert naive.make_vector(*case) == vector
        for subset in itertools.combinations(zip(xs, shares_given, strict=True), k):
            assert naive.combine(list(subset)) == secret
            assert combine([Share(x, y) for x, y in subset], threshold=k) == secret
        return
    assert vector["kind"] == "decode"
    case = next(c for c in naive.DECODE_CASES if c[0] == name)
    assert naive.make_decode_vector(*case) == vector
    given_shares = [Share(x, y) for x, y in zip(xs, shares_given, strict=True)]
    expected = vector["expected"]
    if "error" in expected:
        assert expected["error"] == "InconsistentShares"
        with pytest.raises(InconsistentShares):
            decode(given_shares, k)
        with pytest.raises(InconsistentShares):
            combine(given_shares, threshold=k)
        return
    result = decode(given_shares, k)
    assert result.secret.hex() == expected["secret_hex"]
    assert list(result.bad_x) == expected["bad_x"]
    with pytest.raises(InconsistentShares) as caught:
        combine(given_shares, threshold=k)
    assert list(caught.value.bad_x) == expected["bad_x"]


# --- outside implementations -----------------------------------------------------------------


def to_vault(share: Share) -> bytearray:
    return bytearray(share.y + bytes([share.x]))  # Vault: y bytes, then x as the last byte


def from_vault(part: bytes) -> Share:
    return Share(part[-1], bytes(part[:-1]))


@settings(max_examples=15, deadline=None)
@given(k=st.integers(2, 5), extra=st.integers(0, 3), length=st.integers(1, 24), seed=st.integers(0, 2**32 - 1))
def test_pyshamir_combines_our_shares(k, extra, length, seed):
    secret = secret_bytes(length, seed)
    rng = random.Random(seed)
    xs = rng.sample(range(1, 256), k + extra)
    shares = split(secret, k, k + extra, xs=xs, randbytes=seeded(seed))
    subset = rng.sample(shares, k)
    assert bytes(pyshamir.combine([to_vault(s) for s in subset])) == secret


@settings(max_examples=15, deadline=None)
@given(k=st.integers(2, 5), extra=st.integers(0, 3), length=st.integers(1, 24), seed=st.integers(0, 2**32 - 1))
def test_we_combine_pyshamir_shares(k, extra, length, seed):
    secret = secret_bytes(length, seed)
    parts = pyshamir.split(secret, k + extra, k)
    ours = [from_vault(p) for p in parts]
    rng = random.Random(seed)
    subset = rng.sample(ours, k)
    assert combine(subset) == secret
    assert combine(ours, threshold=k) == secret  # all of Vault's shares lie on our polynomials
    # a share we interpolate at a new x is one Vault accepts alongside its own
    new_x = next(x for x in range(1, 256) if x not in {s.x for s in ours})
    ours_new = Share(new_x, interpolate(subset, new_x))
    mixed = [to_vault(ours_new)] + [to_vault(s) for s in rng.sample(ours, k - 1)]
    assert bytes(pyshamir.combine(mixed)) == secret


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 8), extra=st.integers(0, 3), length=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_slip39_interpolates_our_shares(k, extra, length, seed):
    secret = secret_bytes(length, seed)
    shares = split(secret, k, k + extra, randbytes=seeded(seed))
    subset = random.Random(seed).sample(shares, k)
    raw = [slip39.RawShare(s.x, s.y) for s in subset]
    assert slip39._interpolate(raw, 0) == secret
    for s in shares:
        assert slip39._interpolate(raw, s.x) == s.y


@settings(max_examples=20, deadline=None)
@given(
    k=st.integers(2, 6),
    extra=st.integers(1, 4),
    length=st.sampled_from([16, 17, 32, 33]),
    seed=st.integers(0, 2**32 - 1),
)
def test_slip39_split_shares_combine_with_ours(k, extra, length, seed):
    # SLIP-39 puts the secret at x = 255 and a digest share at x = 254; its member shares sit at
    # x = 0, 1, ... (x = 0 is not a valid keyceremony share, so we use x >= 1 only).
    secret = secret_bytes(length, seed)
    with mock.patch.object(slip39, "RANDOM_BYTES", seeded(seed)):
        theirs = slip39._split_secret(k, k + extra, secret)
    usable = [Share(r.x, r.data) for r in theirs if r.x >= 1]
    assert len(usable) >= k
    rng = random.Random(seed)
    subset = rng.sample(usable, k)
    assert interpolate(subset, 255) == secret
    digest_share = interpolate(subset, 254)
    assert digest_share[:4] == slip39._create_digest(digest_share[4:], secret)
    # their shares, their secret point and ours all lie on one set of polynomials
    everything = usable + [Share(255, secret), Share(254, digest_share)]
    assert decode(everything, k).bad_x == ()
    # a share we make is accepted by their recovery, digest check included
    ours = Share(200, interpolate(subset, 200))
    mixed = [slip39.RawShare(ours.x, ours.y)] + [slip39.RawShare(s.x, s.y) for s in rng.sample(usable, k - 1)]
    assert slip39._recover_secret(k, mixed) == secret


# --- errors and misuse -----------------------------------------------------------------------


def test_too_few_shares_with_threshold():
    shares = split(b"0123456789", 3, 5)
    for call in (lambda: combine(shares[:2], threshold=3), lambda: decode(shares[:2], 3)):
        with pytest.raises(ThresholdNotMet) as caught:
            call()
        assert (caught.value.have, caught.value.need) == (2, 3)
        assert isinstance(caught.value, ShareSetError)
    with pytest.raises(ThresholdNotMet):
        combine([], threshold=1)
    with pytest.raises(ThresholdNotMet):
        combine([])


def test_duplicate_x():
    shares = split(b"0123456789", 2, 3)
    imposter = Share(shares[0].x, shares[1].y)  # same x, different value
    for given_shares in ([shares[0], shares[0]], [shares[0], imposter], [shares[1], shares[0], imposter]):
        with pytest.raises(DuplicateShare):
            combine(given_shares)
        with pytest.raises(DuplicateShare):
            combine(given_shares, threshold=2)
        with pytest.raises(DuplicateShare):
            interpolate(given_shares, 9)
    ys = np.stack([np.frombuffer(s.y, dtype=np.uint8) for s in shares[:2]])[:, None, :]
    with pytest.raises(DuplicateShare):
        combine_many(ys, [1, 1])


def test_mismatched_lengths():
    a = split(b"0123456789", 2, 3)
    b = split(b"01234567890", 2, 3)
    for call in (
        lambda: combine([a[0], b[1]]),
        lambda: combine([a[0], b[1]], threshold=2),
        lambda: interpolate([a[0], b[1]], 0),
    ):
        with pytest.raises(ValueError):
            call()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0, "shares": 3},
        {"threshold": 4, "shares": 3},
        {"threshold": 2, "shares": 256},
        {"threshold": 1, "shares": 0},
        {"threshold": -1, "shares": 3},
        {"threshold": 2.0, "shares": 3},
        {"threshold": 2, "shares": 3, "xs": [1, 2, 2]},
        {"threshold": 2, "shares": 3, "xs": [0, 1, 2]},
        {"threshold": 2, "shares": 3, "xs": [1, 2, 256]},
        {"threshold": 2, "shares": 3, "xs": [1, 2]},
        {"threshold": 2, "shares": 3, "xs": [1, 2, 3, 4]},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        split(b"secret", **kwargs)
    with pytest.raises(ValueError):
        split_many(np.zeros((2, 3), dtype=np.uint8), **kwargs)


def test_bad_secrets_and_arguments():
    for secret in (b"", bytearray(), "text", None, 5):
        with pytest.raises(ValueError):
            split(secret, 2, 3)
    with pytest.raises(ValueError):
        split_many(np.zeros((0, 4), dtype=np.uint8), 2, 3)
    with pytest.raises(ValueError):
        split_many(np.zeros(4, dtype=np.uint8), 2, 3)
    shares = split(b"abc", 2, 3)
    with pytest.raises(ValueError):
        interpolate(shares, 256)
    with pytest.raises(ValueError):
        decode(shares, 0)
    with pytest.raises(ValueError):
        combine_many(np.zeros((2, 1, 3), dtype=np.uint8), [1, 2, 3])
    for x, y in ((0, b"a"), (256, b"a"), (True, b"a"), (1.0, b"a"), (1, b"")):
        with pytest.raises(ValueError):
            Share(x, y)


def test_split_randbytes_returning_too_little():
    for length in (10, 600):
        with pytest.raises(ValueError):
            split(bytes(length), 3, 3, randbytes=lambda n: bytes(max(n - 1, 0)))


def test_share_and_decoding_reprs_hide_the_bytes():
    y = b"\xde\xad\xbe\xefSECRETSHARE\x00\x01"
    share = Share(7, y)
    for text in (repr(share), str(share), f"{share}", repr([share])):
        assert y.hex() not in text and y.hex().upper() not in text
        assert "SECRETSHARE" not in text and "dead" not in text.lower()
        assert repr(y)[2:-1] not in text
        assert "x=7" in text
    secret = b"TOPSECRETVALUE!!"
    shares = split(secret, 2, 4)
    result = decode(shares, 2)
    assert secret.decode() not in repr(result) and secret.hex() not in repr(result)
    bad = [shares[0], Share(shares[1].x, bytes(16)), shares[2], shares[3]]
    with pytest.raises(InconsistentShares) as caught:
        combine(bad, threshold=2)
    message = str(caught.value)
    for s in shares:
        assert s.y.hex() not in message and s.y not in message.encode("latin-1")
    assert secret.hex() not in message and "TOPSECRET" not in message


def test_share_rejects_an_integer_as_y():
    with pytest.raises((ValueError, TypeError)):
        Share(1, 5)


def test_split_many_rejects_values_outside_a_byte():
    with pytest.raises(ValueError):
        split_many(np.array([[300, 2]]), 2, 3)


# --- robust combine -----------------------------------------------------------------------------


def corrupt(y: bytes, mode: str, rng: random.Random) -> bytes:
    """y with a non-zero change at: every byte, the last byte only, or a random non-empty set."""
    if mode == "all":
        positions = range(len(y))
    elif mode == "last":
        positions = [len(y) - 1]
    elif mode == "first":
        positions = [0]
    else:
        positions = rng.sample(range(len(y)), rng.randint(1, len(y)))
    out = bytearray(y)
    for p in positions:
        out[p] ^= rng.randint(1, 255)
    return bytes(out)


CORRUPTION = st.sampled_from(["all", "last", "first", "random"])


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    k=st.integers(1, 5),
    m_extra=st.integers(0, 6),
    length=st.one_of(st.integers(1, 48), st.sampled_from([512, 513, 700])),
    seed=st.integers(0, 2**32 - 1),
)
def test_decode_finds_up_to_the_bound(data, k, m_extra, length, seed):
    m = k + m_extra
    bound = (m - k) // 2
    e = data.draw(st.integers(0, bound))
    rng = random.Random(seed)
    secret = secret_bytes(length, seed)
    shares = split(secret, k, m, xs=rng.sample(range(1, 256), m), randbytes=seeded(seed))
    wrong = set(rng.sample([s.x for s in shares], e))
    given_shares = [Share(s.x, corrupt(s.y, data.draw(CORRUPTION), rng)) if s.x in wrong else s for s in shares]
    rng.shuffle(given_shares)  # wrong shares may be among the first k
    result = decode(given_shares, k)
    assert result.secret == secret
    assert result.bad_x == tuple(sorted(wrong))
    assert result.good_x == tuple(s.x for s in given_shares if s.x not in wrong)
    if wrong:
        with pytest.raises(InconsistentShares) as caught:
            combine(given_shares, threshold=k)
        assert caught.value.bad_x == tuple(sorted(wrong))
    else:
        assert combine(given_shares, threshold=k) == secret


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    k=st.integers(1, 5),
    half=st.integers(0, 3),
    length=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_decode_one_past_the_bound_never_returns_a_wrong_secret_when_m_minus_k_is_odd(data, k, half, length, seed):
    # m - k = 2e + 1. A received column with e + 1 errors is at distance >= (m - k + 1) - (e + 1)
    # = e + 1 from every other codeword (Reed-Solomon minimum distance m - k + 1), so no polynomial
    # but the true one lies within the decoding radius e: Berlekamp-Welch either finds the true
    # errors or fails. decode must therefore raise or return the right secret.
    m = k + 2 * half + 1
    bound = half
    rng = random.Random(seed)
    secret = secret_bytes(length, seed)
    shares = split(secret, k, m, randbytes=seeded(seed))
    wrong = set(rng.sample([s.x for s in shares], bound + 1))
    mode = data.draw(CORRUPTION)
    given_shares = [Share(s.x, corrupt(s.y, mode, rng)) if s.x in wrong else s for s in shares]
    rng.shuffle(given_shares)
    if mode in ("all", "first", "last") or length == 1:
        # all e + 1 wrong shares are wrong in the first byte position that disagrees: the decoding
        # radius is e, so decode must give up there rather than guess
        with pytest.raises(InconsistentShares) as caught:
            decode(given_shares, k)
        assert caught.value.bad_x == ()
        return
    try:
        result = decode(given_shares, k)
    except InconsistentShares as err:
        assert set(err.bad_x) <= wrong  # whatever it names is really wrong
        return
    # success: the errors were spread so that no byte position decode examined had more than e
    assert result.secret == secret
    assert set(result.bad_x) == wrong


@pytest.mark.parametrize(("k", "m"), [(1, 3), (2, 4), (3, 7), (2, 8)])
def test_decode_one_past_the_bound_when_m_minus_k_is_even_can_return_another_secret(k, m):
    # Why "no wrong secret" cannot be asserted here: with m - k = 2e even, a column with e + 1
    # errors can sit at distance exactly e from a *different* polynomial. Build one: c' = c +
    # lam * prod_{s in S}(x - s) agrees with the true c on a set S of k - 1 honest shares; set e + 1
    # shares to c'. Then the received column agrees with c' on (k - 1) + (e + 1) = k + e shares and
    # differs on the remaining e honest ones. That is exactly "c' with e errors", indistinguishable
    # from the truth for any bounded-distance decoder. decode returns c'(0) and blames honest shares.
    # So docs/core.md §5 ("with more wrong shares than that, it raises ... rather than guess") holds
    # for e + 1 wrong shares only when m - k is odd: errors are *detected* up to ceil((m - k) / 2).
    e = (m - k) // 2
    assert m - k == 2 * e
    secret = b"well within the bound? no: one past it"
    p = 5  # the corrupted byte position
    shares = split(secret, k, m, randbytes=seeded(m))
    xs = [s.x for s in shares]
    agree, corrupted, blamed = xs[: k - 1], xs[k - 1 : k + e], xs[k + e :]
    assert len(corrupted) == e + 1 and len(blamed) == e
    lam = 0x5A

    def c_prime(x: int, true_value: int) -> int:
        delta = lam
        for s in agree:
            delta = naive.gf_mul(delta, x ^ s)
        return true_value ^ delta

    given_shares = []
    for s in shares:
        y = bytearray(s.y)
        if s.x in corrupted:
            y[p] = c_prime(s.x, y[p])
        given_shares.append(Share(s.x, bytes(y)))
    result = decode(given_shares, k)
    wrong_secret = bytearray(secret)
    wrong_secret[p] = c_prime(0, secret[p])
    assert result.secret == bytes(wrong_secret) != secret
    assert result.bad_x == tuple(sorted(blamed))
    with pytest.raises(InconsistentShares) as caught:
        combine(given_shares, threshold=k)
    assert caught.value.bad_x == tuple(sorted(blamed))


def test_decode_with_no_redundancy_to_spare_raises_without_naming():
    # m = k + 1: a disagreement is seen but one wrong share cannot be located (bound 0)
    shares = split(b"0123456789abcdef", 3, 4)
    given_shares = shares[:3] + [Share(shares[3].x, corrupt(shares[3].y, "last", random.Random(1)))]
    with pytest.raises(InconsistentShares) as caught:
        decode(given_shares, 3)
    assert caught.value.bad_x == ()


# --- batches -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    m=st.integers(1, 40),
    length=st.integers(1, 100),
    k=st.integers(1, 6),
    extra=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_many_combine_many_round_trip(data, m, length, k, extra, seed):
    n = k + extra
    xs = data.draw(xs_strategy(n))
    points = list(xs) if xs else list(range(1, n + 1))
    rng = np.random.default_rng(seed)
    secrets = rng.integers(0, 256, size=(m, length), dtype=np.uint8)
    ys = split_many(secrets, k, n, xs=xs, randbytes=seeded(seed))
    assert ys.shape == (n, m, length) and ys.dtype == np.uint8
    chosen = sorted(random.Random(seed).sample(range(n), k))
    assert (combine_many(ys[chosen], [points[j] for j in chosen]) == secrets).all()
    # each row is an ordinary share of its own secret
    i = int(rng.integers(0, m))
    row_shares = [Share(points[j], ys[j, i].tobytes()) for j in range(n)]
    assert combine(row_shares, threshold=k) == secrets[i].tobytes()


@pytest.mark.parametrize(("m", "length"), [(4, 128), (3, 171), (64, 33), (1000, 3)])
def test_split_many_layout_is_one_secret_per_row_with_its_own_coefficients(m, length):
    # The batch is split as one flat secret of m * L bytes: secret i byte p takes the coefficients at
    # flat position i * L + p, so no two secrets (or bytes) share a coefficient.
    k, n = 3, 4
    flat = m * length
    stride = stride_for(flat)
    secrets = np.random.default_rng(m).integers(0, 256, size=(m, length), dtype=np.uint8)
    stream = random.Random(flat).randbytes((k - 1) * stride)
    served = Served(stream)
    ys = split_many(secrets, k, n, randbytes=served)
    assert served.nonzero_requests == [(k - 1) * stride]
    rows = naive.coefficient_rows(stream, k, flat, stride)
    expected = naive_shares_fast(secrets.tobytes(), range(1, n + 1), rows)
    for j in range(n):
        assert ys[j].tobytes() == expected[j]


@pytest.mark.parametrize(("m", "length"), [(2, 16), (8, 64), (16, 40)])  # 32, 512 and 640 bytes
def test_equal_secrets_in_a_batch_get_different_shares(m, length):
    secrets = np.tile(np.frombuffer(b"same secret, same bytes, again!!" * 2, dtype=np.uint8)[:length], (m, 1))
    ys = split_many(secrets, 2, 3)
    for a, b in itertools.combinations(range(m), 2):
        for j in range(3):
            assert ys[j, a].tobytes() != ys[j, b].tobytes()
    assert (combine_many(ys[1:], [2, 3]) == secrets).all()


def test_combine_many_long_batch():
    secrets = np.random.default_rng(3).integers(0, 256, size=(300, 37), dtype=np.uint8)  # 11100 bytes
    ys = split_many(secrets, 4, 6, xs=[9, 8, 7, 6, 5, 4])
    assert (combine_many(ys[[5, 0, 2, 3]], [4, 9, 7, 6]) == secrets).all()
    assert not (combine_many(ys[[5, 0, 2]], [4, 9, 7]) == secrets).all()  # k - 1 rows are not enough
