"""Values exchanged between the key back ends and the backup package (standard library only).

Everything here is public information that goes into a backup package or transcript: a wrapped
(encrypted) key, the key's check value and public key, and a canary. Nothing here ever holds
plaintext key material. All classes are frozen and validate themselves on construction
(a bad value is a programming or package error and raises ``ValueError``).

>>> info = KeyInfo("root-kek", KeyAlgorithm.AES256, "a1b2c3", None)
>>> canary_plaintext("root-kek")
b'keyceremony canary v1|root-kek'
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

CANARY_PREFIX = b"keyceremony canary v1|"
"""Every canary plaintext (AES-GCM) or signed message prefix starts with these bytes."""

WRAP_FORMAT_RFC5649 = "rfc5649"
"""The only wrapping format: AES Key Wrap with Padding, RFC 5649 (= NIST SP 800-38F KWP)."""

AES_KCV_HEX_LEN = 6  # first 3 bytes of AES-ECB(K, 0^16), see kcv.py
FINGERPRINT_HEX_LEN = 16  # first 8 bytes of SHA-256(SubjectPublicKeyInfo), see kcv.py
GCM_NONCE_LEN = 12
GCM_TAG_LEN = 16
MAX_LABEL_LEN = 64
_HEX = re.compile(r"[0-9a-f]+")


class KeyAlgorithm(enum.Enum):
    """The kinds of key this tool backs up.

    AES128/AES192 exist for keys imported from elsewhere (and for property tests over all AES
    key sizes); the ceremony generates AES256.
    """

    AES128 = "aes128"
    AES192 = "aes192"
    AES256 = "aes256"
    EC_P256 = "ec-p256"
    ED25519 = "ed25519"

    @property
    def is_symmetric(self) -> bool:
        return self in (KeyAlgorithm.AES128, KeyAlgorithm.AES192, KeyAlgorithm.AES256)

    @property
    def key_bits(self) -> int:
        """Key size in bits: 128/192/256 for AES, 256 for P-256 and Ed25519."""
        return {"aes128": 128, "aes192": 192}.get(self.value, 256)

    @property
    def canary_kind(self) -> str:
        return "aes-gcm" if self.is_symmetric else "signature"

    @classmethod
    def aes(cls, key_bytes: int) -> KeyAlgorithm:
        """The AES algorithm for a key of ``key_bytes`` bytes (16, 24 or 32)."""
        try:
            return {16: cls.AES128, 24: cls.AES192, 32: cls.AES256}[key_bytes]
        except KeyError:
            raise ValueError(f"an AES key is 16, 24 or 32 bytes, not {key_bytes}") from None


def canary_plaintext(label: str) -> bytes:
    """The fixed plaintext a canary encrypts or signs: ``keyceremony canary v1|<label>``."""
    check_key_label(label)
    return CANARY_PREFIX + label.encode("utf-8")


def check_key_label(label: str) -> None:
    """ValueError unless ``label`` is a non-empty key label of at most MAX_LABEL_LEN bytes, no control characters."""
    if not isinstance(label, str) or not label:
        raise ValueError("a key label must be a non-empty string")
    if len(label.encode("utf-8")) > MAX_LABEL_LEN:
        raise ValueError(f"a key label is at most {MAX_LABEL_LEN} bytes of UTF-8")
    if any(ord(c) < 0x20 or c == "\x7f" for c in label):
        raise ValueError("a key label must not contain control characters")


def _check_hex(name: str, value: str, length: int) -> None:
    if not isinstance(value, str) or len(value) != length or not _HEX.fullmatch(value):
        raise ValueError(f"{name} must be {length} lower-case hex digits, got {value!r}")


@dataclass(frozen=True)
class KeyInfo:
    """What identifies a key without revealing it.

    ``key_check_value``: for AES the 3-byte KCV (6 hex digits, kcv.py), for EC/Ed25519 the 8-byte
    public-key fingerprint (16 hex digits). ``public_key``: DER SubjectPublicKeyInfo for EC and
    Ed25519 keys, ``None`` for AES.
    """

    label: str
    algorithm: KeyAlgorithm
    key_check_value: str
    public_key: bytes | None

    def __post_init__(self) -> None:
        check_key_label(self.label)
        if not isinstance(self.algorithm, KeyAlgorithm):
            raise ValueError(f"algorithm must be a KeyAlgorithm, got {self.algorithm!r}")
        if self.algorithm.is_symmetric:
            _check_hex("an AES key check value", self.key_check_value, AES_KCV_HEX_LEN)
            if self.public_key is not None:
                raise ValueError("an AES key has no public key")
        else:
            _check_hex("a public key fingerprint", self.key_check_value, FINGERPRINT_HEX_LEN)
            if not isinstance(self.public_key, bytes) or not self.public_key:
                raise ValueError(f"a {self.algorithm.value} key needs its DER public key")


@dataclass(frozen=True, repr=False)
class WrappedKey:
    """A key encrypted under the backup wrapping key (RFC 5649).

    ``blob`` wraps the raw key for AES and a PKCS#8 ``PrivateKeyInfo`` for EC/Ed25519.
    ``key_length`` is the key size in bits (``algorithm.key_bits``).
    """

    algorithm: KeyAlgorithm
    blob: bytes
    mechanism: str = WRAP_FORMAT_RFC5649
    key_length: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.algorithm, KeyAlgorithm):
            raise ValueError(f"algorithm must be a KeyAlgorithm, got {self.algorithm!r}")
        if self.mechanism != WRAP_FORMAT_RFC5649:
            raise ValueError(f"unknown wrapping format {self.mechanism!r}; only 'rfc5649' exists")
        if not isinstance(self.blob, bytes) or len(self.blob) < 16 or len(self.blob) % 8:
            raise ValueError("an RFC 5649 blob is a multiple of 8 bytes and at least 16 bytes")
        if self.key_length == 0:  # default: fill in from the algorithm
            object.__setattr__(self, "key_length", self.algorithm.key_bits)
        if self.key_length != self.algorithm.key_bits:
            raise ValueError(
                f"key_length {self.key_length} does not fit {self.algorithm.value} "
                f"({self.algorithm.key_bits} bits)"
            )
        if self.algorithm.is_symmetric and len(self.blob) != self.key_length // 8 + 8:
            raise ValueError(
                f"a wrapped {self.algorithm.value} key is {self.key_length // 8 + 8} bytes, "
                f"not {len(self.blob)}"
            )

    def __repr__(self) -> str:
        size = len(self.blob)
        return f"WrappedKey({self.algorithm.value}, {self.mechanism}, blob=<{size} bytes>)"


@dataclass(frozen=True)
class Canary:
    """Proof material that a recovered key is the key that was backed up.

    ``kind="aes-gcm"``: ``ciphertext_or_signature`` is AES-GCM(K, nonce, plaintext_label) with
    the 16-byte tag appended; ``nonce`` is 12 bytes.
    ``kind="signature"``: ``ciphertext_or_signature`` is a signature over
    ``plaintext_label || nonce`` (ECDSA P-256 with SHA-256 as DER, or a 64-byte Ed25519
    signature); ``nonce`` is 16 random bytes that make every canary distinct.
    ``plaintext_label`` is always :func:`canary_plaintext` of ``label`` (the key's label at backup).
    """

    label: str
    kind: str
    nonce: bytes
    ciphertext_or_signature: bytes
    plaintext_label: bytes

    def __post_init__(self) -> None:
        check_key_label(self.label)
        if self.plaintext_label != canary_plaintext(self.label):
            raise ValueError("the canary plaintext must be canary_plaintext(label)")
        if self.kind == "aes-gcm":
            if not isinstance(self.nonce, bytes) or len(self.nonce) != GCM_NONCE_LEN:
                raise ValueError(f"an AES-GCM canary nonce is {GCM_NONCE_LEN} bytes")
            if len(self.ciphertext_or_signature) != len(self.plaintext_label) + GCM_TAG_LEN:
                raise ValueError("an AES-GCM canary is the plaintext length plus a 16-byte tag")
        elif self.kind == "signature":
            if not isinstance(self.nonce, bytes) or len(self.nonce) != 16:
                raise ValueError("a signature canary nonce is 16 bytes")
            if not isinstance(self.ciphertext_or_signature, bytes) or not (
                8 <= len(self.ciphertext_or_signature) <= 80
            ):
                raise ValueError("a signature canary holds a DER ECDSA or 64-byte EdDSA signature")
        else:
            raise ValueError(f"canary kind must be 'aes-gcm' or 'signature', got {self.kind!r}")

    @property
    def signed_message(self) -> bytes:
        """For signature canaries: the exact bytes that were signed."""
        return self.plaintext_label + self.nonce
