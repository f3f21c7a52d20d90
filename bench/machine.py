"""The machine under test: a header line and reference figures every other figure is read against."""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from functools import partial
from pathlib import Path

import numpy as np

from bench.table import Figure
from bench.timing import Plan, best_of, median_of

MiB = 1024 * 1024
REFERENCE_BYTES = 64 * MiB


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _git_revision() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "git revision unknown"
    return f"git {rev}" + (" + local changes" if dirty else "")


def header(plan: Plan) -> str:
    """The report's title and one line naming the machine, the software and the date."""
    from keyceremony import __version__

    try:
        from keyceremony.core.parallel import worker_count

        threads = str(worker_count())
    except ImportError:
        threads = "?"
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    line = (
        f"CPU: {cpu_model()} · cores: {os.cpu_count()} ({usable_cores()} usable, "
        f"keyceremony uses {threads} threads) · Python {platform.python_version()} · "
        f"numpy {np.__version__} · keyceremony {__version__} ({_git_revision()}) · "
        f"date: {now} · load average at start: {load} · plan: {'quick' if plan.quick else 'full'}"
    )
    units = (
        "Units: 1 MB = 10^6 bytes, 1 GB = 10^9 bytes (1 KiB = 1024 B, 1 MiB = 2^20 B are input sizes). "
        "Throughput = secret bytes (or keys) per second of the best run; latency = median of single calls. "
        "Figures move with machine load: compare ratios within one run, not across runs."
    )
    return f"# keyceremony benchmark\n\n{line}\n\n{units}"


def reference_figures(plan: Plan) -> list[Figure]:
    """numpy XOR bandwidth (the ceiling for any GF(256) add) and the cost of starting a process."""
    rng = np.random.default_rng()
    a = np.frombuffer(rng.bytes(REFERENCE_BYTES), dtype=np.uint8)
    b = np.frombuffer(rng.bytes(REFERENCE_BYTES), dtype=np.uint8)
    out = np.empty_like(a)
    figures = []
    for dtype in (np.uint8, np.uint64):
        x, y, z = a.view(dtype), b.view(dtype), out.view(dtype)
        timing = best_of(partial(np.bitwise_xor, x, y, out=z), plan.reference_reps, warmup=1)
        figures.append(
            Figure(
                f"numpy XOR of two 64 MiB {np.dtype(dtype).name} arrays into a preallocated one",
                REFERENCE_BYTES / timing.value / 1e9, "GB/s of output", timing.statistic,
            )
        )
    true = shutil.which("true")
    if true:
        timing = median_of(
            lambda: subprocess.run([true], check=False), plan.latency_runs, plan.latency_budget
        )
        figures.append(
            Figure("start and wait for a process (`subprocess.run([\"true\"])`)",
                   timing.value * 1e3, "ms", timing.statistic)
        )
    return figures

