"""Real SoftHSM2 tokens in a private directory for the key back-end tests (docs/hsm.md, SoftHSM2).

The ``softhsm`` fixture (session scope) writes its own ``softhsm2.conf`` under a temporary
directory, points ``SOFTHSM2_CONF`` at it *before* the library is initialised, creates the
tokens ``root`` and ``recovery`` with ``softhsm2-util --init-token --free`` and calls
``lib.reinitialize()`` so the already-loaded module rescans its token directory.

Without SoftHSM2 these tests are skipped on a developer's machine, but fail under CI (``CI=true``,
set by ``.ci/run``): a CI run must never pass by leaving the HSM untested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

MODULE = os.environ.get("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
SO_PIN = "12345678"
USER_PIN = "1234"
ROOT = "root"
RECOVERY = "recovery"


def missing(what: str, install: str) -> NoReturn:
    """A real part the tests need is not installed: fail under CI (``CI=true``), else skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed, and CI=true requires it: {install}", pytrace=False)
    pytest.skip(f"{what} is not installed ({install})")


def softhsm2_installed() -> bool:
    return shutil.which("softhsm2-util") is not None and Path(MODULE).exists()


class SoftHsm:
    """A private SoftHSM2 installation: config, token directory and the loaded module."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.conf = directory / "softhsm2.conf"
        (directory / "tokens").mkdir()
        self.conf.write_text(
            f"directories.tokendir = {directory / 'tokens'}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n"
        )
        import pkcs11  # tests may use python-pkcs11 directly to inspect tokens

        os.environ["SOFTHSM2_CONF"] = str(self.conf)  # before C_Initialize
        self.lib = pkcs11.lib(MODULE)

    def make_token(self, label: str) -> None:
        """Initialise one more token, then re-initialise the module so it becomes visible.

        ``lib.reinitialize()`` (C_Finalize + C_Initialize) invalidates every open session, so
        call this only while no back end is open.
        """
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label,
             "--so-pin", SO_PIN, "--pin", USER_PIN],
            check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(self.conf)},
        )  # fmt: skip
        self.lib.reinitialize()

    def backend(self, label: str, pin: str = USER_PIN, **kwargs: object):
        from keyceremony.keys.pkcs11_backend import Pkcs11Backend

        return Pkcs11Backend(MODULE, label, pin, **kwargs)

    def raw_session(self, label: str):
        """A python-pkcs11 session without login, to inspect objects like an outsider would.

        Login state is per application, so while a back end is logged in this session sees
        the token's private objects too; closing it does not log the back end out.
        """
        return self.lib.get_token(token_label=label).open()

    @property
    def library_version(self) -> tuple[int, int]:
        return tuple(self.lib.library_version)  # type: ignore[return-value]


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    if not softhsm2_installed():
        missing(f"SoftHSM2 (softhsm2-util and {MODULE})", "apt-get install softhsm2")
    previous = os.environ.get("SOFTHSM2_CONF")
    hsm = SoftHsm(tmp_path_factory.mktemp("softhsm"))
    for label in (ROOT, RECOVERY):
        hsm.make_token(label)
    try:
        yield hsm
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def root(softhsm: SoftHsm):
    with softhsm.backend(ROOT) as backend:
        yield backend


@pytest.fixture
def recovery(softhsm: SoftHsm):
    with softhsm.backend(RECOVERY) as backend:
        yield backend


@pytest.fixture
def label() -> str:
    """A fresh key label, so tests sharing the session tokens never collide."""
    return f"key-{uuid.uuid4().hex[:12]}"
