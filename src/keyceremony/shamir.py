"""Shamir's secret sharing over GF(256), vectorized over the secret's bytes (docs/core.md).

This is the hazardous layer: it splits and combines raw byte strings and knows nothing of files,
cards or signatures. Every byte position of the secret is shared with its own random polynomial
of degree ``threshold - 1``; share ``x`` holds the polynomial values at ``x`` for every position.

>>> parts = split(b"attack at dawn", threshold=2, shares=3)
>>> combine(parts[1:], threshold=2)
b'attack at dawn'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from keyceremony import gf256
from keyceremony.coefficients import CoefficientStream
from keyceremony.errors import DuplicateShare, InconsistentShares, ThresholdNotMet
from keyceremony.parallel import for_each_range

RandomBytes = Callable[[int], bytes]
MAX_SHARES = 255
_INT_PATH_MAX = 512  # bytes per secret below which Python integers beat numpy (docs/core.md §3)


@dataclass(frozen=True, repr=False)
class Share:
    """One point (x, f(x)) per byte position: ``x`` in 1..255, ``y`` as long as the secret."""

    x: int
    y: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.x, int) or not 1 <= self.x <= MAX_SHARES:
            raise ValueError(f"share x must be an integer in 1..255, got {self.x!r}")
        if not isinstance(self.y, (bytes, bytearray)) or not self.y:
            raise ValueError("share y must be non-empty bytes")

    def __repr__(self) -> str:  # never show share bytes
        return f"Share(x={self.x}, y=<{len(self.y)} bytes>)"


@dataclass(frozen=True, repr=False)
class Decoding:
    """Result of a robust combine: the secret, and which x-coordinates agreed or not."""

    secret: bytes
    good_x: tuple[int, ...]
    bad_x: tuple[int, ...]

    def __repr__(self) -> str:
        return f"Decoding(secret=<{len(self.secret)} bytes>, good_x={self.good_x}, bad_x={self.bad_x})"


# --- validation ------------------------------------------------------------------------------------


def _check_parameters(threshold: int, shares: int, xs: Sequence[int] | None) -> list[int]:
    if not isinstance(threshold, int) or not isinstance(shares, int):
        raise ValueError("threshold and shares must be integers")
    if not 1 <= threshold <= shares <= MAX_SHARES:
        raise ValueError(f"need 1 <= threshold <= shares <= 255, got threshold={threshold}, shares={shares}")
    if xs is None:
        return list(range(1, shares + 1))
    xs = [int(x) for x in xs]
    if len(xs) != shares:
        raise ValueError(f"{len(xs)} x-coordinates given for {shares} shares")
    if any(not 1 <= x <= MAX_SHARES for x in xs):
        raise ValueError("x-coordinates must be in 1..255 (0 is the secret)")
    if len(set(xs)) != len(xs):
        raise ValueError("x-coordinates must be distinct")
    return xs


def _check_points(xs: Sequence[int]) -> None:
    seen: set[int] = set()
    for x in xs:
        if not 1 <= x <= MAX_SHARES:
            raise ValueError(f"share x must be in 1..255, got {x}")
        if x in seen:
            raise DuplicateShare(f"share {x} was given twice; give each share once")
        seen.add(x)


def _vandermonde(xs: Sequence[int], threshold: int) -> list[list[int]]:
    """Row j evaluates the polynomial with coefficients (secret, a_1, ..., a_{k-1}) at xs[j]."""
    return [[gf256.power(x, i) for i in range(threshold)] for x in xs]


# --- the array engine ----------------------------------------------------------------------------


def _split_rows(
    flat: np.ndarray, threshold: int, xs: list[int], randbytes: RandomBytes
) -> np.ndarray:
    """Shares of the uint8 vector ``flat`` as a (len(xs), len(flat)) uint8 array."""
    length = flat.shape[0]
    n = len(xs)
    matrix = _vandermonde(xs, threshold)
    coefficients = CoefficientStream(randbytes, (threshold - 1) * length)
    if length <= _INT_PATH_MAX:
        return _split_small(flat, matrix, coefficients, length)
    padded = -(-length // 8) * 8
    out = np.empty((n, padded), dtype=np.uint8)

    def work(lo: int, hi: int, scratch: list[np.ndarray]) -> None:
        words = (hi - lo) // 8
        inputs = [s[:words] for s in scratch[:threshold]]
        tmp = (scratch[threshold][:words], scratch[threshold + 1][:words])
        src = inputs[0].view(np.uint8)
        src[: min(hi, length) - lo] = flat[lo:hi]
        src[min(hi, length) - lo :] = 0
        for i in range(1, threshold):
            coefficients.fill(inputs[i].view(np.uint8), (i - 1) * length + lo, min(hi, length) - lo)
        outputs = [out[j, lo:hi].view(np.uint64) for j in range(n)]
        gf256.linear_map_blocks(matrix, inputs, outputs, tmp)
        for s in scratch:
            s[:words] = 0

    for_each_range(padded, threshold + 2, work)
    coefficients.wipe()
    return out[:, :length]


def _split_small(flat: np.ndarray, matrix: list[list[int]], coefficients: CoefficientStream, length: int) -> np.ndarray:
    k = len(matrix[0])
    buf = np.zeros(length * (k - 1), dtype=np.uint8)
    coefficients.fill(buf, 0, buf.shape[0])
    ints = [int.from_bytes(flat.tobytes(), "big")]
    ints += [int.from_bytes(buf[i * length : (i + 1) * length].tobytes(), "big") for i in range(k - 1)]
    buf.fill(0)
    coefficients.wipe()
    rows = gf256.linear_map_ints(matrix, ints, length)
    out = np.frombuffer(b"".join(r.to_bytes(length, "big") for r in rows), dtype=np.uint8)
    return out.reshape(len(matrix), length)


def _map_rows(matrix: list[list[int]], ys: np.ndarray) -> np.ndarray:
    """outputs[j] = sum_i matrix[j][i] * ys[i] for a (k, L) uint8 array; returns (len(matrix), L)."""
    k, length = ys.shape
    if length <= _INT_PATH_MAX:
        ints = [int.from_bytes(ys[i].tobytes(), "big") for i in range(k)]
        rows = gf256.linear_map_ints(matrix, ints, length)
        data = b"".join(r.to_bytes(length, "big") for r in rows)
        return np.frombuffer(data, dtype=np.uint8).reshape(len(matrix), length)
    padded = -(-length // 8) * 8
    out = np.empty((len(matrix), padded), dtype=np.uint8)

    def work(lo: int, hi: int, scratch: list[np.ndarray]) -> None:
        words = (hi - lo) // 8
        inputs = [s[:words] for s in scratch[:k]]
        for i in range(k):
            view = inputs[i].view(np.uint8)
            view[: min(hi, length) - lo] = ys[i, lo:hi]
            view[min(hi, length) - lo :] = 0
        outputs = [out[j, lo:hi].view(np.uint64) for j in range(len(matrix))]
        gf256.linear_map_blocks(matrix, inputs, outputs, (scratch[k][:words], scratch[k + 1][:words]))
        for s in scratch:
            s[:words] = 0

    for_each_range(padded, k + 2, work)
    return out[:, :length]


def _as_rows(shares: Sequence[Share]) -> tuple[list[int], np.ndarray]:
    if not shares:
        raise ThresholdNotMet("no shares were given", have=0, need=1)
    xs = [s.x for s in shares]
    _check_points(xs)
    lengths = {len(s.y) for s in shares}
    if len(lengths) != 1:
        raise ValueError(f"shares have different lengths: {sorted(lengths)}")
    ys = np.frombuffer(b"".join(bytes(s.y) for s in shares), dtype=np.uint8).reshape(len(shares), -1)
    return xs, ys


# --- public API ----------------------------------------------------------------------------------


def split(
    secret: bytes,
    threshold: int,
    shares: int,
    *,
    xs: Sequence[int] | None = None,
    randbytes: RandomBytes = os.urandom,
) -> list[Share]:
    """Split ``secret`` so that any ``threshold`` of the ``shares`` returned recover it.

    ``xs`` chooses the x-coordinates (default 1..shares). ``randbytes(n)`` supplies randomness
    (default: the OS CSPRNG; large secrets expand a 256-bit seed from it with AES-256-CTR,
    docs/core.md §4). Raises ValueError on misuse.
    """
    points = _check_parameters(threshold, shares, xs)
    if not isinstance(secret, (bytes, bytearray, memoryview)) or len(secret) == 0:
        raise ValueError("secret must be non-empty bytes")
    flat = np.frombuffer(secret, dtype=np.uint8)
    rows = _split_rows(flat, threshold, points, randbytes)
    return [Share(x, rows[j].tobytes()) for j, x in enumerate(points)]


def interpolate(shares: Sequence[Share], x: int) -> bytes:
    """Value at ``x`` of the polynomials through all the given shares (x = 0 gives the secret)."""
    xs, ys = _as_rows(shares)
    if not 0 <= x <= MAX_SHARES:
        raise ValueError("x must be in 0..255")
    out = _map_rows([gf256.lagrange_coefficients(xs, x)], ys)
    return out[0].tobytes()


def combine(shares: Sequence[Share], threshold: int | None = None) -> bytes:
    """Recover the secret from at least ``threshold`` shares.

    With more shares than the threshold, checks that all of them agree and raises
    InconsistentShares naming the ones that do not (see ``decode`` to recover anyway).
    ``threshold=None`` trusts the caller: all shares are interpolated, nothing is checked.
    """
    if threshold is None:
        return interpolate(shares, 0)
    result = decode(shares, threshold)
    if result.bad_x:
        raise InconsistentShares(
            "shares " + ", ".join(map(str, result.bad_x)) + " disagree with the others",
            bad_x=result.bad_x,
        )
    return result.secret


def decode(shares: Sequence[Share], threshold: int) -> Decoding:
    """Robust combine: correct up to floor((m - k) / 2) wrong shares among m (Berlekamp-Welch).

    Shamir shares are Reed-Solomon codewords, one per byte position. The shares are first
    checked for agreement in one vectorized pass; only where they disagree is a byte position
    decoded, which names the shares that are wrong there. Raises InconsistentShares when more
    shares are wrong than can be told apart, ThresholdNotMet with fewer than ``threshold``.
    """
    if not 1 <= threshold <= MAX_SHARES:
        raise ValueError("threshold must be in 1..255")
    xs, ys = _as_rows(shares)
    m = len(xs)
    if m < threshold:
        raise ThresholdNotMet(
            f"{m} share(s) given but {threshold} are needed; bring {threshold - m} more",
            have=m,
            need=threshold,
        )
    bad: set[int] = set()
    while True:
        keep = [i for i in range(m) if xs[i] not in bad]
        position = _first_disagreement([xs[i] for i in keep], ys[keep], threshold)
        if position is None:
            break
        column = [int(v) for v in ys[:, position]]
        wrong = _berlekamp_welch(xs, column, threshold)
        if wrong is None or not (set(wrong) - bad):
            raise InconsistentShares(
                f"the {m} shares disagree and too many are wrong to tell which; "
                f"at most {(m - threshold) // 2} wrong share(s) can be found among {m}",
                bad_x=tuple(sorted(bad)),
            )
        bad |= set(wrong)
        if m - len(bad) < threshold:  # more errors than the bound; cannot happen within it
            raise InconsistentShares("too many shares disagree", bad_x=tuple(sorted(bad)))
    keep = [i for i in range(m) if xs[i] not in bad]
    base = keep[:threshold]
    secret = _map_rows([gf256.lagrange_coefficients([xs[i] for i in base], 0)], ys[base])
    return Decoding(
        secret[0].tobytes(), tuple(xs[i] for i in keep), tuple(sorted(bad))
    )


def _first_disagreement(xs: list[int], ys: np.ndarray, threshold: int) -> int | None:
    """First byte position where the shares beyond the first ``threshold`` are off the polynomial."""
    if len(xs) <= threshold:
        return None
    base = xs[:threshold]
    matrix = [gf256.lagrange_coefficients(base, x) for x in xs[threshold:]]
    predicted = _map_rows(matrix, ys[:threshold])
    diff = np.flatnonzero((predicted != ys[threshold:]).any(axis=0))
    return int(diff[0]) if diff.size else None


def _berlekamp_welch(xs: list[int], ys: list[int], k: int) -> list[int] | None:
    """x-coordinates of the wrong values in one byte position, or None if undecodable.

    Finds E (monic, degree e) and Q (degree < e + k) with Q(x_i) = y_i E(x_i) for all i,
    e = floor((m - k) / 2); then P = Q / E and the errors are where P(x_i) != y_i.
    """
    m = len(xs)
    e = (m - k) // 2
    if e == 0:
        return None
    rows, rhs = [], []
    for x, y in zip(xs, ys):
        # unknowns: E_0..E_{e-1}, Q_0..Q_{e+k-1};  y*(E(x)) - Q(x) = 0 with E_e = 1
        row = [gf256.mul(y, gf256.power(x, j)) for j in range(e)]
        row += [gf256.power(x, j) for j in range(e + k)]
        rows.append(row)
        rhs.append(gf256.mul(y, gf256.power(x, e)))
    sol = gf256.solve(rows, rhs)
    if sol is None:
        return None
    err_poly = sol[:e] + [1]
    quotient, remainder = gf256.poly_divmod(sol[e:], err_poly)
    if any(remainder) or any(quotient[k:]):
        return None
    wrong = [x for x, y in zip(xs, ys) if gf256.poly_eval(quotient[:k], x) != y]
    return wrong if len(wrong) <= e else None


def split_many(
    secrets: np.ndarray,
    threshold: int,
    shares: int,
    *,
    xs: Sequence[int] | None = None,
    randbytes: RandomBytes = os.urandom,
) -> np.ndarray:
    """Split m equal-length secrets at once: (m, L) uint8 in, (shares, m, L) uint8 out.

    Row j of the result belongs to x-coordinate ``xs[j]`` (default j + 1). Each secret gets its
    own independent random polynomials.
    """
    points = _check_parameters(threshold, shares, xs)
    arr = np.ascontiguousarray(secrets, dtype=np.uint8)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError("secrets must be a non-empty (m, L) uint8 array")
    m, length = arr.shape
    rows = _split_rows(arr.reshape(-1), threshold, points, randbytes)
    return np.ascontiguousarray(rows).reshape(len(points), m, length)


def combine_many(ys: np.ndarray, xs: Sequence[int]) -> np.ndarray:
    """Inverse of ``split_many`` from any ``threshold`` rows: (k, m, L) with their x's -> (m, L).

    Like ``combine(threshold=None)`` it interpolates all rows given and checks nothing.
    """
    arr = np.ascontiguousarray(ys, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[0] != len(xs) or arr.size == 0:
        raise ValueError("ys must be a (k, m, L) uint8 array with one x per row")
    points = [int(x) for x in xs]
    _check_points(points)
    k, m, length = arr.shape
    out = _map_rows([gf256.lagrange_coefficients(points, 0)], arr.reshape(k, -1))
    return np.ascontiguousarray(out[0]).reshape(m, length)
