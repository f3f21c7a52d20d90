"""An offline, in-memory key back end built on ``cryptography`` only.

For rehearsals, tests and ceremonies without an HSM. AES keys are generated with the injected
``random_bytes`` (``os.urandom`` by default) and held in ``bytearray`` buffers that are wiped
when the key is destroyed or the back end closed. EC and Ed25519 private keys are held as
``cryptography`` key objects (OpenSSL clears them when they are freed; Python cannot wipe them
earlier). Wrapping is RFC 5649 via ``keywrap.aes_key_wrap_with_padding``.

Limits of wiping in Python: calls into ``cryptography`` take ``bytes`` copies of key buffers for
the duration of the call; those copies are freed but not overwritten. The long-lived copies are
the ``bytearray`` buffers, and those are wiped.

>>> with SoftBackend() as soft:
...     key = soft.generate("demo", KeyAlgorithm.AES256)
...     len(soft.key_check_value(key))
6
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from keyceremony.errors import (
    CanaryMismatch,
    KeyBackendError,
    KeyNotFound,
    LabelInUse,
    UnwrapError,
)
from keyceremony.keys.backend import KeyBackend, KeyHandle, RandomBytes, WrapHandle, wipe
from keyceremony.keys.model import KeyAlgorithm, WrappedKey, check_key_label

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(eq=False, repr=False)
class SoftKeyHandle(KeyHandle):
    _owner: object = field(default=None, repr=False)
    _secret: bytearray | None = field(default=None, repr=False)  # AES key bytes
    _private: PrivateKey | None = field(default=None, repr=False)  # EC / Ed25519

    def aes_secret(self) -> bytearray:
        """The AES key bytes (the buffer itself, not a copy); ValueError for other keys."""
        if self._secret is None:
            raise ValueError(f"key '{self.label}' is not an AES key")
        return self._secret

    def key_material(self) -> bytearray:
        """A new buffer, for the caller to wipe: AES key bytes, or PKCS#8 DER of a private key."""
        if self._secret is not None:
            return bytearray(self._secret)
        assert self._private is not None
        return bytearray(
            self._private.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def sign(self, message: bytes) -> bytes:
        if isinstance(self._private, ec.EllipticCurvePrivateKey):
            return self._private.sign(message, ec.ECDSA(hashes.SHA256()))
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.sign(message)
        raise ValueError(f"key '{self.label}' is not a signing key")

    def forget(self) -> None:
        """Wipe the AES key bytes and drop the private key object."""
        if self._secret is not None:
            wipe(self._secret)
        self._secret = None
        self._private = None


@dataclass(eq=False, repr=False)
class SoftWrapHandle(WrapHandle):
    _owner: object = field(default=None, repr=False)
    _kek: bytearray = field(default_factory=bytearray, repr=False)

    def kek_bytes(self) -> bytes:
        """A ``bytes`` copy of the wrapping key, for one call into ``cryptography``."""
        return bytes(self._kek)

    def wipe_kek(self) -> None:
        wipe(self._kek)


class SoftBackend(KeyBackend):
    """Keys in process memory; ``persistent`` keys live until :meth:`close`."""

    name = "software"

    def __init__(self, *, random_bytes: RandomBytes = os.urandom) -> None:
        super().__init__(random_bytes=random_bytes)
        self._keys: dict[str, SoftKeyHandle] = {}
        self._wraps: list[SoftWrapHandle] = []
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        for key in list(self._keys.values()):
            self.destroy(key)
        for wrap_handle in self._wraps:
            self._destroy_wrap(wrap_handle)
        self._wraps.clear()
        self._closed = True

    # --- keys ---------------------------------------------------------------------------------

    def generate(
        self, label: str, algorithm: KeyAlgorithm, *, extractable_wrapped: bool = True
    ) -> KeyHandle:
        self._check_open()
        self._check_free(label)
        if algorithm.is_symmetric:
            secret = bytearray(self._random(algorithm.key_bits // 8))
            return self._add(label, algorithm, secret=secret, extractable=extractable_wrapped)
        private: PrivateKey
        if algorithm is KeyAlgorithm.EC_P256:
            private = ec.generate_private_key(ec.SECP256R1())
        elif algorithm is KeyAlgorithm.ED25519:
            private = ed25519.Ed25519PrivateKey.generate()
        else:  # pragma: no cover - exhaustive over KeyAlgorithm
            raise ValueError(f"unsupported algorithm {algorithm!r}")
        return self._add(label, algorithm, private=private, extractable=extractable_wrapped)

    def import_key(
        self,
        label: str,
        algorithm: KeyAlgorithm,
        material: bytes | bytearray,
        *,
        extractable: bool = True,
    ) -> KeyHandle:
        """Adopt an existing software key: raw bytes for AES, PKCS#8 DER for EC/Ed25519.

        The back end keeps its own copy; the caller wipes ``material``. Raises ``ValueError``
        if the material is not a key of ``algorithm``, :class:`LabelInUse` if the label is taken.
        """
        self._check_open()
        self._check_free(label)
        try:
            secret, private = _parse_key_material(algorithm, material)
        except UnwrapError as err:
            raise ValueError(str(err)) from None
        return self._add(label, algorithm, secret=secret, private=private, extractable=extractable)

    def find(self, label: str, *, algorithm: KeyAlgorithm | None = None) -> KeyHandle:
        self._check_open()
        try:
            key = self._keys[label]
        except KeyError:
            present = ", ".join(repr(k) for k in sorted(self._keys)) or "none"
            raise KeyNotFound(
                f"no key labelled '{label}' in the software key store (keys present: {present})"
            ) from None
        if algorithm is not None and key.algorithm is not algorithm:
            raise KeyBackendError(
                f"key '{label}' is {key.algorithm.value}, not {algorithm.value}"
            )
        return key

    def count_objects(self, label: str) -> int:
        return 1 if label in self._keys else 0

    def destroy(self, handle: KeyHandle | WrapHandle) -> None:
        if handle.destroyed:
            return
        self._check_handle(handle)
        if isinstance(handle, SoftWrapHandle):
            self._destroy_wrap(handle)
            return
        assert isinstance(handle, SoftKeyHandle)
        handle.forget()
        handle.destroyed = True
        if self._keys.get(handle.label) is handle:
            del self._keys[handle.label]

    # --- wrapping -----------------------------------------------------------------------------

    def import_wrapping_key(self, key_bytes: bytearray) -> WrapHandle:
        self._check_open()
        if len(key_bytes) not in (16, 24, 32):
            raise ValueError("the wrapping key is an AES key of 16, 24 or 32 bytes")
        handle = SoftWrapHandle(key_bits=8 * len(key_bytes), _owner=self, _kek=bytearray(key_bytes))
        self._wraps.append(handle)
        return handle

    def wrap(self, wrapping: WrapHandle, key: KeyHandle) -> WrappedKey:
        self._check_handle(wrapping)
        self._check_handle(key)
        assert isinstance(wrapping, SoftWrapHandle) and isinstance(key, SoftKeyHandle)
        if not key.extractable:
            raise KeyBackendError(
                f"key '{key.label}' is not extractable, so it cannot be wrapped for backup"
            )
        material = key.key_material()
        try:
            blob = aes_key_wrap_with_padding(wrapping.kek_bytes(), bytes(material))
        finally:
            wipe(material)
        return WrappedKey(key.algorithm, blob, key_length=key.algorithm.key_bits)

    def unwrap(
        self,
        wrapping: WrapHandle,
        wrapped: WrappedKey,
        label: str,
        *,
        persistent: bool,
        extractable: bool = False,
        public_key: bytes | None = None,
    ) -> KeyHandle:
        """See :meth:`KeyBackend.unwrap`. ``public_key`` is not needed here: the software store
        derives the public key from the unwrapped private key, so a package whose public key
        does not match is caught by the key check value."""
        self._check_handle(wrapping)
        assert isinstance(wrapping, SoftWrapHandle)
        self._check_free(label)
        try:
            material = bytearray(aes_key_unwrap_with_padding(wrapping.kek_bytes(), wrapped.blob))
        except InvalidUnwrap:
            raise UnwrapError(
                f"the wrapped {wrapped.algorithm.value} key does not unwrap under this wrapping "
                "key (RFC 5649 integrity check failed): the shares or cards come from another "
                "ceremony, or the backup package is damaged"
            ) from None
        try:
            secret, private = _parse_key_material(wrapped.algorithm, material)
        finally:
            wipe(material)
        return self._add(
            label,
            wrapped.algorithm,
            secret=secret,
            private=private,
            extractable=extractable,
            persistent=persistent,
        )

    def persist(self, key: KeyHandle) -> KeyHandle:
        """See :meth:`KeyBackend.persist`. In memory, a key is persistent only until
        :meth:`close`; the same handle is returned, now marked persistent."""
        self._check_handle(key)
        if key.persistent:
            raise ValueError(f"{key!r} is already persistent")
        key.persistent = True
        return key

    # --- primitives ---------------------------------------------------------------------------

    def _aes_ecb_zero_block(self, key: KeyHandle) -> bytes:
        secret = self._secret_of(key)
        enc = Cipher(algorithms.AES(bytes(secret)), modes.ECB()).encryptor()
        return enc.update(bytes(16)) + enc.finalize()

    def _aes_gcm_encrypt(self, key: KeyHandle, nonce: bytes, plaintext: bytes) -> bytes:
        return AESGCM(bytes(self._secret_of(key))).encrypt(nonce, plaintext, None)

    def _aes_gcm_decrypt(self, key: KeyHandle, nonce: bytes, ciphertext: bytes) -> bytes:
        try:
            return AESGCM(bytes(self._secret_of(key))).decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise CanaryMismatch(
                f"key '{key.label}': the canary does not decrypt with this key (AES-GCM tag "
                "mismatch); it is not the key that was backed up"
            ) from None

    def _sign(self, key: KeyHandle, message: bytes) -> bytes:
        self._check_handle(key)
        assert isinstance(key, SoftKeyHandle)
        return key.sign(message)

    # --- internals ----------------------------------------------------------------------------

    def _add(
        self,
        label: str,
        algorithm: KeyAlgorithm,
        *,
        secret: bytearray | None = None,
        private: PrivateKey | None = None,
        extractable: bool,
        persistent: bool = True,
    ) -> SoftKeyHandle:
        public_key = None
        if private is not None:
            public_key = private.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        handle = SoftKeyHandle(
            label=label,
            algorithm=algorithm,
            public_key=public_key,
            persistent=persistent,
            extractable=extractable,
            _owner=self,
            _secret=secret,
            _private=private,
        )
        self._keys[label] = handle
        return handle

    def _secret_of(self, key: KeyHandle) -> bytearray:
        self._check_handle(key)
        assert isinstance(key, SoftKeyHandle)
        return key.aes_secret()

    def _destroy_wrap(self, handle: SoftWrapHandle) -> None:
        handle.wipe_kek()
        handle.destroyed = True

    def _check_free(self, label: str) -> None:
        check_key_label(label)
        if label in self._keys:
            raise LabelInUse(f"a key labelled '{label}' already exists in the software key store")

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("this software back end is closed")


def strip_der_zero_padding(data: bytearray) -> bytearray:
    """Drop up to 7 trailing zero bytes after a DER SEQUENCE.

    SoftHSM 2.6 zero-pads key data to a multiple of 8 *before* RFC 5649 wrapping (docs/hsm.md, SoftHSM2;
    SoftHSM PR #307), so the RFC 5649 length indicator covers the padding: a 67-byte PKCS#8
    P-256 key unwraps to 72 bytes. DER carries its own length, so the padding is recognisable.
    """
    if len(data) < 2 or data[0] != 0x30:
        return data
    first = data[1]
    if first < 0x80:
        total = 2 + first
    else:
        n = first & 0x7F
        if not 1 <= n <= 4 or len(data) < 2 + n:
            return data
        total = 2 + n + int.from_bytes(data[2 : 2 + n], "big")
    extra = len(data) - total
    if 0 < extra < 8 and not any(data[total:]):
        trimmed = bytearray(data[:total])
        wipe(data)
        return trimmed
    return data


def _parse_key_material(
    algorithm: KeyAlgorithm, material: bytes | bytearray
) -> tuple[bytearray | None, PrivateKey | None]:
    """Turn unwrapped bytes into (AES secret, None) or (None, private key); raise UnwrapError."""
    if algorithm.is_symmetric:
        if len(material) != algorithm.key_bits // 8:
            raise UnwrapError(
                f"the unwrapped key is {len(material)} bytes, but a {algorithm.value} key is "
                f"{algorithm.key_bits // 8}; the backup package is inconsistent"
            )
        return bytearray(material), None
    der = strip_der_zero_padding(bytearray(material))
    try:
        private = serialization.load_der_private_key(bytes(der), password=None)
    except (ValueError, TypeError):
        raise UnwrapError(
            f"the unwrapped data is not a PKCS#8 private key; expected {algorithm.value}"
        ) from None
    finally:
        wipe(der)
    if algorithm is KeyAlgorithm.EC_P256 and isinstance(private, ec.EllipticCurvePrivateKey):
        if isinstance(private.curve, ec.SECP256R1):
            return None, private
    if algorithm is KeyAlgorithm.ED25519 and isinstance(private, ed25519.Ed25519PrivateKey):
        return None, private
    raise UnwrapError(f"the unwrapped private key is not a {algorithm.value} key")
