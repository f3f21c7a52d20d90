"""Import boundaries: only keys/pkcs11_backend.py imports pkcs11 (docs/architecture.md §3)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "keyceremony"
IMPORTS_PKCS11 = re.compile(r"^\s*(import pkcs11|from pkcs11\b)", re.MULTILINE)


@pytest.mark.parametrize(
    "module",
    ["keyceremony.keys", "keyceremony.keys.model", "keyceremony.keys.kcv",
     "keyceremony.keys.backend", "keyceremony.keys.soft", "keyceremony.keys.recovery"],
)  # fmt: skip
def test_headless_key_modules_do_not_load_pkcs11(module):
    code = f"import sys, {module}; print('pkcs11' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_pkcs11_backend_imports_pkcs11():
    importers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if IMPORTS_PKCS11.search(path.read_text(encoding="utf-8"))
    )
    assert importers == ["keys/pkcs11_backend.py"]
