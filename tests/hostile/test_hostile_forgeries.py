"""Forged and substituted cards, as an insider with the safe or a forger of cards would bring them.

Every case runs the real command line. Without an anchor from the paper log a mix of sets is
refused (counting cannot tell ours from a forger's) and a lone consistent set is recovered but
called UNANCHORED; with one, anything else is refused, naming both fingerprints (docs/threat-model.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.keys.backup_package import BackupPackage
from keyceremony.recipes.sources import read_shares
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import create_share_set
from keyceremony.shares.text import to_text

SECRET = bytes(range(32))
FORGED_SECRET = bytes(range(100, 132))


def kc(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYCEREMONY_")}
    return subprocess.run([sys.executable, "-m", "keyceremony", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip


def clean_refusal(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.startswith("keyceremony: error: ")
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


def write(folder: Path, name: str, payload: SharePayload) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(to_text(payload))
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Ours (3 of 5), and a forger's own set passed off as ours: same set id and label, own key."""
    ours = create_share_set(SECRET, 3, 5, label="payments-root")
    forger = Ed25519PrivateKey.generate()
    theirs = [
        replace(p, set_id=ours[0].set_id, public_key=forger.public_key().public_bytes_raw())
        for p in create_share_set(FORGED_SECRET, 3, 5, label="payments-root")
    ]
    theirs = [replace(p, signature=forger.sign(p.signing_input())) for p in theirs]
    folder = tmp_path_factory.mktemp("forgeries")
    return ours, theirs, folder


def test_a_forged_majority_is_not_recovered(sets):
    ours, theirs, folder = sets
    cards = [write(folder / "safe", f"card-{p.x}.txt", p) for p in theirs[:3]]
    cards += [write(folder / "safe", f"card-{p.x}b.txt", p) for p in ours[3:5]]
    refusal = clean_refusal(
        kc("combine", *cards, "--out", "secret.bin", cwd=folder),
        "belong to 2 different sets",
        format_fingerprint(ours[0].fingerprint()),
        format_fingerprint(theirs[0].fingerprint()),
    )
    assert "paper log" in refusal and not (folder / "secret.bin").exists()
    anchored = kc("combine", *cards, "--out", "secret.bin", "--fingerprint", format_fingerprint(ours[0].fingerprint()),
                  cwd=folder)  # fmt: skip
    clean_refusal(anchored, "bring 1 more", "not to set")  # theirs set aside; two of ours are too few
    assert not (folder / "secret.bin").exists()


def test_two_complete_sets_need_an_anchor(sets):
    ours, theirs, folder = sets
    cards = [write(folder / "two", f"theirs-{p.x}.txt", p) for p in theirs[:3]]
    cards += [write(folder / "two", f"ours-{p.x}.txt", p) for p in ours[:3]]
    clean_refusal(kc("combine", *cards, "--out", "-", cwd=folder), "belong to 2 different sets")
    result = kc("combine", *cards, "--out", "ours.bin", "--fingerprint", format_fingerprint(ours[0].fingerprint()),
                cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (folder / "ours.bin").read_bytes() == SECRET and "ANCHORED" in result.stderr


def test_a_re_signed_share_is_named_by_its_key_not_only_its_set_id(sets):
    ours, theirs, folder = sets
    cards = [write(folder / "one", f"card-{p.x}.txt", p) for p in ours[:2]] + [
        write(folder / "one", "card-3.txt", theirs[2])
    ]
    refusal = clean_refusal(kc("combine", *cards, "--out", "-", "--fingerprint",
                               format_fingerprint(ours[0].fingerprint()), cwd=folder))  # fmt: skip
    # The two halves share a set id and label; the fingerprints (the set keys) differ, and both show.
    assert (
        format_fingerprint(theirs[2].fingerprint()) in refusal and format_fingerprint(ours[0].fingerprint()) in refusal
    )


def test_verify_share_calls_a_forged_card_consistent_never_genuine(sets):
    ours, theirs, folder = sets
    card = write(folder / "verify", "card-1.txt", theirs[0])
    result = kc("verify-share", card, cwd=folder)
    assert (
        result.returncode == 0 and "consistent" in result.stdout and "genuine" not in result.stdout.split("UNANCH")[0]
    )
    assert "UNANCHORED" in result.stdout
    clean_refusal(
        kc("verify-share", card, "--fingerprint", format_fingerprint(ours[0].fingerprint()), cwd=folder),
        "not the one recorded at the ceremony",
    )


def test_a_complete_substituted_backup(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours, theirs):  # same label; each its own set key, package and check value
        result = kc("backup", "--label", "payments-kek", "-k", 2, "-n", 3, "--no-cards", "--out", folder, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    package = BackupPackage.from_bytes((ours / "package.kcb").read_bytes())
    set_fp = format_fingerprint(read_shares(str(ours / "share-1.txt"))[0][1].fingerprint())
    substitute = [theirs / "share-1.txt", theirs / "share-2.txt"]

    unanchored = kc("recover", *substitute, "--drill", cwd=tmp_path)
    assert unanchored.returncode == 0 and "Recovery drill: PASSED" in unanchored.stdout
    assert "UNANCHORED: this proves the shares agree with each other, not that they are the ones made" in (
        unanchored.stdout
    )
    for flag, value, words in (
        ("--fingerprint", set_fp, "none of the shares given is of the set recorded in the paper log"),
        (
            "--package-fingerprint",
            format_fingerprint(package.fingerprint()),
            "is not the one recorded in the paper log",
        ),
        ("--kcv", package.key_check_value.upper(), "is not the one recorded in the paper log"),
    ):
        clean_refusal(kc("recover", *substitute, "--drill", flag, value, cwd=tmp_path), words)
    mixed = substitute + [ours / "share-3.txt", ours / "share-1.txt"]
    clean_refusal(kc("recover", *mixed, "--drill", cwd=tmp_path), "belong to 2 different sets")
    anchored = kc("recover", *mixed, "--drill", "--fingerprint", set_fp, "--kcv", package.key_check_value, cwd=tmp_path)
    assert anchored.returncode == 0, anchored.stderr
    assert "ANCHORED: set fingerprint, key check value as recorded in the paper log." in anchored.stdout
