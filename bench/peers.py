"""Other Shamir implementations, measured in the same run and set next to ours on the same input.

Each peer sits behind a small adapter with ``split(secret, k, n) -> shares`` and
``combine(k shares, k) -> secret``. Before any timing a peer must give its own secret back from
its own shares (first k, last k and a random k); if it does not, its figures are marked invalid
and not timed. All peers here are single-threaded; ours spreads inputs of 2 MiB and up over the
cores (keyceremony/parallel.py), which none of the inputs below is large enough for.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import numpy as np

from bench import ours
from bench.ours import progress
from bench.table import PeerFigure
from bench.timing import Plan, Timing, best_of, median_of

K, N = 3, 5


class Peer(Protocol):
    name: str

    def split(self, secret: bytes, k: int, n: int) -> list[Any]: ...

    def combine(self, shares: list[Any], k: int) -> bytes: ...


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


class PyCryptodomeShamir:
    """``Crypto.Protocol.SecretSharing.Shamir``: GF(2^128), secrets of exactly 16 bytes.

    Longer inputs are cut into 16-byte secrets, each split on its own; a share is its index and
    the list of its per-chunk 16-byte values.
    """

    chunk = 16

    def __init__(self) -> None:
        from Crypto.Protocol.SecretSharing import Shamir

        self._shamir = Shamir
        self.name = f"pycryptodome {_version('pycryptodome')} `Shamir`"

    def split(self, secret: bytes, k: int, n: int) -> list[Any]:
        if len(secret) % self.chunk:
            raise ValueError("pycryptodome's Shamir takes 16-byte secrets only")
        per_chunk = [self._shamir.split(k, n, secret[i : i + 16]) for i in range(0, len(secret), 16)]
        return [(per_chunk[0][j][0], [chunk[j][1] for chunk in per_chunk]) for j in range(n)]

    def combine(self, shares: list[Any], k: int) -> bytes:
        count = len(shares[0][1])
        return b"".join(self._shamir.combine([(x, ys[c]) for x, ys in shares]) for c in range(count))


class PyShamir:
    """``pyshamir.split(secret, parts, threshold)`` (note: parts before threshold), ``combine(parts)``.

    A port of HashiCorp Vault's Go code; each share carries its x-coordinate as a last byte.
    """

    def __init__(self) -> None:
        import pyshamir

        self._lib = pyshamir
        self.name = f"pyshamir {_version('pyshamir')}"

    def split(self, secret: bytes, k: int, n: int) -> list[Any]:
        return self._lib.split(secret, n, k)

    def combine(self, shares: list[Any], k: int) -> bytes:
        return bytes(self._lib.combine(list(shares)))


class MnemonicCore:
    """shamir-mnemonic's raw field core: ``_split_secret(k, n, secret)``, ``_recover_secret(k, shares)``.

    SLIP-39's GF(256) sharing without mnemonics or encryption. It stores a 4-byte HMAC digest in
    a share, so combine interpolates twice (secret and digest) and checks the HMAC. It takes any
    secret of 4 bytes or more (16+ bytes of even length is a rule of the mnemonic layer, not of
    this core) and at most 16 shares.
    """

    def __init__(self) -> None:
        from shamir_mnemonic import shamir

        self._core = shamir
        self.name = f"shamir-mnemonic {_version('shamir-mnemonic')} raw core"

    def split(self, secret: bytes, k: int, n: int) -> list[Any]:
        return self._core._split_secret(k, n, secret)  # noqa: SLF001 - the raw core has no public name

    def combine(self, shares: list[Any], k: int) -> bytes:
        return self._core._recover_secret(k, shares)  # noqa: SLF001 - the raw core has no public name


class Ssss:
    """Debian's ``ssss`` command line: one process per split or combine, secrets up to 128 bytes.

    ``ssss-split -t k -n n -x -q`` reads the secret in hex on stdin and prints ``i-hex`` lines;
    ``ssss-combine -t k -x -q`` reads k such lines and prints the secret in hex on stderr.
    """

    max_bytes = 128

    def __init__(self) -> None:
        self._split = shutil.which("ssss-split")
        self._combine = shutil.which("ssss-combine")
        if not self._split or not self._combine:
            raise FileNotFoundError("ssss-split / ssss-combine not found (Debian package `ssss`)")
        try:
            version = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", "ssss"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            version = ""
        self.name = f"ssss {version or '?'} (CLI)"

    def split(self, secret: bytes, k: int, n: int) -> list[Any]:
        if len(secret) > self.max_bytes:
            raise ValueError("ssss takes secrets of at most 128 bytes")
        proc = subprocess.run(
            [self._split, "-t", str(k), "-n", str(n), "-x", "-q"],
            input=secret.hex() + "\n", capture_output=True, text=True, timeout=10,
        )
        if proc.returncode:
            raise RuntimeError(f"ssss-split exited {proc.returncode}: {proc.stderr.strip()[:80]}")
        return proc.stdout.split()

    def combine(self, shares: list[Any], k: int) -> bytes:
        proc = subprocess.run(
            [self._combine, "-t", str(k), "-x", "-q"],
            input="\n".join(shares) + "\n", capture_output=True, text=True, timeout=10,
        )
        if proc.returncode:
            raise RuntimeError(f"ssss-combine exited {proc.returncode}: {proc.stderr.strip()[:80]}")
        words = proc.stderr.split()  # ssss-combine prints the secret on stderr
        return bytes.fromhex(words[-1]) if words else b""


@dataclass(frozen=True)
class PeerSpec:
    load: Callable[[], Peer]
    label: str  # shown when the peer cannot be loaded
    latency_bytes: int
    throughput_bytes: Callable[[Plan], int] | None  # None: latency only
    chunked: bool = False  # throughput input is many independent 16-byte secrets


SPECS = (
    PeerSpec(PyCryptodomeShamir, "pycryptodome `Shamir`", 16, lambda p: p.pycryptodome_bytes, chunked=True),
    PeerSpec(PyShamir, "pyshamir", 32, lambda p: p.pyshamir_bytes),
    PeerSpec(MnemonicCore, "shamir-mnemonic raw core", 32, lambda p: p.mnemonic_bytes),
    PeerSpec(Ssss, "ssss (CLI)", 32, None),
)


def _round_trip(peer: Peer, secret: bytes, subsets: int) -> tuple[list[Any], str]:
    """The peer's shares of ``secret`` and "ok", or [] and what went wrong."""
    try:
        shares = peer.split(secret, K, N)
        if len(shares) != N:
            return [], f"FAILED: split gave {len(shares)} shares, not {N}"
        for subset in [shares[:K], shares[-K:], random.sample(shares, K)][:subsets]:
            if peer.combine(subset, K) != secret:
                return [], "FAILED: combine of its own split did not return the secret"
    except Exception as error:  # a peer's failure is a finding, not a crash
        return [], f"FAILED: {type(error).__name__}: {str(error)[:80]}"
    return shares, "ok"


def _size(n: int) -> str:
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


@functools.cache
def _ours(operation: str, length: int, chunked: bool, plan: Plan) -> Timing | None:
    """Our timing of ``operation`` ("split", "combine", "latency split", ...) on a peer's input."""
    try:
        if chunked:
            secrets = np.frombuffer(os.urandom(length), dtype=np.uint8).reshape(-1, 16)
            split, combine = ours.many_seconds(secrets, K, N, plan)
            return split if operation == "split" else combine
        secret = os.urandom(length)
        latency = operation.startswith("latency")
        if operation.endswith("split"):
            return ours.split_seconds(secret, K, N, plan, latency)
        return ours.combine_seconds(secret, K, N, plan, latency)
    except RuntimeError:
        return None


def _figure(peer: str, what: str, timing: Timing | None, mine: Timing | None, round_trip: str,
            scale: Callable[[float], float], unit: str, higher_is_better: bool) -> PeerFigure:
    statistic = timing.statistic if timing else ""
    if mine is not None:
        statistic = f"{statistic}; ours {mine.statistic}" if statistic else f"ours {mine.statistic}"
    return PeerFigure(
        peer, what,
        scale(timing.value) if timing else None,
        scale(mine.value) if mine else None,
        unit, statistic, round_trip, higher_is_better,
    )


def measure_peer(spec: PeerSpec, plan: Plan) -> list[PeerFigure]:
    try:
        peer = spec.load()
    except Exception as error:
        reason = f"n/a: {type(error).__name__}: {str(error)[:80]}"
        return [PeerFigure(spec.label, "—", None, None, "", "", reason, True)]
    progress(f"peer: {peer.name}")
    figures = []

    # one secret's latency
    length = spec.latency_bytes
    secret = os.urandom(length)
    shares, status = _round_trip(peer, secret, subsets=3)
    subset = shares[-K:]
    per_call = "per invocation, incl. process start" if isinstance(peer, Ssss) else ""
    for operation, call in (
        ("split", lambda: peer.split(secret, K, N)),
        ("combine", lambda: peer.combine(subset, K)),
    ):
        timing = median_of(call, plan.latency_runs, plan.latency_budget) if status == "ok" else None
        what = f"{operation} one {length}-byte secret, {K}-of-{N}" + (f" ({per_call})" if per_call else "")
        mine = _ours(f"latency {operation}", length, False, plan)
        figures.append(_figure(peer.name, what, timing, mine, status, lambda s: s * 1e6, "µs", False))

    # throughput on a larger input
    if spec.throughput_bytes is not None:
        size = spec.throughput_bytes(plan)
        secret = os.urandom(size)
        shares, status = _round_trip(peer, secret, subsets=1)  # also the warm-up
        subset = shares[-K:]
        shape = f"{_size(size)} as {size // 16:,} × 16-byte secrets" if spec.chunked else _size(size)
        for operation, call in (
            ("split", lambda: peer.split(secret, K, N)),
            ("combine", lambda: peer.combine(subset, K)),
        ):
            timing = best_of(call, plan.peer_reps) if status == "ok" else None
            what = f"{operation} {shape}, {K}-of-{N}"
            mine = _ours(operation, size, spec.chunked, plan)
            figures.append(
                _figure(peer.name, what, timing, mine, status, lambda s: size / s / 1e6, "MB/s", True)
            )
    return figures


def figures(plan: Plan) -> list[PeerFigure]:
    return [figure for spec in SPECS for figure in measure_peer(spec, plan)]
