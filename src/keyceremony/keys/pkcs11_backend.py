"""Key back end for any PKCS#11 token (SoftHSM2, YubiHSM 2, nShield, Luna; docs/hsm.md).

This is the only module in the project that imports ``pkcs11`` (python-pkcs11, docs/architecture.md §3).
It costs about 60 ms to import, so callers import this module lazily, inside the command that
needs a token.

Rules this module keeps (docs/hsm.md):

- Tokens are found by **label**, never by slot number (slot ids change when tokens are added).
- Every object is created with an **explicit template**: python-pkcs11's defaults grant every
  capability (ENCRYPT/DECRYPT/WRAP/UNWRAP/SIGN/VERIFY/DERIVE), so each key gets exactly the
  ones listed in docs/hsm.md §"Attribute sets" and all others are set to False.
- The RFC 5649 wrap mechanism is **probed**: ``CKM_AES_KEY_WRAP_KWP`` (PKCS#11 3.x) if the token
  lists it for wrap and unwrap, else ``CKM_AES_KEY_WRAP_PAD`` (SoftHSM2's name for RFC 5649);
  ``wrap_mechanism=`` overrides the probe.
- Every ``pkcs11`` exception becomes a :class:`~keyceremony.errors.HSMError` (or a more specific
  domain error) that names the token, the operation, the mechanism and the ``CKR_`` code.

The PIN is used once, to log in, and is not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from pkcs11 import (
    DEFAULT,
    Attribute,
    GCMParams,
    KeyType,
    Mechanism,
    MechanismFlag,
    ObjectClass,
    TokenFlag,
)
from pkcs11 import exceptions as p11

from keyceremony.errors import (
    CanaryMismatch,
    HSMError,
    KeyCeremonyError,
    KeyNotFound,
    LabelInUse,
    TokenNotFound,
    UnwrapError,
    WrongPin,
)
from keyceremony.keys.backend import KeyBackend, KeyHandle, RandomBytes, WrapHandle
from keyceremony.keys.model import KeyAlgorithm, WrappedKey, check_key_label
from keyceremony.keys.signing import (
    EC_PARAMS_ED25519,
    EC_PARAMS_P256,
    ec_point_from_spki,
    ecdsa_raw_to_der,
    spki_from_ec_point,
)

WRAP_MECHANISMS: dict[str, Mechanism] = {
    "AES_KEY_WRAP_KWP": Mechanism.AES_KEY_WRAP_KWP,  # 0x210B, RFC 5649 in PKCS#11 3.x
    "AES_KEY_WRAP_PAD": Mechanism.AES_KEY_WRAP_PAD,  # 0x210A, RFC 5649 in SoftHSM2 (issue #726)
}
WRAP_PREFERENCE = ("AES_KEY_WRAP_KWP", "AES_KEY_WRAP_PAD")
WRAPPING_KEY_LABEL = "keyceremony backup wrapping key"

_CAPABILITIES = (
    Attribute.ENCRYPT,
    Attribute.DECRYPT,
    Attribute.WRAP,
    Attribute.UNWRAP,
    Attribute.SIGN,
    Attribute.VERIFY,
    Attribute.DERIVE,
)
# Removes python-pkcs11's default capability attributes so only what we list below is sent.
_NO_DEFAULT_CAPABILITIES: dict[Attribute, Any] = {a: DEFAULT for a in _CAPABILITIES}

_EC_KEY_TYPES = {
    KeyAlgorithm.EC_P256: (KeyType.EC, EC_PARAMS_P256, Mechanism.EC_KEY_PAIR_GEN),
    KeyAlgorithm.ED25519: (
        KeyType.EC_EDWARDS,
        EC_PARAMS_ED25519,
        Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
    ),
}
# Errors C_UnwrapKey returns when the blob does not decrypt under the wrapping key. SoftHSM
# 2.6.1 reports a failed RFC 5649 integrity check as CKR_GENERAL_ERROR.
_UNWRAP_INTEGRITY_ERRORS = (
    p11.GeneralError,
    p11.WrappedKeyInvalid,
    p11.WrappedKeyLenRange,
    p11.EncryptedDataInvalid,
    p11.EncryptedDataLenRange,
)
# Errors C_Decrypt(AES_GCM) returns for a wrong key / bad tag (SoftHSM: CKR_GENERAL_ERROR).
_GCM_TAG_ERRORS = (
    p11.GeneralError,
    p11.EncryptedDataInvalid,
    p11.EncryptedDataLenRange,
    p11.FunctionFailed,
)


def secret_key_template(*, token: bool, extractable: bool) -> dict[Attribute, Any]:
    """Attributes of a target AES key (generated or recovered); docs/hsm.md table."""
    return {
        **_NO_DEFAULT_CAPABILITIES,
        Attribute.TOKEN: token,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,  # CKA_VALUE can never be read
        Attribute.EXTRACTABLE: extractable,  # True only to export *wrapped*
        Attribute.ENCRYPT: True,  # KCV (AES-ECB of a zero block) and the GCM canary
        Attribute.DECRYPT: True,  # checking the GCM canary
        Attribute.WRAP: False,
        Attribute.UNWRAP: False,
        Attribute.SIGN: False,
        Attribute.VERIFY: False,
        Attribute.DERIVE: False,
    }


def private_key_template(*, token: bool, extractable: bool) -> dict[Attribute, Any]:
    """Attributes of a target EC/Ed25519 private key; SIGN only."""
    return {
        **_NO_DEFAULT_CAPABILITIES,
        Attribute.TOKEN: token,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: extractable,
        Attribute.SIGN: True,
        Attribute.DECRYPT: False,
        Attribute.UNWRAP: False,
        Attribute.DERIVE: False,
    }


def public_key_template(*, token: bool) -> dict[Attribute, Any]:
    """Attributes of the matching public key; VERIFY only."""
    return {
        **_NO_DEFAULT_CAPABILITIES,
        Attribute.TOKEN: token,
        Attribute.PRIVATE: False,
        Attribute.VERIFY: True,
        Attribute.ENCRYPT: False,
        Attribute.WRAP: False,
        Attribute.DERIVE: False,
    }


def wrapping_key_template(value: bytes, key_id: bytes) -> dict[Attribute, Any]:
    """Attributes of the imported backup wrapping key: a session object for WRAP/UNWRAP only."""
    return {
        Attribute.CLASS: ObjectClass.SECRET_KEY,
        Attribute.KEY_TYPE: KeyType.AES,
        Attribute.VALUE: value,
        Attribute.LABEL: WRAPPING_KEY_LABEL,
        Attribute.ID: key_id,
        Attribute.TOKEN: False,  # gone when the session closes, even after a crash
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.WRAP: True,
        Attribute.UNWRAP: True,
        Attribute.ENCRYPT: False,
        Attribute.DECRYPT: False,
        Attribute.SIGN: False,
        Attribute.VERIFY: False,
        Attribute.DERIVE: False,
    }


def ckr_name(err: BaseException) -> str:
    """``KeyUnextractable`` -> ``CKR_KEY_UNEXTRACTABLE`` (python-pkcs11 names one class per CKR)."""
    return "CKR_" + re.sub(r"(?<!^)(?=[A-Z])", "_", type(err).__name__).upper()


#: A python-pkcs11 object (a key in the token); python-pkcs11 ships no types.
TokenObject = Any


@dataclass(eq=False, repr=False)
class Pkcs11KeyHandle(KeyHandle):
    _owner: object = field(default=None, repr=False)
    _key: TokenObject = field(default=None, repr=False)  # pkcs11 SecretKey or PrivateKey
    _public: TokenObject = field(default=None, repr=False)  # pkcs11 PublicKey or None

    @property
    def token_object(self) -> TokenObject:
        """The pkcs11 SecretKey or PrivateKey; None once destroyed."""
        return self._key

    @property
    def public_object(self) -> TokenObject:
        """The pkcs11 PublicKey stored with a private key, or None."""
        return self._public

    def destroy_objects(self) -> None:
        """Delete the key and its public key from the token (raises pkcs11 errors)."""
        if self._key is not None:
            self._key.destroy()
            self._key = None
        if self._public is not None:
            self._public.destroy()
            self._public = None


@dataclass(eq=False, repr=False)
class Pkcs11WrapHandle(WrapHandle):
    _owner: object = field(default=None, repr=False)
    _key: TokenObject = field(default=None, repr=False)

    @property
    def token_object(self) -> TokenObject:
        """The pkcs11 SecretKey of the imported wrapping key."""
        return self._key


class Pkcs11Backend(KeyBackend):
    """Keys in one PKCS#11 token, opened by label and logged in as the user.

    >>> hsm = Pkcs11Backend("/usr/lib/softhsm/libsofthsm2.so", "root", pin)  # doctest: +SKIP
    >>> hsm.wrap_mechanism  # doctest: +SKIP
    'AES_KEY_WRAP_PAD'

    Raises :class:`~keyceremony.errors.HSMError` if the module cannot be loaded or the token
    offers no RFC 5649 mechanism, :class:`~keyceremony.errors.TokenNotFound` if no token has
    the label, :class:`~keyceremony.errors.WrongPin` if the PIN is refused.
    """

    name = "PKCS#11"

    def __init__(
        self,
        module_path: str,
        token_label: str,
        pin: str,
        *,
        wrap_mechanism: str | None = None,
        random_bytes: RandomBytes = os.urandom,
    ) -> None:
        super().__init__(random_bytes=random_bytes)
        self.module_path = module_path
        self.token_label = token_label
        self._session: Any = None
        self._wraps: list[Pkcs11WrapHandle] = []
        try:
            self._lib = pkcs11.lib(module_path)
        except p11.PKCS11Error as err:
            raise HSMError(
                f"cannot load the PKCS#11 module '{module_path}': {err}. Check the path "
                "(SoftHSM2: /usr/lib/softhsm/libsofthsm2.so) and that the vendor client "
                "is installed."
            ) from err
        self._token = self._find_token(token_label)
        self._wrap_mechanism_name = self._choose_wrap_mechanism(wrap_mechanism)
        self._session = self._login(pin)

    # --- opening ------------------------------------------------------------------------------

    def _find_token(self, label: str) -> Any:
        present: list[str] = []
        matches = []
        with self.errors("listing the tokens of the module"):
            for slot in self._lib.get_slots(token_present=True):
                try:
                    token = slot.get_token()
                except (p11.TokenNotPresent, p11.TokenNotRecognised):
                    continue
                if not token.flags & TokenFlag.TOKEN_INITIALIZED:
                    continue  # SoftHSM2 always shows one empty, uninitialised slot
                present.append(token.label)
                if token.label == label:
                    matches.append(token)
        if not matches:
            listed = ", ".join(f"'{p}'" for p in sorted(present)) or "none"
            raise TokenNotFound(
                f"no token labelled '{label}' in PKCS#11 module '{self.module_path}' "
                f"(tokens present: {listed}). Check the label, that the HSM is connected, "
                "and for SoftHSM2 that SOFTHSM2_CONF points at the right configuration.",
                label=label,
                present=tuple(sorted(present)),
            )
        if len(matches) > 1:
            raise HSMError(
                f"{len(matches)} tokens are labelled '{label}' in '{self.module_path}'; "
                "give each token a distinct label before the ceremony"
            )
        return matches[0]

    def _choose_wrap_mechanism(self, override: str | None) -> str:
        if override is not None:
            name = override.upper().removeprefix("CKM_")
            if name not in WRAP_MECHANISMS:
                raise ValueError(
                    f"wrap mechanism must be one of {', '.join(WRAP_MECHANISMS)}, not {override!r}"
                )
            return name
        with self.errors("listing the token's mechanisms"):
            slot = self._token.slot
            offered = slot.get_mechanisms()
            for name in WRAP_PREFERENCE:
                mech = WRAP_MECHANISMS[name]
                if mech in offered:
                    flags = slot.get_mechanism_info(mech).flags
                    if flags & MechanismFlag.WRAP and flags & MechanismFlag.UNWRAP:
                        return name
        raise HSMError(
            f"token '{self.token_label}' offers no RFC 5649 key wrap mechanism for wrap and "
            "unwrap (looked for CKM_AES_KEY_WRAP_KWP, then CKM_AES_KEY_WRAP_PAD). If the vendor "
            "documents RFC 5649 under one of these names, pass it as the wrap mechanism "
            "override; see docs/hsm.md."
        )

    def _login(self, pin: str) -> Any:
        label = self.token_label
        try:
            return self._token.open(rw=True, user_pin=pin)
        except p11.PinLocked as err:
            raise WrongPin(
                f"the user PIN of token '{label}' is locked after too many wrong attempts; "
                "the security officer must unlock or reset it"
            ) from err
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange) as err:
            flags = self._token_flags()
            if flags & TokenFlag.USER_PIN_FINAL_TRY:
                warning = "one more wrong PIN will lock the token"
            elif flags & TokenFlag.USER_PIN_COUNT_LOW:
                # CKF_USER_PIN_COUNT_LOW only says a wrong PIN was entered since the last good one
                # (SoftHSM2 2.6.1 sets it after the first); it does not count what is left.
                warning = ("the token reports an earlier wrong PIN, and after a few failures (the number is "
                           "vendor-specific) it may lock")
            else:
                warning = "after a few failures (the number is vendor-specific) it may lock"
            raise WrongPin(
                f"the PIN for token '{label}' was refused; check it; {warning} "
                f"({ckr_name(err)})"
            ) from err
        except p11.UserAlreadyLoggedIn as err:
            raise HSMError(
                f"token '{label}' is already logged in by another session of this program; "
                "close the other back end for this token first"
            ) from err
        except p11.PKCS11Error as err:
            raise HSMError(
                f"token '{label}': opening a read/write session and logging in failed "
                f"({ckr_name(err)})"
            ) from err

    def _token_flags(self) -> int:
        try:
            return int(self._token.slot.get_token().flags)
        except p11.PKCS11Error:
            return 0

    # --- public properties --------------------------------------------------------------------

    @property
    def wrap_mechanism(self) -> str:
        """Name of the PKCS#11 mechanism used for RFC 5649: AES_KEY_WRAP_KWP or _PAD."""
        return self._wrap_mechanism_name

    @property
    def manufacturer(self) -> str:
        return str(self._lib.manufacturer_id)

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            for handle in self._wraps:
                if not handle.destroyed:
                    with contextlib.suppress(p11.PKCS11Error):
                        handle.token_object.destroy()
                    handle.destroyed = True
            self._wraps.clear()
        finally:
            with self.errors("logging out and closing the session"):
                session.close()  # C_Logout + C_CloseSession; session objects vanish

    # --- keys ---------------------------------------------------------------------------------

    def generate(
        self, label: str, algorithm: KeyAlgorithm, *, extractable_wrapped: bool = True
    ) -> KeyHandle:
        self._check_free(label)
        key_id = self._random(16)
        if algorithm.is_symmetric:
            with self.errors(f"generating {algorithm.value} key '{label}'", "CKM_AES_KEY_GEN"):
                key = self._s.generate_key(
                    KeyType.AES,
                    algorithm.key_bits,
                    id=key_id,
                    label=label,
                    store=True,
                    template=secret_key_template(token=True, extractable=extractable_wrapped),
                )
            return self._handle(label, algorithm, key, None, None, True, extractable_wrapped)
        key_type, ec_params, mechanism = _EC_KEY_TYPES[algorithm]
        with self.errors(f"generating {algorithm.value} key pair '{label}'", mechanism.name):
            params = self._s.create_domain_parameters(
                key_type, {Attribute.EC_PARAMS: ec_params}, local=True
            )
            public, private = params.generate_keypair(
                id=key_id,
                label=label,
                store=True,
                mechanism=mechanism,
                public_template=public_key_template(token=True),
                private_template=private_key_template(token=True, extractable=extractable_wrapped),
            )
        spki = self._spki_of(public, algorithm, label)
        return self._handle(label, algorithm, private, public, spki, True, extractable_wrapped)

    def find(self, label: str, *, algorithm: KeyAlgorithm | None = None) -> KeyHandle:
        with self.errors(f"searching for key '{label}'"):
            objects = list(self._s.get_objects({Attribute.LABEL: label}))
            by_class: dict[ObjectClass, list[Any]] = {}
            for obj in objects:
                by_class.setdefault(obj[Attribute.CLASS], []).append(obj)
        secrets = by_class.get(ObjectClass.SECRET_KEY, [])
        privates = by_class.get(ObjectClass.PRIVATE_KEY, [])
        publics = by_class.get(ObjectClass.PUBLIC_KEY, [])
        if len(secrets) + len(privates) == 0:
            raise KeyNotFound(
                f"token '{self.token_label}' holds no secret or private key labelled '{label}'"
                + (" (only a public key)" if publics else "")
            )
        if len(secrets) + len(privates) > 1 or len(publics) > 1:
            raise HSMError(
                f"token '{self.token_label}' holds {len(objects)} objects labelled '{label}'; "
                "the label is ambiguous, so the key to back up cannot be chosen safely"
            )
        key = (secrets or privates)[0]
        with self.errors(f"reading the attributes of key '{label}'"):
            algorithm = self._algorithm_of(key, label, algorithm)
            persistent = bool(key[Attribute.TOKEN])
            extractable = bool(key[Attribute.EXTRACTABLE])
        public = publics[0] if publics else None
        spki = self._spki_of(public, algorithm, label) if public is not None else None
        return self._handle(label, algorithm, key, public, spki, persistent, extractable)

    def count_objects(self, label: str) -> int:
        with self.errors(f"counting objects labelled '{label}'"):
            return sum(1 for _ in self._s.get_objects({Attribute.LABEL: label}))

    def key_attributes(self, key: KeyHandle) -> dict[str, bool]:
        """The boolean PKCS#11 attributes of a key (for transcripts and tests); never values."""
        self._check_handle(key)
        assert isinstance(key, Pkcs11KeyHandle)
        names = (
            "TOKEN", "PRIVATE", "SENSITIVE", "EXTRACTABLE", "ALWAYS_SENSITIVE",
            "NEVER_EXTRACTABLE", "LOCAL", "ENCRYPT", "DECRYPT", "WRAP", "UNWRAP", "SIGN",
            "VERIFY", "DERIVE", "WRAP_WITH_TRUSTED", "MODIFIABLE",
        )  # fmt: skip
        result: dict[str, bool] = {}
        for name in names:
            try:
                result[name] = bool(key.token_object[Attribute[name]])
            except p11.PKCS11Error:  # not defined for this object class / token
                continue
        return result

    def destroy(self, handle: KeyHandle | WrapHandle) -> None:
        if handle.destroyed:
            return
        self._check_handle(handle)
        if isinstance(handle, Pkcs11WrapHandle):
            with self.errors("destroying the wrapping key"):
                handle.token_object.destroy()
            handle.destroyed = True
            return
        assert isinstance(handle, Pkcs11KeyHandle)
        with self.errors(f"deleting key '{handle.label}'"):
            handle.destroy_objects()
        handle.destroyed = True

    # --- wrapping -----------------------------------------------------------------------------

    def import_wrapping_key(self, key_bytes: bytearray) -> WrapHandle:
        if len(key_bytes) not in (16, 24, 32):
            raise ValueError("the wrapping key is an AES key of 16, 24 or 32 bytes")
        # python-pkcs11 needs an immutable bytes copy; it is dropped right after C_CreateObject.
        template = wrapping_key_template(bytes(key_bytes), self._random(16))
        try:
            with self.errors("importing the backup wrapping key (C_CreateObject)"):
                obj = self._s.create_object(template)
        finally:
            template.clear()
        handle = Pkcs11WrapHandle(key_bits=8 * len(key_bytes), _owner=self, _key=obj)
        self._wraps.append(handle)
        return handle

    def wrap(self, wrapping: WrapHandle, key: KeyHandle) -> WrappedKey:
        self._check_handle(wrapping)
        self._check_handle(key)
        assert isinstance(wrapping, Pkcs11WrapHandle) and isinstance(key, Pkcs11KeyHandle)
        mech = self._wrap_mechanism_name
        try:
            blob = wrapping.token_object.wrap_key(key.token_object, mechanism=WRAP_MECHANISMS[mech])
        except p11.KeyUnextractable as err:
            raise HSMError(
                f"token '{self.token_label}' refuses to export key '{key.label}' even wrapped: "
                "it is not extractable (CKA_EXTRACTABLE=False). A key generated or recovered "
                "as non-extractable cannot be backed up again."
            ) from err
        except p11.KeyNotWrappable as err:
            raise HSMError(
                f"token '{self.token_label}' cannot wrap the {key.algorithm.value} key "
                f"'{key.label}' with CKM_{mech} ({ckr_name(err)})." + self._wrap_hint(key.algorithm)
            ) from err
        except p11.PKCS11Error as err:
            raise HSMError(
                f"token '{self.token_label}': wrapping key '{key.label}' with CKM_{mech} failed "
                f"({ckr_name(err)})"
            ) from err
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
        self._check_handle(wrapping)
        assert isinstance(wrapping, Pkcs11WrapHandle)
        self._check_free(label)
        algorithm = wrapped.algorithm
        point = None
        if public_key is not None:
            if algorithm.is_symmetric:
                raise ValueError("an AES key has no public key")
            point = ec_point_from_spki(algorithm, public_key)  # ValueError if unusable
        mech = self._wrap_mechanism_name
        key_id = self._random(16)
        if algorithm.is_symmetric:
            object_class, key_type = ObjectClass.SECRET_KEY, KeyType.AES
            template = secret_key_template(token=persistent, extractable=extractable)
        else:
            object_class, key_type = ObjectClass.PRIVATE_KEY, _EC_KEY_TYPES[algorithm][0]
            template = private_key_template(token=persistent, extractable=extractable)
        try:
            key = wrapping.token_object.unwrap_key(
                object_class,
                key_type,
                wrapped.blob,
                id=key_id,
                label=label,
                mechanism=WRAP_MECHANISMS[mech],
                store=persistent,
                template=template,
            )
        except _UNWRAP_INTEGRITY_ERRORS as err:
            raise UnwrapError(
                f"token '{self.token_label}' could not unwrap the {algorithm.value} key "
                f"({ckr_name(err)} from C_UnwrapKey with CKM_{mech}): the wrapping key is wrong "
                "(shares or cards from another ceremony) or the backup package is damaged"
            ) from err
        except p11.PKCS11Error as err:
            raise HSMError(
                f"token '{self.token_label}': importing the {algorithm.value} key '{label}' "
                f"with C_UnwrapKey/CKM_{mech} failed ({ckr_name(err)})."
                + self._wrap_hint(algorithm)
            ) from err
        public = None
        if point is not None:
            try:
                public = self._create_public_key(algorithm, point, label, key_id, persistent)
            except BaseException:
                with contextlib.suppress(p11.PKCS11Error):
                    key.destroy()  # nothing half-imported
                raise
        return self._handle(label, algorithm, key, public, public_key, persistent, extractable)

    def persist(self, key: KeyHandle) -> KeyHandle:
        """See :meth:`KeyBackend.persist`: ``C_CopyObject`` with only ``CKA_TOKEN=True``.

        The copy keeps every other attribute of the session object (label, id, SENSITIVE,
        EXTRACTABLE, the capabilities); they are read back and compared with the template, and
        a copy that differs is deleted (HSMError). The private key is copied before its public
        key. The session objects are deleted afterwards.
        """
        self._check_handle(key)
        assert isinstance(key, Pkcs11KeyHandle)
        if key.persistent:
            raise ValueError(f"{key!r} is already persistent")
        label = key.label
        copies: list[Any] = []
        try:
            with self.errors(f"storing the checked key '{label}' in the token (C_CopyObject)"):
                token_key = key.token_object.copy({Attribute.TOKEN: True})
                copies.append(token_key)
                self._check_copy(token_key, label, key.algorithm, key.extractable)
                token_public = None
                if key.public_object is not None:
                    token_public = key.public_object.copy({Attribute.TOKEN: True})
                    copies.append(token_public)
            self.destroy(key)  # the session objects; they would vanish with the session anyway
        except BaseException:
            for obj in reversed(copies):
                with contextlib.suppress(p11.PKCS11Error):
                    obj.destroy()  # nothing persistent is left
            raise
        return self._handle(label, key.algorithm, token_key, token_public, key.public_key, True, key.extractable)

    def _check_copy(self, obj: Any, label: str, algorithm: KeyAlgorithm, extractable: bool) -> None:
        """Raise HSMError unless the token copy ``obj`` has the attributes of the template."""
        if algorithm.is_symmetric:
            template = secret_key_template(token=True, extractable=extractable)
        else:
            template = private_key_template(token=True, extractable=extractable)
        expected = {a: v for a, v in template.items() if v is not DEFAULT}
        expected[Attribute.LABEL] = label
        wrong = [a.name for a, v in expected.items() if obj[a] != v]
        if wrong:
            raise HSMError(
                f"token '{self.token_label}': the persistent copy of key '{label}' made with "
                f"C_CopyObject does not keep the attributes {', '.join(sorted(wrong))}; the copy "
                "was deleted. See docs/hsm.md, \"The recovered key\"."
            )

    # --- primitives computed inside the token ---------------------------------------------------

    def _aes_ecb_zero_block(self, key: KeyHandle) -> bytes:
        k = self._key_of(key)
        with self.errors(f"computing the check value of key '{key.label}'", "CKM_AES_ECB"):
            return bytes(k.encrypt(bytes(16), mechanism=Mechanism.AES_ECB))

    def _aes_gcm_encrypt(self, key: KeyHandle, nonce: bytes, plaintext: bytes) -> bytes:
        k = self._key_of(key)
        with self.errors(f"encrypting the canary with key '{key.label}'", "CKM_AES_GCM"):
            return bytes(
                k.encrypt(plaintext, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce))
            )

    def _aes_gcm_decrypt(self, key: KeyHandle, nonce: bytes, ciphertext: bytes) -> bytes:
        k = self._key_of(key)
        try:
            return bytes(
                k.decrypt(ciphertext, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce))
            )
        except _GCM_TAG_ERRORS as err:
            raise CanaryMismatch(
                f"key '{key.label}': token '{self.token_label}' cannot decrypt the canary with "
                f"this key ({ckr_name(err)}, AES-GCM tag mismatch); it is not the key that was "
                "backed up"
            ) from err
        except p11.PKCS11Error as err:
            raise HSMError(
                f"token '{self.token_label}': decrypting the canary with key '{key.label}' "
                f"(CKM_AES_GCM) failed ({ckr_name(err)})"
            ) from err

    def _sign(self, key: KeyHandle, message: bytes) -> bytes:
        k = self._key_of(key)
        if key.algorithm is KeyAlgorithm.EC_P256:
            # SoftHSM2 has no CKM_ECDSA_SHA256: hash here, sign raw, convert r||s to DER.
            digest = hashlib.sha256(message).digest()
            with self.errors(f"signing with key '{key.label}'", "CKM_ECDSA"):
                raw = bytes(k.sign(digest, mechanism=Mechanism.ECDSA))
            return ecdsa_raw_to_der(raw)
        if key.algorithm is KeyAlgorithm.ED25519:
            with self.errors(f"signing with key '{key.label}'", "CKM_EDDSA"):
                return bytes(k.sign(message, mechanism=Mechanism.EDDSA))
        raise ValueError(f"key '{key.label}' is not a signing key")

    # --- for the ceremony key (keys/pkcs11_signer.py), which may not import pkcs11 itself --------

    def generate_ed25519_pair(self, label: str, operation: str) -> tuple[TokenObject, TokenObject]:
        """A new Ed25519 key pair ``label`` in the token, as (public, private) token objects:
        the private key sensitive, never extractable, SIGN only. Raises LabelInUse, HSMError."""
        self._check_free(label)
        template = {**private_key_template(token=True, extractable=False)}
        with self.errors(operation, "CKM_EC_EDWARDS_KEY_PAIR_GEN"):
            params = self._s.create_domain_parameters(
                KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: EC_PARAMS_ED25519}, local=True
            )
            public, private = params.generate_keypair(
                id=self._random(16),
                label=label,
                store=True,
                mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                public_template=public_key_template(token=True),
                private_template=template,
            )
        return public, private

    def key_pair_objects(self, label: str, operation: str) -> tuple[list[TokenObject], list[TokenObject]]:
        """The (private keys, public keys) labelled ``label`` in the token."""
        with self.errors(operation):
            objects = list(self._s.get_objects({Attribute.LABEL: label}))
            private = [o for o in objects if o[Attribute.CLASS] == ObjectClass.PRIVATE_KEY]
            public = [o for o in objects if o[Attribute.CLASS] == ObjectClass.PUBLIC_KEY]
        return private, public

    def ed25519_public_key(self, public: TokenObject, label: str) -> bytes:
        """The raw 32 bytes of the Ed25519 public key object ``public``; HSMError if unusable."""
        with self.errors(f"reading the public key of '{label}'"):
            raw = bytes(public[Attribute.EC_POINT])
        if len(raw) == 34 and raw[:2] == b"\x04\x20":  # DER OCTET STRING, as PKCS#11 specifies
            raw = raw[2:]
        if len(raw) != 32:
            raise HSMError(f"token '{self.token_label}' returned an unusable Ed25519 public key for '{label}'")
        return raw

    def eddsa_sign(self, private: TokenObject, message: bytes, operation: str) -> bytes:
        """Pure Ed25519 (CKM_EDDSA) signature of ``message`` by the token object ``private``."""
        with self.errors(operation, "CKM_EDDSA"):
            return bytes(private.sign(bytes(message), mechanism=Mechanism.EDDSA))

    def token_info(self) -> dict[str, str]:
        """Public facts about the token and module, for the preflight record."""
        token, lib = self._token, self._lib

        def version(v: Any) -> str:
            try:
                return ".".join(str(part) for part in tuple(v))
            except TypeError:
                return str(v)

        serial = token.serial.decode("ascii", "replace") if isinstance(token.serial, bytes) else token.serial
        return {
            "module": self.module_path,
            "library": f"{lib.manufacturer_id} {lib.library_description} {version(lib.library_version)}".strip(),
            "cryptoki_version": version(lib.cryptoki_version),
            "token_label": str(token.label),
            "token_manufacturer": str(token.manufacturer_id),
            "token_model": str(token.model),
            "token_serial": str(serial),
            "token_firmware": version(token.firmware_version),
            "wrap_mechanism": "CKM_" + self.wrap_mechanism,
        }

    # --- internals ----------------------------------------------------------------------------

    @property
    def _s(self) -> Any:
        if self._session is None:
            raise ValueError(f"the back end for token '{self.token_label}' is closed")
        return self._session

    @contextlib.contextmanager
    def errors(self, operation: str, mechanism: str | None = None) -> Iterator[None]:
        """Turn any ``pkcs11`` error into an HSMError naming token, operation and mechanism."""
        try:
            yield
        except KeyCeremonyError:
            raise
        except p11.PKCS11Error as err:
            mech = f" with CKM_{mechanism.removeprefix('CKM_')}" if mechanism else ""
            raise HSMError(
                f"token '{self.token_label}': {operation}{mech} failed ({ckr_name(err)})"
            ) from err

    def _wrap_hint(self, algorithm: KeyAlgorithm) -> str:
        if algorithm is KeyAlgorithm.ED25519 and "softhsm" in self.manufacturer.lower():
            return (
                " SoftHSM2 2.6.x cannot wrap or unwrap Ed25519 private keys (its C_WrapKey and "
                "C_UnwrapKey handle RSA, DSA, DH, EC and GOST only); use a newer SoftHSM2, "
                "another token, or the software back end for Ed25519."
            )
        return " See docs/hsm.md for what this token supports."

    def _handle(
        self,
        label: str,
        algorithm: KeyAlgorithm,
        key: Any,
        public: Any,
        spki: bytes | None,
        persistent: bool,
        extractable: bool,
    ) -> Pkcs11KeyHandle:
        return Pkcs11KeyHandle(
            label=label,
            algorithm=algorithm,
            public_key=spki,
            persistent=persistent,
            extractable=extractable,
            _owner=self,
            _key=key,
            _public=public,
        )

    def _key_of(self, key: KeyHandle) -> Any:
        self._check_handle(key)
        assert isinstance(key, Pkcs11KeyHandle)
        return key.token_object

    def _check_free(self, label: str) -> None:
        check_key_label(label)
        if self.count_objects(label):
            raise LabelInUse(
                f"token '{self.token_label}' already holds an object labelled '{label}'; "
                "choose another label or delete the old key first"
            )

    def _algorithm_of(self, key: Any, label: str, expected: KeyAlgorithm | None) -> KeyAlgorithm:
        key_type = key[Attribute.KEY_TYPE]
        found: KeyAlgorithm | None = None
        if key_type == KeyType.AES:
            length = int(key[Attribute.VALUE_LEN])
            if length == 0 and expected is not None and expected.is_symmetric:
                found = expected  # SoftHSM 2.6 leaves CKA_VALUE_LEN at 0 after C_UnwrapKey
            elif length == 0:
                raise HSMError(
                    f"token '{self.token_label}' does not report the length of AES key "
                    f"'{label}' (CKA_VALUE_LEN is 0, as SoftHSM 2.6 leaves it for unwrapped "
                    "keys); say which AES algorithm the key is"
                )
            else:
                found = KeyAlgorithm.aes(length)
        elif key_type in (KeyType.EC, KeyType.EC_EDWARDS):
            params = bytes(key[Attribute.EC_PARAMS])
            if key_type == KeyType.EC and params == EC_PARAMS_P256:
                found = KeyAlgorithm.EC_P256
            if key_type == KeyType.EC_EDWARDS and params == EC_PARAMS_ED25519:
                found = KeyAlgorithm.ED25519
        if found is None:
            raise HSMError(
                f"key '{label}' in token '{self.token_label}' is a {key_type!r} key this tool "
                "does not back up (supported: AES, EC P-256, Ed25519)"
            )
        if expected is not None and found is not expected:
            raise HSMError(
                f"key '{label}' in token '{self.token_label}' is {found.value}, "
                f"not {expected.value}"
            )
        return found

    def _spki_of(self, public: Any, algorithm: KeyAlgorithm, label: str) -> bytes:
        with self.errors(f"reading the public key of '{label}'"):
            raw = bytes(public[Attribute.EC_POINT])
        size = 65 if algorithm is KeyAlgorithm.EC_P256 else 32
        # CKA_EC_POINT is a DER OCTET STRING per PKCS#11; some modules return the bare point.
        if len(raw) == size + 2 and raw[0] == 0x04 and raw[1] == size:
            raw = raw[2:]
        try:
            return spki_from_ec_point(algorithm, raw)
        except ValueError as err:
            raise HSMError(
                f"token '{self.token_label}' returned an unusable public key for '{label}': {err}"
            ) from None

    def _create_public_key(
        self, algorithm: KeyAlgorithm, point: bytes, label: str, key_id: bytes, persistent: bool
    ) -> Any:
        key_type, ec_params, _ = _EC_KEY_TYPES[algorithm]
        attrs = {
            Attribute.CLASS: ObjectClass.PUBLIC_KEY,
            Attribute.KEY_TYPE: key_type,
            Attribute.EC_PARAMS: ec_params,
            Attribute.EC_POINT: bytes([0x04, len(point)]) + point,  # DER OCTET STRING
            Attribute.LABEL: label,
            Attribute.ID: key_id,
            **public_key_template(token=persistent),
        }
        attrs = {k: v for k, v in attrs.items() if v is not DEFAULT}
        with self.errors(f"storing the public key of '{label}' (C_CreateObject)"):
            return self._s.create_object(attrs)


def token_info(backend: Pkcs11Backend) -> dict[str, str]:
    """Public facts about the back end's token and module, for the preflight record."""
    return backend.token_info()
