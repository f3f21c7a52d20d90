"""``keyceremony backup`` / ``recover`` as subprocesses, against the real SoftHSM2 tokens of
conftest.py (``root``, ``recovery``), with PINs from ``KEYCEREMONY_PIN`` and ``--pin-file``.

Also: every refusal has its own message and a non-zero exit and leaves nothing in the token,
and a whole backup and recovery of a known key leaves no trace of it (or of the wrapping key) in
any file or output, except the file ``--reveal`` was asked to write.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from keyceremony.keys.backup_package import BackupPackage
from keyceremony.keys.model import KeyAlgorithm

MODULE = os.environ.get("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")  # as conftest.py
USER_PIN = "1234"  # the PIN conftest.py gives its tokens
HSM = ("--module", MODULE)


def kc(*args: object, softhsm=None, pin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m keyceremony`` with no terminal (no prompts, no progress lines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KEYCEREMONY_PIN", "PKCS11_MODULE")}
    if softhsm is not None:
        env["SOFTHSM2_CONF"] = str(softhsm.conf)
    if pin is not None:
        env["KEYCEREMONY_PIN"] = pin
    return subprocess.run(
        [sys.executable, "-m", "keyceremony", *map(str, args)],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" or "WARNING" in result.stderr, result.stderr  # piped: no progress
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], message: str, code: int = 1) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def pin_file(tmp_path: Path) -> Path:
    path = tmp_path / "pin"
    path.write_text(USER_PIN + "\n")
    path.chmod(0o600)
    return path


def count_all(softhsm, token: str) -> int:
    with softhsm.backend(token), softhsm.raw_session(token) as session:  # logged in: private ones too
        return sum(1 for _ in session.get_objects())


# --- the happy paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["aes256", "ec-p256"])
def test_backup_in_one_token_recover_into_another(softhsm, label, tmp_path, pin_file, algorithm):
    out = tmp_path / "backup"
    summary = ok(kc("backup", "--backend", "pkcs11", *HSM, "--token", "root", "--label", label,
                    "--algorithm", algorithm, "--threshold", 3, "--shares", 5, "--no-cards",
                    "--out", out, softhsm=softhsm, pin=USER_PIN))  # fmt: skip
    package = BackupPackage.from_bytes((out / "package.kcb").read_bytes())
    kcv = package.key_check_value.upper()
    assert kcv[:4] in summary and f"'{label}' ({algorithm}), generated in token 'root'" in summary
    assert sorted(p.name for p in out.iterdir()) == ["package.kcb"] + [f"share-{i}.txt" for i in range(1, 6)]
    assert oct((out / "share-1.txt").stat().st_mode & 0o777) == "0o600"

    shares = [out / f"share-{i}.txt" for i in (2, 4, 5)]
    report = ok(kc("recover", *shares, "--backend", "pkcs11", *HSM, "--token", "recovery",
                   "--pin-file", pin_file, softhsm=softhsm))  # fmt: skip
    assert report.startswith("Recovery: DONE") and "not extractable" in report
    with softhsm.backend("recovery") as hsm:
        key = hsm.find(label, algorithm=KeyAlgorithm(algorithm))
        assert hsm.key_check_value(key) == package.key_check_value
        hsm.check_canary(key, package.canary, package.public_key)  # inside the HSM
        attrs = hsm.key_attributes(key)
        assert attrs["SENSITIVE"] and not attrs["EXTRACTABLE"]
        assert hsm.count_objects(label) == (1 if algorithm == "aes256" else 2)

    before = count_all(softhsm, "recovery")
    drill = ok(kc("recover", "--package", out / "package.kcb", *shares[:1], out / "share-1.txt",
                  out / "share-3.txt", "--drill", *HSM, "--token", "recovery", softhsm=softhsm, pin=USER_PIN))
    assert count_all(softhsm, "recovery") == before
    assert drill.startswith("Recovery drill: PASSED")
    for expected in (label, "key check value", ": OK", "shares used      3:", "share 1", "time", "nothing was kept"):
        assert expected in drill
    # cross-check: the software back end opens the HSM's blob and checks the HSM-made canary
    soft = ok(kc("recover", *shares, "--drill"))
    assert "inside the software key store (in memory)" in soft and kcv[:4] in soft


def test_any_three_cards_alone_recover_a_software_key_into_the_hsm(softhsm, label, tmp_path, pin_file):
    out = tmp_path / "cards"
    ok(kc("backup", "--label", label, "-k", 3, "-n", 5, "--out", out, "--custodian", "Alice Ng"))
    assert (out / "card-5.pdf").exists()
    from keyceremony.cards.raster import render_pdf

    scan = tmp_path / "photo-of-card-4.png"  # a slightly rotated scan
    render_pdf(out / "card-4.pdf", dpi=200)[0].rotate(2, expand=True, fillcolor=255).save(scan)
    cards = [out / "card-1.pdf", scan, out / "card-5.pdf"]
    report = ok(kc("recover", *cards, "--backend", "pkcs11", *HSM, "--token", "recovery",
                   "--pin-file", pin_file, softhsm=softhsm))  # fmt: skip
    assert f"{out}/card-1.pdf (backup package)" in report  # the package came from a card
    assert f"{scan} (share 4)" in report
    with softhsm.backend("recovery") as hsm:
        assert hsm.count_objects(label) == 1
    # the cards and share files of a backup still work with the share commands
    assert "consistent: its signature verifies" in ok(kc("verify-share", out / "card-2.pdf"))
    assert "consistent: its signature verifies" in ok(kc("verify-share", out / "share-3.txt"))


def test_ed25519_with_the_software_back_end(tmp_path):
    out = tmp_path / "ed"
    ok(kc("backup", "--backend", "soft", "--label", "signing-root", "--algorithm", "ed25519",
          "-k", 2, "-n", 3, "--no-cards", "--out", out))  # fmt: skip
    drill = ok(kc("recover", out / "share-3.txt", out / "share-1.txt", "--drill"))
    assert "signing-root (ed25519)" in drill and "signature canary verified" in drill
    reveal = ok(kc("recover", out / "share-2.txt", out / "share-1.txt", "--reveal", tmp_path / "ed.pem"))
    assert "Wrote it to" in reveal
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key((tmp_path / "ed.pem").read_bytes(), None)
    package = BackupPackage.from_bytes((out / "package.kcb").read_bytes())
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki == package.public_key


# --- refusals ------------------------------------------------------------------------------------


def test_refusals_each_with_its_own_message_and_nothing_left_in_the_token(
    softhsm, label, tmp_path, monkeypatch
):
    """Too few cards, cards of another backup, a forged package, a wrong check value or canary
    (packages re-signed with the set key, which only the ceremony holds: the test keeps it), a
    missing token, a wrong or absent PIN, a PIN on the command line, Ed25519 in SoftHSM2."""
    import keyceremony.shares.shareset as shareset
    from keyceremony.keys.soft import SoftBackend
    from keyceremony.recipes.backup import generate_and_back_up, write_backup

    kept: list = []

    class KeptSetKey(shareset.SetKey):
        def close(self) -> None:
            kept.append(self)

    monkeypatch.setattr(shareset, "SetKey", KeptSetKey)
    with SoftBackend() as soft:
        this = generate_and_back_up(soft, label, KeyAlgorithm.AES256, 3, 5)
        other = generate_and_back_up(soft, label + "-b", KeyAlgorithm.AES256, 3, 5)
    a, b = tmp_path / "a", tmp_path / "b"
    write_backup(this, a, cards=False)
    write_backup(other, b, cards=False)

    def resigned(**changes) -> Path:
        p = replace(this.package, **changes)
        path = tmp_path / f"p{len(list(tmp_path.glob('p*.kcb')))}.kcb"
        path.write_bytes(replace(p, signature=kept[0].sign(p.signing_input())).to_bytes())
        return path

    forged = tmp_path / "forged.kcb"
    forged.write_bytes(replace(this.package, key_check_value="000000").to_bytes())
    canary = bytearray(this.package.canary_value)
    canary[3] ^= 0x40
    three = [a / "share-1.txt", a / "share-2.txt", a / "share-3.txt"]
    into = ("--backend", "pkcs11", *HSM, "--token", "recovery")
    cases = [
        (kc("recover", *three[:2], *into, softhsm=softhsm, pin=USER_PIN), "2 usable share.*bring 1 more"),
        (kc("recover", b / "share-1.txt", b / "share-2.txt", b / "share-3.txt", "--package", a / "package.kcb",
            *into, softhsm=softhsm, pin=USER_PIN), "the cards come from another backup"),
        (kc("recover", *three, "--package", forged, *into, softhsm=softhsm, pin=USER_PIN),
         "forged.kcb: the backup package's signature does not verify"),
        (kc("recover", *three, "--package", resigned(key_check_value="000000"), *into, softhsm=softhsm,
            pin=USER_PIN), "check value is .*, but the backup recorded 000000"),
        (kc("recover", *three, "--package", resigned(canary_value=bytes(canary)), *into, softhsm=softhsm,
            pin=USER_PIN), "cannot decrypt the canary"),
        (kc("recover", *three, "--backend", "pkcs11", *HSM, "--token", "no-such-token", softhsm=softhsm,
            pin=USER_PIN), "no token labelled 'no-such-token'.*tokens present: 'recovery', 'root'", 3),
        (kc("recover", *three, *into, softhsm=softhsm, pin="0000"), "the PIN for token 'recovery' was refused", 3),
    ]
    messages = []
    for result, message, *code in cases:  # 1: the input was refused; 3: the token was (docs/cli.md §2)
        messages.append(refused(result, message, *code).strip().splitlines()[0])
        with softhsm.backend("recovery") as hsm:
            assert hsm.count_objects(label) == 0, message  # nothing half-imported
    messages.append(refused(kc("recover", *three, *into, softhsm=softhsm), "needs its user PIN.*KEYCEREMONY_PIN", 2))
    secret_pin = "31415926"
    result = kc("recover", *three, *into, "--pin", secret_pin, softhsm=softhsm)
    messages.append(refused(result, "PINs are never taken on the command line", 2))
    assert secret_pin not in result.stderr + result.stdout
    result = kc("backup", "--backend", "pkcs11", *HSM, "--token", "root", "--label", label, "--algorithm",
                "ed25519", "-k", 2, "-n", 3, "--out", tmp_path / "ed", softhsm=softhsm, pin=USER_PIN)
    messages.append(refused(result, "(?s)SoftHSM2 2.6.x cannot wrap or unwrap Ed25519.*was deleted again", 3))
    assert not (tmp_path / "ed").exists()
    with softhsm.backend("root") as hsm:
        assert hsm.count_objects(label) == 0
    assert len(set(messages)) == len(messages), messages  # each refusal says its own thing


# --- no secret material on disk ------------------------------------------------------------------


def encodings(secret: bytes) -> dict[str, bytes]:
    """The secret as raw bytes, hex, base64 and base32, at every alignment within a longer text."""
    forms = {"raw": secret, "hex": secret.hex().encode(), "HEX": secret.hex().upper().encode()}
    for shift in range(3):
        for name, enc in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            forms[f"{name}+{shift}"] = enc(bytes(shift) + secret).rstrip(b"=")[2:-2]
    for shift in range(5):
        core = base64.b32encode(bytes(shift) + secret).rstrip(b"=")[2:-2]
        forms[f"base32+{shift}"] = core
        forms[f"base32lower+{shift}"] = core.lower()
    return forms


def readable(path: Path) -> bytes:
    """A file's bytes, and for PDFs every content stream inflated too."""
    data = path.read_bytes()
    parts = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            pass
    return b"\n".join(parts)


def test_no_secret_material_in_any_file_or_output(softhsm, label, tmp_path, pin_file):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from keyceremony.recipes.sources import read_payloads
    from keyceremony.shares.shareset import recover_secret

    known_aes = bytes(range(0x40, 0x60))  # a KNOWN key, so we can look for it
    scalar = int.from_bytes(bytes(range(0x81, 0xA1)), "big")
    ec_key = ec.derive_private_key(scalar, ec.SECP256R1())
    keys = tmp_path / "keys"  # the operator's own input files, not outputs
    keys.mkdir()
    (keys / "aes.key").write_bytes(known_aes)
    (keys / "ec.pem").write_bytes(ec_key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    outputs = tmp_path / "outputs"
    aes, ecd = outputs / "aes", outputs / "ec"
    results = [
        kc("backup", "--backend", "soft", "--label", label, "--key-file", keys / "aes.key",
           "-k", 3, "-n", 5, "--out", aes, "--custodian", "Alice Ng"),
        kc("backup", "--backend", "soft", "--label", label + "-ec", "--key-file", keys / "ec.pem",
           "-k", 2, "-n", 3, "--no-cards", "--out", ecd),
    ]  # fmt: skip
    for result in results:
        ok(result)
    cards = [aes / f"card-{i}.pdf" for i in (1, 3, 5)]
    results += [
        kc("recover", *cards, "--backend", "pkcs11", *HSM, "--token", "recovery", "--pin-file", pin_file,
           softhsm=softhsm),
        kc("recover", aes / "share-2.txt", aes / "share-4.txt", "--drill"),  # refused: too few
        kc("recover", aes / "share-2.txt", aes / "share-4.txt", aes / "share-5.txt", "--drill"),
        kc("recover", ecd / "share-1.txt", ecd / "share-2.txt", "--drill", *HSM, "--token", "recovery",
           softhsm=softhsm, pin=USER_PIN),
        kc("recover", ecd / "share-3.txt", ecd / "share-2.txt", "--backend", "pkcs11", *HSM, "--token",
           "recovery", "--pin-file", pin_file, softhsm=softhsm),
        kc("recover", aes / "share-1.txt", aes / "share-2.txt", aes / "share-3.txt", "--reveal",
           outputs / "revealed.key"),
    ]  # fmt: skip
    assert [r.returncode for r in results] == [0, 0, 0, 1, 0, 0, 0, 0]
    assert (outputs / "revealed.key").read_bytes() == known_aes
    assert oct((outputs / "revealed.key").stat().st_mode & 0o777) == "0o600"

    # The wrapping keys, rebuilt here from the shares the way an attacker with k cards would.
    wrapping = []
    for folder, k in ((aes, 3), (ecd, 2)):
        shares = [s for i in range(1, k + 1) for s in read_payloads(str(folder / f"share-{i}.txt")).shares]
        wrapping.append(recover_secret(shares).secret)
    secrets = {
        "the AES key": known_aes,
        "the EC private scalar": scalar.to_bytes(32, "big"),
        "the EC PKCS#8 key": ec_key.private_bytes(serialization.Encoding.DER,
                                                 serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "the AES backup's wrapping key": wrapping[0],
        "the EC backup's wrapping key": wrapping[1],
    }  # fmt: skip
    texts = {f"output of command {i}": (r.stdout + r.stderr).encode() for i, r in enumerate(results)}
    files = sorted(p for p in outputs.rglob("*") if p.is_file())
    assert len(files) == 1 + 5 + 5 + 1 + 3 + 1
    texts |= {str(p.relative_to(outputs)): readable(p) for p in files}
    for where, text in texts.items():
        for what, secret in secrets.items():
            for form, needle in encodings(secret).items():
                if where == "revealed.key" and what == "the AES key":
                    continue  # the one place the key was asked for
                assert needle not in text, f"{what} ({form}) found in {where}"
    assert known_aes in texts["revealed.key"]


@pytest.mark.slow
def test_make_demo_backs_up_a_key_and_drills_it(tmp_path):
    """`make demo`'s second part: SoftHSM2 in its own temporary folder, 3 of 5 cards."""
    env = {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}
    result = subprocess.run([sys.executable, "-m", "keyceremony.demo", str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Recovery drill: PASSED" in out and "demo-kek (aes256)" in out
    assert "canary decrypted inside token 'demo-recovery': OK" in out
    assert (tmp_path / "backup" / "card-5.pdf").exists()
    assert not list(tmp_path.glob("keyceremony-demo-softhsm-*"))

