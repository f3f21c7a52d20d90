"""recover_key unwraps into a session object, checks it, and only then copies it into the token.

Real SoftHSM2 tokens (tests/keys/conftest.py); docs/hsm.md, "The recovered key". The crash side
of this is tests/hostile/test_hostile_recovery_kill.py.
"""

from __future__ import annotations

import os

import pytest
from pkcs11 import Attribute, ObjectClass

from keyceremony.errors import CanaryMismatch, HSMError, KeyCheckMismatch
from keyceremony.keys.model import KeyAlgorithm
from keyceremony.keys.pkcs11_backend import Pkcs11Backend, private_key_template, secret_key_template
from keyceremony.keys.recovery import backup_key, recover_key, verify_recovered_key
from keyceremony.keys.soft import SoftBackend

RECOVERY = "recovery"
BOOLEANS = ("TOKEN", "PRIVATE", "SENSITIVE", "EXTRACTABLE", "ENCRYPT", "DECRYPT", "WRAP", "UNWRAP",
            "SIGN", "VERIFY", "DERIVE")  # fmt: skip


def _soft_backup(algorithm):
    wk = os.urandom(32)
    with SoftBackend() as soft:
        wrapped, info, canary = backup_key(soft, soft.generate("session-first", algorithm), bytearray(wk))
    return wk, wrapped, info, canary


def _token_objects(softhsm, label):
    """(class, TOKEN) of every object labelled ``label``, seen by another session of the process."""
    with softhsm.raw_session(RECOVERY) as outsider:
        return sorted((int(o[Attribute.CLASS]), bool(o[Attribute.TOKEN]))
                      for o in outsider.get_objects({Attribute.LABEL: label}))  # fmt: skip


class Spy:
    """Record every back-end call that makes or checks a key, and what the token holds then."""

    def __init__(self, monkeypatch, backend, softhsm, label):
        self.calls: list[tuple[str, object]] = []
        for name in ("unwrap", "key_check_value", "check_canary", "persist"):
            original = getattr(backend, name)

            def spy(*args, _name=name, _original=original, **kwargs):
                before = _token_objects(softhsm, label)
                self.calls.append((_name, kwargs.get("persistent"), before))
                return _original(*args, **kwargs)

            monkeypatch.setattr(backend, name, spy)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256], ids=lambda a: a.value)
@pytest.mark.parametrize("extractable", [False, True], ids=["non-extractable", "extractable"])
def test_checked_session_copy_becomes_the_token_key(softhsm, recovery, label, monkeypatch, algorithm, extractable):
    wk, wrapped, info, canary = _soft_backup(algorithm)
    spy = Spy(monkeypatch, recovery, softhsm, label)
    key = recover_key(recovery, bytearray(wk), wrapped, info.key_check_value, canary, info.public_key, label,
                      extractable=extractable)  # fmt: skip
    names = [c[0] for c in spy.calls]
    assert names[0] == "unwrap" and spy.calls[0][1] is False  # a session object
    persist = names.index("persist")
    assert "key_check_value" in names[:persist] and "check_canary" in names[:persist]
    assert names[persist + 1 :] == ["key_check_value"]  # the token copy is checked too
    # Before the copy, the token held only session objects with the label; after it, token objects only.
    assert all(not on_token for _, on_token in spy.calls[persist][2])
    assert key.persistent and key.extractable is extractable
    assert recovery.key_check_value(key) == info.key_check_value
    after = _token_objects(softhsm, label)
    assert after and all(on_token for _, on_token in after)
    assert len(after) == (1 if algorithm.is_symmetric else 2)  # EC: private and public key

    template = (secret_key_template if algorithm.is_symmetric else private_key_template)(
        token=True, extractable=extractable
    )
    attrs = recovery.key_attributes(key)
    for name in BOOLEANS:
        if name in attrs and Attribute[name] in template and isinstance(template[Attribute[name]], bool):
            assert attrs[name] is template[Attribute[name]], name
    assert attrs["SENSITIVE"] and attrs["EXTRACTABLE"] is extractable and not attrs["LOCAL"]


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256], ids=lambda a: a.value)
def test_failed_check_never_reaches_the_token(softhsm, recovery, label, monkeypatch, algorithm):
    wk, wrapped, info, canary = _soft_backup(algorithm)
    _, _, other_info, other_canary = _soft_backup(algorithm)
    persisted = []
    monkeypatch.setattr(recovery, "persist", lambda key: persisted.append(key))
    wrong_kcv = "000000" if algorithm.is_symmetric else "0" * 16
    with pytest.raises(KeyCheckMismatch, match="not the key that was backed up|check value"):
        recover_key(recovery, bytearray(wk), wrapped, wrong_kcv, canary, info.public_key, label)
    with pytest.raises(CanaryMismatch):
        recover_key(recovery, bytearray(wk), wrapped, info.key_check_value, other_canary, info.public_key, label)
    assert persisted == [] and recovery.count_objects(label) == 0


def test_a_copy_that_loses_an_attribute_is_deleted(softhsm, recovery, label, monkeypatch):
    """A token whose C_CopyObject does not keep the template (here: faked) leaves nothing."""
    wk, wrapped, info, canary = _soft_backup(KeyAlgorithm.AES256)
    original = Pkcs11Backend._check_copy

    def weaker(self, obj, lbl, algorithm, extractable):
        original(self, obj, lbl, algorithm, not extractable)  # compares with the other EXTRACTABLE

    monkeypatch.setattr(Pkcs11Backend, "_check_copy", weaker)
    with pytest.raises(HSMError, match="does not keep the attributes EXTRACTABLE; the copy was deleted"):
        recover_key(recovery, bytearray(wk), wrapped, info.key_check_value, canary, None, label)
    assert recovery.count_objects(label) == 0


def test_private_key_found_without_its_public_key_is_verified_against_the_package(softhsm, recovery, label):
    """A crash between the two copies of persist() leaves a verified private key without its
    public-key object; the resumed ceremony's find + verify_recovered_key still accept it."""
    wk, wrapped, info, canary = _soft_backup(KeyAlgorithm.EC_P256)
    key = recover_key(recovery, bytearray(wk), wrapped, info.key_check_value, canary, info.public_key, label)
    with softhsm.lib.get_token(token_label=RECOVERY).open(rw=True) as outsider:  # the back end is logged in
        (public,) = outsider.get_objects({Attribute.LABEL: label, Attribute.CLASS: ObjectClass.PUBLIC_KEY})
        public.destroy()
    found = recovery.find(label, algorithm=KeyAlgorithm.EC_P256)
    assert found.public_key is None
    verify_recovered_key(recovery, found, info.key_check_value, canary, info.public_key)
    assert found.public_key == info.public_key
    assert recovery.key_check_value(found) == info.key_check_value

    _, _, other_info, other_canary = _soft_backup(KeyAlgorithm.EC_P256)
    again = recovery.find(label, algorithm=KeyAlgorithm.EC_P256)
    with pytest.raises(CanaryMismatch):  # another key's public key: refused, and the key deleted
        verify_recovered_key(recovery, again, other_info.key_check_value, other_canary, other_info.public_key)
    assert recovery.count_objects(label) == 0
    assert key.persistent
