"""Fixtures of the terminal UI tests: the SoftHSM2 token fixture of tests/keys (tokens ``root``
and ``recovery``), as tests/ceremony uses it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_keys_conftest_for_tui", Path(__file__).resolve().parents[1] / "keys" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
keys_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keys_conftest)

MODULE = keys_conftest.MODULE
USER_PIN = keys_conftest.USER_PIN
softhsm = keys_conftest.softhsm
