"""Fixtures of the ceremony engine tests; the helpers are in ceremony_helpers.py."""

from __future__ import annotations

import pytest
from ceremony_helpers import EXAMPLES, TEST_KEY, KeygenRun, keys_conftest, run_cli

softhsm = keys_conftest.softhsm  # the SoftHSM2 fixture of tests/keys (tokens "root" and "recovery")


@pytest.fixture(scope="session")
def keygen(tmp_path_factory: pytest.TempPathFactory) -> KeygenRun:
    """`keyceremony run key-generation` (soft, the known test key, card files kept)."""
    out = tmp_path_factory.mktemp("keygen") / "ceremony"
    result = run_cli(
        "run", "key-generation", "--answers", str(EXAMPLES / "key-generation.toml"), "--out", str(out), "--quiet",
        env={"KEYCEREMONY_TEST_SOFT_KEY": TEST_KEY.hex()},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return KeygenRun(out)
