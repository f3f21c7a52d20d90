"""The transcript's models: :class:`Actor`, :class:`CeremonyMeta` and :class:`Entry`.

Frozen dataclasses that validate themselves (ValueError), with ``to_json`` / ``from_json``; an
:class:`Entry` is one line of a transcript (docs/transcript.md §3) and also has ``to_line`` /
``from_line``, its signing input (§5) and its signature check. Parsing raises
:class:`~keyceremony.errors.TranscriptTampered` with the reason of docs/transcript.md §9.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import cast

from keyceremony.codec import canonical_json
from keyceremony.errors import NonCanonicalJSON, TranscriptDataRefused, TranscriptTampered
from keyceremony.transcript.guard import check_public_data, looks_secret
from keyceremony.transcript.signer import PUBLIC_KEY_LEN, SIGNATURE_LEN, Signer, key_fingerprint, signature_verifies
from keyceremony.transcript.values import (
    FORMAT,
    HASH_LEN,
    SIGNATURE_CONTEXT,
    JSONValue,
    check_name,
    check_text,
    format_time,
    is_ceremony_id,
    parse_time,
)

_FORMAT_ANY = re.compile(r"keyceremony transcript v([0-9]+)")
_MAX_ACTOR_NAME = 128
_ENTRY_FIELDS = frozenset({"actors", "ceremony", "data", "event", "format", "prev", "seq", "sig", "step", "time"})
_OPTIONAL_FIELDS = frozenset({"key"})
_HEX = re.compile(r"[0-9a-f]*")


def _bad(reason: str, message: str) -> TranscriptTampered:
    return TranscriptTampered(message, reason=reason)


@dataclass(frozen=True)
class Actor:
    """A person present at a step, in a role: ``Actor("Alice Ng", "custodian")``.

    ``name`` is free text (NFC, 1–128 characters, no control characters); ``role`` a name like
    ``custodian``, ``witness``, ``operator``, ``ceremony-administrator``, ``auditor``.
    """

    name: str
    role: str

    def __post_init__(self) -> None:
        check_text("an actor's name", self.name, _MAX_ACTOR_NAME)
        check_name("an actor's role", self.role)

    def to_json(self) -> dict[str, JSONValue]:
        return {"name": self.name, "role": self.role}

    @classmethod
    def from_json(cls, obj: object) -> Actor:
        """Raises TranscriptTampered (reason ``malformed``) for anything but ``{"name", "role"}``."""
        if not isinstance(obj, dict) or set(obj) != {"name", "role"}:
            raise _bad("malformed", 'each actor must be {"name": ..., "role": ...} and nothing else')
        try:
            return cls(obj["name"], obj["role"])
        except ValueError as err:
            raise _bad("malformed", str(err)) from None

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


def _actors(value: Iterable[Actor]) -> tuple[Actor, ...]:
    actors = tuple(value)
    for actor in actors:
        if not isinstance(actor, Actor):
            raise ValueError(f"actors must be Actor values, not {type(actor).__name__}")
    if len(set(actors)) != len(actors):
        raise ValueError("the same actor (name and role) is listed twice")
    return actors


@dataclass(frozen=True)
class CeremonyMeta:
    """What the opening entry records about the ceremony.

    ``ceremony_id``: 1–64 of ``A-Z a-z 0-9 . _ -`` (see :func:`~keyceremony.transcript.values.new_ceremony_id`);
    ``title``: what the ceremony is for, printed on the report; ``details``: more public facts
    (template name and version, location, purpose), checked like any entry's data and replaced
    by the checked copy.
    """

    ceremony_id: str
    title: str
    details: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not is_ceremony_id(self.ceremony_id):
            raise ValueError("a ceremony id is 1 to 64 of A-Z a-z 0-9 . _ - and starts with a letter or digit")
        check_text("the ceremony title", self.title, 200)
        details = check_public_data(dict(self.details), field="details")
        if "title" in details:
            raise ValueError("details must not repeat 'title'")
        object.__setattr__(self, "details", details)

    def opening_data(self) -> dict[str, JSONValue]:
        details = cast("dict[str, JSONValue]", self.details)  # check_public_data's copy (__post_init__)
        return {"title": self.title, **details}


def _hex_field(obj: dict[str, object], name: str, length: int) -> bytes:
    value = obj[name]
    if not isinstance(value, str) or len(value) != 2 * length or not _HEX.fullmatch(value):
        raise _bad("malformed", f"'{name}' must be {2 * length} lower-case hex digits")
    return bytes.fromhex(value)


@dataclass(frozen=True)
class Entry:
    """One signed line of a transcript (docs/transcript.md §3). Validates itself (ValueError).

    ``time`` is a UTC datetime in whole milliseconds; ``prev`` the SHA-256 of the previous line
    (or :func:`~keyceremony.transcript.values.genesis_hash`); ``key`` the raw Ed25519 public
    key, present only on ``opened`` and ``resumed`` entries; ``sig`` the signature over
    :meth:`signing_input`. ``data`` is a deep copy checked by
    :func:`~keyceremony.transcript.guard.check_public_data`.
    """

    ceremony: str
    seq: int
    time: datetime
    step: str
    event: str
    actors: tuple[Actor, ...]
    data: dict[str, JSONValue]
    prev: bytes
    sig: bytes
    key: bytes | None = None

    def __post_init__(self) -> None:
        if not is_ceremony_id(self.ceremony):
            raise ValueError("ceremony must be a ceremony id (1 to 64 of A-Z a-z 0-9 . _ -)")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int):
            raise ValueError("seq must be an integer")
        if not 1 <= self.seq <= canonical_json.MAX_SAFE_INTEGER:
            raise ValueError("seq must be at least 1")
        if not isinstance(self.time, datetime) or self.time.utcoffset() != timedelta(0):
            raise ValueError("time must be a timezone-aware UTC datetime")
        if self.time.microsecond % 1000:
            raise ValueError("time must be in whole milliseconds (see to_entry_time)")
        object.__setattr__(self, "time", self.time.astimezone(UTC))
        check_name("step", self.step)
        check_name("event", self.event)
        object.__setattr__(self, "actors", _actors(self.actors))
        object.__setattr__(self, "data", check_public_data(self.data))
        for name, value, length in (("prev", self.prev, HASH_LEN), ("sig", self.sig, SIGNATURE_LEN)):
            if not isinstance(value, bytes) or len(value) != length:
                raise ValueError(f"{name} must be {length} bytes")
        if self.key is not None and (not isinstance(self.key, bytes) or len(self.key) != PUBLIC_KEY_LEN):
            raise ValueError("key must be a 32-byte Ed25519 public key or None")

    def unsigned_json(self) -> dict[str, JSONValue]:
        """Every field but ``sig``: what the signature covers."""
        obj: dict[str, JSONValue] = {
            "actors": [a.to_json() for a in self.actors],
            "ceremony": self.ceremony,
            "data": self.data,
            "event": self.event,
            "format": FORMAT,
            "prev": self.prev.hex(),
            "seq": self.seq,
            "step": self.step,
            "time": format_time(self.time),
        }
        if self.key is not None:
            obj["key"] = self.key.hex()
        return obj

    def signing_input(self) -> bytes:
        """``"keyceremony transcript entry v1" || 0x00 || canonical JSON of the entry without sig``."""
        return SIGNATURE_CONTEXT + canonical_json.encode(self.unsigned_json())

    def to_json(self) -> dict[str, JSONValue]:
        return {**self.unsigned_json(), "sig": self.sig.hex()}

    def to_line(self) -> bytes:
        """The entry as it is written: canonical JSON and one line feed."""
        return canonical_json.encode(self.to_json()) + b"\n"

    @property
    def fingerprint(self) -> bytes | None:
        """The fingerprint of ``key``, on ``opened`` and ``resumed`` entries."""
        return None if self.key is None else key_fingerprint(self.key)

    def signed(self, signer: Signer) -> Entry:
        """This entry with ``sig`` replaced by ``signer``'s signature over :meth:`signing_input`."""
        return replace(self, sig=bytes(signer.sign(self.signing_input())))

    def signature_verifies(self, public_key: bytes) -> bool:
        return signature_verifies(public_key, self.signing_input(), self.sig)

    @classmethod
    def from_json(cls, obj: object) -> Entry:
        """Parse a decoded line. Raises TranscriptTampered (without a line number) with reason
        ``malformed``, ``version``, ``time`` or ``secret``; signatures are not checked here."""
        if not isinstance(obj, dict):
            raise _bad("malformed", "not a keyceremony transcript entry (not a JSON object)")
        fmt = obj.get("format")
        if fmt != FORMAT:
            match = _FORMAT_ANY.fullmatch(fmt) if isinstance(fmt, str) else None
            if match:
                raise _bad(
                    "version",
                    f"transcript format version {match.group(1)} is not supported; use a newer keyceremony",
                )
            raise _bad("malformed", f"not a keyceremony transcript entry ('format' is not {FORMAT!r})")
        missing = sorted(_ENTRY_FIELDS - set(obj))
        if missing:
            raise _bad("malformed", f"the field '{missing[0]}' is missing")
        unknown = sorted(set(obj) - _ENTRY_FIELDS - _OPTIONAL_FIELDS)
        if unknown:
            raise _bad("malformed", f"unknown field '{unknown[0]}'")
        seq = obj["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise _bad("malformed", "'seq' must be a positive integer")
        if not isinstance(obj["time"], str):
            raise _bad("time", "'time' must be a string")
        try:
            when = parse_time(obj["time"])
        except ValueError as err:
            raise _bad("time", str(err)) from None
        actors = obj["actors"]
        if not isinstance(actors, list):
            raise _bad("malformed", "'actors' must be a list")
        data = obj["data"]
        if not isinstance(data, dict):
            raise _bad("malformed", "'data' must be an object")
        prev = _hex_field(obj, "prev", HASH_LEN)
        sig = _hex_field(obj, "sig", SIGNATURE_LEN)
        key = _hex_field(obj, "key", PUBLIC_KEY_LEN) if "key" in obj else None
        try:
            return cls(
                ceremony=obj["ceremony"],
                seq=seq,
                time=when,
                step=obj["step"],
                event=obj["event"],
                actors=tuple(Actor.from_json(a) for a in actors),
                data=data,
                prev=prev,
                sig=sig,
                key=key,
            )
        except TranscriptDataRefused as err:
            if looks_secret(re.sub(r"\[[0-9]+\]$", "", err.field).rsplit(".", 1)[-1]):
                raise _bad(
                    "secret",
                    f"{err.field}: a field named like a secret (PIN, key, seed, password) is in the "
                    "transcript, which must never hold one. Treat what it holds as exposed and report it",
                ) from None
            raise _bad("malformed", str(err)) from None
        except ValueError as err:
            raise _bad("malformed", str(err)) from None

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        """Parse one line (ending in ``\\n``); rejects non-canonical JSON (reason ``not-canonical``)."""
        if not line.endswith(b"\n"):
            raise _bad("torn", "the line has no line end")
        try:
            obj = canonical_json.decode(line[:-1])
        except NonCanonicalJSON as err:
            raise _bad("not-canonical", str(err)) from None
        return cls.from_json(obj)
