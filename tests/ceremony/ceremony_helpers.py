"""Helpers for the ceremony engine tests: fake host facts, ports, the CLI, and a secret scanner.

A module of its own (imported by the tests and by conftest.py), because tests/keys has a conftest.py too.

The SoftHSM2 fixture is the one of ``tests/keys/conftest.py`` (loaded from its file, since the
test folders are not packages): ``softhsm`` makes a private token store with the tokens
``root`` and ``recovery``.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from keyceremony.ceremony.adapters import FileCardScanner, PdfCardPrinter, SoftKeys
from keyceremony.ceremony.answers import AnswersPrompter, load_answers
from keyceremony.ceremony.engine import CeremonyEngine, CeremonyOptions, Ports
from keyceremony.ceremony.ports import SwapArea
from keyceremony.ceremony.state import CARDS_DIR
from keyceremony.ceremony.template import load_template

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "ceremony"

_spec = importlib.util.spec_from_file_location("_keys_conftest_for_ceremony", REPO / "tests" / "keys" / "conftest.py")
assert _spec is not None and _spec.loader is not None
keys_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keys_conftest)
MODULE = keys_conftest.MODULE
USER_PIN = keys_conftest.USER_PIN

# The known key the test-only import hook puts in place of a generated one.
TEST_KEY = b"keyceremony test key: NOT REAL!!"  # 32 bytes: an AES-256 key


class FakeHost:
    """HostFacts for tests: an air-gapped laptop without swap, unless told otherwise."""

    def __init__(self, interfaces: Sequence[str] = (), swap: Sequence[SwapArea] = ()) -> None:
        self.interfaces = list(interfaces)
        self.swap = list(swap)

    def system(self) -> Mapping[str, str]:
        return {"os": "Linux", "kernel": "6.1.0-test", "machine": "x86_64", "distribution": "Test Live 1"}

    def software_versions(self) -> Mapping[str, str]:
        return {"keyceremony": "test", "python": "3.11"}

    def network_interfaces_up(self) -> Sequence[str]:
        return list(self.interfaces)

    def swap_areas(self) -> Sequence[SwapArea]:
        return list(self.swap)


class RecordingPrompter(AnswersPrompter):
    """The answers driver, keeping every announcement (tests read what people were told)."""

    def __init__(self, answers, template) -> None:  # type: ignore[no-untyped-def]
        self.said: list[str] = []
        super().__init__(answers, template, say=self.said.append)


def make_engine(template_name: str, answers_path: Path, out: Path, *, keys=None, host=None,
                prompter_class=RecordingPrompter, on_entry=None) -> CeremonyEngine:  # type: ignore[no-untyped-def]
    template = load_template(template_name)
    answers = load_answers(answers_path, template)
    ports = Ports(
        prompter=prompter_class(answers, template),
        keys=keys or SoftKeys(),
        host=host or FakeHost(),
        printer=PdfCardPrinter(out / CARDS_DIR),
        scanner=FileCardScanner(),
    )
    if on_entry is not None:
        ports.on_entry = on_entry
    options = CeremonyOptions(answers.title, answers.location, answers.rehearsal, answers.sha256, answers.anchors,
                              owner=answers.owner, contact=answers.contact)
    return CeremonyEngine(template, out, ports, options)


def run_cli(*args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEYCEREMONY_TEST_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "keyceremony", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False,
    )  # fmt: skip


# --- looking for secrets in files ------------------------------------------------------------------


def secret_forms(secret: bytes) -> list[bytes]:
    """The secret raw, in hex (both cases), and in base64 / base64url / base32 at every
    alignment (the characters that depend only on the secret's bytes)."""
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    for pad in range(3):
        b64 = base64.b64encode(bytes(pad) + secret + bytes(3))[4:-8]
        forms += [b64, b64.replace(b"+", b"-").replace(b"/", b"_")]
    for pad in range(5):
        b32 = base64.b32encode(bytes(pad) + secret + bytes(5))[8:-16]
        forms += [b32, b32.lower()]
    return forms


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def assert_no_secret(files: Mapping[Path, bytes] | Path, secrets: Mapping[str, bytes]) -> int:
    """Fail if any file (a folder's, or a snapshot of path -> bytes) holds a secret in any form.

    Returns the number of files scanned."""
    if isinstance(files, Path):
        files = snapshot(files)
    for path, data in files.items():
        blobs = [data]
        if b"endstream" in data:  # a PDF: look inside its compressed streams too
            blobs += [zlib.decompress(m.group(1)) for m in _STREAM.finditer(data) if _inflatable(m.group(1))]
        for name, secret in secrets.items():
            for form in secret_forms(secret):
                for blob in blobs:
                    assert form not in blob, f"{path} holds the {name} ({form[:12]!r}...)"
    return len(files)


def _inflatable(data: bytes) -> bool:
    try:
        zlib.decompress(data)
        return True
    except zlib.error:
        return False


def snapshot(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def wrapping_key_of(card_paths: Sequence[Path]) -> bytes:
    from keyceremony.recipes.backup import gather_recovery_inputs

    with gather_recovery_inputs([str(p) for p in card_paths]) as inputs:
        return bytes(inputs.wrapping_key)


# --- a key-generation ceremony's cards, shared by the recovery and drill tests ---------------------


class KeygenRun:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.cards = out / CARDS_DIR
        self.key = TEST_KEY
        self.wrapping_key = wrapping_key_of([self.cards / f"card-{x}.pdf" for x in (1, 2, 3)])
