"""One hierarchy of errors for everything a person can get wrong (docs/architecture.md §1).

Every message says which card or file, what is wrong and what to do next. Messages never contain
secret material. ``ValueError`` is kept for programming mistakes (misuse of the API); these
classes are for bad input that a custodian or operator can fix.
"""

from __future__ import annotations

# The command line's exit status (docs/cli.md §2): each error class carries one of these.
EXIT_OK = 0
EXIT_REFUSED = 1  # the input was checked and refused: a share, package, transcript, key check, anchor
EXIT_USAGE = 2  # the command line cannot work as given: a missing file, options that do not go together
EXIT_KEY_STORE = 3  # the HSM token or key store refused or failed: module, token, PIN, key label
EXIT_IO = 4  # standard input or output, or a file, could not be read or written
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_BROKEN_PIPE = 141  # the reader of standard output went away (128 + SIGPIPE)


class KeyCeremonyError(Exception):
    """Base class: the CLI catches this once, prints ``str(err)`` and exits with ``exit_code``."""

    exit_code = EXIT_REFUSED

    def diagnostics(self) -> str:
        return str(self)


# --- shares and share sets -----------------------------------------------------------------


class LocatedError(KeyCeremonyError):
    """An error in one file or card, and maybe one line of it: "<source>, line <n>: <message>".

    ``what`` names the thing when the caller has no file name (a typed share, a QR code).
    """

    what = "input"

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        self.detail = message
        where = source or self.what
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {message}")


class ShareError(LocatedError):
    """A single share (file, card, scan) cannot be used as it is."""

    what = "share"


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


class AmbiguousShareSets(ShareSetError):
    """Shares of more than one set (set key) were given and nothing anchored says which is ours:
    the set fingerprint from the ceremony's paper log is needed (docs/threat-model.md)."""


class AnchorMismatch(KeyCeremonyError):
    """A set fingerprint, package fingerprint or key check value differs from the one the
    ceremony's paper log recorded: these are not the cards or package made at that ceremony."""


class ThresholdNotMet(ShareSetError):
    """Fewer usable shares than the threshold. ``set_aside`` says why each other one was not used,
    a sentence each; ``causes`` holds the same reasons as errors (``DuplicateShare``,
    ``ForeignShare``, ``ShareSignatureError``, ...), for programs to tell them apart."""

    def __init__(self, message: str, *, have: int, need: int, set_aside: tuple[str, ...] = (),
                 causes: tuple[KeyCeremonyError, ...] = ()):
        self.have = have
        self.need = need
        self.set_aside = set_aside
        self.causes = causes
        super().__init__(message)


class InconsistentShares(ShareSetError):
    """More shares than the threshold were given and they do not lie on one polynomial."""

    def __init__(self, message: str, *, bad_x: tuple[int, ...] = ()):
        self.bad_x = bad_x
        super().__init__(message)


class InputTooLarge(LocatedError):
    """A file handed in, or a part of it (a line, a page, an image), is larger than keyceremony
    reads (docs/share-cards.md §5 lists every limit). The message names the file, what was found
    and the limit, and says what to do; ``limit`` names the limit ("file size", "pages", ...),
    ``found`` and ``allowed`` are its numbers, in the limit's unit."""

    def __init__(self, message: str, *, limit: str, found: int, allowed: int, source: str | None = None,
                 line: int | None = None):
        self.limit = limit
        self.found = found
        self.allowed = allowed
        super().__init__(message, source=source, line=line)

    @classmethod
    def file_size(cls, found: int, allowed: int, what: str, hint: str, *, source: str | None) -> InputTooLarge:
        """The file-size refusal every reader gives: "the file is 2 GiB, more than the 1 GiB <what>
        may be (file size limit); <hint>"."""
        return cls(
            f"the file is {cls.size(found)}, more than the {cls.size(allowed)} {what} may be (file size limit); {hint}",
            limit="file size", found=found, allowed=allowed, source=source,
        )  # fmt: skip

    @staticmethod
    def size(n: int) -> str:
        """A number of bytes as a person reads it: "1 GiB", "1,610,612,736 bytes (1.50 GiB)"."""
        for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if n >= scale:
                return f"{n // scale} {unit}" if n % scale == 0 else f"{n:,} bytes ({n / scale:.2f} {unit})"
        return f"{n:,} bytes"


class ScanError(KeyCeremonyError):
    """An image or PDF in which no share could be read."""


class UsageError(KeyCeremonyError):
    """A command-line argument that cannot work (missing file, bad option combination)."""

    exit_code = EXIT_USAGE


class UnsafeOutput(UsageError):
    """An output path that is not written through: a symbolic link, a folder, a device, a named
    pipe or a socket where a file (new, or an ordinary one to replace) should be. The message
    names the path and what to give instead (docs/architecture.md §1)."""


class StreamError(KeyCeremonyError):
    """Standard input or output cannot be used: closed, full, or not something a secret comes
    from (a device, a folder). The message names the stream and what to do."""

    exit_code = EXIT_IO


# --- key back ends (keys/), HSM tokens and recovery checks ---------------------------------


class KeyBackendError(KeyCeremonyError):
    """A key store (HSM token or the in-memory software store) refused or failed an operation."""

    exit_code = EXIT_KEY_STORE


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


# --- backup packages and key backups (backup_package.py, backup.py) -------------------------


class PackageError(LocatedError):
    """A backup package (package.kcb, a card's second QR code, a share file's package block)
    cannot be used as it is. Names the file or card and, for typed text, the line."""

    what = "backup package"


class PackageFormatError(PackageError):
    """Malformed, truncated, mistyped or unknown-version backup package."""


class PackageSignatureError(PackageError):
    """The package's signature does not verify: it was altered, damaged or forged."""


class PackageMismatch(KeyCeremonyError):
    """The backup package and the cards are from different backups (different share sets)."""


class PackageMissing(KeyCeremonyError):
    """No backup package was given and none of the cards or share files carries one."""


# --- canonical JSON, ceremony transcripts and the ceremony key (transcript.py, signer.py) -----


class NonCanonicalJSON(KeyCeremonyError):
    """Bytes that are not exactly the canonical JSON encoding of a value (docs/transcript.md §4).

    ``offset`` is the first byte that differs from the canonical form, when there is one.
    """

    def __init__(self, message: str, *, offset: int | None = None):
        self.offset = offset
        super().__init__(message)


class TranscriptError(KeyCeremonyError):
    """A ceremony transcript cannot be written, resumed or read as asked."""


class TranscriptTooLarge(InputTooLarge, TranscriptError):
    """A transcript file larger, or with more entries, than a reader accepts (docs/transcript.md §8)."""

    what = "transcript"


class TranscriptTampered(TranscriptError):
    """A transcript failed verification. Names the first bad entry and what is wrong with it.

    ``line`` is the 1-based line of the file (``None`` when the fault is the file as a whole),
    ``sequence`` the sequence number the entry carries (``None`` when it cannot be read), and
    ``reason`` one word of the closed vocabulary of docs/transcript.md §9 (``signature``,
    ``chain``, ``sequence``, ...), for programs and test vectors.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        line: int | None = None,
        sequence: int | None = None,
        source: str | None = None,
    ):
        self.reason = reason
        self.line = line
        self.sequence = sequence
        self.source = source
        self.detail = message
        where = source or "transcript"
        if line is not None:
            where = f"{where}, line {line}"
            if sequence is not None:
                where = f"{where} (sequence {sequence})"
        super().__init__(f"{where}: {message}")


class TornTranscript(TranscriptTampered):
    """The last line has no line end: writing stopped part-way (a crash, power loss, full disk).

    ``good_length`` is the length of the file without the torn line; ``torn_bytes`` the length
    of the torn line. ``TranscriptWriter.resume(..., truncate_torn=True)`` removes it.
    """

    def __init__(self, message: str, *, line: int, good_length: int, torn_bytes: int, source: str | None = None):
        self.good_length = good_length
        self.torn_bytes = torn_bytes
        super().__init__(message, reason="torn", line=line, source=source)


class TemplateViolation(TranscriptTampered):
    """The transcript is intact, but the ceremony did not run the steps its template requires."""

    def __init__(self, message: str, *, line: int | None, sequence: int | None, source: str | None = None):
        super().__init__(message, reason="template", line=line, sequence=sequence, source=source)


class TranscriptKeyChanged(TranscriptError):
    """The ceremony key changed mid-transcript (a resume with a new key) and the new key's
    fingerprint was not confirmed against an independent record (the paper log)."""

    def __init__(self, message: str, *, lines: tuple[int, ...], fingerprints: tuple[bytes, ...]):
        self.lines = lines
        self.fingerprints = fingerprints
        super().__init__(message)


class TranscriptSealed(TranscriptError):
    """The transcript is sealed: nothing can be added to it, and it cannot be resumed."""


class TranscriptDataRefused(TranscriptError):
    """An entry's ``data`` holds something that may be secret (by field name or by type), or a
    value canonical JSON cannot carry. The message names the field, never its value."""

    def __init__(self, message: str, *, field: str):
        self.field = field
        super().__init__(message)


class SignerUnavailable(KeyCeremonyError):
    """The ceremony key can no longer sign: it was destroyed when the ceremony was sealed."""


# --- ceremony templates, answers files and the ceremony engine (ceremony/) ----------------------


class CeremonyFileError(LocatedError):
    """A ceremony template or answers file that cannot be used; names the file and the line."""

    what = "file"


class TemplateError(CeremonyFileError):
    """A ceremony template (TOML) is malformed or inconsistent (docs/ceremony-guide.md §8)."""


class AnswersError(CeremonyFileError):
    """An answers file (TOML) for ``keyceremony run`` is malformed or does not fit the template."""


class SetupError(KeyCeremonyError):
    """A field of a ceremony's set-up (the terminal UI's forms) that cannot be used as it is.

    ``field`` names the form field (``folder``, ``people:custodian``, ``threshold``, ``pin``, ...;
    None for the set-up as a whole) so the form can show ``detail`` under it; the message is the
    one the answers file or template would get, without its file and line.
    """

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        self.detail = message
        super().__init__(message)


class CeremonyError(KeyCeremonyError):
    """The ceremony cannot go on as asked; the message says which step and what to do.

    Nothing secret is in the message. The ceremony can be resumed after the cause is fixed
    (``keyceremony run ... --out DIR`` again) unless the message says otherwise.
    """


class CeremonyCancelled(CeremonyError):
    """A driver asked the ceremony to stop; it stopped between two units of work and resumes
    where it stopped when started again (docs/ceremony-guide.md §6)."""


class QuorumNotMet(CeremonyError):
    """Fewer people in a role are present than the step (or the ceremony) requires."""


class PreflightFailed(CeremonyError):
    """A preflight check that the template marks ``stop`` failed on this machine."""
