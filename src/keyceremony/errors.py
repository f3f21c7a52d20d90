"""One hierarchy of errors for everything a person can get wrong (STYLE.md §4).

Every message says which card or file, what is wrong and what to do next. Messages never contain
secret material. ``ValueError`` is kept for programming mistakes (misuse of the API); these
classes are for bad input that a custodian or operator can fix.
"""

from __future__ import annotations


class KeyCeremonyError(Exception):
    """Base class: the CLI catches this once, prints ``str(err)`` and exits non-zero."""

    exit_code = 1

    def diagnostics(self) -> str:
        return str(self)


# --- shares and share sets -----------------------------------------------------------------


class ShareError(KeyCeremonyError):
    """A single share (file, card, scan) cannot be used as it is."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        where = source or "share"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {message}")


class ShareFormatError(ShareError):
    """Malformed, truncated, mistyped or unknown-version share text or payload."""


class ShareSignatureError(ShareError):
    """The share's signature does not verify: it was altered or forged."""


class ShareSetError(KeyCeremonyError):
    """Shares that are fine one by one but do not belong together (set, threshold, length)."""


class DuplicateShare(ShareSetError):
    pass


class ForeignShare(ShareSetError):
    pass


class ThresholdNotMet(ShareSetError):
    def __init__(self, message: str, *, have: int, need: int):
        self.have = have
        self.need = need
        super().__init__(message)


class InconsistentShares(ShareSetError):
    """More shares than the threshold were given and they do not lie on one polynomial."""

    def __init__(self, message: str, *, bad_x: tuple[int, ...] = ()):
        self.bad_x = bad_x
        super().__init__(message)


class ScanError(KeyCeremonyError):
    """An image or PDF in which no share could be read."""


class UsageError(KeyCeremonyError):
    """A command-line argument that cannot work (missing file, bad option combination)."""

    exit_code = 2


# --- key back ends (keys/), HSM tokens and recovery checks ---------------------------------


class KeyBackendError(KeyCeremonyError):
    """A key store (HSM token or the in-memory software store) refused or failed an operation."""


class HSMError(KeyBackendError):
    """A PKCS#11 module or token failed; the message names the token, operation and mechanism."""


class TokenNotFound(HSMError):
    """No initialised token carries the requested label; the message lists the labels present."""

    def __init__(self, message: str, *, label: str, present: tuple[str, ...] = ()):
        self.label = label
        self.present = present
        super().__init__(message)


class WrongPin(HSMError):
    """The token refused the user PIN (or the PIN is locked)."""


class KeyNotFound(KeyBackendError):
    """No key with the given label exists in the token or store."""


class LabelInUse(KeyBackendError):
    """A key with this label already exists; refusing to create a second one."""


class UnwrapError(KeyCeremonyError):
    """A wrapped key could not be unwrapped: wrong wrapping key or a damaged backup."""


class KeyCheckMismatch(KeyCeremonyError):
    """The key check value of a recovered key differs from the one recorded at backup."""


class CanaryMismatch(KeyCeremonyError):
    """The recovered key does not open (or sign) the canary recorded at backup."""
