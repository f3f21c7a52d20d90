"""A missing SoftHSM2 skips the HSM tests on a developer's machine and fails them under CI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# conftest.py is loaded from its file: the test folders are not packages.
_spec = importlib.util.spec_from_file_location("_keys_conftest_for_missing", Path(__file__).with_name("conftest.py"))
assert _spec is not None and _spec.loader is not None
keys_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keys_conftest)


def test_under_ci_a_missing_part_fails_and_says_what_to_install(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it: apt-get install softhsm2"):
        keys_conftest.missing("SoftHSM2", "apt-get install softhsm2")


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_elsewhere_a_missing_part_is_skipped(monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"SoftHSM2 is not installed \(apt-get install softhsm2\)"):
        keys_conftest.missing("SoftHSM2", "apt-get install softhsm2")


def test_the_softhsm_fixture_fails_under_ci_when_softhsm2_is_missing(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(keys_conftest, "MODULE", str(tmp_path_factory.mktemp("none") / "libsofthsm2.so"))
    fixture = keys_conftest.softhsm.__wrapped__  # the plain generator function under @pytest.fixture
    with pytest.raises(pytest.fail.Exception, match="SoftHSM2 .* is not installed, and CI=true requires it"):
        next(fixture(tmp_path_factory))
