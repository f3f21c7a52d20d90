"""A recovery into a real SoftHSM2 token, killed with SIGKILL at any moment, leaves nothing unverified.

``recover_key`` unwraps into a session object, checks its check value and canary there, and only
then copies it into the token with ``C_CopyObject`` (docs/hsm.md, "The recovered key"). These
tests run a small driver process (the code of ``DRIVER`` below) that recovers one key into a
token of its own and SIGKILL it, many times:

- at named points between the steps: the driver wraps back-end methods (test code only; the
  product has no kill hook for this), and
- after random delays from the moment the driver says it starts ``recover_key``, so kills also
  land inside the PKCS#11 calls (``C_UnwrapKey``, ``C_CopyObject``) and SoftHSM's file writes.

Packages of three kinds: a good one, one whose recorded check value is wrong
(``KeyCheckMismatch``) and one whose canary belongs to another key (``CanaryMismatch``). After
every run the token is listed from this process, logged in, and:

- no secret or private key is unlabelled;
- a key of a failing package is never there, under any label;
- every labelled key present is the backed-up key: AES by its check value computed in the
  token, EC P-256 by a fresh signature that verifies under the package's public key.

At the end every key left behind is found and verified as the resumed ceremony does (``find`` +
``verify_recovered_key``), and a second recovery onto its label is refused (``LabelInUse``), as
``recover_backup`` does on a rerun.

Without SoftHSM2 this is skipped, and fails under CI=true (``missing()`` of tests/keys/conftest.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pkcs11 import Attribute, Mechanism, ObjectClass

from keyceremony.errors import LabelInUse
from keyceremony.keys import kcv as kcv_module
from keyceremony.keys.model import Canary, KeyAlgorithm, WrappedKey
from keyceremony.keys.recovery import backup_key, recover_key, verify_recovered_key
from keyceremony.keys.signing import ecdsa_raw_to_der, signature_verifies
from keyceremony.keys.soft import SoftBackend

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_keys_conftest_for_recovery_kill", REPO / "tests/keys/conftest.py")
assert _spec is not None and _spec.loader is not None
keys_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keys_conftest)

softhsm = keys_conftest.softhsm  # the SoftHSM2 fixture of tests/keys (a private token store)
MODULE = keys_conftest.MODULE
USER_PIN = keys_conftest.USER_PIN

# The driver: recover one key into the token, maybe SIGKILL itself at a named point.
DRIVER = r'''
import json, os, signal, sys, time
from keyceremony.keys import pkcs11_backend
from keyceremony.keys.model import Canary, KeyAlgorithm, WrappedKey
from keyceremony.keys.recovery import recover_key
import pkcs11._pkcs11

job = json.loads(sys.argv[1])
point = job["kill_at"]


def die(name):
    if name == point:
        os.kill(os.getpid(), signal.SIGKILL)


def after(cls, method, name):
    original = getattr(cls, method)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        die(name)
        return result

    setattr(cls, method, wrapper)


def before(cls, method, name):
    original = getattr(cls, method)

    def wrapper(*args, **kwargs):
        die(name)
        return original(*args, **kwargs)

    setattr(cls, method, wrapper)


B = pkcs11_backend.Pkcs11Backend
after(B, "unwrap", "unwrapped")
after(B, "key_check_value", "kcv-computed")
after(B, "check_canary", "canary-checked")
before(B, "persist", "before-persist")
after(B, "_check_copy", "private-copied")  # EC: between the private and the public key's copy
after(pkcs11._pkcs11.Object, "copy", "copied")  # C_CopyObject returned
after(B, "persist", "persisted")

algorithm = KeyAlgorithm(job["algorithm"])
wrapped = WrappedKey(algorithm, bytes.fromhex(job["blob"]))
c = job["canary"]
canary = Canary(c["label"], c["kind"], bytes.fromhex(c["nonce"]), bytes.fromhex(c["sealed"]),
                bytes.fromhex(c["plaintext"]))
public_key = bytes.fromhex(job["public_key"]) if job["public_key"] else None
with B(job["module"], job["token"], job["pin"]) as hsm:
    print("ready", flush=True)
    t0 = time.perf_counter()
    try:
        recover_key(hsm, bytearray.fromhex(job["wrapping_key"]), wrapped, job["kcv"], canary, public_key,
                    job["label"])
        outcome = "recovered"
    except Exception as err:
        outcome = type(err).__name__
    print(outcome, time.perf_counter() - t0, flush=True)
'''

GOOD, BAD_KCV, BAD_CANARY = "good", "bad-kcv", "bad-canary"
EXPECTED = {GOOD: "recovered", BAD_KCV: "KeyCheckMismatch", BAD_CANARY: "CanaryMismatch"}
AES_POINTS = ("unwrapped", "kcv-computed", "canary-checked", "before-persist", "copied", "persisted")
EC_POINTS = ("unwrapped", "canary-checked", "before-persist", "private-copied", "copied", "persisted")


@dataclass
class Backup:
    """A key backed up in software: what a package and k cards would give the recovery."""

    algorithm: KeyAlgorithm
    wrapping_key: bytes = field(repr=False)
    blob: bytes
    kcv: str
    canary: dict[str, str]
    public_key: bytes | None
    other_canary: dict[str, str]  # the canary of another key of the same algorithm

    def the_canary(self) -> Canary:
        c = self.canary
        return Canary(c["label"], c["kind"], bytes.fromhex(c["nonce"]), bytes.fromhex(c["sealed"]),
                      bytes.fromhex(c["plaintext"]))  # fmt: skip


def _canary_json(canary: Any) -> dict[str, str]:
    return {"label": canary.label, "kind": canary.kind, "nonce": canary.nonce.hex(),
            "sealed": canary.ciphertext_or_signature.hex(), "plaintext": canary.plaintext_label.hex()}  # fmt: skip


def _backup(algorithm: KeyAlgorithm) -> Backup:
    wk = os.urandom(32)
    with SoftBackend() as soft:
        wrapped, info, canary = backup_key(soft, soft.generate("kill-test", algorithm), bytearray(wk))
        _, _, other = backup_key(soft, soft.generate("kill-test-other", algorithm), bytearray(os.urandom(32)))
    return Backup(algorithm, wk, wrapped.blob, info.key_check_value, _canary_json(canary), info.public_key,
                  _canary_json(other))  # fmt: skip


@pytest.fixture(scope="module")
def token(softhsm: Any) -> str:
    """A token of its own: kills may leave SoftHSM's empty object files (docs/hsm.md)."""
    label = "kill-" + uuid.uuid4().hex[:8]
    softhsm.make_token(label)
    return label


@dataclass
class Run:
    label: str
    kind: str
    backup: Backup


class Recoveries:
    """Start driver runs, kill them, and check the token after each one."""

    def __init__(self, softhsm: Any, token: str, tmp: Path) -> None:
        self.softhsm, self.token, self.tmp = softhsm, token, tmp
        self.env = {**os.environ, "SOFTHSM2_CONF": str(softhsm.conf), "PYTHONPATH": str(REPO / "src")}
        self.runs: dict[str, Run] = {}
        self.killed = 0

    def start(self, backup: Backup, kind: str, kill_at: str | None) -> tuple[subprocess.Popen[str], Run]:
        label = f"rk-{kind}-{uuid.uuid4().hex[:8]}"
        canary = backup.other_canary if kind == BAD_CANARY else backup.canary
        kcv = backup.kcv
        if kind == BAD_KCV:
            kcv = ("0" if kcv[0] != "0" else "1") + kcv[1:]
        job = {"module": MODULE, "token": self.token, "pin": USER_PIN, "algorithm": backup.algorithm.value,
               "blob": backup.blob.hex(), "kcv": kcv, "canary": canary,
               "public_key": backup.public_key.hex() if backup.public_key else "", "wrapping_key":
               backup.wrapping_key.hex(), "label": label, "kill_at": kill_at}  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(job)], env=self.env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        run = Run(label, kind, backup)
        self.runs[label] = run
        return proc, run

    def run(self, backup: Backup, kind: str, *, kill_at: str | None = None, delay: float | None = None) -> str:
        """One recovery; returns 'killed' or what the driver printed. Checks the token after it."""
        proc, run = self.start(backup, kind, kill_at)
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready == "ready\n", f"the driver did not start: {ready!r} {proc.communicate()[1][-2000:]}"
        if delay is not None:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        assert proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()  # after readline: not communicate()
        proc.wait(timeout=60)
        if proc.returncode == -signal.SIGKILL:
            self.killed += 1
            outcome = "killed"
        else:
            assert proc.returncode == 0, err[-2000:]
            outcome = out.split()[0]
            assert outcome == EXPECTED[run.kind], (run, out, err[-2000:])
        self.check_token()
        return outcome

    def duration(self, backup: Backup, kind: str) -> float:
        proc, _ = self.start(backup, kind, None)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        lines = out.split("\n")
        assert lines[0] == "ready" and lines[1].split()[0] == EXPECTED[kind], out
        self.check_token()
        return float(lines[1].split()[1])

    def check_token(self) -> None:
        """No unlabelled key; no key of a failing package; every key present is the backed-up one."""
        with self.softhsm.lib.get_token(token_label=self.token).open(user_pin=USER_PIN) as s:
            secrets = list(s.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}))
            privates = list(s.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
            publics = list(s.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY}))
            for obj in secrets + privates + publics:
                label = obj[Attribute.LABEL]
                assert label, f"an unlabelled {obj[Attribute.CLASS]!r} object is left in the token"
                assert label in self.runs, f"an object labelled {label!r} that no run made"
                run = self.runs[label]
                assert run.kind == GOOD, f"a key of a package that fails its checks is left: {run}"
            for obj in secrets:
                run = self.runs[obj[Attribute.LABEL]]
                block = bytes(obj.encrypt(bytes(16), mechanism=Mechanism.AES_ECB))
                assert kcv_module.aes_kcv_from_block(block) == run.backup.kcv, run
            for obj in privates:
                run = self.runs[obj[Attribute.LABEL]]
                assert run.backup.public_key is not None
                challenge = b"kill test " + os.urandom(16)
                signature = ecdsa_raw_to_der(
                    bytes(obj.sign(hashlib.sha256(challenge).digest(), mechanism=Mechanism.ECDSA))
                )
                assert signature_verifies(KeyAlgorithm.EC_P256, run.backup.public_key, challenge, signature), run
            for obj in publics:  # a public key alone is never left: the private key is copied first
                label = obj[Attribute.LABEL]
                assert any(p[Attribute.LABEL] == label for p in privates), f"a lone public key {label!r}"

    def left(self) -> list[Run]:
        with self.softhsm.lib.get_token(token_label=self.token).open(user_pin=USER_PIN) as s:
            labels = {o[Attribute.LABEL] for cls in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY)
                      for o in s.get_objects({Attribute.CLASS: cls})}  # fmt: skip
        return [self.runs[label] for label in sorted(labels)]


def test_recovery_killed_anywhere_leaves_no_unverified_key(softhsm: Any, token: str, tmp_path: Path) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    r = Recoveries(softhsm, token, tmp_path)
    aes, ec = _backup(KeyAlgorithm.AES256), _backup(KeyAlgorithm.EC_P256)
    took = {name: max(r.duration(b, kind) for _ in range(2))
            for name, b in (("aes", aes), ("ec", ec)) for kind in (GOOD,)}  # fmt: skip
    for kind in (BAD_KCV, BAD_CANARY):
        r.duration(aes, kind)
        r.duration(ec, kind)

    # Named points between the steps.
    for point in ("unwrapped", "kcv-computed"):
        assert r.run(aes, BAD_KCV, kill_at=point) == "killed", point
    for point in ("unwrapped", "kcv-computed"):  # check_canary raises: "canary-checked" never comes
        assert r.run(aes, BAD_CANARY, kill_at=point) == "killed", point
    for point in AES_POINTS:
        assert r.run(aes, GOOD, kill_at=point) == "killed", point
    for point in EC_POINTS:
        assert r.run(ec, GOOD, kill_at=point) == "killed", point
    assert r.run(ec, BAD_CANARY, kill_at="unwrapped") == "killed"

    # Random moments: inside C_UnwrapKey, the checks, C_CopyObject and SoftHSM's file writes.
    kinds = (GOOD, GOOD, BAD_KCV, BAD_CANARY)
    for i in range(40):
        backup, name = (ec, "ec") if i % 4 == 3 else (aes, "aes")
        kind = kinds[i % len(kinds)] if backup is aes else (GOOD if i % 8 == 3 else BAD_CANARY)
        d = took[name]
        delay = rng.uniform(0.5 * d, 1.2 * d) if i % 2 else rng.uniform(0.0, 1.1 * d)
        r.run(backup, kind, delay=delay)
    assert r.killed >= 30  # most random kills landed before the driver finished

    # What the resumed ceremony and a rerun do with the keys left behind.
    left = r.left()
    assert left, "no run left a key: the kills before and after the copy should have"
    with softhsm.backend(token) as hsm:
        for run in left:
            b = run.backup
            key = hsm.find(run.label, algorithm=b.algorithm)
            verify_recovered_key(hsm, key, b.kcv, b.the_canary(), b.public_key)
            assert hsm.key_check_value(key) == b.kcv
        b = left[0].backup
        with pytest.raises(LabelInUse, match="already holds an object labelled"):
            recover_key(hsm, bytearray(b.wrapping_key), WrappedKey(b.algorithm, b.blob), b.kcv, b.the_canary(),
                        b.public_key, left[0].label)  # fmt: skip
