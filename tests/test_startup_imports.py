"""What a command imports is what it uses (docs/benchmarks.md, start-up): checked in a fresh
interpreter that runs ``keyceremony.cli.main.main`` and lists ``sys.modules`` at exit.

``verify-share`` of share .txt files reads text and checks Ed25519 signatures: no numpy (nothing
is combined), no card, scan or terminal UI library, not the Shamir core nor the backup package
code. ``--help`` loads no library outside the standard library at all. ``combine`` does load
numpy, which shows the probe sees an import when there is one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.shares.shareset import create_share_set
from keyceremony.shares.text import to_text

HEAVY = ("numpy", "reportlab", "PIL", "pyzbar", "pypdfium2", "qrcode", "textual", "pkcs11")

_WRAPPER = """
import json, sys
from keyceremony.cli.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as exit_:
    code = exit_.code
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def run_cli(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    """Exit code, the modules loaded, and standard output of ``keyceremony ARGS`` in a new interpreter."""
    report = tmp_path / "modules.json"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(report), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False, stdin=subprocess.DEVNULL,
    )
    assert report.exists(), result.stderr
    found = json.loads(report.read_text())
    return found["code"], set(found["modules"]), result.stdout


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.fixture(scope="module")
def shares(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Three share files of one set, and the set's fingerprint."""
    folder = tmp_path_factory.mktemp("shares")
    payloads = create_share_set(os.urandom(32), 2, 3, label="start-up")
    for p in payloads:
        (folder / f"share-{p.x}.txt").write_text(to_text(p, ["a comment"]))
    return folder, format_fingerprint(payloads[0].fingerprint())


@pytest.mark.parametrize(
    "args",
    [["share-1.txt"], ["share-1.txt", "--fingerprint", "FP"], ["share-1.txt", "share-2.txt", "share-3.txt"]],
    ids=["one file", "anchored", "three files"],
)
def test_verify_share_of_text_files_loads_no_heavy_library(shares, tmp_path, args):
    folder, fingerprint = shares
    args = [str(folder / a) if a.endswith(".txt") else fingerprint if a == "FP" else a for a in args]
    code, modules, out = run_cli(tmp_path, "verify-share", *args)
    assert code == 0 and "signature verifies" in out
    heavy = top_level(modules) & set(HEAVY)
    assert not heavy, f"verify-share imported {sorted(heavy)}"
    assert "cryptography" in top_level(modules)  # the signature was checked
    assert not modules & {"keyceremony.core.shamir", "keyceremony.keys.backup_package", "keyceremony.cards"}


def test_a_refused_share_loads_no_heavy_library_either(shares, tmp_path):
    folder, _ = shares
    lines = (folder / "share-1.txt").read_text().splitlines()
    lines[3] = lines[3][:-1] + ("A" if lines[3][-1] != "A" else "B")  # the first data line's check, wrong
    (tmp_path / "typo.txt").write_text("\n".join(lines) + "\n")
    code, modules, out = run_cli(tmp_path, "verify-share", "typo.txt")
    assert code != 0 and not out
    assert not top_level(modules) & set(HEAVY)


def test_help_loads_nothing_outside_the_standard_library(tmp_path):
    code, modules, out = run_cli(tmp_path, "--help")
    assert code == 0 and "verify-share" in out
    outside = top_level(modules) - set(sys.stdlib_module_names) - {"keyceremony", "__main__", "_distutils_hack"}
    assert not outside, f"--help imported {sorted(outside)}"  # cryptography and numpy among them
    assert not {m for m in modules if m.startswith(("keyceremony.shares", "keyceremony.codec", "keyceremony.core"))}


def test_the_probe_sees_numpy_when_a_command_combines(shares, tmp_path):
    folder, _ = shares
    code, modules, _ = run_cli(tmp_path, "combine", str(folder / "share-1.txt"), str(folder / "share-3.txt"),
                               "--out", str(tmp_path / "secret"))  # fmt: skip
    assert code == 0 and (tmp_path / "secret").stat().st_size == 32
    assert {"numpy", "keyceremony.core.shamir"} <= modules
