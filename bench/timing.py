"""How figures are taken: best of N runs for throughput, median of N single calls for latency
(the best of three rounds' medians).

Every clock read is ``time.perf_counter``. Warm-up is the caller's untimed first call (usually
the round-trip check), or ``warmup`` calls here.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """Repetitions for one run; the quick plan trades precision (and peer input sizes) for time."""

    quick: bool
    big_reps: int  # timed runs of each 64 MiB operation
    small_reps: int  # timed runs of each 1 MiB operation and of the 100,000-key batches
    reference_reps: int  # timed runs of the numpy XOR reference
    latency_runs: int  # most single calls timed for a latency median
    latency_budget: float  # seconds after which a latency median stops taking more calls
    peer_reps: int  # timed runs of each peer throughput operation
    pycryptodome_bytes: int  # bytes cut into 16-byte secrets for pycryptodome's throughput
    pyshamir_bytes: int  # pyshamir runs near 1 KB/s, so it gets a small input
    mnemonic_bytes: int  # shamir-mnemonic's raw core input


FULL = Plan(
    quick=False,
    big_reps=3,
    small_reps=7,
    reference_reps=10,
    latency_runs=5000,
    latency_budget=1.5,
    peer_reps=3,
    pycryptodome_bytes=64 * 1024,
    pyshamir_bytes=1024,
    mnemonic_bytes=64 * 1024,
)

QUICK = Plan(
    quick=True,
    big_reps=1,
    small_reps=3,
    reference_reps=3,
    latency_runs=1000,
    latency_budget=0.3,
    peer_reps=1,
    pycryptodome_bytes=16 * 1024,
    pyshamir_bytes=256,
    mnemonic_bytes=64 * 1024,
)


@dataclass(frozen=True)
class Timing:
    """Seconds of each timed call, summarised as best (throughput) or median (latency)."""

    seconds: tuple[float, ...]
    summary: str  # "best" or "median"
    rounds: int = 1  # latency: the calls in this many consecutive rounds, the best round's median

    @property
    def value(self) -> float:
        if self.summary == "best":
            return min(self.seconds)
        return min(statistics.median(r) for r in self._rounds())

    @property
    def statistic(self) -> str:
        if self.summary == "median" and self.rounds > 1:
            return f"median of {len(self.seconds)}, best of {self.rounds} rounds"
        return f"{self.summary} of {len(self.seconds)}"

    def _rounds(self) -> list[tuple[float, ...]]:
        size = -(-len(self.seconds) // self.rounds)
        return [self.seconds[i : i + size] for i in range(0, len(self.seconds), size)]


def best_of(call: Callable[[], object], reps: int, warmup: int = 0) -> Timing:
    """Time ``reps`` calls after ``warmup`` untimed ones; report the fastest."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(max(1, reps)):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return Timing(tuple(seconds), "best")


def median_of(
    call: Callable[[], object], runs: int, budget: float, warmup: int = 3, min_runs: int = 5,
    rounds: int = 3,
) -> Timing:
    """Time single calls until ``runs`` are done or ``budget`` seconds pass (at least ``min_runs``).

    The garbage collector is off while timing, as in ``timeit``, so a collection triggered by an
    earlier allocation does not land in one call's figure. The calls are cut into ``rounds``
    consecutive rounds and the figure is the lowest round median: on a shared 2-core VM another
    process can slow a whole second of calls (one 32-byte split read 21.9 µs in one run, 12-16 µs
    in the runs around it), and that burst should not be the figure.
    """
    for _ in range(warmup):
        call()
    seconds: list[float] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        deadline = time.perf_counter() + budget
        while len(seconds) < runs and (len(seconds) < min_runs or time.perf_counter() < deadline):
            start = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - start)
    finally:
        if was_enabled:
            gc.enable()
    return Timing(tuple(seconds), "median", rounds=max(1, min(rounds, len(seconds) // min_runs)))
