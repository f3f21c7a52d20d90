"""Value classes validate themselves; check values agree with an independent implementation."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from Crypto.Cipher import AES as PyCryptodomeAES
from Crypto.Hash import CMAC as PyCryptodomeCMAC

from keyceremony.errors import KeyCheckMismatch
from keyceremony.keys import kcv
from keyceremony.keys.model import Canary, KeyAlgorithm, KeyInfo, WrappedKey, canary_plaintext


def test_canary_plaintext_is_fixed_and_labelled():
    assert canary_plaintext("root-kek") == b"keyceremony canary v1|root-kek"
    with pytest.raises(ValueError):
        canary_plaintext("")
    with pytest.raises(ValueError):
        canary_plaintext("bad\nlabel")


def test_key_info_validates_check_value_and_public_key():
    KeyInfo("k", KeyAlgorithm.AES256, "a1b2c3", None)
    with pytest.raises(ValueError):
        KeyInfo("k", KeyAlgorithm.AES256, "A1B2C3", None)  # canonical lower-case hex only
    with pytest.raises(ValueError):
        KeyInfo("k", KeyAlgorithm.AES256, "a1b2c3", b"spki")  # AES has no public key
    with pytest.raises(ValueError):
        KeyInfo("k", KeyAlgorithm.EC_P256, "00" * 8, None)  # EC needs its public key


def test_wrapped_key_validates_format_and_lengths():
    w = WrappedKey(KeyAlgorithm.AES256, bytes(40))
    assert w.key_length == 256 and w.mechanism == "rfc5649"
    assert "blob=<40 bytes>" in repr(w)
    with pytest.raises(ValueError):
        WrappedKey(KeyAlgorithm.AES256, bytes(40), mechanism="rfc3394")
    with pytest.raises(ValueError):
        WrappedKey(KeyAlgorithm.AES256, bytes(32))  # a 32-byte key wraps to 40 bytes
    with pytest.raises(ValueError):
        WrappedKey(KeyAlgorithm.EC_P256, bytes(81))  # not a multiple of 8
    with pytest.raises(ValueError):
        WrappedKey(KeyAlgorithm.EC_P256, bytes(80), key_length=255)


def test_canary_validates_kind_and_shape():
    pt = canary_plaintext("k")
    Canary("k", "aes-gcm", bytes(12), bytes(len(pt) + 16), pt)
    Canary("k", "signature", bytes(16), bytes(64), pt)
    with pytest.raises(ValueError):
        Canary("k", "aes-gcm", bytes(16), bytes(len(pt) + 16), pt)  # nonce length
    with pytest.raises(ValueError):
        Canary("k", "hmac", bytes(12), bytes(len(pt) + 16), pt)
    with pytest.raises(ValueError):
        Canary("k", "signature", bytes(16), bytes(64), canary_plaintext("other"))


def test_aes_kcv_known_value_and_cross_check():
    # AES-256 with the all-zero key encrypts the zero block to dc95c078a2408989... (FIPS-197 KAT
    # family); the KCV is its first 3 bytes.
    assert kcv.aes_kcv(bytes(32)) == "dc95c0"
    for size in (16, 24, 32):
        key = os.urandom(size)
        block = PyCryptodomeAES.new(key, PyCryptodomeAES.MODE_ECB).encrypt(bytes(16))
        assert kcv.aes_kcv(key) == block[:3].hex() == kcv.aes_kcv_from_block(block)


def test_aes_cmac_kcv_cross_check():
    for size in (16, 24, 32):
        key = os.urandom(size)
        mac = PyCryptodomeCMAC.new(key, ciphermod=PyCryptodomeAES)
        mac.update(bytes(16))
        assert kcv.aes_cmac_kcv(key) == mac.digest()[:5].hex()


def test_public_key_fingerprint_is_sha256_prefix():
    spki = b"\x30\x03\x02\x01\x00"
    assert kcv.public_key_fingerprint(spki) == hashlib.sha256(spki).hexdigest()[:16]


def test_check_kcv_raises_with_both_values():
    kcv.check_kcv("A1B2C3", "a1b2c3", label="k")
    with pytest.raises(KeyCheckMismatch, match="a1b2c4.*a1b2c3"):
        kcv.check_kcv("a1b2c3", "a1b2c4", label="k")


def test_model_is_standard_library_only():
    code = (
        "import sys, keyceremony.keys.model; print(any(m.split('.')[0] in "
        "('cryptography', 'numpy', 'pkcs11') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
