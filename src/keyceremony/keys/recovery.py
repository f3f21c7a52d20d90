"""Back up a key under a wrapping key, and recover it with every check, on any back end.

Both functions take the wrapping key as a ``bytearray`` and wipe it before returning or
raising. Both back ends (software and PKCS#11) go through exactly these steps, so the checks
cannot drift apart:

backup  = import wrapping key -> wrap (RFC 5649) -> KCV -> canary -> self-check the canary ->
          restore test (unwrap a temporary, non-persistent copy, check KCV and canary, delete it)
recover = check the package is consistent -> import wrapping key -> unwrap as a session
          (non-persistent) object -> KCV -> canary -> only then make it persistent
          (:meth:`KeyBackend.persist`, C_CopyObject in a token) -> KCV of the persistent copy;
          if any check fails the unwrapped key is deleted before the error is raised
          ("nothing left half-imported"). A crash at any point leaves either no persistent key
          or a verified one: session objects die with the session (docs/hsm.md, "The recovered
          key").

>>> from keyceremony.keys.soft import SoftBackend
>>> with SoftBackend() as a, SoftBackend() as b:
...     kek = a.generate("root-kek", KeyAlgorithm.AES256)
...     wk = bytearray(range(32))  # a real ceremony uses a random wrapping key
...     wrapped, info, canary = backup_key(a, kek, bytearray(wk))
...     back = recover_key(b, wk, wrapped, info.key_check_value, canary, None, "root-kek")
...     b.key_check_value(back) == info.key_check_value, wk == bytearray(32)
(True, True)
"""

from __future__ import annotations

from keyceremony.errors import CanaryMismatch, KeyBackendError, KeyCeremonyError, KeyCheckMismatch
from keyceremony.keys import kcv as _kcv
from keyceremony.keys.backend import KeyBackend, KeyHandle, WrapHandle, wipe
from keyceremony.keys.model import Canary, KeyAlgorithm, KeyInfo, WrappedKey
from keyceremony.keys.signing import load_public_key

RESTORE_TEST_LABEL = "keyceremony restore test"
"""Label of the temporary session copy unwrapped by :func:`backup_key`'s restore test."""

__all__ = ["RESTORE_TEST_LABEL", "backup_key", "recover_key", "verify_recovered_key"]


def backup_key(
    backend: KeyBackend,
    key: KeyHandle,
    wrapping_key: bytearray,
    *,
    restore_test: bool = True,
) -> tuple[WrappedKey, KeyInfo, Canary]:
    """Wrap ``key`` under ``wrapping_key``; return the wrapped key, its KeyInfo and a canary.

    With ``restore_test`` (the default) the fresh blob is unwrapped once more into a temporary,
    non-persistent, non-extractable object and checked against the KCV and canary, then
    deleted: a backup that was never restored is not known to be a backup.

    ``wrapping_key`` is wiped in every case. Raises :class:`~keyceremony.errors.KeyBackendError`
    (HSMError for tokens) if wrapping fails or the restore test fails; ``ValueError`` for a
    wrapping key that is not 16/24/32 bytes.
    """
    try:
        wrapping = backend.import_wrapping_key(wrapping_key)
        try:
            wrapped = backend.wrap(wrapping, key)
            info = KeyInfo(key.label, key.algorithm, backend.key_check_value(key), key.public_key)
            canary = backend.make_canary(key, key.label)
            backend.check_canary(key, canary, key.public_key)
            if restore_test:
                _restore_test(backend, wrapping, wrapped, info, canary)
        finally:
            backend.destroy(wrapping)
        return wrapped, info, canary
    finally:
        wipe(wrapping_key)


def recover_key(
    backend: KeyBackend,
    wrapping_key: bytearray,
    wrapped: WrappedKey,
    expected_kcv: str,
    canary: Canary,
    public_key: bytes | None,
    label: str,
    persistent: bool = True,
    *,
    extractable: bool = False,
) -> KeyHandle:
    """Unwrap ``wrapped`` into ``backend`` as ``label`` and prove it is the backed-up key.

    The key is non-extractable unless ``extractable=True``. It is unwrapped as a session
    (non-persistent) object and checked there: its check value must equal ``expected_kcv`` and
    it must pass the canary (see :meth:`KeyBackend.check_canary`); otherwise it is deleted and
    the error raised. Only a key that passed is made persistent (``persistent=True``, the
    default) with :meth:`KeyBackend.persist`, and the persistent copy's check value is checked
    again. So no crash can leave a persistent key that was not verified. ``wrapping_key`` is
    wiped in every case.

    Raises :class:`~keyceremony.errors.UnwrapError` (wrong wrapping key or damaged blob),
    :class:`~keyceremony.errors.KeyCheckMismatch`, :class:`~keyceremony.errors.CanaryMismatch`,
    :class:`~keyceremony.errors.LabelInUse`, :class:`~keyceremony.errors.KeyBackendError`.
    """
    try:
        _check_package(wrapped, expected_kcv, canary, public_key, label)
        key: KeyHandle | None = None
        wrapping = backend.import_wrapping_key(wrapping_key)
        try:
            key = backend.unwrap(
                wrapping,
                wrapped,
                label,
                persistent=False,  # a session object until it has passed every check
                extractable=extractable,
                public_key=public_key,
            )
        finally:
            try:
                backend.destroy(wrapping)
            except BaseException:
                if key is not None:
                    _destroy_quietly(backend, key, None)
                raise
        verify_recovered_key(backend, key, expected_kcv, canary, public_key)
        if not persistent:
            return key
        try:
            kept = backend.persist(key)
        except BaseException as err:
            _destroy_quietly(backend, key, err)
            raise
        _verify_kcv(backend, kept, expected_kcv)
        return kept
    finally:
        wipe(wrapping_key)


def verify_recovered_key(
    backend: KeyBackend,
    key: KeyHandle,
    expected_kcv: str,
    canary: Canary,
    public_key: bytes | None,
) -> None:
    """Check KCV and canary of a just-unwrapped key; on any failure delete it, then raise.

    Also used on a key found in the store after an interruption. A private key found without
    its public-key object (a crash between the two copies of :meth:`KeyBackend.persist`) is
    checked against the package's ``public_key``: the canary, including a fresh challenge it
    signs, must verify under that key, and only then is ``public_key`` attached to the handle.

    Raises :class:`~keyceremony.errors.KeyCheckMismatch` or
    :class:`~keyceremony.errors.CanaryMismatch` (or the back end's error).
    """
    try:
        if key.public_key is None and public_key is not None and not key.algorithm.is_symmetric:
            backend.check_canary(key, canary, public_key)  # proves key <-> public_key
            key.public_key = public_key
            _kcv.check_kcv(expected_kcv, backend.key_check_value(key), label=key.label)
            return
        _kcv.check_kcv(expected_kcv, backend.key_check_value(key), label=key.label)
        backend.check_canary(key, canary, public_key)
    except BaseException as err:
        _destroy_quietly(backend, key, err)
        raise


def _verify_kcv(backend: KeyBackend, key: KeyHandle, expected_kcv: str) -> None:
    """Check the persistent copy made by :meth:`KeyBackend.persist`; delete it if it differs."""
    try:
        _kcv.check_kcv(expected_kcv, backend.key_check_value(key), label=key.label)
    except BaseException as err:
        _destroy_quietly(backend, key, err)
        raise


def _restore_test(
    backend: KeyBackend,
    wrapping: WrapHandle,
    wrapped: WrappedKey,
    info: KeyInfo,
    canary: Canary,
) -> None:
    try:
        copy = backend.unwrap(
            wrapping, wrapped, RESTORE_TEST_LABEL, persistent=False, public_key=info.public_key
        )
        verify_recovered_key(backend, copy, info.key_check_value, canary, info.public_key)
        backend.destroy(copy)
    except KeyCeremonyError as err:
        raise KeyBackendError(
            f"the backup of key '{info.label}' failed its restore test, so it must not be "
            f"used (print no cards): {err}"
        ) from err


def _check_package(
    wrapped: WrappedKey,
    expected_kcv: str,
    canary: Canary,
    public_key: bytes | None,
    label: str,
) -> None:
    """Reject an inconsistent backup package before anything is imported into a key store."""
    algorithm: KeyAlgorithm = wrapped.algorithm
    if canary.kind != algorithm.canary_kind:
        raise CanaryMismatch(
            f"key '{label}': the backup holds a {algorithm.value} key but a '{canary.kind}' "
            "canary; the backup package is inconsistent"
        )
    if algorithm.is_symmetric:
        if public_key is not None:
            raise KeyCheckMismatch(
                f"key '{label}': an AES key has no public key, but the package carries one"
            )
        return
    if public_key is None:
        raise KeyCheckMismatch(
            f"key '{label}': the backup package lacks the public key of this "
            f"{algorithm.value} key, so the recovered key cannot be checked"
        )
    try:
        load_public_key(algorithm, public_key)
    except ValueError as err:
        raise KeyCheckMismatch(
            f"key '{label}': the public key in the backup package is unusable ({err})"
        ) from None
    _kcv.check_kcv(expected_kcv, _kcv.public_key_fingerprint(public_key), label=label)


def _destroy_quietly(backend: KeyBackend, key: KeyHandle, err: BaseException | None) -> None:
    """Delete ``key``; if that fails too, say so on the error being raised."""
    try:
        backend.destroy(key)
    except Exception as cleanup_err:  # noqa: BLE001 - the original error matters more
        if err is not None:
            err.add_note(
                f"Deleting the unwrapped key '{key.label}' also failed ({cleanup_err}); "
                "delete it from the token by hand."
            )
