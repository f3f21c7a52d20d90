"""Our figures: split/combine throughput, the 100,000-key batch, one key's latency, and targets.

Every figure's first, untimed call is a round trip (combine of our own split gives the secret
back); it doubles as the warm-up, and a failed one marks the figure invalid instead of timing it.
"""

from __future__ import annotations

import os
import sys
from functools import partial

import numpy as np

from bench.table import Figure, Target
from bench.timing import Plan, Timing, best_of, median_of
from keyceremony.core import shamir

MiB = 1024 * 1024
BATCH_KEYS = 100_000
KEY_BYTES = 32
SCHEMES = ((3, 5), (5, 10))

# The targets (64 MiB at 3-of-5, the 3-of-5 batch, one 32-byte split).
TARGETS = {
    ("split", 64 * MiB, 3, 5): Target(">=", 150, "MB/s"),
    ("combine", 64 * MiB, 3, 5): Target(">=", 500, "MB/s"),
    "batch split": Target(">=", 4_000_000, "keys/s"),
    "latency split": Target("<", 20, "µs"),
}


def progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB else f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def _throughput(what: str, size: int, timing: Timing | None, problem: str, target: Target | None) -> Figure:
    if timing is None:
        return Figure(what, None, "MB/s", "", problem, target)
    return Figure(what, size / timing.value / 1e6, "MB/s", timing.statistic, "", target)


def throughput_figures(plan: Plan) -> list[Figure]:
    """split, combine of exactly k shares, and checked combine of all n, for 1 MiB and 64 MiB."""
    big = os.urandom(64 * MiB)
    by_operation: dict[str, list[Figure]] = {"split": [], "combine": [], "checked": []}
    for size, reps in ((MiB, plan.small_reps), (64 * MiB, plan.big_reps)):
        secret = big[:size]
        for k, n in SCHEMES:
            label = f"{_size(size)}, {k}-of-{n}"
            progress(f"ours: {label}")
            shares = shamir.split(secret, k, n)  # warm-up split
            subset = shares[-k:]  # not x = 1..k, so the Lagrange weights are not a special case
            problem = ""
            if shamir.combine(subset) != secret:
                problem = "combine of our split did not return the secret"
            elif shamir.combine(shares, threshold=k) != secret:
                problem = "checked combine of our split did not return the secret"
            timed = {} if problem else {
                "split": best_of(partial(shamir.split, secret, k, n), reps),
                "combine": best_of(partial(shamir.combine, subset), reps),
                "checked": best_of(partial(shamir.combine, shares, threshold=k), reps),
            }
            del shares, subset
            by_operation["split"].append(_throughput(
                f"split, {label}", size, timed.get("split"), problem, TARGETS.get(("split", size, k, n))))
            by_operation["combine"].append(_throughput(
                f"combine {k} shares, {label}", size, timed.get("combine"), problem,
                TARGETS.get(("combine", size, k, n))))
            by_operation["checked"].append(_throughput(
                f"checked combine of all {n} shares (threshold={k}), {label}", size, timed.get("checked"),
                problem, None))
    return by_operation["split"] + by_operation["combine"] + by_operation["checked"]


def batch_figures(plan: Plan) -> list[Figure]:
    """split_many / combine_many of 100,000 independent 32-byte keys at 3-of-5."""
    progress(f"ours: batch of {BATCH_KEYS:,} keys")
    keys = np.frombuffer(os.urandom(BATCH_KEYS * KEY_BYTES), dtype=np.uint8).reshape(BATCH_KEYS, KEY_BYTES)
    ys = shamir.split_many(keys, 3, 5)  # warm-up
    rows, xs = ys[[1, 3, 4]], [2, 4, 5]
    what_split = f"split_many, {BATCH_KEYS:,} × 32-byte keys, 3-of-5"
    what_combine = f"combine_many, {BATCH_KEYS:,} × 32-byte keys from 3 shares"
    if not np.array_equal(shamir.combine_many(rows, xs), keys):
        problem = "combine_many of our split_many did not return the keys"
        return [Figure(what_split, None, "keys/s", "", problem, TARGETS["batch split"]),
                Figure(what_combine, None, "keys/s", "", problem)]
    split = best_of(lambda: shamir.split_many(keys, 3, 5), plan.small_reps)
    combine = best_of(lambda: shamir.combine_many(rows, xs), plan.small_reps)
    return [
        Figure(what_split, BATCH_KEYS / split.value, "keys/s", split.statistic, "", TARGETS["batch split"]),
        Figure(what_combine, BATCH_KEYS / combine.value, "keys/s", combine.statistic),
    ]


def latency_figures(plan: Plan) -> list[Figure]:
    """One 32-byte key: split 3-of-5, combine 3 shares, in µs."""
    progress("ours: one 32-byte key")
    key = os.urandom(KEY_BYTES)
    shares = shamir.split(key, 3, 5)
    subset = shares[-3:]
    what_split, what_combine = "split one 32-byte key, 3-of-5", "combine one 32-byte key from 3 shares"
    if shamir.combine(subset) != key:
        problem = "combine of our split did not return the key"
        return [Figure(what_split, None, "µs", "", problem, TARGETS["latency split"]),
                Figure(what_combine, None, "µs", "", problem)]
    split = median_of(lambda: shamir.split(key, 3, 5), plan.latency_runs, plan.latency_budget)
    combine = median_of(lambda: shamir.combine(subset), plan.latency_runs, plan.latency_budget)
    return [
        Figure(what_split, split.value * 1e6, "µs", split.statistic, "", TARGETS["latency split"]),
        Figure(what_combine, combine.value * 1e6, "µs", combine.statistic),
    ]


def figures(plan: Plan) -> list[Figure]:
    return throughput_figures(plan) + batch_figures(plan) + latency_figures(plan)


# --- ours on a peer's input, for the peers table (bench/peers.py) -------------------------------


def split_seconds(secret: bytes, k: int, n: int, plan: Plan, latency: bool) -> Timing:
    shares = shamir.split(secret, k, n)
    subset = shares[-k:]
    if shamir.combine(subset) != secret:
        raise RuntimeError("our round trip failed")
    if latency:
        return median_of(lambda: shamir.split(secret, k, n), plan.latency_runs, plan.latency_budget)
    return best_of(lambda: shamir.split(secret, k, n), plan.small_reps, warmup=1)


def combine_seconds(secret: bytes, k: int, n: int, plan: Plan, latency: bool) -> Timing:
    subset = shamir.split(secret, k, n)[-k:]
    if shamir.combine(subset) != secret:
        raise RuntimeError("our round trip failed")
    if latency:
        return median_of(lambda: shamir.combine(subset), plan.latency_runs, plan.latency_budget)
    return best_of(lambda: shamir.combine(subset), plan.small_reps, warmup=1)


def many_seconds(secrets: np.ndarray, k: int, n: int, plan: Plan) -> tuple[Timing, Timing]:
    """split_many and combine_many of an (m, L) array of independent secrets."""
    ys = shamir.split_many(secrets, k, n)
    rows, xs = ys[-k:], list(range(n - k + 1, n + 1))
    if not np.array_equal(shamir.combine_many(rows, xs), secrets):
        raise RuntimeError("our round trip failed")
    split = best_of(lambda: shamir.split_many(secrets, k, n), plan.small_reps, warmup=1)
    combine = best_of(lambda: shamir.combine_many(rows, xs), plan.small_reps, warmup=1)
    return split, combine
