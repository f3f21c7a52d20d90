"""Layers point one way (STYLE.md §1, §2): the headless modules never load UI or I/O libraries.

Each module is imported in a fresh interpreter, so nothing another test imported can hide or cause
a violation. The command line's ``--help`` is checked with ``python -X importtime``, which lists
every module the real ``python -m keyceremony --help`` imports.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import keyceremony

FORBIDDEN = ("textual", "reportlab", "qrcode", "pkcs11", "pyzbar", "pypdfium2")

# The GF(256) core: numpy and the standard library only, at import time. (coefficients imports
# `cryptography` lazily, the first time a split needs AES-CTR; that is not an import-time edge.)
CORE = [
    "keyceremony.gf256",
    "keyceremony.shamir",
    "keyceremony.coefficients",
    "keyceremony.parallel",
    "keyceremony.errors",
    "keyceremony.fresh_bytes",
]
CORE_MAY_IMPORT = {"keyceremony", "numpy"}

# Other modules that must stay headless; checked when they exist (they are being written).
OTHER_HEADLESS = [
    "keyceremony",
    "keyceremony.card_model",
    "keyceremony.share_payload",
    "keyceremony.share_text",
    "keyceremony.keys",
    "keyceremony.keys.model",
    "keyceremony.keys.backend",
    "keyceremony.keys.kcv",
    "keyceremony.keys.signing",
    "keyceremony.keys.soft",
    "keyceremony.keys.recovery",
    "keyceremony.base32",
    "keyceremony.atomic_file",
    "keyceremony.shareset",
    "keyceremony.share_sources",
    "keyceremony.backup_package",
    "keyceremony.backup",
    "keyceremony.cards",
    "keyceremony.canonical_json",
    "keyceremony.signer",
    "keyceremony.transcript",
    "keyceremony.transcript_report",
    "keyceremony.ceremony.template",
    "keyceremony.ceremony.engine",
    "keyceremony.ceremony.steps",
    "keyceremony.ceremony.state",
    "keyceremony.ceremony.preflight",
    "keyceremony.ceremony.answers",
    "keyceremony.cli",
    "keyceremony.cli_keys",
    "keyceremony.cli_transcript",
    "keyceremony.cli_ceremony",
]

# STYLE.md §2: exactly one module talks to each outside boundary.
BOUNDARY_LIBRARIES = ("pkcs11", "qrcode", "reportlab", "pyzbar", "pypdfium2")

PACKAGE_DIR = Path(keyceremony.__file__).parent

_PROBE = """
import importlib, json, sys
before = set(sys.modules)
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def modules_loaded_by(name: str) -> set[str]:
    """Modules newly in sys.modules after importing ``name`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, name], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"importing {name} failed:\n{result.stderr}"
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("name", CORE)
def test_core_modules_import_only_numpy_and_the_standard_library(name):
    loaded = top_level(modules_loaded_by(name))
    assert not loaded & set(FORBIDDEN)
    outside = loaded - set(sys.stdlib_module_names) - CORE_MAY_IMPORT
    assert not outside, f"{name} pulls in {sorted(outside)}"


@pytest.mark.parametrize("name", OTHER_HEADLESS)
def test_headless_modules_do_not_load_ui_or_io_libraries(name):
    if not exists(name):
        pytest.skip(f"{name} does not exist yet")
    loaded = top_level(modules_loaded_by(name))
    assert not loaded & set(FORBIDDEN), f"{name} loads {sorted(loaded & set(FORBIDDEN))}"


def test_the_probe_sees_a_forbidden_import():
    # the check above is not vacuous: a module that does import a boundary library is caught
    assert "qrcode" in top_level(modules_loaded_by("keyceremony.qr"))


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_one_module_per_outside_boundary():
    importers: dict[str, list[str]] = {lib: [] for lib in BOUNDARY_LIBRARIES}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for lib in imports_of(path) & set(BOUNDARY_LIBRARIES):
            importers[lib].append(str(path.relative_to(PACKAGE_DIR)))
    crowded = {lib: paths for lib, paths in importers.items() if len(paths) > 1}
    assert not crowded, f"more than one module imports: {crowded}"


def test_cli_help_imports_no_ui_or_io_library():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keyceremony", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "usage" not in result.stdout.lower():
        pytest.skip("keyceremony.cli has no --help yet")
    assert result.returncode == 0, result.stderr
    # -X importtime writes "import time: <self> | <cumulative> | <indented module name>" lines
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "keyceremony.cli" in imported  # the listing really covers our modules
    loaded = top_level(imported)
    assert not loaded & set(FORBIDDEN), f"--help imports {sorted(loaded & set(FORBIDDEN))}"
