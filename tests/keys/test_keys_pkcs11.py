"""The PKCS#11 back end against real SoftHSM2 tokens ``root`` and ``recovery`` (no mocks)."""

from __future__ import annotations

import os

import pytest

from keyceremony.errors import (
    CanaryMismatch,
    HSMError,
    KeyCheckMismatch,
    KeyNotFound,
    LabelInUse,
    TokenNotFound,
    UnwrapError,
    WrongPin,
)
from keyceremony.keys.model import KeyAlgorithm
from keyceremony.keys.recovery import RESTORE_TEST_LABEL, backup_key, recover_key
from keyceremony.keys.soft import SoftBackend

ROOT, RECOVERY = "root", "recovery"  # the tokens conftest.py creates


def _backup(backend, key, wk):
    return backup_key(backend, key, bytearray(wk))


def _recover(backend, wk, wrapped, info, canary, label, **kwargs):
    return recover_key(
        backend, bytearray(wk), wrapped, info.key_check_value, canary, info.public_key, label,
        **kwargs,
    )  # fmt: skip


def test_token_is_opened_by_label_with_probed_mechanism(root):
    assert root.token_label == ROOT
    assert root.wrap_mechanism == "AES_KEY_WRAP_PAD"  # SoftHSM2 lists no CKM_AES_KEY_WRAP_KWP


def test_generated_key_has_the_documented_attributes(root, label):
    aes = root.generate(label, KeyAlgorithm.AES256)
    attrs = root.key_attributes(aes)
    assert attrs["TOKEN"] and attrs["SENSITIVE"] and attrs["EXTRACTABLE"]
    assert attrs["ENCRYPT"] and attrs["DECRYPT"]
    assert not (attrs["WRAP"] or attrs["UNWRAP"] or attrs["SIGN"] or attrs["VERIFY"])
    assert not attrs["DERIVE"]
    ec = root.generate(label + "-ec", KeyAlgorithm.EC_P256)
    attrs = root.key_attributes(ec)
    assert attrs["SIGN"] and attrs["SENSITIVE"] and attrs["EXTRACTABLE"]
    assert not (attrs["DECRYPT"] or attrs["UNWRAP"] or attrs["DERIVE"])
    with pytest.raises(LabelInUse):
        root.generate(label, KeyAlgorithm.AES256)


def test_aes_backup_in_root_recover_into_recovery_token(softhsm, root, recovery, label):
    wk = os.urandom(32)
    key = root.generate(label, KeyAlgorithm.AES256)
    wrapped, info, canary = _backup(root, key, wk)
    assert len(wrapped.blob) == 40 and canary.kind == "aes-gcm"
    assert root.count_objects(RESTORE_TEST_LABEL) == 0  # the restore-test copy is gone

    back = _recover(recovery, wk, wrapped, info, canary, label)
    assert recovery.key_check_value(back) == info.key_check_value  # computed in the HSM
    recovery.check_canary(back, canary, None)  # decrypted inside the HSM
    attrs = recovery.key_attributes(back)
    assert attrs["TOKEN"] and attrs["SENSITIVE"] and not attrs["EXTRACTABLE"]
    assert not attrs["ALWAYS_SENSITIVE"]  # the key was outside a token once: honest attributes

    # Not extractable: the token refuses to wrap it, and its value cannot be read.
    wrapping = recovery.import_wrapping_key(bytearray(wk))
    with pytest.raises(HSMError, match="not extractable"):
        recovery.wrap(wrapping, back)
    recovery.destroy(wrapping)
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    with softhsm.raw_session(RECOVERY) as outsider:
        (obj,) = outsider.get_objects({Attribute.LABEL: label})
        with pytest.raises(AttributeSensitive):
            obj[Attribute.VALUE]


def test_recovered_key_persists_across_sessions(softhsm, root, label):
    wk = os.urandom(32)
    wrapped, info, canary = _backup(root, root.generate(label, KeyAlgorithm.AES256), wk)
    with softhsm.backend(RECOVERY) as first:
        _recover(first, wk, wrapped, info, canary, label, persistent=True)
    with softhsm.backend(RECOVERY) as second:  # --existing path: found by label
        with pytest.raises(HSMError, match="CKA_VALUE_LEN"):
            second.find(label)  # SoftHSM 2.6 does not record an unwrapped AES key's length
        found = second.find(label, algorithm=KeyAlgorithm.AES256)
        assert second.key_check_value(found) == info.key_check_value
        second.check_canary(found, canary, None)
        second.destroy(found)
        assert second.count_objects(label) == 0


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256],
                         ids=lambda a: a.value)  # fmt: skip
def test_hsm_blob_unwraps_in_software_and_back(root, recovery, label, algorithm):
    wk = os.urandom(32)
    key = root.generate(label, algorithm)
    wrapped, info, canary = _backup(root, key, wk)
    with SoftBackend() as soft:
        in_soft = _recover(soft, wk, wrapped, info, canary, label, extractable=True)
        assert soft.key_check_value(in_soft) == info.key_check_value
        # ... and the software key, wrapped by software, unwraps into the other HSM token.
        soft_wrapped, soft_info, soft_canary = _backup(soft, in_soft, wk)
    assert soft_info == info
    back = _recover(recovery, wk, soft_wrapped, soft_info, soft_canary, label)
    assert recovery.key_check_value(back) == info.key_check_value
    recovery.check_canary(back, canary, info.public_key)  # the original HSM-made canary too


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256],
                         ids=lambda a: a.value)  # fmt: skip
def test_soft_generated_key_recovers_into_hsm(recovery, label, algorithm):
    wk = os.urandom(32)
    with SoftBackend() as soft:
        wrapped, info, canary = _backup(soft, soft.generate(label, algorithm), wk)
    back = _recover(recovery, wk, wrapped, info, canary, label)
    assert recovery.key_check_value(back) == info.key_check_value
    assert recovery.count_objects(label) == (1 if algorithm.is_symmetric else 2)


def test_ec_p256_backup_recover_between_tokens(root, recovery, label):
    wk = os.urandom(32)
    key = root.generate(label, KeyAlgorithm.EC_P256)
    wrapped, info, canary = _backup(root, key, wk)
    assert canary.kind == "signature" and info.public_key == key.public_key
    back = _recover(recovery, wk, wrapped, info, canary, label)
    assert back.public_key == info.public_key
    assert recovery.count_objects(label) == 2  # private key + public key object
    assert recovery.find(label).public_key == info.public_key
    attrs = recovery.key_attributes(back)
    assert attrs["SIGN"] and attrs["SENSITIVE"] and not attrs["EXTRACTABLE"]


def test_ed25519_in_hsm(softhsm, root, recovery, label):
    """SoftHSM 2.6 signs with Ed25519 but cannot wrap or unwrap Ed25519 private keys."""
    key = root.generate(label, KeyAlgorithm.ED25519)
    canary = root.make_canary(key, label)
    root.check_canary(key, canary, key.public_key)  # EdDSA inside the token, verified in software
    wk = os.urandom(32)
    if softhsm.library_version <= (2, 6):
        with pytest.raises(HSMError, match="cannot wrap.*Ed25519"):
            _backup(root, key, wk)
        assert root.count_objects(label) == 2  # the key is untouched
        with SoftBackend() as soft:  # a software Ed25519 key cannot be imported either
            soft_key = soft.generate(label, KeyAlgorithm.ED25519)
            wrapped, info, soft_canary = _backup(soft, soft_key, wk)
        with pytest.raises(HSMError, match="Ed25519"):
            _recover(recovery, wk, wrapped, info, soft_canary, label)
        assert recovery.count_objects(label) == 0
    else:  # a SoftHSM2 with EdDSA wrapping: the full path must work
        wrapped, info, canary = _backup(root, key, wk)
        back = _recover(recovery, wk, wrapped, info, canary, label)
        assert recovery.key_check_value(back) == info.key_check_value


def test_wrong_wrapping_key_is_a_clean_unwrap_error(root, recovery, label):
    wrapped, info, canary = _backup(root, root.generate(label, KeyAlgorithm.AES256), os.urandom(32))
    wrong = bytearray(os.urandom(32))
    with pytest.raises(UnwrapError, match="another ceremony") as caught:
        recover_key(recovery, wrong, wrapped, info.key_check_value, canary, None, label)
    assert "CKR_GENERAL_ERROR" in str(caught.value)  # SoftHSM's code for a failed integrity check
    assert wrong == bytearray(32)
    assert recovery.count_objects(label) == 0


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256],
                         ids=lambda a: a.value)  # fmt: skip
def test_kcv_or_canary_mismatch_leaves_nothing_in_the_token(root, recovery, label, algorithm):
    wk = os.urandom(32)
    wrapped, info, canary = _backup(root, root.generate(label, algorithm), wk)
    _, other_info, other_canary = _backup(
        root, root.generate(label + "-other", algorithm), os.urandom(32)
    )
    assert recovery.count_objects(label) == 0

    wrong_kcv = "000000" if algorithm.is_symmetric else "0" * 16
    with pytest.raises(KeyCheckMismatch):
        recover_key(recovery, bytearray(wk), wrapped, wrong_kcv, canary, info.public_key, label)
    assert recovery.count_objects(label) == 0

    with pytest.raises(CanaryMismatch):
        recover_key(recovery, bytearray(wk), wrapped, info.key_check_value, other_canary,
                    info.public_key, label)  # fmt: skip
    assert recovery.count_objects(label) == 0

    if not algorithm.is_symmetric:  # package public key and KCV swapped for another key's
        with pytest.raises(CanaryMismatch, match="does not verify"):
            recover_key(recovery, bytearray(wk), wrapped, other_info.key_check_value, canary,
                        other_info.public_key, label)  # fmt: skip
        assert recovery.count_objects(label) == 0


def test_wrong_pin(softhsm):
    with pytest.raises(WrongPin, match="the PIN for token 'root' was refused; check it"):
        softhsm.backend(ROOT, pin="0000")


def test_missing_token_names_the_labels_present(softhsm):
    with pytest.raises(TokenNotFound) as caught:
        softhsm.backend("no-such-token")
    assert caught.value.present == (RECOVERY, ROOT)
    assert "'no-such-token'" in str(caught.value) and "'recovery', 'root'" in str(caught.value)


def test_find_generated_keys_and_missing_key(root, label):
    aes = root.generate(label, KeyAlgorithm.AES256)
    ec = root.generate(label + "-ec", KeyAlgorithm.EC_P256)
    found = root.find(label)
    assert found.algorithm is KeyAlgorithm.AES256 and found.persistent and found.extractable
    assert root.key_check_value(found) == root.key_check_value(aes)
    found_ec = root.find(label + "-ec")
    assert found_ec.public_key == ec.public_key
    with pytest.raises(HSMError, match="not aes256"):
        root.find(label + "-ec", algorithm=KeyAlgorithm.AES256)
    with pytest.raises(KeyNotFound, match="'nothing-here'"):
        root.find("nothing-here")


def test_wrap_mechanism_override(softhsm, label):
    with pytest.raises(ValueError, match="wrap mechanism"):
        softhsm.backend(ROOT, wrap_mechanism="AES_KEY_WRAP")
    with softhsm.backend(ROOT, wrap_mechanism="CKM_AES_KEY_WRAP_KWP") as forced:
        assert forced.wrap_mechanism == "AES_KEY_WRAP_KWP"
        key = forced.generate(label, KeyAlgorithm.AES256)
        with pytest.raises(HSMError, match="CKM_AES_KEY_WRAP_KWP.*CKR_MECHANISM_INVALID"):
            _backup(forced, key, os.urandom(32))
        forced.destroy(key)
