"""The key back-end interface: where keys live while they are generated, wrapped and recovered.

Two implementations: :class:`~keyceremony.keys.soft.SoftBackend` (``cryptography``, in memory)
and :class:`~keyceremony.keys.pkcs11_backend.Pkcs11Backend` (any PKCS#11 token). The ceremony
talks only to :class:`KeyBackend`; :mod:`keyceremony.keys.recovery` builds backup and recovery
out of these calls so that both back ends follow exactly the same checks.

The canary and key-check-value logic is written once here, on top of four primitives each back
end implements *inside its key store* (``_aes_ecb_zero_block``, ``_aes_gcm_encrypt``,
``_aes_gcm_decrypt``, ``_sign``): secret keys never leave the back end to be checked.

Handles are references, not keys: :class:`KeyHandle` and :class:`WrapHandle` carry no secret in
any public attribute and show none in ``repr``. A handle belongs to the back end that made it;
passing it to another back end is a programming error (``ValueError``).
"""

from __future__ import annotations

import abc
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from keyceremony.errors import CanaryMismatch, KeyBackendError
from keyceremony.keys import kcv as _kcv
from keyceremony.keys.model import (
    GCM_NONCE_LEN,
    Canary,
    KeyAlgorithm,
    WrappedKey,
    canary_plaintext,
)
from keyceremony.keys.signing import signature_verifies

RandomBytes = Callable[[int], bytes]
CHALLENGE_PREFIX = b"keyceremony challenge v1|"
"""Fresh challenges signed at recovery start with this, so they can never look like a canary."""
SIGNATURE_NONCE_LEN = 16


def wipe(buf: bytearray) -> None:
    """Overwrite a secret buffer with zeros in place (docs/core.md §6)."""
    buf[:] = bytes(len(buf))


@dataclass(eq=False, repr=False)
class KeyHandle:
    """A key inside one back end.

    ``public_key`` is the DER SubjectPublicKeyInfo for EC/Ed25519 keys (``None`` for AES, and
    ``None`` for a recovered private key whose public key was not supplied). ``persistent``:
    the key survives :meth:`KeyBackend.close` (a token object). ``extractable``: the key may be
    exported *wrapped*; no back end ever exports a key in plaintext.
    """

    label: str
    algorithm: KeyAlgorithm
    public_key: bytes | None
    persistent: bool
    extractable: bool
    destroyed: bool = False

    def __repr__(self) -> str:
        state = "destroyed" if self.destroyed else ("token" if self.persistent else "session")
        return f"{type(self).__name__}({self.label!r}, {self.algorithm.value}, {state})"


@dataclass(eq=False, repr=False)
class WrapHandle:
    """The backup wrapping key, imported for wrap/unwrap only (an AES key of ``key_bits``)."""

    key_bits: int
    destroyed: bool = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(aes{self.key_bits}{', destroyed' if self.destroyed else ''})"


class KeyBackend(abc.ABC):
    """Generate, find, wrap, unwrap and check keys held by one key store.

    Errors, shared by every implementation:

    - ``ValueError`` — misuse by the caller: a handle from another back end or already
      destroyed, an unsupported algorithm, a bad argument.
    - :class:`~keyceremony.errors.KeyBackendError` (and its :class:`~keyceremony.errors.HSMError`
      subclasses for tokens) — the key store refused or failed; the message names the key,
      token, operation and mechanism.
    - :class:`~keyceremony.errors.UnwrapError` — a wrapped key does not decrypt (wrong
      wrapping key or damaged blob).
    - :class:`~keyceremony.errors.CanaryMismatch` — a canary does not check out.

    Use as a context manager; :meth:`close` releases session objects and wipes secrets.
    """

    name: str = "backend"

    def __init__(self, *, random_bytes: RandomBytes = os.urandom) -> None:
        self._random = random_bytes

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> KeyBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abc.abstractmethod
    def close(self) -> None:
        """Destroy session objects, wipe in-memory secrets and log out. Idempotent."""

    # --- keys ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def generate(
        self, label: str, algorithm: KeyAlgorithm, *, extractable_wrapped: bool = True
    ) -> KeyHandle:
        """Generate a new persistent key ``label`` in the store.

        ``extractable_wrapped=True`` lets the key be exported only wrapped (PKCS#11
        ``CKA_EXTRACTABLE=True`` with ``CKA_SENSITIVE=True``), which backup needs.

        Raises :class:`~keyceremony.errors.LabelInUse` if a key with that label exists,
        :class:`~keyceremony.errors.KeyBackendError` if generation fails.
        """

    @abc.abstractmethod
    def find(self, label: str, *, algorithm: KeyAlgorithm | None = None) -> KeyHandle:
        """The existing key ``label`` (for ``--existing``).

        ``algorithm``, if given, must match the key found. A token that does not report an
        AES key's length (SoftHSM 2.6 leaves ``CKA_VALUE_LEN`` at 0 after ``C_UnwrapKey``)
        needs it to name the key's algorithm.

        Raises :class:`~keyceremony.errors.KeyNotFound` if there is none,
        :class:`~keyceremony.errors.KeyBackendError` if the label is ambiguous, the object is
        not a supported key or not of ``algorithm``.
        """

    @abc.abstractmethod
    def count_objects(self, label: str) -> int:
        """How many objects (keys, public keys) with this label the store holds now."""

    @abc.abstractmethod
    def destroy(self, handle: KeyHandle | WrapHandle) -> None:
        """Delete a key (and its public-key object) or a wrapping key from the store.

        Idempotent for an already destroyed handle. Raises
        :class:`~keyceremony.errors.KeyBackendError` if the store refuses.
        """

    # --- wrapping -----------------------------------------------------------------------------

    @abc.abstractmethod
    def import_wrapping_key(self, key_bytes: bytearray) -> WrapHandle:
        """Import the backup wrapping key (16/24/32 bytes) as a session object for wrap/unwrap.

        The caller keeps ownership of ``key_bytes`` and wipes it (recovery.py does). Raises
        ``ValueError`` for a bad length, :class:`~keyceremony.errors.KeyBackendError` if the
        store refuses the import.
        """

    @abc.abstractmethod
    def wrap(self, wrapping: WrapHandle, key: KeyHandle) -> WrappedKey:
        """Export ``key`` encrypted under ``wrapping`` with RFC 5649.

        AES keys are wrapped raw; EC/Ed25519 private keys as PKCS#8 ``PrivateKeyInfo``.
        Raises :class:`~keyceremony.errors.KeyBackendError` if the key is not extractable or the
        store cannot wrap this key type.
        """

    @abc.abstractmethod
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
        """Import ``wrapped`` into the store as key ``label``.

        Non-extractable by default. ``public_key`` (DER SPKI from the backup package) is
        attached to a recovered EC/Ed25519 key; a token also stores it as a public-key object.
        Raises :class:`~keyceremony.errors.UnwrapError` if the blob does not decrypt under
        ``wrapping`` or does not hold a key of ``wrapped.algorithm``;
        :class:`~keyceremony.errors.LabelInUse` if ``persistent`` and the label is taken;
        :class:`~keyceremony.errors.KeyBackendError` if the store refuses the import.
        """

    @abc.abstractmethod
    def persist(self, key: KeyHandle) -> KeyHandle:
        """Make the session key ``key``, already checked, persistent; return its new handle.

        The persistent key has the same label, id and attributes as ``key`` (sensitive,
        extractable or not, the same capabilities), and its public-key object is made persistent
        after it. ``key`` is destroyed, and only the returned handle is valid afterwards (the
        software store returns ``key`` itself).
        :func:`keyceremony.keys.recovery.recover_key` calls this only after the key's check value
        and canary passed, so a crash leaves no persistent key that was not verified
        (docs/hsm.md, "The recovered key"). Raises ``ValueError`` if ``key`` is already
        persistent, :class:`~keyceremony.errors.KeyBackendError` if the store refuses; then
        nothing persistent is left.
        """

    # --- primitives computed inside the store ----------------------------------------------------

    @abc.abstractmethod
    def _aes_ecb_zero_block(self, key: KeyHandle) -> bytes:
        """AES-ECB(K, 0^16) computed by the store."""

    @abc.abstractmethod
    def _aes_gcm_encrypt(self, key: KeyHandle, nonce: bytes, plaintext: bytes) -> bytes:
        """AES-GCM ciphertext || 16-byte tag, computed by the store."""

    @abc.abstractmethod
    def _aes_gcm_decrypt(self, key: KeyHandle, nonce: bytes, ciphertext: bytes) -> bytes:
        """AES-GCM decryption by the store; raises :class:`CanaryMismatch` on a bad tag."""

    @abc.abstractmethod
    def _sign(self, key: KeyHandle, message: bytes) -> bytes:
        """Sign with the private key in the store: DER ECDSA-SHA256 or raw 64-byte Ed25519."""

    # --- checks, written once for every back end --------------------------------------------

    def key_check_value(self, key: KeyHandle) -> str:
        """The key's check value (kcv.py): AES KCV computed in the store, or the public-key
        fingerprint for EC/Ed25519.

        Raises :class:`~keyceremony.errors.KeyBackendError` if the public key of a private key
        is unknown or the store cannot encrypt with the key.
        """
        self._check_handle(key)
        if key.algorithm.is_symmetric:
            return _kcv.aes_kcv_from_block(self._aes_ecb_zero_block(key))
        if key.public_key is None:
            raise KeyBackendError(
                f"key '{key.label}': its public key is not known, so it has no check value; "
                "pass the public key from the backup package when recovering"
            )
        return _kcv.public_key_fingerprint(key.public_key)

    def make_canary(self, key: KeyHandle, label: str) -> Canary:
        """Encrypt (AES-GCM) or sign (ECDSA/EdDSA) the fixed canary plaintext for ``label``,
        inside the store. Raises :class:`~keyceremony.errors.KeyBackendError` on failure."""
        self._check_handle(key)
        plaintext = canary_plaintext(label)
        if key.algorithm.is_symmetric:
            nonce = self._random(GCM_NONCE_LEN)
            sealed = self._aes_gcm_encrypt(key, nonce, plaintext)
            return Canary(label, "aes-gcm", nonce, sealed, plaintext)
        nonce = self._random(SIGNATURE_NONCE_LEN)
        signature = self._sign(key, plaintext + nonce)
        return Canary(label, "signature", nonce, signature, plaintext)

    def check_canary(self, key: KeyHandle, canary: Canary, public_key: bytes | None) -> None:
        """Prove that ``key`` is the key the canary was made with; return nothing or raise.

        AES: the store decrypts the canary and the plaintext is compared in constant time.
        EC/Ed25519: (1) the canary signature must verify under ``public_key`` (from the backup
        package), and (2) ``key`` signs a fresh random challenge that must verify under the same
        ``public_key`` — together they prove the recovered private key matches the package.

        Raises :class:`~keyceremony.errors.CanaryMismatch` if any check fails.
        """
        self._check_handle(key)
        if canary.kind != key.algorithm.canary_kind:
            raise CanaryMismatch(
                f"key '{key.label}': the canary is of kind '{canary.kind}' but the key is "
                f"{key.algorithm.value}; the backup package is inconsistent"
            )
        if key.algorithm.is_symmetric:
            plaintext = self._aes_gcm_decrypt(key, canary.nonce, canary.ciphertext_or_signature)
            if not hmac.compare_digest(plaintext, canary.plaintext_label):
                raise CanaryMismatch(
                    f"key '{key.label}': the canary decrypted to unexpected text; "
                    "the backup package is damaged or belongs to another key"
                )
            return
        if public_key is None:
            raise CanaryMismatch(
                f"key '{key.label}': no public key was given to check the signature canary"
            )
        try:
            canary_ok = signature_verifies(
                key.algorithm, public_key, canary.signed_message, canary.ciphertext_or_signature
            )
        except ValueError as err:
            raise CanaryMismatch(
                f"key '{key.label}': the public key in the backup package is unusable ({err})"
            ) from None
        if not canary_ok:
            raise CanaryMismatch(
                f"key '{key.label}': the canary signature does not verify with the public key in "
                "the backup package; the package was altered or mixed with another key's"
            )
        challenge = CHALLENGE_PREFIX + self._random(32)
        if not signature_verifies(key.algorithm, public_key, challenge, self._sign(key, challenge)):
            raise CanaryMismatch(
                f"key '{key.label}': the recovered private key does not match the public key in "
                "the backup package (its fresh signature does not verify)"
            )

    # --- helpers for implementations ----------------------------------------------------------

    def _check_handle(self, handle: KeyHandle | WrapHandle) -> None:
        """Raise ``ValueError`` unless ``handle`` is a live handle made by this back end."""
        if getattr(handle, "_owner", None) is not self:
            raise ValueError(f"{handle!r} does not belong to this {self.name} back end")
        if handle.destroyed:
            raise ValueError(f"{handle!r} was destroyed")
