"""Start-up figures: whole ``keyceremony`` commands, each a new process, from start to exit.

Each command runs as ``python -m keyceremony ...`` (the interpreter running the bench) on a copy
of this checkout's ``src/`` in a temporary folder, in two states of Python's bytecode cache:

- cached: the copy compiled first (``python -m compileall``), as after ``pip install``;
- not cached: ``PYTHONDONTWRITEBYTECODE=1`` on a copy with no ``__pycache__``, so every run
  compiles keyceremony's own modules again (a source checkout under that setting). The
  libraries (numpy, cryptography, ...) come from their installed, compiled copies either way.

The share files are made once with ``keyceremony split`` (untimed). Every command is run once
untimed (it must exit 0, or its row is ``invalid``), then timed ``runs`` times; the figure is the
median wall time, with the fastest and slowest run beside it and the median CPU time (user +
system, the kernel's accounting of the finished child), which moves less than wall time when
other work shares the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.ours import progress
from bench.table import Figure, Target, number
from bench.timing import Plan

REPO = Path(__file__).resolve().parent.parent
HELP_TARGET = Target("<", 100, "ms")
VERIFY_TARGET = Target("<", 250, "ms")
TIMEOUT = 60.0


class BenchError(Exception):
    """A figure could not be taken (the reason is its message)."""


class Checkout:
    """A copy of ``src/`` in a temporary folder, and the environment that runs it."""

    def __init__(self, folder: Path, *, cached: bool) -> None:
        self.src = folder / ("cached" if cached else "plain")
        shutil.copytree(REPO / "src", self.src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        env["PYTHONPATH"] = str(self.src)
        if cached:
            _run([sys.executable, "-m", "compileall", "-q", str(self.src)], env, folder)
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.env = env
        found = _run([sys.executable, "-c", "import keyceremony; print(keyceremony.__file__)"], env, folder)
        if not found.strip().startswith(str(self.src)):  # an installed keyceremony would hide the copy
            raise BenchError(f"python imports keyceremony from {found.strip()}, not from the copy of src/")


def _run(command: Sequence[str], env: dict[str, str], cwd: Path) -> str:
    try:
        result = subprocess.run(list(command), env=env, cwd=cwd, capture_output=True, text=True,
                                timeout=TIMEOUT, check=False, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        raise BenchError(f"{' '.join(command[-3:])}: {error}") from error
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BenchError(f"exit {result.returncode}: {last}")
    return result.stdout


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_seconds(command: Sequence[str], env: dict[str, str], cwd: Path, runs: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``runs`` whole runs of ``command`` (output thrown away), after one
    untimed run that must exit 0."""
    _run(command, env, cwd)
    seconds = []
    for _ in range(runs):
        cpu = _cpu_of_children()
        start = time.perf_counter()
        subprocess.run(list(command), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT, check=False)  # fmt: skip
        seconds.append((time.perf_counter() - start, _cpu_of_children() - cpu))
    return seconds


def _figure(what: str, seconds: list[tuple[float, float]], target: Target | None) -> Figure:
    wall = [w * 1000 for w, _ in seconds]
    cpu = statistics.median(c * 1000 for _, c in seconds)
    statistic = f"median of {len(wall)} (min {number(min(wall))}, max {number(max(wall))} ms; CPU {number(cpu)} ms)"
    return Figure(what, statistics.median(wall), "ms", statistic, "", target)


def figures(plan: Plan) -> list[Figure]:
    runs = 5 if plan.quick else 15
    python = [sys.executable]
    keyceremony = [*python, "-m", "keyceremony"]
    commands = [  # (what, arguments, target)
        ("`keyceremony --help`", ["--help"], HELP_TARGET),
        ("`keyceremony verify-share share-1.txt` (one share file)", ["verify-share", "share-1.txt"], VERIFY_TARGET),
        ("`keyceremony combine` of 3 share files (32-byte secret)",
         ["combine", "share-1.txt", "share-2.txt", "share-3.txt", "--out", "secret.out", "--force"], None),
    ]  # fmt: skip
    out: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="keyceremony-bench-startup-") as name:
        folder = Path(name)
        (folder / "secret.bin").write_bytes(os.urandom(32))
        try:
            progress(f"start-up: interpreter alone, {runs} runs")
            out.append(_figure("Python alone (`python -c pass`), for reference",
                               process_seconds([*python, "-c", "pass"], dict(os.environ), folder, runs), None))
        except BenchError as error:
            out.append(Figure("Python alone (`python -c pass`), for reference", None, "ms", "", str(error)))
        for cached in (True, False):
            state = "bytecode cached" if cached else "no bytecode cache"
            try:
                checkout = Checkout(folder, cached=cached)
                if cached:
                    _run([*keyceremony, "split", "-k", "3", "-n", "5", "--in", "secret.bin", "--out", "."],
                         checkout.env, folder)  # fmt: skip
            except BenchError as error:
                out += [Figure(f"{what}, {state}", None, "ms", "", str(error), target) for what, _, target in commands]
                continue
            for what, args, target in commands:
                progress(f"start-up: {args[0]}, {state}, {runs} runs")
                try:
                    seconds = process_seconds([*keyceremony, *args], checkout.env, folder, runs)
                    out.append(_figure(f"{what}, {state}", seconds, target))
                except BenchError as error:
                    out.append(Figure(f"{what}, {state}", None, "ms", "", str(error), target))
    return out
