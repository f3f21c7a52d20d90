"""The software back end through backup_key / recover_key, including every refusal."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
from hypothesis import given, settings
from hypothesis import strategies as st

from keyceremony.errors import (
    CanaryMismatch,
    KeyBackendError,
    KeyCheckMismatch,
    KeyNotFound,
    LabelInUse,
    UnwrapError,
)
from keyceremony.keys.kcv import aes_kcv
from keyceremony.keys.model import KeyAlgorithm
from keyceremony.keys.recovery import backup_key, recover_key
from keyceremony.keys.soft import SoftBackend, strip_der_zero_padding

ALGORITHMS = [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256, KeyAlgorithm.ED25519]


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.value)
def test_backup_and_recover_round_trip(algorithm):
    wrapping_key = os.urandom(32)
    with SoftBackend() as origin, SoftBackend() as target:
        key = origin.generate("root", algorithm)
        passed = bytearray(wrapping_key)
        wrapped, info, canary = backup_key(origin, key, passed)
        assert passed == bytearray(32)  # wiped
        assert info.algorithm is algorithm and info.public_key == key.public_key
        passed = bytearray(wrapping_key)
        back = recover_key(
            target, passed, wrapped, info.key_check_value, canary, info.public_key, "root"
        )
        assert passed == bytearray(32)
        assert target.key_check_value(back) == info.key_check_value
        assert back.public_key == info.public_key
        assert not back.extractable
        target.check_canary(back, canary, info.public_key)
        with pytest.raises(KeyBackendError, match="not extractable"):
            target.wrap(target.import_wrapping_key(bytearray(wrapping_key)), back)


@settings(max_examples=15, deadline=None)
@given(key=st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
       wrapping_key=st.binary(min_size=32, max_size=32))  # fmt: skip
def test_aes_wrap_unwrap_round_trip_property(key, wrapping_key):
    algorithm = KeyAlgorithm.aes(len(key))
    with SoftBackend() as origin, SoftBackend() as target:
        handle = origin.import_key("k", algorithm, bytearray(key))
        wrapped, info, canary = backup_key(origin, handle, bytearray(wrapping_key))
        assert aes_key_unwrap_with_padding(wrapping_key, wrapped.blob) == key
        assert info.key_check_value == aes_kcv(key)
        back = recover_key(
            target, bytearray(wrapping_key), wrapped, info.key_check_value, canary, None, "k"
        )
        assert target.key_check_value(back) == aes_kcv(key)


def test_wrong_wrapping_key_is_a_clean_unwrap_error():
    with SoftBackend() as origin, SoftBackend() as target:
        key = origin.generate("root", KeyAlgorithm.AES256)
        wrapped, info, canary = backup_key(origin, key, bytearray(os.urandom(32)))
        wrong = bytearray(os.urandom(32))
        with pytest.raises(UnwrapError, match="another ceremony"):
            recover_key(target, wrong, wrapped, info.key_check_value, canary, None, "root")
        assert wrong == bytearray(32)  # wiped on the error path too
        assert target.count_objects("root") == 0


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.value)
def test_kcv_and_canary_mismatch_leave_nothing_behind(algorithm):
    wk = os.urandom(32)
    with SoftBackend() as origin, SoftBackend() as target:
        key = origin.generate("root", algorithm)
        other = origin.generate("other", algorithm)
        wrapped, info, canary = backup_key(origin, key, bytearray(wk))
        _, other_info, other_canary = backup_key(origin, other, bytearray(os.urandom(32)))

        wrong_kcv = "000000" if algorithm.is_symmetric else "0" * 16
        with pytest.raises(KeyCheckMismatch):
            recover_key(target, bytearray(wk), wrapped, wrong_kcv, canary, info.public_key, "r")
        assert target.count_objects("r") == 0

        with pytest.raises(CanaryMismatch):
            recover_key(target, bytearray(wk), wrapped, info.key_check_value, other_canary,
                        info.public_key, "r")  # fmt: skip
        assert target.count_objects("r") == 0

        if not algorithm.is_symmetric:  # package public key (and its KCV) swapped for another
            # The software store derives the public key from the private key, so the KCV
            # already differs; a token trusts the package's public key and the canary fails.
            with pytest.raises((KeyCheckMismatch, CanaryMismatch)):
                recover_key(target, bytearray(wk), wrapped, other_info.key_check_value, canary,
                            other_info.public_key, "r")  # fmt: skip
            assert target.count_objects("r") == 0


def test_find_existing_and_label_in_use():
    with SoftBackend() as soft:
        key = soft.generate("root", KeyAlgorithm.EC_P256)
        assert soft.find("root") is key
        with pytest.raises(LabelInUse):
            soft.generate("root", KeyAlgorithm.AES256)
        with pytest.raises(KeyNotFound, match="'root'"):
            soft.find("missing")


def test_destroy_and_close_wipe_secrets():
    soft = SoftBackend()
    key = soft.generate("root", KeyAlgorithm.AES256)
    buffer = key._secret
    wrap = soft.import_wrapping_key(bytearray(os.urandom(32)))
    kek = wrap._kek
    soft.destroy(key)
    assert buffer == bytearray(32) and key.destroyed and soft.count_objects("root") == 0
    soft.close()
    assert kek == bytearray(32) and wrap.destroyed
    assert "bytes" not in repr(key) and "root" in repr(key)


def test_handles_do_not_cross_backends():
    with SoftBackend() as a, SoftBackend() as b:
        key = a.generate("root", KeyAlgorithm.AES256)
        with pytest.raises(ValueError, match="does not belong"):
            b.key_check_value(key)


def test_strip_der_zero_padding():
    der = bytearray(b"\x30\x03\x02\x01\x05")
    assert strip_der_zero_padding(bytearray(der + bytes(3))) == der
    assert strip_der_zero_padding(bytearray(der)) == der
    assert strip_der_zero_padding(bytearray(der + b"\x00\x01")) == der + b"\x00\x01"  # not padding
