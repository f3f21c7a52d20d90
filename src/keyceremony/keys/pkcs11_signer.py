"""The ceremony's transcript key inside a PKCS#11 token (docs/transcript.md §6.2, docs/ceremony-guide.md §6).

Everything that talks to the token goes through the back end it is given,
:class:`~keyceremony.keys.pkcs11_backend.Pkcs11Backend`, the only module that imports ``pkcs11``;
this module holds the key's life cycle only and loads no outside library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from keyceremony.errors import HSMError

if TYPE_CHECKING:  # importing the back end loads pkcs11 (~60 ms); a signer is handed one
    from keyceremony.keys.pkcs11_backend import Pkcs11Backend, TokenObject

CEREMONY_KEY_LABEL_PREFIX = "keyceremony ceremony key "


def ceremony_key_label(ceremony_id: str) -> str:
    """The token label of a ceremony's transcript key: one per ceremony, found again on resume."""
    return CEREMONY_KEY_LABEL_PREFIX + ceremony_id


class Pkcs11Signer:
    """The ceremony's Ed25519 transcript key, made and kept inside the token.

    Implements the :class:`~keyceremony.transcript.signer.Signer` protocol: ``public_key`` (raw 32 bytes),
    ``sign`` (``CKM_EDDSA``, pure Ed25519) and ``destroy`` (deletes both token objects). The
    private key is a token object (it survives a crash, so a resumed ceremony keeps its key),
    sensitive, never extractable, SIGN only; it uses the back end's logged-in session, so the
    back end must stay open while the ceremony runs. SoftHSM2 2.6.1 supports
    ``CKM_EC_EDWARDS_KEY_PAIR_GEN`` and ``CKM_EDDSA`` (docs/hsm.md).
    """

    def __init__(
        self, backend: Pkcs11Backend, label: str, private: TokenObject, public: TokenObject, public_key: bytes
    ) -> None:
        self._backend = backend  # use generate() or find()
        self.label = label
        self._private = private
        self._public = public
        self._public_key = public_key

    @classmethod
    def generate(cls, backend: Pkcs11Backend, label: str) -> Pkcs11Signer:
        """A new Ed25519 key pair ``label`` in the token. Raises LabelInUse, HSMError."""
        public, private = backend.generate_ed25519_pair(label, f"generating the ceremony key '{label}'")
        return cls(backend, label, private, public, backend.ed25519_public_key(public, label))

    @classmethod
    def find(cls, backend: Pkcs11Backend, label: str) -> Pkcs11Signer | None:
        """The key pair ``label`` if the token holds it (after a crash), else None."""
        private, public = backend.key_pair_objects(label, f"searching for the ceremony key '{label}'")
        if not private or not public:
            return None
        if len(private) > 1 or len(public) > 1:
            raise HSMError(f"token '{backend.token_label}' holds more than one ceremony key labelled '{label}'")
        return cls(backend, label, private[0], public[0], backend.ed25519_public_key(public[0], label))

    @property
    def public_key(self) -> bytes:
        return self._public_key

    @property
    def destroyed(self) -> bool:
        return self._private is None

    def sign(self, message: bytes) -> bytes:
        from keyceremony.errors import SignerUnavailable

        if self._private is None:
            raise SignerUnavailable(f"the ceremony key '{self.label}' was destroyed when the ceremony was sealed")
        return self._backend.eddsa_sign(self._private, message, f"signing a transcript entry with '{self.label}'")

    def destroy(self) -> None:
        if self._private is None:
            return
        with self._backend.errors(f"destroying the ceremony key '{self.label}'"):
            self._private.destroy()
            self._private = None
            if self._public is not None:
                self._public.destroy()
                self._public = None

    def __repr__(self) -> str:
        return f"Pkcs11Signer({self.label!r}, {'destroyed' if self._private is None else 'live'})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the ceremony key cannot be pickled or copied")
