"""What a printed share card says, independent of how it is drawn or scanned.

``CardContent`` is the value the card renderer (``pdf.render_card_pdf``) draws and the thing a
test or a sample generator builds. It imports nothing outside the standard library, so the
ceremony engine can build cards without pulling in reportlab or qrcode (docs/architecture.md §2,
§3).

The share payload itself (``qr_text`` and ``text_lines``) is opaque here: it is produced and
parsed by the share format module. This module only checks what the card layout and the QR
encoder need: the QR text uses the QR alphanumeric character set, and everything fits on one page.

Example::

    card = CardContent(
        title="keyceremony share card", key_label="payments-root-2025", set_id="7F3A-91C2",
        share_index=2, share_count=5, threshold=3, custodian="Alice Example",
        created="2025-03-14", qr_text="KC1:MFRGG...", text_lines=("01 MFRGG ...",),
        fingerprint="3F2A 9C01 77B4 E0D5", fingerprint_words=("apple", ...),
        key_check_value=None, instructions=standard_instructions(3), paper="a4")

A card of a key backup also carries the backup package (not secret): as a second, smaller QR code
(``package_qr_text``) on page 1 and as its typeable form (``package_text_lines``) on page 2, so
that k cards alone recover the key when no code reads; and the key's check value.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = [
    "QR_ALPHANUMERIC",
    "PAPER_SIZES",
    "CardContent",
    "NO_CODE_PAGE_NOTE",
    "backup_instructions",
    "check_owner",
    "first_non_qr_alphanumeric",
    "standard_instructions",
]

#: The 45 characters of the QR alphanumeric mode (ISO/IEC 18004:2015 §7.4.4, Table 5).
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

PAPER_SIZES = ("a4", "letter")

# Limits that keep every card on one page of either paper size
# (tests/test_card_render.py::test_largest_allowed_card_fits_inside_the_margins).
MAX_TEXT_LINES = 16
MAX_TEXT_LINE_CHARS = 48
MAX_QR_CHARS = 1200  # version 27 at EC level Q; a 200-byte share is about 330 characters (v13)
MAX_PACKAGE_QR_CHARS = 1000  # version 25 at level Q; an AES-256 backup package is about 440 (v16)
MAX_INSTRUCTIONS = 8
MAX_INSTRUCTION_CHARS = 320
MAX_INSTRUCTIONS_TOTAL_CHARS = 1500  # standard_instructions() is about 920
MAX_SET_ID_CHARS = 40
MAX_WORD_CHARS = 12
MAX_FIELD_CHARS = 64
MAX_FINGERPRINT_CHARS = 96
MAX_OWNER_CHARS = 64  # the key owner's name, printed in the handling instructions
MAX_CONTACT_CHARS = 64  # how to reach the owner: a telephone number, an address, a desk
# The package's typeable form on page 2: its header and a 1,000-character package's 42 data lines.
MAX_PACKAGE_TEXT_LINES = 43

#: Printed in the footer of a card's page 2, which has no QR code; ``scan_sources`` skips such a
#: page of a card PDF instead of searching it for codes (about 0.5 s).
NO_CODE_PAGE_NOTE = "no QR code on this page"

_FINGERPRINT_RE = re.compile(r"[0-9A-Fa-f]+(?:[ :-][0-9A-Fa-f]+)*")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]*")


def first_non_qr_alphanumeric(text: str) -> int | None:
    """Index of the first character of *text* outside the QR alphanumeric set, or ``None``."""
    for i, ch in enumerate(text):
        if ch not in QR_ALPHANUMERIC:
            return i
    return None


def check_owner(owner: str | None, contact: str | None) -> None:
    """Raise ValueError unless the key owner's name and contact can go on a card (both optional,
    not secret, not part of the signed share)."""
    if owner is not None:
        check_field("the key owner", owner, max_chars=MAX_OWNER_CHARS)
    if contact is not None:
        check_field("the owner's contact", contact, max_chars=MAX_CONTACT_CHARS)


def _tell_owner(owner: str | None, contact: str | None) -> str:
    """Who to tell when a card is lost or its bag opened: never an empty field."""
    check_owner(owner, contact)
    named = ", ".join(v.strip() for v in (owner, contact) if v is not None and v.strip())
    return named or "as named in the transcript or log of the ceremony that made these cards"


def standard_instructions(threshold: int, owner: str | None = None,
                          contact: str | None = None) -> tuple[str, ...]:
    """The plain-language handling and recovery instructions printed on every card; ``owner``
    and ``contact`` say whom to tell when the card is lost or its bag opened.

    Text between backticks is a command and is printed in a monospaced font.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    any_k = "one share" if threshold == 1 else f"any {threshold} shares"
    return (
        "Seal this card in a numbered tamper-evident bag at the ceremony, and write the bag "
        "number in the ceremony transcript. Check the bag number and seal whenever you "
        "inspect it.",
        "Store it in a safe place of your own, apart from every other share. On its own this "
        f"card reveals nothing about the key; {any_k} of this set together recover it.",
        "Never photograph, scan, copy or type this card, and never send it anywhere, except "
        "at a recovery ceremony.",
        "If the bag is opened or damaged, or the card is lost, tell the key owner at once "
        f"({_tell_owner(owner, contact)}): the shares may have to be replaced.",
        "To recover the key, bring this card, still sealed, to a recovery ceremony. There the "
        "operator reads it with `keyceremony combine` (scanning the QR code, or typing the "
        "text lines with `keyceremony combine --type`).",
        "To check the card without recovering the key, run `keyceremony verify-share`; the "
        "fingerprint and words it shows must match the ones printed here.",
    )


def backup_instructions(threshold: int, owner: str | None = None,
                        contact: str | None = None) -> tuple[str, ...]:
    """The instructions on a card of a key backup: as :func:`standard_instructions`, but the
    key is recovered with ``keyceremony recover``, which also reads the backup package."""
    standard = standard_instructions(threshold, owner, contact)
    return standard[:4] + (
        "To recover the key, bring this card, still sealed, to a recovery ceremony. There the "
        "operator reads it with `keyceremony recover`, which scans both QR codes (the small one "
        "is the backup package, not secret); if no code reads, `keyceremony recover --type` "
        "takes this page's lines, then the package's from page 2.",
        "To rehearse a recovery without touching the key, the operator runs `keyceremony "
        "recover --drill`. To check this card alone, run `keyceremony verify-share`; the "
        "fingerprint and words it shows must match the ones printed here.",
    )


def check_field(name: str, value: object, *, max_chars: int = MAX_FIELD_CHARS,
                allow_empty: bool = False) -> None:
    """Raise ValueError unless *value* can be a text field of a card (``name`` says which)."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_chars:
        raise ValueError(f"{name} is {len(value)} characters long; at most {max_chars} fit")
    if any(ch in "\r\n\t" or not ch.isprintable() for ch in value):
        raise ValueError(f"{name} contains a control character: {value!r}")


@dataclass(frozen=True)
class CardContent:
    """Everything printed on one share card. Validates itself on construction (ValueError).

    ``key_check_value=None`` prints a blank line to be filled in by hand. ``text_lines`` are
    printed exactly as given (the share format puts its own line numbers in them).
    """

    title: str
    key_label: str
    set_id: str
    share_index: int
    share_count: int
    threshold: int
    custodian: str | None
    created: str
    qr_text: str
    text_lines: tuple[str, ...]
    fingerprint: str
    fingerprint_words: tuple[str, ...]
    key_check_value: str | None
    instructions: tuple[str, ...]
    paper: str = "a4"
    package_qr_text: str | None = None  # the backup package (docs/backup-package.md), not secret
    package_text_lines: tuple[str, ...] | None = None  # its typeable form (header, data lines): page 2
    ceremony_fingerprint: str | None = None  # the ceremony key's fingerprint (docs/transcript.md §6.2)

    def __post_init__(self) -> None:
        check_field("title", self.title)
        check_field("key_label", self.key_label)
        check_field("set_id", self.set_id, max_chars=MAX_SET_ID_CHARS)
        if self.custodian is not None:
            check_field("custodian", self.custodian)
        if self.key_check_value is not None:
            check_field("key_check_value", self.key_check_value, max_chars=32)

        for name in ("share_index", "share_count", "threshold"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an int, got {type(value).__name__}")
        if not 1 <= self.share_count <= 255:
            raise ValueError(f"share_count must be 1..255, got {self.share_count}")
        if not 1 <= self.threshold <= self.share_count:
            raise ValueError(
                f"threshold must be 1..share_count ({self.share_count}), got {self.threshold}")
        if not 1 <= self.share_index <= 255:
            raise ValueError(f"share_index must be 1..255, got {self.share_index}")

        if not isinstance(self.created, str):
            raise ValueError("created must be an ISO date string such as 2025-03-14")
        try:
            datetime.date.fromisoformat(self.created)
        except ValueError:
            raise ValueError(
                f"created must be an ISO date such as 2025-03-14, got {self.created!r}") from None

        if not isinstance(self.qr_text, str) or not self.qr_text:
            raise ValueError("qr_text must be a non-empty str")
        if len(self.qr_text) > MAX_QR_CHARS:
            raise ValueError(f"qr_text is {len(self.qr_text)} characters; at most {MAX_QR_CHARS}")
        bad = first_non_qr_alphanumeric(self.qr_text)
        if bad is not None:
            raise ValueError(
                f"qr_text character {bad} ({self.qr_text[bad]!r}) is not in the QR alphanumeric "
                "set 0-9 A-Z space $ % * + - . / :")

        if self.package_qr_text is not None:
            if not isinstance(self.package_qr_text, str) or not self.package_qr_text:
                raise ValueError("package_qr_text must be a non-empty str or None")
            if len(self.package_qr_text) > MAX_PACKAGE_QR_CHARS:
                raise ValueError(f"package_qr_text is {len(self.package_qr_text)} characters; "
                                 f"at most {MAX_PACKAGE_QR_CHARS}")
            bad = first_non_qr_alphanumeric(self.package_qr_text)
            if bad is not None:
                raise ValueError(f"package_qr_text character {bad} ({self.package_qr_text[bad]!r}) "
                                 "is not in the QR alphanumeric set")

        if self.package_text_lines is not None:
            if self.package_qr_text is None:
                raise ValueError("package_text_lines need package_qr_text: a card carries both or neither")
            self._check_tuple("package_text_lines", self.package_text_lines, 2, MAX_PACKAGE_TEXT_LINES)
            for i, line in enumerate(self.package_text_lines):
                check_field(f"package_text_lines[{i}]", line, max_chars=MAX_TEXT_LINE_CHARS)
                if not line.isascii():
                    raise ValueError(f"package_text_lines[{i}] must be ASCII so it can be typed: {line!r}")

        self._check_tuple("text_lines", self.text_lines, 1, MAX_TEXT_LINES)
        for i, line in enumerate(self.text_lines):
            check_field(f"text_lines[{i}]", line, max_chars=MAX_TEXT_LINE_CHARS)
            if not line.isascii():
                raise ValueError(f"text_lines[{i}] must be ASCII so it can be typed: {line!r}")

        check_field("fingerprint", self.fingerprint, max_chars=MAX_FINGERPRINT_CHARS)
        if not _FINGERPRINT_RE.fullmatch(self.fingerprint):
            raise ValueError(
                f"fingerprint must be hex digits in groups, got {self.fingerprint!r}")
        if self.ceremony_fingerprint is not None:
            check_field("ceremony_fingerprint", self.ceremony_fingerprint, max_chars=MAX_FINGERPRINT_CHARS)
            if not _FINGERPRINT_RE.fullmatch(self.ceremony_fingerprint):
                raise ValueError(
                    f"ceremony_fingerprint must be hex digits in groups, got {self.ceremony_fingerprint!r}")
        self._check_tuple("fingerprint_words", self.fingerprint_words, 8, 16)
        for i, word in enumerate(self.fingerprint_words):
            if (not isinstance(word, str) or not _WORD_RE.fullmatch(word)
                    or len(word) > MAX_WORD_CHARS):
                raise ValueError(
                    f"fingerprint_words[{i}] must be one plain word of at most {MAX_WORD_CHARS} "
                    f"letters, got {word!r}")

        self._check_tuple("instructions", self.instructions, 1, MAX_INSTRUCTIONS)
        for i, item in enumerate(self.instructions):
            check_field(f"instructions[{i}]", item, max_chars=MAX_INSTRUCTION_CHARS)
        total = sum(len(item) for item in self.instructions)
        if total > MAX_INSTRUCTIONS_TOTAL_CHARS:
            raise ValueError(
                f"instructions have {total} characters in all; at most "
                f"{MAX_INSTRUCTIONS_TOTAL_CHARS} fit on the card")

        if self.paper not in PAPER_SIZES:
            raise ValueError(f"paper must be one of {PAPER_SIZES}, got {self.paper!r}")

    @staticmethod
    def _check_tuple(name: str, value: object, lo: int, hi: int) -> None:
        if not isinstance(value, tuple):
            raise ValueError(f"{name} must be a tuple, got {type(value).__name__}")
        if not lo <= len(value) <= hi:
            raise ValueError(f"{name} must have {lo}..{hi} items, got {len(value)}")

    @property
    def pages(self) -> int:
        """2 when the package's typeable form is printed (on page 2), else 1."""
        return 1 if self.package_text_lines is None else 2

    @property
    def share_line(self) -> str:
        """``"Share 2 of 5 — any 3 recover the key"``."""
        if self.threshold == 1:
            rule = "any one recovers the key"
        elif self.threshold == self.share_count:
            rule = f"all {self.share_count} are needed to recover the key"
        else:
            rule = f"any {self.threshold} recover the key"
        return f"Share {self.share_index} of {self.share_count} \u2014 {rule}"
