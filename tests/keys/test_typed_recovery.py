"""k cards alone, typed in: an HSM backup recovered from the printed text of three cards, with no
QR code read, no package.kcb and no share file (docs/ceremony-guide.md, docs/share-format.md §5.4).

The lines typed are those PDFium extracts from the card PDFs (page 1: the share's typeable form;
page 2: the backup package's), so the test proves the printed text is complete and correct.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

from keyceremony.cards.raster import pdf_text
from keyceremony.keys.backup_package import BackupPackage
from keyceremony.keys.model import KeyAlgorithm

MODULE = os.environ.get("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")  # as conftest.py
USER_PIN = "1234"  # the PIN conftest.py gives its tokens
_NUMBERED = re.compile(r"\s*\d\d\s")


def printed_block(page: str, heading: str) -> list[str]:
    """The numbered lines printed right under the line that starts with ``heading``."""
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    return [line.strip() for line in itertools.takewhile(_NUMBERED.match, lines[start + 1:])]


def kc(*args: object, softhsm, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KEYCEREMONY_PIN", "PKCS11_MODULE")}
    env["SOFTHSM2_CONF"] = str(softhsm.conf)
    return subprocess.run([sys.executable, "-m", "keyceremony", *map(str, args)], env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)


def test_three_cards_text_alone_recover_an_hsm_key(softhsm, label, tmp_path):
    out = tmp_path / "backup"
    pin = tmp_path / "pin"
    pin.write_text(USER_PIN + "\n")
    pin.chmod(0o600)
    hsm = ("--module", MODULE, "--pin-file", pin)
    made = kc("backup", "--backend", "pkcs11", *hsm, "--token", "root", "--label", label, "-k", 3, "-n", 5,
              "--out", out, "--owner", "Dora Szabó", "--contact", "+44 20 7946 0000", softhsm=softhsm)
    assert made.returncode == 0, made.stderr
    package = BackupPackage.from_bytes((out / "package.kcb").read_bytes())  # to compare with at the end
    for path in [out / "package.kcb", *out.glob("share-*.txt")]:
        path.unlink()
    assert sorted(p.name for p in out.iterdir()) == [f"card-{x}.pdf" for x in range(1, 6)]

    typed: list[str] = []
    for x in (5, 2, 3):
        first, second = pdf_text(out / f"card-{x}.pdf")  # the printed text; no QR code is read
        assert "tell the key owner at once (Dora Szabó, +44 20 7946 0000)" in " ".join(first.split())
        typed += printed_block(first, "Typeable form")
    package_lines = printed_block(second, "keyceremony backup package v1")
    assert len(package_lines) == len(package.to_text().splitlines()) - 5  # all but the header and comments
    typed += ["keyceremony backup package v1", *package_lines, ""]

    result = kc("recover", "--type", "--backend", "pkcs11", *hsm, "--token", "recovery", softhsm=softhsm,
                stdin="\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "type the line again" not in result.stderr
    assert "Enough shares. Now type the backup package from page 2 of any card" in result.stderr
    assert f"the backup package is complete ({len(package_lines)} lines)" in result.stderr
    assert result.stdout.startswith("Recovery: DONE")
    assert "typed share #1 (share 5), typed share #2 (share 2), typed share #3 (share 3)" in result.stdout
    assert "backup package   the typed package" in result.stdout
    with softhsm.backend("recovery") as token:
        key = token.find(label, algorithm=KeyAlgorithm.AES256)
        assert token.key_check_value(key) == package.key_check_value
        token.check_canary(key, package.canary, package.public_key)  # inside the HSM
        assert not token.key_attributes(key)["EXTRACTABLE"]
