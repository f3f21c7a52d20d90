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
from functools import lru_cache
from typing import overload

import numpy as np
from numpy.typing import NDArray

from keyceremony.core import gf256
from keyceremony.core.coefficients import CoefficientStream
from keyceremony.core.fresh_bytes import OutputRow
from keyceremony.core.parallel import for_each_range
from keyceremony.errors import DuplicateShare, InconsistentShares, ThresholdNotMet

RandomBytes = Callable[[int], bytes]
MAX_SHARES = 255
_INT_PATH_MAX = 512  # bytes per secret below which Python integers beat numpy (docs/core.md §3)


@dataclass(frozen=True, repr=False)
class Share:
    """One point (x, f(x)) per byte position: ``x`` in 1..255, ``y`` as long as the secret."""

    x: int
    y: bytes

    def __post_init__(self) -> None:
        if type(self.x) is not int or not 1 <= self.x <= MAX_SHARES:
            raise ValueError(f"share x must be an integer in 1..255, got {self.x!r}")
        y: object = self.y  # annotated bytes, but callers may pass any object
        if type(y) is not bytes:
            if not isinstance(y, (bytearray, memoryview)):
                raise ValueError(f"share y must be bytes, got {type(y).__name__}")
            object.__setattr__(self, "y", bytes(y))  # frozen: keep an immutable copy
        if not self.y:
            raise ValueError("share y must be non-empty bytes")

    def __repr__(self) -> str:  # never show share bytes
        return f"Share(x={self.x}, y=<{len(self.y)} bytes>)"


def _made_share(x: int, y: bytes) -> Share:
    """A share this module just computed (valid by construction): skips re-validation,
    which is a fifth of the time of splitting one short key."""
    share = object.__new__(Share)
    object.__setattr__(share, "x", x)
    object.__setattr__(share, "y", y)
    return share


@dataclass(frozen=True, repr=False)
class Decoding:
    """Result of a robust combine: the secret, and which x-coordinates agreed or not."""

    secret: bytes
    good_x: tuple[int, ...]
    bad_x: tuple[int, ...]

    def __repr__(self) -> str:
        return f"Decoding(secret=<{len(self.secret)} bytes>, good_x={self.good_x}, bad_x={self.bad_x})"


# --- validation ------------------------------------------------------------------------------------


def _check_parameters(threshold: int, shares: int, xs: Sequence[int] | None) -> tuple[int, ...]:
    if type(threshold) is not int or type(shares) is not int:
        raise ValueError("threshold and shares must be integers")
    if not 1 <= threshold <= shares <= MAX_SHARES:
        raise ValueError(f"need 1 <= threshold <= shares <= 255, got threshold={threshold}, shares={shares}")
    if xs is None:
        return _default_xs(shares)
    xs = tuple(int(x) for x in xs)
    if len(xs) != shares:
        raise ValueError(f"{len(xs)} x-coordinates given for {shares} shares")
    if any(not 1 <= x <= MAX_SHARES for x in xs):
        raise ValueError("x-coordinates must be in 1..255 (0 is the secret)")
    if len(set(xs)) != len(xs):
        raise ValueError("x-coordinates must be distinct")
    return xs


@lru_cache(maxsize=256)
def _default_xs(shares: int) -> tuple[int, ...]:
    return tuple(range(1, shares + 1))


def _check_points(xs: Sequence[int]) -> None:
    seen: set[int] = set()
    for x in xs:
        if not 1 <= x <= MAX_SHARES:
            raise ValueError(f"share x must be in 1..255, got {x}")
        if x in seen:
            raise DuplicateShare(f"share {x} was given twice; give each share once")
        seen.add(x)


@lru_cache(maxsize=256)
def _vandermonde(xs: tuple[int, ...], threshold: int) -> tuple[tuple[int, ...], ...]:
    """Row j evaluates the polynomial with coefficients (secret, a_1, ..., a_{k-1}) at xs[j]."""
    return tuple(tuple(gf256.power(x, i) for i in range(threshold)) for x in xs)


@lru_cache(maxsize=256)
def _lagrange(xs: tuple[int, ...], targets: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Row t gives the values at targets[t] from the values at xs."""
    return tuple(tuple(gf256.lagrange_coefficients(xs, t)) for t in targets)


# --- the engine: short secrets on Python integers, long ones on numpy blocks ----------------------


def _map_short(matrix: tuple[tuple[int, ...], ...], ys: Sequence[bytes], length: int) -> list[bytes]:
    ints = [int.from_bytes(y, "big") for y in ys]
    return [r.to_bytes(length, "big") for r in gf256.linear_map_ints(matrix, ints, length)]


def _split_short(secret: bytes, threshold: int, xs: tuple[int, ...], randbytes: RandomBytes) -> list[bytes]:
    length = len(secret)
    stream = randbytes((threshold - 1) * length)  # coefficient a_i of byte p at (i-1)*L + p
    if len(stream) != (threshold - 1) * length:
        raise ValueError("randbytes returned the wrong number of bytes")
    coefs = [stream[i * length : (i + 1) * length] for i in range(threshold - 1)]
    return _map_short(_vandermonde(xs, threshold), [secret, *coefs], length)


@overload
def _split_long(
    secret: NDArray[np.uint8], threshold: int, xs: tuple[int, ...], randbytes: RandomBytes, out: None = None
) -> list[bytes]: ...


@overload
def _split_long(
    secret: NDArray[np.uint8], threshold: int, xs: tuple[int, ...], randbytes: RandomBytes, out: NDArray[np.uint8]
) -> None: ...


def _split_long(
    secret: NDArray[np.uint8],
    threshold: int,
    xs: tuple[int, ...],
    randbytes: RandomBytes,
    out: NDArray[np.uint8] | None = None,
) -> list[bytes] | None:
    """Shares of the uint8 vector ``secret``: one bytes object per x, or rows of ``out``."""
    length = secret.shape[0]
    stride = -(-length // 16) * 16  # a_i of byte p at (i-1)*stride + p: AES-CTR block aligned
    coefficients = CoefficientStream(randbytes, (threshold - 1) * stride)

    def load(lo: int, hi: int, scratch: list[NDArray[np.uint64]]) -> list[NDArray[np.uint64]]:
        words = (hi - lo) // 8
        inputs = [_words(secret, lo, hi, scratch[0])]
        for i in range(1, threshold):
            coefficients.fill(scratch[i].view(np.uint8), (i - 1) * stride + lo, min(hi, length) - lo)
            inputs.append(scratch[i][:words])
        return inputs

    matrix = _vandermonde(xs, threshold)
    try:
        if out is None:
            return _to_bytes(matrix, length, load)
        _run(matrix, length, load, list(out))
        return None
    finally:
        coefficients.wipe()


def _words(row: NDArray[np.uint8], lo: int, hi: int, spare: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """row[lo:hi] as uint64 words: a view when it is whole words, else a zero-padded copy."""
    if hi <= row.shape[0]:
        return row[lo:hi].view(np.uint64)
    words = (hi - lo) // 8
    padded = spare[:words].view(np.uint8)
    padded[: row.shape[0] - lo] = row[lo:]
    padded[row.shape[0] - lo :] = 0
    return spare[:words]


Loader = Callable[[int, int, list[NDArray[np.uint64]]], list[NDArray[np.uint64]]]


def _run(
    matrix: tuple[tuple[int, ...], ...],
    length: int,
    load: Loader,
    out: Sequence[NDArray[np.uint8]] | NDArray[np.uint8],
) -> None:
    """out[j] = row j of ``matrix`` applied to the inputs ``load(lo, hi, scratch)`` provides.

    Works block by block on all cores; the last, partial block goes through scratch words.
    Scratch is wiped by ``for_each_range``.
    """
    k = len(matrix[0])

    def work(lo: int, hi: int, scratch: list[NDArray[np.uint64]]) -> None:
        words = (hi - lo) // 8
        inputs = load(lo, hi, scratch[:k])
        if hi <= length:
            outputs = [row[lo:hi].view(np.uint64) for row in out]
        else:
            outputs = [np.zeros(words, dtype=np.uint64) for _ in out]
        gf256.linear_map_blocks(matrix, inputs, outputs, (scratch[k][:words], scratch[k + 1][:words]))
        if hi > length:
            for row, block in zip(out, outputs, strict=True):
                row[lo:] = block.view(np.uint8)[: length - lo]
                block.fill(0)

    for_each_range(-(-length // 8) * 8, k + 2, work)


def _to_bytes(matrix: tuple[tuple[int, ...], ...], length: int, load: Loader) -> list[bytes]:
    """``_run`` writing straight into new bytes objects (fresh_bytes.py)."""
    rows = [OutputRow(length) for _ in matrix]
    _run(matrix, length, load, [row.array for row in rows])
    return [row.finish() for row in rows]


def _rows_loader(ys: Sequence[NDArray[np.uint8]]) -> Loader:
    def load(lo: int, hi: int, scratch: list[NDArray[np.uint64]]) -> list[NDArray[np.uint64]]:
        return [_words(y, lo, hi, spare) for y, spare in zip(ys, scratch, strict=True)]

    return load


def _map(matrix: tuple[tuple[int, ...], ...], ys: Sequence[bytes]) -> list[bytes]:
    """The linear map on byte strings, by whichever engine suits their length."""
    length = len(ys[0])
    if length <= _INT_PATH_MAX:
        return _map_short(matrix, ys, length)
    return _to_bytes(matrix, length, _rows_loader([np.frombuffer(y, dtype=np.uint8) for y in ys]))


def _as_rows(shares: Sequence[Share]) -> tuple[list[int], list[bytes]]:
    if not shares:
        raise ThresholdNotMet("no shares were given", have=0, need=1)
    xs = [s.x for s in shares]
    _check_points(xs)
    lengths = {len(s.y) for s in shares}
    if len(lengths) != 1:
        raise ValueError(f"shares have different lengths: {sorted(lengths)}")
    return xs, [s.y for s in shares]


# --- public API ----------------------------------------------------------------------------------


def split(
    secret: bytes | bytearray | memoryview,
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
    if len(secret) <= _INT_PATH_MAX:
        rows = _split_short(bytes(secret), threshold, points, randbytes)
    else:
        rows = _split_long(np.frombuffer(secret, dtype=np.uint8), threshold, points, randbytes)
    return [_made_share(x, y) for x, y in zip(points, rows, strict=True)]


def interpolate(shares: Sequence[Share], x: int) -> bytes:
    """Value at ``x`` of the polynomials through all the given shares (x = 0 gives the secret)."""
    xs, ys = _as_rows(shares)
    if not 0 <= x <= MAX_SHARES:
        raise ValueError("x must be in 0..255")
    return _map(_lagrange(tuple(xs), (x,)), ys)[0]


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
        position = _first_disagreement([xs[i] for i in keep], [ys[i] for i in keep], threshold)
        if position is None:
            break
        column = [int(y[position]) for y in ys]
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
    secret = _map(_lagrange(tuple(xs[i] for i in base), (0,)), [ys[i] for i in base])[0]
    return Decoding(secret, tuple(xs[i] for i in keep), tuple(sorted(bad)))


def _first_disagreement(xs: list[int], ys: list[bytes], threshold: int) -> int | None:
    """First byte position where the shares beyond the first ``threshold`` are off the polynomial."""
    if len(xs) <= threshold:
        return None
    predicted = _map(_lagrange(tuple(xs[:threshold]), tuple(xs[threshold:])), ys[:threshold])
    found = [_first_difference(p, y) for p, y in zip(predicted, ys[threshold:], strict=True) if p != y]
    return min(found) if found else None


def _first_difference(a: bytes, b: bytes) -> int:
    diff = np.flatnonzero(np.frombuffer(a, dtype=np.uint8) != np.frombuffer(b, dtype=np.uint8))
    return int(diff[0])


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
    for x, y in zip(xs, ys, strict=True):
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
    wrong = [x for x, y in zip(xs, ys, strict=True) if gf256.poly_eval(quotient[:k], x) != y]
    return wrong if len(wrong) <= e else None


def _as_uint8(values: NDArray[np.generic]) -> NDArray[np.uint8]:
    """A contiguous uint8 array; ValueError rather than wrap values outside 0..255."""
    arr = np.asarray(values)
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"expected an integer array of bytes, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError("array values must be bytes (0..255)")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def split_many(
    secrets: NDArray[np.generic],
    threshold: int,
    shares: int,
    *,
    xs: Sequence[int] | None = None,
    randbytes: RandomBytes = os.urandom,
) -> NDArray[np.uint8]:
    """Split m equal-length secrets at once: (m, L) uint8 in, (shares, m, L) uint8 out.

    Row j of the result belongs to x-coordinate ``xs[j]`` (default j + 1). Each secret gets its
    own independent random polynomials.
    """
    points = _check_parameters(threshold, shares, xs)
    arr = _as_uint8(secrets)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError("secrets must be a non-empty (m, L) uint8 array")
    m, length = arr.shape
    flat = arr.reshape(-1)
    if flat.shape[0] <= _INT_PATH_MAX:
        rows = _split_short(flat.tobytes(), threshold, points, randbytes)
        return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(points), m, length)
    out = np.empty((len(points), m * length), dtype=np.uint8)
    _split_long(flat, threshold, points, randbytes, out)
    return out.reshape(len(points), m, length)


def combine_many(ys: NDArray[np.generic], xs: Sequence[int]) -> NDArray[np.uint8]:
    """Inverse of ``split_many`` from any ``threshold`` rows: (k, m, L) with their x's -> (m, L).

    Like ``combine(threshold=None)`` it interpolates all rows given and checks nothing.
    """
    arr = _as_uint8(ys)
    if arr.ndim != 3 or arr.shape[0] != len(xs) or arr.size == 0:
        raise ValueError("ys must be a (k, m, L) uint8 array with one x per row")
    points = [int(x) for x in xs]
    _check_points(points)
    k, m, length = arr.shape
    matrix = _lagrange(tuple(points), (0,))
    if m * length <= _INT_PATH_MAX:
        secret = _map_short(matrix, [row.tobytes() for row in arr.reshape(k, -1)], m * length)[0]
        return np.frombuffer(secret, dtype=np.uint8).reshape(m, length).copy()
    out = np.empty((1, m * length), dtype=np.uint8)
    _run(matrix, m * length, _rows_loader(list(arr.reshape(k, -1))), out)
    return out.reshape(m, length)
