"""The ceremony key: what signs the transcript, and how people recognise it (docs/transcript.md §3, §6).

Each ceremony has its own Ed25519 key (RFC 8032). With an HSM it is made inside the token and
never leaves it; without one, :class:`SoftSigner` holds it in memory. The transcript writer
talks to either through the small :class:`Signer` protocol, so an HSM signer (a later
``keys.pkcs11_backend`` adapter) only has to implement three members.

The key's *fingerprint* is printed on every card and on the transcript report, and read aloud
as 16 PGP words at the ceremony, the way share-set fingerprints are (docs/share-format.md §4):

    fingerprint = SHA-256("keyceremony ceremony key fingerprint v1" || 0x00 || public_key)[:16]

>>> signer = SoftSigner.generate(randbytes=lambda n: bytes(n))   # never use fixed bytes for real
>>> format_fingerprint(signer.fingerprint)
'BB9A 27CB C3E0 EF83 5460 CD0D B51C 635E'
>>> signer.destroy()
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, Protocol, runtime_checkable

from keyceremony.codec.fingerprint import FINGERPRINT_LEN, format_fingerprint
from keyceremony.errors import SignerUnavailable

if TYPE_CHECKING:  # imported when a key is made, so that importing this module stays cheap
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PUBLIC_KEY_LEN = 32
SIGNATURE_LEN = 64
FINGERPRINT_CONTEXT = b"keyceremony ceremony key fingerprint v1\x00"

RandomBytes = Callable[[int], bytes]


@runtime_checkable
class Signer(Protocol):
    """Signs transcript entries with the ceremony's Ed25519 key.

    ``public_key`` is the raw 32-byte Ed25519 public key (RFC 8032 §5.1.5). ``sign`` returns
    the 64-byte Ed25519 signature of ``message`` (pure Ed25519, not Ed25519ph) and raises
    :class:`~keyceremony.errors.SignerUnavailable` once the key is destroyed. ``destroy`` deletes
    the private key for good (an HSM signer destroys the token object); the transcript writer
    calls it right after the seal entry is on disk, which is what makes a sealed transcript
    final (docs/transcript.md §6). ``destroy`` must be idempotent.
    """

    @property
    def public_key(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...

    def destroy(self) -> None: ...


class SoftSigner:
    """An Ed25519 ceremony key held in memory, made from injected randomness.

    For rehearsals, tests and ceremonies without an HSM. The key lives only in this object: it
    is never written anywhere, cannot be pickled or copied, and is gone when the process ends.
    A transcript whose soft key was lost in a crash is resumed with a new key as a new segment
    (docs/transcript.md §7).

    Wiping: the 32-byte seed is read into a ``bytearray`` and overwritten as soon as
    ``cryptography`` has made its own key object; ``destroy`` drops that object, and OpenSSL
    clears the key when it is freed (Python cannot overwrite it earlier; docs/core.md §6).
    """

    __slots__ = ("_key", "_public_key")

    def __init__(self, private_key: Ed25519PrivateKey, public_key: bytes) -> None:  # use generate()
        self._key: Ed25519PrivateKey | None = private_key
        self._public_key = public_key

    @classmethod
    def generate(cls, *, randbytes: RandomBytes = os.urandom) -> SoftSigner:
        """A new key from 32 bytes of ``randbytes`` (``os.urandom`` unless a test injects one)."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        seed = bytearray(randbytes(32))
        try:
            if len(seed) != 32:
                raise ValueError("randbytes(32) must return 32 bytes")
            key = Ed25519PrivateKey.from_private_bytes(bytes(seed))
        finally:
            seed[:] = bytes(len(seed))
        return cls(key, key.public_key().public_bytes_raw())

    @property
    def public_key(self) -> bytes:
        return self._public_key

    @property
    def fingerprint(self) -> bytes:
        return key_fingerprint(self._public_key)

    @property
    def destroyed(self) -> bool:
        return self._key is None

    def sign(self, message: bytes) -> bytes:
        if self._key is None:
            raise SignerUnavailable(
                f"the ceremony key {format_fingerprint(self.fingerprint)} was destroyed when the "
                "ceremony was sealed; nothing more can be signed with it"
            )
        return self._key.sign(bytes(message))

    def destroy(self) -> None:
        self._key = None

    def __repr__(self) -> str:
        state = "destroyed" if self._key is None else "live"
        return f"SoftSigner({format_fingerprint(self.fingerprint)}, {state})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the ceremony key cannot be pickled or copied: it must never be written anywhere")


def signature_verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True iff ``signature`` is a valid Ed25519 signature of ``message`` under ``public_key``.

    A bool, not an exception, because callers turn a failure into an error that names the entry.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), bytes(message))
    except (InvalidSignature, ValueError):
        return False
    return True


def key_fingerprint(public_key: bytes) -> bytes:
    """The 16-byte fingerprint of a ceremony key (module docstring)."""
    if len(public_key) != PUBLIC_KEY_LEN:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(FINGERPRINT_CONTEXT + bytes(public_key)).digest()[:FINGERPRINT_LEN]
