"""Each import contract of pyproject.toml fails when it is broken (docs/architecture.md §4).

A contract that can never fail proves nothing: a typo in a module name, a wrong contract type or
``allow_indirect_imports`` in the wrong place would keep it green forever. For every contract id,
the package is copied to a temporary folder, one import that breaks that contract is appended to
one module of the copy, and ``lint-imports`` (with the project's own ``[tool.importlinter]``
table) must exit non-zero, report that contract BROKEN, and name the added import. The same run
on the unmodified copy is the control: it does not name that import, and the copy is judged
contract by contract exactly as the source tree is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import keyceremony

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(keyceremony.__file__).resolve().parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
CONTRACT_NAMES = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}


# contract id -> (module of the copy to change, the import appended to it, text of the report
# that shows the added import is what broke the contract)
VIOLATIONS = {
    "layers": (
        "core/shamir.py",
        "from keyceremony.cli import main",
        "keyceremony.core.shamir -> keyceremony.cli.main",
    ),
    "transcript-alone": (
        "transcript/report.py",
        "import keyceremony.keys",
        "keyceremony.transcript.report -> keyceremony.keys",
    ),
    "textual-only-in-tui": ("core/gf256.py", "import textual", "keyceremony.core.gf256 -> textual"),
    "pkcs11-only-in-keys": ("cards/qr.py", "import pkcs11", "keyceremony.cards.qr -> pkcs11"),
    "paper-only-in-cards": ("keys/kcv.py", "import reportlab", "keyceremony.keys.kcv -> reportlab"),
    "core-is-numpy-only": ("core/shamir.py", "import PIL", "keyceremony.core.shamir -> PIL"),
    # core.shamir imports core.gf256; gf256 importing shamir back closes a cycle in core
    "no-cycles": ("core/gf256.py", "import keyceremony.core.shamir", "No cycles are allowed in keyceremony.core."),
}

_LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def copy_package(dest: Path) -> Path:
    """A copy of the package under ``dest/src``; returns the folder to put on PYTHONPATH."""
    src = dest / "src"
    shutil.copytree(PACKAGE_DIR, src / "keyceremony", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def environment(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(path)  # the copy only: it shadows the installed (editable) package
    return env


def lint_imports(path: Path, *contract_ids: str) -> tuple[int, str]:
    """Run lint-imports on the package found on ``path``; return its exit code and its report,
    whitespace collapsed (the report wraps long contract names)."""
    selected = [arg for cid in contract_ids for arg in ("--contract", cid)]
    result = subprocess.run(
        [sys.executable, "-c", _LINT_IMPORTS, "--no-cache", "--no-logo", *selected, str(ROOT / "pyproject.toml")],
        cwd=path.parent,
        env=environment(path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def verdict(report: str, contract_id: str) -> str:
    """KEPT or BROKEN, as the report's summary gives it for ``contract_id``."""
    name = " ".join(CONTRACT_NAMES[contract_id].split())
    found = re.search(re.escape(name) + r" (KEPT|BROKEN)", report)
    assert found, f"the report does not judge contract {contract_id!r}:\n{report}"
    return found.group(1)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return copy_package(tmp_path_factory.mktemp("pristine"))


def test_every_contract_has_a_violation():
    assert set(VIOLATIONS) == set(CONTRACT_NAMES), "add a violation for each new contract (and drop old ones)"


def test_the_copy_is_what_gets_analysed(pristine):
    result = subprocess.run(
        [sys.executable, "-c", "import keyceremony; print(keyceremony.__file__)"],
        cwd=pristine.parent,
        env=environment(pristine),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(result.stdout.strip()).resolve().is_relative_to(pristine.resolve())


def test_the_unmodified_copy_is_judged_like_the_source_tree(pristine):
    _, in_copy = lint_imports(pristine)
    _, in_tree = lint_imports(PACKAGE_DIR.parent)
    for contract_id in CONTRACT_NAMES:
        assert verdict(in_copy, contract_id) == verdict(in_tree, contract_id), contract_id


@pytest.mark.parametrize("contract_id", sorted(VIOLATIONS))
def test_breaking_the_contract_is_reported(contract_id, pristine, tmp_path):
    module, statement, evidence = VIOLATIONS[contract_id]

    _, control = lint_imports(pristine, contract_id)
    assert evidence not in control, control

    copy = copy_package(tmp_path)
    target = copy / "keyceremony" / module
    source = target.read_text(encoding="utf-8")
    assert statement not in source, f"{module} already has {statement!r}: choose another violation"
    target.write_text(source.rstrip("\n") + f"\n{statement}  # breaks {contract_id}\n", encoding="utf-8")

    code, report = lint_imports(copy, contract_id)
    assert code != 0, report
    assert verdict(report, contract_id) == "BROKEN", report
    assert evidence in report, report
