"""Layers point one way (docs/architecture.md §2, §3): the headless modules never load UI or I/O libraries.

Each module is imported in a fresh interpreter, so nothing another test imported can hide or cause
a violation. The command line's ``--help`` is checked with ``python -X importtime``, which lists
every module the real ``python -m keyceremony --help`` imports.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import keyceremony

FORBIDDEN = ("textual", "reportlab", "qrcode", "pkcs11", "pyzbar", "pypdfium2")

PACKAGE_DIR = Path(keyceremony.__file__).parent


def all_modules() -> list[str]:
    """Every module of the package, found on disk, so a new or renamed module is checked too."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


# The packages docs/architecture.md describes. A missing one fails the test below: a rename must
# update this list (and the docs), never silently drop checks.
PACKAGES = [
    "keyceremony.core",
    "keyceremony.codec",
    "keyceremony.shares",
    "keyceremony.keys",
    "keyceremony.cards",
    "keyceremony.transcript",
    "keyceremony.recipes",
    "keyceremony.ceremony",
    "keyceremony.cli",
    "keyceremony.tui",
]

# The GF(256) core: numpy and the standard library only, at import time. (coefficients imports
# `cryptography` lazily, the first time a split needs AES-CTR; that is not an import-time edge.)
CORE = [m for m in all_modules() if m.startswith("keyceremony.core")] + ["keyceremony.errors"]
CORE_MAY_IMPORT = {"keyceremony", "numpy"}

# The modules that wrap an outside library at import time; every other module must not load one.
# Every module of keyceremony.cards.pdf loads reportlab (importing one runs the package's
# __init__, which imports them all).
BOUNDARY_MODULES = {
    "keyceremony.cards.pdf": "reportlab",
    "keyceremony.cards.pdf.card_page": "reportlab",
    "keyceremony.cards.pdf.fonts": "reportlab",
    "keyceremony.cards.pdf.report": "reportlab",
    "keyceremony.cards.pdf.style": "reportlab",
    "keyceremony.cards.qr": "qrcode",
    "keyceremony.cards.qrscan": "pyzbar",
    "keyceremony.cards.raster": "pypdfium2",
    "keyceremony.cards.scan_sources": "pyzbar",  # reads QR codes: imports qrscan and raster
    "keyceremony.keys.pkcs11_backend": "pkcs11",
}
HEADLESS = [
    m
    for m in all_modules()
    if m not in BOUNDARY_MODULES and not m.startswith("keyceremony.tui.") and m != "keyceremony.__main__"
]

# docs/architecture.md §3: exactly one module talks to each outside boundary, or one package
# for reportlab: the modules under BOUNDARY_PACKAGES[lib] count as one owner, and lib imported
# anywhere outside that package fails.
BOUNDARY_LIBRARIES = ("pkcs11", "qrcode", "reportlab", "pyzbar", "pypdfium2")
BOUNDARY_PACKAGES = {"reportlab": "cards/pdf/"}

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


@pytest.mark.parametrize("name", PACKAGES + list(BOUNDARY_MODULES))
def test_every_package_the_architecture_names_exists(name):
    assert importlib.util.find_spec(name) is not None, f"{name} is gone: update docs/architecture.md and this test"


def test_the_module_list_is_not_empty():
    assert len(HEADLESS) > 40 and len(CORE) >= 6


@pytest.mark.parametrize("name", CORE)
def test_core_modules_import_only_numpy_and_the_standard_library(name):
    loaded = top_level(modules_loaded_by(name))
    assert not loaded & set(FORBIDDEN)
    outside = loaded - set(sys.stdlib_module_names) - CORE_MAY_IMPORT
    assert not outside, f"{name} pulls in {sorted(outside)}"


@pytest.mark.parametrize("name", HEADLESS)
def test_headless_modules_do_not_load_ui_or_io_libraries(name):
    loaded = top_level(modules_loaded_by(name))
    assert not loaded & set(FORBIDDEN), f"{name} loads {sorted(loaded & set(FORBIDDEN))}"


def test_the_probe_sees_a_forbidden_import():
    # the check above is not vacuous: a module that does import a boundary library is caught
    assert "qrcode" in top_level(modules_loaded_by("keyceremony.cards.qr"))


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def boundary_owner(lib: str, path: str) -> str:
    """The module, or for a library in BOUNDARY_PACKAGES the package, that *path* belongs to."""
    package = BOUNDARY_PACKAGES.get(lib)
    return package if package is not None and path.startswith(package) else path


def test_one_module_or_package_per_outside_boundary():
    importers: dict[str, list[str]] = {lib: [] for lib in BOUNDARY_LIBRARIES}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for lib in imports_of(path) & set(BOUNDARY_LIBRARIES):
            importers[lib].append(path.relative_to(PACKAGE_DIR).as_posix())
    owners = {lib: sorted({boundary_owner(lib, p) for p in paths}) for lib, paths in importers.items()}
    crowded = {lib: importers[lib] for lib, found in owners.items() if len(found) > 1}
    assert not crowded, f"more than one module (or package) imports: {crowded}"
    for lib, package in BOUNDARY_PACKAGES.items():
        assert owners[lib] == [package], f"{lib} must be imported inside {package} only: {importers[lib]}"


def test_cli_help_imports_no_ui_or_io_library():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keyceremony", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower(), "keyceremony --help printed no usage"
    # -X importtime writes "import time: <self> | <cumulative> | <indented module name>" lines
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "keyceremony.cli.main" in imported  # the listing really covers our modules
    loaded = top_level(imported)
    assert not loaded & set(FORBIDDEN), f"--help imports {sorted(loaded & set(FORBIDDEN))}"


def private_imports(paths: list[Path]) -> list[str]:
    """``from keyceremony.x import _name`` (or a relative import of one) in these files."""
    offenders = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("keyceremony")):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private:
                    offenders.append(f"{path.name}: {node.module} {private}")
    return offenders


def test_no_module_imports_another_modules_private_name():
    """`from keyceremony.x import _name` couples to what x may change freely; promote it instead.
    (ruff's SLF001 catches `obj._name` attribute access; this catches the import form.)"""
    offenders = private_imports(sorted(PACKAGE_DIR.rglob("*.py")))
    assert not offenders, offenders


def test_the_probe_for_private_imports_sees_one(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from keyceremony.ceremony.template import Template, _Hidden\nfrom . import _other\n")
    assert private_imports([module]) == [
        "m.py: keyceremony.ceremony.template ['_Hidden']", "m.py: None ['_other']"
    ]


REPO = PACKAGE_DIR.parents[1]
_CITED = re.compile(r"\b(docs/[A-Za-z0-9_.-]+\.md)")
_OUTSIDE = re.compile(r"\b(STACK|STYLE)\.md\b|\.\./shared")


def cited_files() -> list[tuple[str, str]]:
    out = []
    roots = [REPO / "src", REPO / "tests", REPO / "docs", REPO / "bench", REPO / "scripts", REPO / "README.md"]
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in {".py", ".md", ".toml"})
        for path in paths:
            text = path.read_text(encoding="utf-8", errors="replace")
            out += [(str(path.relative_to(REPO)), m.group(1)) for m in _CITED.finditer(text)]
            if path.name != "test_layers.py":
                out += [(str(path.relative_to(REPO)), m.group(0)) for m in _OUTSIDE.finditer(text)]
    return out


def test_every_cited_doc_is_in_the_repository():
    """The repository stands alone: a comment or doc cites only files it holds."""
    citations = cited_files()
    assert len(citations) > 50  # the scan really reads the tree
    missing = sorted({(where, cited) for where, cited in citations if not (REPO / cited).is_file()})
    assert not missing, missing
