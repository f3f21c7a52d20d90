"""Fixtures of the terminal UI tests: the SoftHSM2 token fixture of tests/keys (tokens ``root``
and ``recovery``), as tests/ceremony uses it; loaded in tui_helpers.py, whose names are unique
(several test folders have a ``conftest``, so ``from conftest import`` would depend on the order
pytest collects them in)."""

from __future__ import annotations

from tui_helpers import keys_conftest

softhsm = keys_conftest.softhsm
