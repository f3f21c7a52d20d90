"""Key check values: a short public value that tells two copies of a key apart from other keys.

A KCV is a mix-up detector a person can read aloud and compare against a vendor tool, not proof
of possession; the canary (backend.py) is the proof. We never compute anything over a private
scalar: for EC and Ed25519 keys the check value is a fingerprint of the public key.

**AES — default: the classic 3-byte KCV**, ``AES-ECB(K, 0^16)[:3]`` as 6 hex digits.

- It is what HSM tools print (Luna ``cmu``, nShield, payShield, ``pkcs11-tool``-based scripts)
  and what key-custodian forms ask for, so custodians can compare it with an independent tool.
- Computing it inside a token needs only ``CKA_ENCRYPT`` with ``CKM_AES_ECB``, which the key
  already has for its AES-GCM canary. The CMAC variant needs ``CKA_SIGN`` + ``CKM_AES_CMAC``, an
  extra capability we would otherwise not grant (docs/hsm.md, "Attribute sets").
- Three bytes expose only 24 bits of one ECB block; they do not help brute force a 256-bit key.

ANSI X9.24-1:2017 (and TR-31 tooling) define the AES KCV as ``CMAC(K, 0^16)[:5]`` instead, which
avoids exposing even a truncated ECB encryption of a known block. :func:`aes_cmac_kcv` computes
that in software for comparison with such tools; it is not what the backup package records.

>>> aes_kcv(bytes(32))
'dc95c0'
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from keyceremony.errors import KeyCheckMismatch

ZERO_BLOCK = bytes(16)
AES_KCV_BYTES = 3
AES_CMAC_KCV_BYTES = 5
FINGERPRINT_BYTES = 8


def aes_kcv_from_block(encrypted_zero_block: bytes) -> str:
    """Format ``AES-ECB(K, 0^16)`` (computed by a token) as the 3-byte KCV in hex."""
    if len(encrypted_zero_block) != 16:
        raise ValueError("the KCV block is AES-ECB of one 16-byte zero block")
    return encrypted_zero_block[:AES_KCV_BYTES].hex()


def aes_kcv(key: bytes | bytearray) -> str:
    """The default AES KCV in software: first 3 bytes of ``AES-ECB(K, 0^16)``, lower-case hex."""
    if len(key) not in (16, 24, 32):
        raise ValueError("an AES key is 16, 24 or 32 bytes")
    enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
    return aes_kcv_from_block(enc.update(ZERO_BLOCK) + enc.finalize())


def aes_cmac_kcv(key: bytes | bytearray) -> str:
    """ANSI X9.24-1:2017 AES KCV: first 5 bytes of ``AES-CMAC(K, 0^16)``, lower-case hex."""
    if len(key) not in (16, 24, 32):
        raise ValueError("an AES key is 16, 24 or 32 bytes")
    mac = cmac.CMAC(algorithms.AES(bytes(key)))
    mac.update(ZERO_BLOCK)
    return mac.finalize()[:AES_CMAC_KCV_BYTES].hex()


def public_key_fingerprint(spki_der: bytes) -> str:
    """Check value of an EC/Ed25519 key: first 8 bytes of SHA-256(SubjectPublicKeyInfo DER)."""
    if not isinstance(spki_der, (bytes, bytearray)) or not spki_der:
        raise ValueError("a fingerprint needs the DER SubjectPublicKeyInfo")
    return hashlib.sha256(spki_der).digest()[:FINGERPRINT_BYTES].hex()


def check_kcv(expected: str, actual: str, *, label: str) -> None:
    """Raise :class:`KeyCheckMismatch` unless the two check values are equal (constant time)."""
    if not hmac.compare_digest(expected.strip().lower().encode(), actual.lower().encode()):
        raise KeyCheckMismatch(
            f"key '{label}': the recovered key's check value is {actual}, but the backup "
            f"recorded {expected.strip().lower()}. This is not the key that was backed up "
            "(wrong backup package, or shares from another ceremony); nothing was kept."
        )
