"""The small values of a transcript: format constants, times, ids, hashes and name checks.

Everything here is a constant or a pure function of its arguments (docs/transcript.md §3, §5,
§6); the models, the verifier and the writer build on them.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

FORMAT = "keyceremony transcript v1"
SIGNATURE_CONTEXT = b"keyceremony transcript entry v1\x00"  # docs/transcript.md §5
GENESIS_CONTEXT = b"keyceremony transcript genesis v1\x00"  # docs/transcript.md §6
HASH_LEN = 32
MAX_LINE_BYTES = 1 << 20  # an entry, without its line end

CEREMONY_STEP = "ceremony"  # reserved for the entries the writer makes itself
OPENED, RESUMED, SEALED = "opened", "resumed", "sealed"

REASONS = frozenset(
    {
        "empty", "torn", "not-canonical", "malformed", "version", "secret", "after-seal",
        "foreign", "sequence", "chain", "structure", "signature", "time", "not-sealed",
        "wrong-key", "template",
    }
)
"""The closed vocabulary of ``TranscriptTampered.reason`` (docs/transcript.md §9)."""

Clock: TypeAlias = Callable[[], datetime]
JSONValue: TypeAlias = None | bool | int | str | list["JSONValue"] | dict[str, "JSONValue"]
"""What canonical JSON holds: integers, never floats (docs/transcript.md §4)."""

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_CEREMONY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z")
_MAX_NAME = 64


def utc_now() -> datetime:
    """The default clock: the system's time in UTC."""
    return datetime.now(UTC)


def to_entry_time(moment: datetime) -> datetime:
    """``moment`` in UTC, cut to whole milliseconds, as entries carry it. ValueError if naive."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock must return timezone-aware datetimes")
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def format_time(moment: datetime) -> str:
    """``2026-11-28T13:48:05.120Z``: ISO 8601 / RFC 3339, UTC, always three fraction digits."""
    m = to_entry_time(moment)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m:%H:%M:%S}.{m.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time`; ValueError for any other form (docs/transcript.md §3.1)."""
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a UTC time of the form 2026-11-28T13:48:05.120Z")
    y, mo, d, h, mi, s, ms = (int(g) for g in match.groups())
    try:
        return datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None


def new_ceremony_id(randbytes: Callable[[int], bytes] = os.urandom) -> str:
    """A fresh random ceremony id, ``xxxxxxxx-xxxxxxxx`` (64 bits, as share-set ids)."""
    h = randbytes(8).hex()
    return f"{h[:8]}-{h[8:]}"


def is_ceremony_id(value: object) -> bool:
    """True for 1–64 of ``A-Z a-z 0-9 . _ -`` starting with a letter or digit."""
    return isinstance(value, str) and _CEREMONY_ID.fullmatch(value) is not None


def genesis_hash(ceremony_id: str) -> bytes:
    """The ``prev`` of the first entry: SHA-256(GENESIS_CONTEXT || ceremony id)."""
    return hashlib.sha256(GENESIS_CONTEXT + ceremony_id.encode("utf-8")).digest()


def line_hash(line: bytes) -> bytes:
    """The ``prev`` of the next entry: SHA-256 of this line's exact bytes, line end included."""
    return hashlib.sha256(line).digest()


def check_name(what: str, value: object) -> str:
    """``value`` if it is a step, event or role name like ``generate-key``; ValueError if not."""
    if not isinstance(value, str) or len(value) > _MAX_NAME or not _NAME.fullmatch(value):
        raise ValueError(
            f"{what} must be 1 to {_MAX_NAME} characters of lower-case letters, digits and single "
            f"hyphens, starting with a letter (like 'generate-key'), not {value!r}"
        )
    return value


def check_text(what: str, value: object, limit: int) -> str:
    """``value`` if it is free text of 1 to ``limit`` characters, NFC, without control
    characters, line breaks or outer spaces; ValueError if not."""
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise ValueError(f"{what} must be a string of 1 to {limit} characters")
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError(f"{what} must be in Unicode NFC form")
    if value != value.strip() or any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        raise ValueError(f"{what} must not contain control characters, line breaks or outer spaces")
    return value
