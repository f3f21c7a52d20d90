"""GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B), the field of SLIP-39 and Vault.

Two kinds of arithmetic live here (docs/core.md §2):

* scalar operations on *public* values (x-coordinates, Lagrange coefficients), where log/exp
  tables are fine because nothing secret indexes them;
* the vectorized kernels that touch secret bytes. They multiply only by public constants and do
  it with shifts and XORs ("xtime") on 64-bit words that each pack eight field elements, so no
  memory address ever depends on a secret byte (no cache-timing channel). The same kernels run on
  numpy ``uint64`` blocks and on Python integers (the fast path for one short key).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

POLY = 0x11B
_REDUCE = 0x1B  # x^8 = x^4 + x^3 + x + 1 (mod POLY)


def _build_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    # 0x03 generates the multiplicative group of GF(2^8) under 0x11B.
    exp = [0] * 510
    log = [0] * 256
    v = 1
    for i in range(255):
        exp[i] = v
        log[v] = i
        v ^= ((v << 1) ^ (POLY if v & 0x80 else 0)) & 0x1FF  # v *= 3
    for i in range(255, 510):
        exp[i] = exp[i - 255]
    return tuple(exp), tuple(log)


_EXP, _LOG = _build_tables()


def mul(a: int, b: int) -> int:
    """Product of two public field elements."""
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def inv(a: int) -> int:
    """Multiplicative inverse of a public non-zero field element."""
    if a == 0:
        raise ZeroDivisionError("0 has no inverse in GF(256)")
    return _EXP[255 - _LOG[a]]


def div(a: int, b: int) -> int:
    return mul(a, inv(b))


def power(a: int, e: int) -> int:
    if e == 0:
        return 1
    if a == 0:
        return 0
    return _EXP[(_LOG[a] * e) % 255]


def lagrange_coefficients(xs: Sequence[int], at: int = 0) -> list[int]:
    """Coefficients c_i with f(at) = sum c_i * f(x_i) for every f of degree < len(xs).

    c_i = prod_{j != i} (at - x_j) / (x_i - x_j); subtraction is XOR in characteristic 2.
    """
    coefs = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                num = mul(num, at ^ xj)
                den = mul(den, xi ^ xj)
        coefs.append(div(num, den))
    return coefs


# --- polynomials over GF(256) on public or error-path data (Berlekamp-Welch) ------------------


def poly_eval(coefs: Sequence[int], x: int) -> int:
    """Evaluate sum coefs[i] * x^i (Horner)."""
    acc = 0
    for c in reversed(coefs):
        acc = mul(acc, x) ^ c
    return acc


def solve(matrix: list[list[int]], rhs: list[int]) -> list[int] | None:
    """One solution of matrix * v = rhs over GF(256) (free variables set to 0), or None."""
    rows = [list(r) + [b] for r, b in zip(matrix, rhs, strict=False)]
    ncols = len(matrix[0]) if matrix else 0
    pivots: list[int] = []
    r = 0
    for c in range(ncols):
        p = next((i for i in range(r, len(rows)) if rows[i][c]), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        f = inv(rows[r][c])
        rows[r] = [mul(f, v) for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c]:
                g = rows[i][c]
                rows[i] = [a ^ mul(g, b) for a, b in zip(rows[i], rows[r], strict=False)]
        pivots.append(c)
        r += 1
    if any(row[-1] for row in rows[r:]):
        return None  # inconsistent system
    sol = [0] * ncols
    for i, c in enumerate(pivots):
        sol[c] = rows[i][-1]
    return sol


def poly_divmod(num: list[int], den: list[int]) -> tuple[list[int], list[int]]:
    """Quotient and remainder of polynomials given lowest degree first; den's top coef non-zero."""
    num = list(num)
    dd = len(den) - 1
    q = [0] * max(len(num) - dd, 1)
    lead_inv = inv(den[-1])
    for i in range(len(num) - 1, dd - 1, -1):
        c = mul(num[i], lead_inv)
        if c:
            q[i - dd] = c
            for j, d in enumerate(den):
                num[i - dd + j] ^= mul(c, d)
    return q, num[:dd]


# --- SWAR kernels: eight field elements per 64-bit word ------------------------------------------

_LO = np.uint64(0x0101010101010101)
_FE = np.uint64(0xFEFEFEFEFEFEFEFE)
_R = np.uint64(_REDUCE)
_ONE = np.uint64(1)
_SEVEN = np.uint64(7)


def xtime_inplace(v: NDArray[np.uint64], scratch: NDArray[np.uint64]) -> None:
    """v <- 2*v for every byte of the uint64 array v (multiplication by x, then reduction)."""
    np.right_shift(v, _SEVEN, out=scratch)
    np.bitwise_and(scratch, _LO, out=scratch)
    np.multiply(scratch, _R, out=scratch)  # 0x1B where the byte's top bit was set
    np.left_shift(v, _ONE, out=v)
    np.bitwise_and(v, _FE, out=v)
    np.bitwise_xor(v, scratch, out=v)


def linear_map_blocks(
    matrix: tuple[tuple[int, ...], ...],
    inputs: Sequence[NDArray[np.uint64]],
    outputs: Sequence[NDArray[np.uint64]],
    scratch: tuple[NDArray[np.uint64], NDArray[np.uint64]],
) -> None:
    """outputs[j] = XOR_i matrix[j][i] * inputs[i], bytewise, on equal-length uint64 blocks.

    Chooses between two schedules by counting xtime operations (docs/core.md §3):
    * Horner over the coefficient bits, one output at a time: at most 7 xtimes per output;
    * powers of each input, 2^b * input_i for b up to input i's highest coefficient bit, each
      XORed into the outputs whose coefficient has bit b: at most 7 xtimes per input.
    ``inputs`` are not modified; ``scratch`` (two blocks) is left holding intermediate values
    and must be wiped by the caller. Every row of ``matrix`` must have a non-zero entry.
    """
    acc, tmp = scratch
    schedule = power_schedule(matrix)
    cost_powers = sum(max(len(steps) - 1, 0) for steps in schedule)
    cost_horner = sum(max(row).bit_length() - 1 for row in matrix)
    if cost_horner <= cost_powers:
        for row, out in zip(matrix, outputs, strict=False):
            started = False
            for b in range(max(row).bit_length() - 1, -1, -1):
                if started:
                    xtime_inplace(out, tmp)
                for i, c in enumerate(row):
                    if c >> b & 1:
                        _accumulate(out, inputs[i], started)
                        started = True
        return
    written = [False] * len(outputs)
    for src, steps in zip(inputs, schedule, strict=False):
        for b, targets in enumerate(steps):
            if b == 1:
                np.copyto(acc, src)
            if b >= 1:
                xtime_inplace(acc, tmp)
            for j in targets:
                _accumulate(outputs[j], src if b == 0 else acc, written[j])
                written[j] = True


def _accumulate(out: NDArray[np.uint64], term: NDArray[np.uint64], started: bool) -> None:
    if started:
        np.bitwise_xor(out, term, out=out)
    else:
        np.copyto(out, term)


@lru_cache(maxsize=64)
def _int_masks(nbytes: int) -> tuple[int, int]:
    lo = int.from_bytes(b"\x01" * nbytes, "big")
    return lo, lo * 0xFE


@lru_cache(maxsize=256)
def power_schedule(matrix: tuple[tuple[int, ...], ...]) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """For each input i and bit b: the outputs j whose coefficient matrix[j][i] has bit b set."""
    n_in = len(matrix[0])
    schedule = []
    for i in range(n_in):
        top = max(row[i] for row in matrix).bit_length()
        schedule.append(tuple(tuple(j for j, row in enumerate(matrix) if row[i] >> b & 1) for b in range(top)))
    return tuple(schedule)


def linear_map_ints(matrix: tuple[tuple[int, ...], ...], inputs: Sequence[int], nbytes: int) -> list[int]:
    """The same map as ``linear_map_blocks`` on Python integers of ``nbytes`` packed bytes.

    Used for short secrets, where a handful of big-integer operations beat numpy's per-call cost.
    """
    lo, fe = _int_masks(nbytes)
    outs = [0] * len(matrix)
    for p, steps in zip(inputs, power_schedule(matrix), strict=False):
        for b, targets in enumerate(steps):
            if b:
                p = ((p << 1) & fe) ^ (((p >> 7) & lo) * _REDUCE)
            for j in targets:
                outs[j] ^= p
    return outs
