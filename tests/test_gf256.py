"""keyceremony.core.gf256 against the naive reference in tests/naive_shamir.py.

Scalar operations are checked exhaustively (all 256 x 256 pairs); the SWAR kernels on random
inputs, with matrices chosen so that each of linear_map_blocks's two schedules runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_shamir as naive
from keyceremony.core import gf256

ELEMENTS = range(256)
NONZERO = range(1, 256)


@pytest.fixture(scope="module")
def naive_table() -> np.ndarray:
    return np.array(naive.mul_table(), dtype=np.uint8)


@pytest.fixture(scope="module")
def core_table() -> np.ndarray:
    return np.array([[gf256.mul(a, b) for b in ELEMENTS] for a in ELEMENTS], dtype=np.uint8)


def naive_times(table: np.ndarray, c: int, values: np.ndarray) -> np.ndarray:
    """c * values bytewise, by lookup in the naive multiplication table."""
    return table[c][values]


# --- scalar field operations, exhaustively -----------------------------------------------------


def test_naive_reference_matches_fips197_examples():
    # FIPS 197 §4.2: {57} * {83} = {c1}; §4.2.1: {57} * {13} = {fe}.
    assert naive.gf_mul(0x57, 0x83) == 0xC1
    assert naive.gf_mul(0x57, 0x13) == 0xFE
    assert naive.gf_inv(0x53) == 0xCA  # FIPS 197 §5.1.1 example (S-box input 53)


def test_mul_matches_naive_on_all_pairs(core_table, naive_table):
    mismatches = np.argwhere(core_table != naive_table)
    assert mismatches.size == 0, f"first mismatch at (a, b) = {tuple(mismatches[0])}"


def test_field_axioms_on_all_pairs_and_triples(core_table):
    t = core_table.astype(np.intp)
    a = np.arange(256)
    assert (t == t.T).all()  # commutative
    assert (t[1] == a).all() and (t[:, 1] == a).all()  # 1 is the identity
    assert (t[0] == 0).all() and (t[:, 0] == 0).all()  # 0 annihilates
    for x in ELEMENTS:  # all 2^24 triples, one x at a time
        # associative: (x*b)*c == x*(b*c)
        assert (t[t[x]] == t[x][t]).all(), f"associativity fails for a={x}"
        # distributive: x*(b^c) == x*b ^ x*c
        assert (t[x][a[:, None] ^ a[None, :]] == t[x][:, None] ^ t[x][None, :]).all()
    # no zero divisors and every non-zero row is a permutation: a field
    for x in NONZERO:
        assert sorted(t[x]) == list(ELEMENTS)


def test_inverse_on_all_nonzero_elements():
    for a in NONZERO:
        b = gf256.inv(a)
        assert b == naive.gf_inv(a)
        assert naive.gf_mul(a, b) == 1
    with pytest.raises(ZeroDivisionError):
        gf256.inv(0)


def test_div_on_all_pairs():
    for a in ELEMENTS:
        for b in NONZERO:
            q = gf256.div(a, b)
            assert naive.gf_mul(q, b) == a, (a, b)
    with pytest.raises(ZeroDivisionError):
        gf256.div(5, 0)


def test_power_on_all_bases_and_many_exponents():
    for a in ELEMENTS:
        expected = 1
        for e in range(0, 600):  # past 255 and 510, where an exponent table could wrap wrongly
            assert gf256.power(a, e) == expected, (a, e)
            expected = naive.gf_mul(expected, a)


def test_poly_eval_matches_naive():
    rng = np.random.default_rng(1)
    for _ in range(300):
        coefs = [int(c) for c in rng.integers(0, 256, size=int(rng.integers(1, 10)))]
        x = int(rng.integers(0, 256))
        assert gf256.poly_eval(coefs, x) == naive.eval_poly(coefs, x)


# --- Lagrange coefficients ------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    xs=st.lists(st.integers(1, 255), min_size=1, max_size=8, unique=True),
    at=st.integers(0, 255),
    data=st.data(),
)
def test_lagrange_coefficients_interpolate_every_polynomial_of_low_degree(xs, at, data):
    coefs = data.draw(st.lists(st.integers(0, 255), min_size=len(xs), max_size=len(xs)))
    lagrange = gf256.lagrange_coefficients(xs, at)
    assert len(lagrange) == len(xs)
    total = 0
    for c, x in zip(lagrange, xs, strict=True):
        total ^= naive.gf_mul(c, naive.eval_poly(coefs, x))
    assert total == naive.eval_poly(coefs, at)
    if at in xs:  # interpolating at a known point picks that point alone
        assert lagrange == [int(x == at) for x in xs]


def test_lagrange_coefficients_match_naive_basis():
    # c_i is the value at `at` of the basis polynomial that is 1 at x_i and 0 at the other x's
    for xs, at in [([1, 2, 3], 0), ([255, 128, 7, 9], 0), ([1, 2], 3), ([5], 0), ([200, 201], 254)]:
        coefs = gf256.lagrange_coefficients(xs, at)
        for i in range(len(xs)):
            unit = [(x, int(j == i)) for j, x in enumerate(xs)]
            assert coefs[i] == naive.interpolate_byte(unit, at)


# --- xtime -------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(words=st.integers(0, 64), seed=st.integers(0, 2**32 - 1))
def test_xtime_inplace_doubles_every_byte(words, seed):
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 2**64, size=words, dtype=np.uint64)
    before = v.view(np.uint8).copy()
    scratch = rng.integers(0, 2**64, size=words, dtype=np.uint64)  # garbage must not matter
    gf256.xtime_inplace(v, scratch)
    expected = [naive.gf_mul(int(b), 2) for b in before]
    assert v.view(np.uint8).tolist() == expected


def test_xtime_inplace_on_every_byte_value_in_every_lane():
    # 256 values x 8 lanes: byte value b sits in lane (b + i) % 8 of word i.
    data = np.array([(b + lane) % 256 for b in range(256) for lane in range(8)], dtype=np.uint8)
    v = data.copy().view(np.uint64)
    gf256.xtime_inplace(v, np.empty_like(v))
    assert v.view(np.uint8).tolist() == [naive.gf_mul(int(b), 2) for b in data]


# --- linear maps -----------------------------------------------------------------------------

Matrix = tuple[tuple[int, ...], ...]


def horner_cost(matrix: Matrix) -> int:
    return sum(max(row).bit_length() - 1 for row in matrix)


def powers_cost(matrix: Matrix) -> int:
    return sum(max(max(row[i] for row in matrix).bit_length() - 1, 0) for i in range(len(matrix[0])))


def naive_linear_map(table: np.ndarray, matrix: Matrix, inputs: list[np.ndarray]) -> list[np.ndarray]:
    outs = []
    for row in matrix:
        acc = np.zeros_like(inputs[0])
        for c, src in zip(row, inputs, strict=True):
            acc ^= naive_times(table, c, src)
        outs.append(acc)
    return outs


@st.composite
def matrices(draw, max_out=6, max_in=6) -> Matrix:
    n_out = draw(st.integers(1, max_out))
    n_in = draw(st.integers(1, max_in))
    entry = st.one_of(st.integers(0, 255), st.sampled_from([0, 1, 2, 3, 0x80, 0xFF]))
    rows = []
    for _ in range(n_out):
        row = draw(st.lists(entry, min_size=n_in, max_size=n_in))
        if not any(row):  # linear_map_blocks requires a non-zero entry in every row
            row[draw(st.integers(0, n_in - 1))] = draw(st.integers(1, 255))
        rows.append(tuple(row))
    return tuple(rows)


def run_blocks(matrix: Matrix, inputs_u8: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Apply linear_map_blocks; returns the outputs as bytes arrays and the number of xtimes."""
    words = inputs_u8[0].shape[0] // 8
    inputs = [x.copy().view(np.uint64) for x in inputs_u8]
    rng = np.random.default_rng(99)
    outputs = [rng.integers(0, 2**64, size=words, dtype=np.uint64) for _ in matrix]  # garbage in
    scratch = (
        rng.integers(0, 2**64, size=words, dtype=np.uint64),
        rng.integers(0, 2**64, size=words, dtype=np.uint64),
    )
    calls = [0]
    original = gf256.xtime_inplace

    def counting(v, s):
        calls[0] += 1
        original(v, s)

    gf256.xtime_inplace = counting
    try:
        gf256.linear_map_blocks(matrix, inputs, outputs, scratch)
    finally:
        gf256.xtime_inplace = original
    for before, after in zip(inputs_u8, inputs, strict=True):
        assert (after.view(np.uint8) == before).all(), "inputs were modified"
    return [o.view(np.uint8) for o in outputs], calls[0]


@settings(max_examples=120, deadline=None)
@given(matrix=matrices(), words=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_linear_map_blocks_matches_naive(naive_table, matrix, words, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(0, 256, size=8 * words, dtype=np.uint8) for _ in matrix[0]]
    outputs, xtimes = run_blocks(matrix, inputs)
    for got, want in zip(outputs, naive_linear_map(naive_table, matrix, inputs), strict=True):
        assert (got == want).all()
    assert xtimes == min(horner_cost(matrix), powers_cost(matrix))


# Horner is cheaper: one output, many inputs with high coefficients (7 xtimes against 5 * 7).
HORNER_CHEAPER = ((0x80, 0xFF, 0x81, 0xC3, 0x9A),)
# Powers are cheaper: many outputs from one input (7 xtimes against 5 * 7).
POWERS_CHEAPER = ((0x80,), (0xFF,), (0x81,), (0xC3,), (0x9A,))
# A Vandermonde and an inverse-Lagrange-like matrix, as the split and combine use them.
VANDERMONDE = tuple(tuple(naive.gf_pow(x, i) for i in range(4)) for x in (1, 2, 3, 255, 128))
LAGRANGE = tuple(tuple(gf256.lagrange_coefficients([3, 77, 250], at)) for at in (0, 9))


@pytest.mark.parametrize(
    ("matrix", "schedule"),
    [(HORNER_CHEAPER, "horner"), (POWERS_CHEAPER, "powers"), (VANDERMONDE, None), (LAGRANGE, None)],
)
def test_linear_map_blocks_both_schedules(naive_table, matrix, schedule):
    if schedule == "horner":
        assert horner_cost(matrix) < powers_cost(matrix)
    if schedule == "powers":
        assert powers_cost(matrix) < horner_cost(matrix)
    rng = np.random.default_rng(7)
    inputs = [rng.integers(0, 256, size=8 * 257, dtype=np.uint8) for _ in matrix[0]]
    inputs[0][:256] = np.arange(256)  # every byte value goes through
    outputs, xtimes = run_blocks(matrix, inputs)
    for got, want in zip(outputs, naive_linear_map(naive_table, matrix, inputs), strict=True):
        assert (got == want).all()
    assert xtimes == min(horner_cost(matrix), powers_cost(matrix))


@settings(max_examples=150, deadline=None)
@given(matrix=matrices(), nbytes=st.integers(1, 80), seed=st.integers(0, 2**32 - 1))
def test_linear_map_ints_matches_naive(naive_table, matrix, nbytes, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(0, 256, size=nbytes, dtype=np.uint8) for _ in matrix[0]]
    ints = [int.from_bytes(x.tobytes(), "big") for x in inputs]
    got = gf256.linear_map_ints(matrix, ints, nbytes)
    assert len(got) == len(matrix)
    for value, want in zip(got, naive_linear_map(naive_table, matrix, inputs), strict=True):
        assert 0 <= value < 1 << (8 * nbytes)
        assert value.to_bytes(nbytes, "big") == want.tobytes()


def test_linear_map_ints_every_byte_value_at_both_ends(naive_table):
    # byte 0 is the most significant: no carry may leak across byte or integer boundaries
    matrix = ((0x80, 0x02), (0xFF, 0x1B))
    a = np.arange(256, dtype=np.uint8)
    b = np.arange(255, -1, -1, dtype=np.uint8)
    ints = [int.from_bytes(a.tobytes(), "big"), int.from_bytes(b.tobytes(), "big")]
    got = gf256.linear_map_ints(matrix, ints, 256)
    for value, want in zip(got, naive_linear_map(naive_table, matrix, [a, b]), strict=True):
        assert value.to_bytes(256, "big") == want.tobytes()


# --- linear algebra and polynomials for Berlekamp-Welch -------------------------------------


def naive_mat_vec(matrix: list[list[int]], v: list[int]) -> list[int]:
    out = []
    for row in matrix:
        acc = 0
        for a, b in zip(row, v, strict=True):
            acc ^= naive.gf_mul(a, b)
        out.append(acc)
    return out


@settings(max_examples=150, deadline=None)
@given(data=st.data(), rows=st.integers(1, 7), cols=st.integers(1, 7))
def test_solve_finds_a_solution_of_every_consistent_system(data, rows, cols):
    byte = st.integers(0, 255)
    matrix = [data.draw(st.lists(byte, min_size=cols, max_size=cols)) for _ in range(rows)]
    v = data.draw(st.lists(byte, min_size=cols, max_size=cols))
    rhs = naive_mat_vec(matrix, v)
    sol = gf256.solve(matrix, rhs)
    assert sol is not None and len(sol) == cols
    assert naive_mat_vec(matrix, sol) == rhs


def test_solve_unique_solution_and_inconsistent_system():
    matrix = [[1, 1, 1], [1, 2, 4], [1, 3, 5]]  # Vandermonde at 1, 2, 3: invertible
    v = [0x11, 0x22, 0x33]
    assert gf256.solve(matrix, naive_mat_vec(matrix, v)) == v
    # the same row twice with different right-hand sides has no solution
    assert gf256.solve([[3, 7], [3, 7]], [1, 2]) is None
    assert gf256.solve([[0, 0]], [5]) is None
    assert gf256.solve([[0, 0]], [0]) == [0, 0]
    # the caller's matrix is not modified
    m = [[2, 3], [4, 5]]
    gf256.solve(m, [1, 1])
    assert m == [[2, 3], [4, 5]]


def naive_poly_mul(a: list[int], b: list[int]) -> list[int]:
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] ^= naive.gf_mul(x, y)
    return out


@settings(max_examples=200, deadline=None)
@given(
    num=st.lists(st.integers(0, 255), min_size=1, max_size=12),
    den=st.lists(st.integers(0, 255), min_size=1, max_size=6),
    lead=st.integers(1, 255),
)
def test_poly_divmod_is_division_with_remainder(num, den, lead):
    den = [*den[:-1], lead]  # top coefficient non-zero
    dd = len(den) - 1
    q, r = gf256.poly_divmod(num, den)
    assert len(r) == min(dd, len(num))  # the remainder is not padded when num is shorter than den
    recombined = naive_poly_mul(q, den)
    recombined += [0] * (max(len(num), len(recombined)) - len(recombined))
    for i, c in enumerate(r):
        recombined[i] ^= c
    padded = num + [0] * (len(recombined) - len(num))
    assert recombined == padded


def test_poly_divmod_exact_division():
    # (x + 2)(x + 3) = x^2 + x + 6 in characteristic 2 (2 ^ 3 = 1, 2 * 3 = 6)
    q, r = gf256.poly_divmod([6, 1, 1], [2, 1])
    assert q == [3, 1] and r == [0]
    q, r = gf256.poly_divmod([6, 1, 1], [6, 1, 1])
    assert q == [1] and r == [0, 0]
