"""Run a block kernel over a long byte range on all cores (docs/core.md §3).

numpy releases the GIL inside ufunc loops on large arrays, so threads give real parallelism
for the GF(256) kernels. Blocks are sized to stay in the L2 cache while keeping numpy's per-call
cost small; short ranges run on the calling thread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

BLOCK = 512 * 1024  # bytes per kernel call; a multiple of 16 (AES-CTR) and 8 (uint64 words)
_PARALLEL_MIN = 4 * BLOCK


def worker_count() -> int:
    configured = os.environ.get("KEYCEREMONY_THREADS")
    if configured:
        return max(1, int(configured))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


Work = Callable[[int, int, list[NDArray[np.uint64]]], None]


def for_each_range(total: int, nscratch: int, work: Work) -> None:
    """Call ``work(lo, hi, scratch)`` for consecutive blocks covering [0, total).

    ``total`` is a multiple of 8; every block but the last is BLOCK bytes long. ``scratch`` is a
    list of ``nscratch`` uint64 arrays of BLOCK/8 words plus two spare words (room for
    ``update_into``), private to the calling thread and wiped when it is done.
    """
    if total % 8:
        raise ValueError("total must be a multiple of 8")
    blocks = itertools.count()
    nblocks = -(-total // BLOCK)
    words = min(BLOCK, total) // 8

    def run() -> None:
        scratch = [np.zeros(words + 2, dtype=np.uint64) for _ in range(nscratch)]
        try:
            while (b := next(blocks)) < nblocks:  # itertools.count is atomic under the GIL
                lo = b * BLOCK
                work(lo, min(lo + BLOCK, total), scratch)
        finally:
            for block in scratch:  # it held coefficients and partial sums
                block.fill(0)

    workers = min(worker_count(), nblocks) if total >= _PARALLEL_MIN else 1
    if workers == 1:
        run()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run) for _ in range(workers)]:
            future.result()
