"""Preflight: record the ceremony machine and check it is what a ceremony laptop should be.

:class:`LinuxHostFacts` reads the facts (``/sys/class/net``, ``/proc/swaps``, package
versions); :func:`evaluate` turns facts into check results, purely, so tests drive it with a
fake :class:`~keyceremony.ceremony.ports.HostFacts`. The checks (docs/ceremony-guide.md §2):

- ``network``: no network interface is up except loopback (an air-gapped machine);
- ``swap``: no swap area that could write memory to a disk unencrypted (swap on dm-crypt and
  zram are fine; a swap file or plain partition is not; unknown counts as not fine);
- ``hsm``: the key store answers (for a token: logged in, RFC 5649 and EdDSA available).

Whether a failed check stops the ceremony or only warns is the template's choice (its
preflight step's ``checks``), which a declared rehearsal may relax (``[rehearsal] may_warn``).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from keyceremony.ceremony.ports import HostFacts, SwapArea

IFF_UP = 0x1
IFF_LOOPBACK = 0x8
SOFTWARE = (
    "keyceremony", "cryptography", "numpy", "python-pkcs11", "reportlab", "qrcode", "pyzbar",
    "pypdfium2", "pillow",
)  # fmt: skip


class LinuxHostFacts:
    """The facts of the machine this runs on (Linux ``/sys`` and ``/proc``).

    ``sys_root`` and ``proc_root`` exist so tests can point them at a fake tree.
    """

    def __init__(self, *, sys_root: Path = Path("/sys"), proc_root: Path = Path("/proc")) -> None:
        self.sys_root = sys_root
        self.proc_root = proc_root

    def system(self) -> Mapping[str, str]:
        uname = platform.uname()
        facts = {
            "os": uname.system,
            "kernel": uname.release,
            "machine": uname.machine,
            "python": f"{platform.python_implementation()} {platform.python_version()}",
        }
        try:
            for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
                if line.startswith("PRETTY_NAME="):
                    facts["distribution"] = line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
        return facts

    def software_versions(self) -> Mapping[str, str]:
        versions = {"python": sys.version.split()[0]}
        for name in SOFTWARE:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = "not installed"
        return versions

    def network_interfaces_up(self) -> Sequence[str]:
        net = self.sys_root / "class" / "net"
        up = []
        try:
            names = sorted(os.listdir(net))
        except OSError:
            return []
        for name in names:
            try:
                flags = int((net / name / "flags").read_text().strip(), 16)
            except (OSError, ValueError):
                continue
            if flags & IFF_UP and not flags & IFF_LOOPBACK:
                up.append(name)
        return up

    def swap_areas(self) -> Sequence[SwapArea]:
        try:
            lines = (self.proc_root / "swaps").read_text().splitlines()[1:]
        except OSError:
            return []
        areas = []
        for line in lines:
            fields = line.split()
            if len(fields) < 2:
                continue
            name, kind = fields[0], fields[1]
            base = os.path.basename(os.path.realpath(name)) if name.startswith("/dev/") else ""
            if base.startswith("zram"):
                areas.append(SwapArea(name, kind, None, in_memory=True))
            elif base.startswith("dm-"):
                areas.append(SwapArea(name, kind, self._dm_crypt(base)))
            else:
                areas.append(SwapArea(name, kind, False if kind == "partition" else None))
        return areas

    def _dm_crypt(self, dm: str) -> bool | None:
        try:
            uuid = (self.sys_root / "block" / dm / "dm" / "uuid").read_text().strip()
        except OSError:
            return None
        return uuid.startswith("CRYPT-")


@dataclass(frozen=True)
class CheckResult:
    """One check: ``passed``, and if not, whether the policy ``stop``s or ``warn``s."""

    check: str
    passed: bool
    policy: str
    detail: str

    @property
    def outcome(self) -> str:
        """``passed``, ``warned`` or ``failed`` (failed = a stop policy was broken)."""
        if self.passed:
            return "passed"
        return "warned" if self.policy == "warn" else "failed"


def check_network(host: HostFacts) -> tuple[bool, str]:
    up = list(host.network_interfaces_up())
    if not up:
        return True, "no network interface is up except loopback"
    return False, (
        f"network interface(s) up: {', '.join(up)}; a ceremony laptop is air-gapped: unplug "
        "the cable, switch off Wi-Fi and Bluetooth (or boot the live system without network)"
    )


def check_swap(host: HostFacts) -> tuple[bool, str]:
    areas = list(host.swap_areas())
    bad = [a for a in areas if not a.in_memory and a.encrypted is not True]
    if not areas:
        return True, "no swap"
    if not bad:
        kinds = ", ".join(f"{a.name} ({'zram' if a.in_memory else 'dm-crypt'})" for a in areas)
        return True, f"swap only in memory or encrypted: {kinds}"
    described = ", ".join(
        f"{a.name} ({a.kind}, {'unencrypted' if a.encrypted is False else 'encryption unknown'})" for a in bad
    )
    return False, (
        f"swap that may not be encrypted: {described}; memory holding key material could be "
        "written to disk. Run `swapoff -a` first, or use a live system without swap"
    )


def evaluate(
    host: HostFacts,
    policies: Sequence[tuple[str, str]],
    hsm: tuple[bool, str],
) -> list[CheckResult]:
    """Run each check named in ``policies`` (check, ``stop``/``warn``); ``hsm`` is the key
    store's own result (passed, detail), which the engine gets from its back end factory."""
    results = []
    for check, policy in policies:
        if check == "network":
            passed, detail = check_network(host)
        elif check == "swap":
            passed, detail = check_swap(host)
        elif check == "hsm":
            passed, detail = hsm
        else:  # pragma: no cover - templates are validated
            raise ValueError(f"unknown check {check!r}")
        results.append(CheckResult(check, passed, policy, detail))
    return results
