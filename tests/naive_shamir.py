"""A deliberately naive Shamir reference over GF(2^8) / 0x11B, independent of keyceremony.

Written from the textbook definitions, not from ``keyceremony.core.gf256``: multiplication is
shift-and-add ("Russian peasant") with reduction by x^8 + x^4 + x^3 + x + 1 (FIPS 197 §4.2), no
log/exp tables; the inverse is found by search; polynomials are evaluated term by term,
sum a_i * x^i, one byte position at a time; interpolation is Lagrange's formula, one byte position
at a time. Slow on purpose: every step is easy to check by eye.

Run as a script to regenerate the known-answer vectors in tests/vectors/core/:

    .venv/bin/python tests/naive_shamir.py tests/vectors/core
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

POLY = 0x11B  # x^8 + x^4 + x^3 + x + 1


def gf_add(a: int, b: int) -> int:
    return a ^ b


def gf_mul(a: int, b: int) -> int:
    """a * b in GF(2^8): add a * x^i for every bit i of b, reducing a modulo POLY as it grows."""
    assert 0 <= a < 256 and 0 <= b < 256
    product = 0
    while b:
        if b & 1:
            product ^= a
        a <<= 1
        if a & 0x100:
            a ^= POLY
        b >>= 1
    return product


def gf_pow(a: int, e: int) -> int:
    result = 1
    for _ in range(e):
        result = gf_mul(result, a)
    return result


@cache
def gf_inv(a: int) -> int:
    """The b with a * b = 1, by trying all 255 candidates."""
    if a == 0:
        raise ZeroDivisionError("0 has no inverse")
    for b in range(1, 256):
        if gf_mul(a, b) == 1:
            return b
    raise AssertionError("unreachable: GF(2^8) is a field")


def gf_div(a: int, b: int) -> int:
    return gf_mul(a, gf_inv(b))


def mul_table() -> list[list[int]]:
    """All 65536 products, computed with ``gf_mul`` (for tests that need them fast)."""
    return [[gf_mul(a, b) for b in range(256)] for a in range(256)]


# --- one byte position ------------------------------------------------------------------------


def eval_poly(coefficients: Sequence[int], x: int) -> int:
    """sum_i coefficients[i] * x^i, term by term."""
    total = 0
    for i, c in enumerate(coefficients):
        total = gf_add(total, gf_mul(c, gf_pow(x, i)))
    return total


def interpolate_byte(points: Sequence[tuple[int, int]], x: int) -> int:
    """Value at x of the polynomial of degree < len(points) through the points (Lagrange)."""
    total = 0
    for i, (xi, yi) in enumerate(points):
        basis = 1
        for j, (xj, _) in enumerate(points):
            if j != i:
                basis = gf_mul(basis, gf_div(gf_add(x, xj), gf_add(xi, xj)))
        total = gf_add(total, gf_mul(yi, basis))
    return total


# --- whole secrets --------------------------------------------------------------------------


def split_with_coefficients(
    secret: bytes, xs: Sequence[int], coefficients: Sequence[bytes]
) -> list[bytes]:
    """Share values at each x: byte p of share x is f_p(x), f_p = secret[p] + sum a_i[p] x^i.

    ``coefficients[i - 1]`` holds a_i for every byte position (so threshold = len + 1).
    """
    for row in coefficients:
        assert len(row) == len(secret)
    shares = []
    for x in xs:
        value = bytearray()
        for p in range(len(secret)):
            value.append(eval_poly([secret[p], *(row[p] for row in coefficients)], x))
        shares.append(bytes(value))
    return shares


def interpolate(points: Sequence[tuple[int, bytes]], x: int) -> bytes:
    """Byte by byte Lagrange interpolation of (x_i, y_i) shares at x."""
    length = len(points[0][1])
    assert all(len(y) == length for _, y in points)
    return bytes(interpolate_byte([(xi, yi[p]) for xi, yi in points], x) for p in range(length))


def combine(points: Sequence[tuple[int, bytes]]) -> bytes:
    return interpolate(points, 0)


# --- deterministic randomness and the stored vectors ----------------------------------------


def counter_bytes(label: str) -> Callable[[int], bytes]:
    """A ``randbytes`` replacement: SHA-256(label || call number || block counter), concatenated."""
    calls = [0]

    def randbytes(n: int) -> bytes:
        call = calls[0]
        calls[0] += 1
        out = bytearray()
        block = 0
        while len(out) < n:
            out += hashlib.sha256(f"{label}/{call}/{block}".encode()).digest()
            block += 1
        return bytes(out[:n])

    return randbytes


def coefficient_rows(stream: bytes, threshold: int, length: int, stride: int) -> list[bytes]:
    """a_i of byte p at (i - 1) * stride + p, the layout the split documents."""
    return [stream[(i - 1) * stride : (i - 1) * stride + length] for i in range(1, threshold)]


# Each case: a name, a secret, the threshold, the x-coordinates. Short secrets (<= 512 bytes) take
# (k-1)*L random bytes laid out with stride L; longer ones take (k-1)*stride, stride = L rounded up
# to 16 (docs/core.md §4). All the cases here stay below the AES-CTR expansion (64 KiB of stream).
VECTOR_CASES = [
    ("k1-n3-len5", bytes(range(1, 6)), 1, [1, 2, 3]),
    ("k2-n3-len1", b"\xa5", 2, [1, 2, 3]),
    ("k3-n5-len32-xs-high", hashlib.sha256(b"k3").digest(), 3, [255, 1, 128, 2, 254]),
    ("k5-n8-len16", b"attack at dawn!!", 5, [1, 2, 3, 4, 5, 6, 7, 8]),
    ("k2-n2-len512-short-limit", hashlib.sha512(b"512").digest() * 8, 2, [17, 34]),
    ("k3-n4-len513-long-direct", (hashlib.sha512(b"513").digest() * 9)[:513], 3, [3, 5, 7, 11]),
    ("k4-n6-len1001-long-direct", (hashlib.sha512(b"1001").digest() * 16)[:1001], 4, [9, 200, 31, 47, 1, 99]),
]


def stride_for(length: int) -> int:
    return length if length <= 512 else -(-length // 16) * 16


def make_vector(name: str, secret: bytes, threshold: int, xs: list[int]) -> dict:
    stride = stride_for(len(secret))
    size = (threshold - 1) * stride
    stream = counter_bytes(name)(size) if size else b""
    shares = split_with_coefficients(secret, xs, coefficient_rows(stream, threshold, len(secret), stride))
    return {
        "kind": "split",
        "description": f"split of a {len(secret)}-byte secret, threshold {threshold} of {len(xs)}",
        "source": "tests/naive_shamir.py (naive reference); checked against keyceremony.shamir",
        "secret_hex": secret.hex(),
        "threshold": threshold,
        "shares": len(xs),
        "xs": xs,
        "randomness_hex": stream.hex(),
        "coefficient_stride": stride,
        "shares_hex": [s.hex() for s in shares],
    }


def _corrupt(share: bytes, label: str, positions: Sequence[int]) -> bytes:
    """Add a non-zero byte (from SHA-256 of the label) at each position."""
    out = bytearray(share)
    for p in positions:
        delta = hashlib.sha256(f"{label}/{p}".encode()).digest()[0] or 1
        out[p] ^= delta
    return bytes(out)


# Decode cases: (name, secret, threshold, xs, {altered x: byte positions or "all"}, outcome).
# Expected outcomes form a closed vocabulary: {"secret_hex", "bad_x"} or {"error": "InconsistentShares"}.
DECODE_CASES = [
    # m=7, k=3: up to floor(4/2) = 2 wrong shares are found.
    ("decode-k3-n7-two-wrong", b"two wrong shares, both found", 3, list(range(1, 8)), {2: "all", 6: [27]}, "ok"),
    # m=5, k=2: the bound is 1; two shares wrong in every byte (m-k = 3 is odd, so no other
    # polynomial lies within distance 1 of what was received) cannot be decoded.
    ("decode-k2-n5-two-wrong-too-many", b"\x42" * 20, 2, [10, 20, 30, 40, 50], {10: "all", 40: "all"}, "error"),
]


def make_decode_vector(
    name: str, secret: bytes, threshold: int, xs: list[int], corrupt: dict, outcome: str
) -> dict:
    stream = counter_bytes(name)((threshold - 1) * len(secret))
    shares = split_with_coefficients(secret, xs, coefficient_rows(stream, threshold, len(secret), len(secret)))
    given = []
    for x, share in zip(xs, shares, strict=True):
        if x in corrupt:
            positions = range(len(secret)) if corrupt[x] == "all" else corrupt[x]
            share = _corrupt(share, f"{name}/{x}", positions)
        given.append(share)
    if outcome == "ok":
        expected = {"secret_hex": secret.hex(), "bad_x": sorted(corrupt)}
    else:
        expected = {"error": "InconsistentShares"}
    return {
        "kind": "decode",
        "description": f"robust combine of {len(xs)} shares, threshold {threshold}, {len(corrupt)} altered",
        "source": "tests/naive_shamir.py: naive split, then the named shares altered; outcome by construction",
        "threshold": threshold,
        "xs": xs,
        "shares_hex": [s.hex() for s in given],
        "expected": expected,
    }


def write_vectors(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, secret, threshold, xs in VECTOR_CASES:
        vector = make_vector(name, secret, threshold, xs)
        (directory / f"{name}.json").write_text(json.dumps(vector, indent=1) + "\n")
    for name, secret, threshold, xs, corrupt, outcome in DECODE_CASES:
        vector = make_decode_vector(name, secret, threshold, xs, corrupt, outcome)
        (directory / f"{name}.json").write_text(json.dumps(vector, indent=1) + "\n")


if __name__ == "__main__":
    write_vectors(Path(sys.argv[1]))
