"""The signed, hash-chained ceremony transcript, version 1 (docs/transcript.md).

A transcript is a JSON Lines file. Each line is one :class:`Entry` in canonical JSON
(:mod:`keyceremony.codec.canonical_json`): its sequence number, UTC time, step, actors, event and
public data, the SHA-256 of the previous line, and an Ed25519 signature by the ceremony key
(:mod:`keyceremony.transcript.signer`). The first entry opens the ceremony and carries the key; the last
seals it, after which the private key is destroyed and nothing can be added.

Three parts, one concept each:

- models: :class:`Actor`, :class:`CeremonyMeta`, :class:`Entry` (frozen dataclasses that
  validate themselves; ``from_json`` / ``to_json``, ``from_line`` / ``to_line``), and the
  template requirements :class:`StepRequirement`, :class:`TemplateRequirements`;
- :class:`TranscriptWriter`: ``create``, ``append``, ``seal``, and ``resume`` after a crash.
  Every entry is on disk (written and fsynced) before ``append`` returns;
- :func:`verify_transcript`: checks everything and returns a :class:`VerifiedTranscript`, or
  raises :class:`~keyceremony.errors.TranscriptTampered` naming the first bad line. There is
  deliberately no way to read entries without verifying them.

Nothing secret ever goes in: ``data`` is checked by :func:`check_public_data`, which refuses
bytes and fields whose names suggest key material (docs/transcript.md §3.2).

>>> import tempfile, pathlib
>>> from keyceremony.transcript.signer import SoftSigner
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ceremony.jsonl"
>>> signer = SoftSigner.generate()
>>> w = TranscriptWriter.create(path, signer, CeremonyMeta("demo-1", "Rehearsal"))
>>> _ = w.append("generate-key", "key-generated", actors=[Actor("Alice Ng", "operator")],
...              data={"key_label": "root-kek", "kcv": "a1b2c3"})
>>> _ = w.seal()
>>> verify_transcript(path, expected_fingerprint=signer.fingerprint).sealed
True
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Union

from keyceremony.codec import canonical_json
from keyceremony.atomic_file import fsync_directory
from keyceremony.errors import (
    NonCanonicalJSON,
    TemplateViolation,
    TornTranscript,
    TranscriptDataRefused,
    TranscriptError,
    TranscriptKeyChanged,
    TranscriptSealed,
    TranscriptTampered,
)
from keyceremony.codec.fingerprint import (
    fingerprint_words,
    format_fingerprint,
    parse_fingerprint,
    same_fingerprint,
)
from keyceremony.transcript.signer import (
    PUBLIC_KEY_LEN,
    SIGNATURE_LEN,
    Signer,
    key_fingerprint,
    signature_verifies,
)

FORMAT = "keyceremony transcript v1"
SIGNATURE_CONTEXT = b"keyceremony transcript entry v1\x00"  # docs/transcript.md §5
GENESIS_CONTEXT = b"keyceremony transcript genesis v1\x00"  # docs/transcript.md §6
HASH_LEN = 32
MAX_LINE_BYTES = 1 << 20  # an entry, without its line end
MAX_DATA_DEPTH = 16

CEREMONY_STEP = "ceremony"  # reserved for the entries the writer makes itself
OPENED, RESUMED, SEALED = "opened", "resumed", "sealed"
_SEGMENT_HEADS = (OPENED, RESUMED)

REASONS = frozenset(
    {
        "empty", "torn", "not-canonical", "malformed", "version", "secret", "after-seal",
        "foreign", "sequence", "chain", "structure", "signature", "time", "not-sealed",
        "wrong-key", "template",
    }
)
"""The closed vocabulary of ``TranscriptTampered.reason`` (docs/transcript.md §9)."""

Clock = Callable[[], datetime]
JSONValue = Union[None, bool, int, str, list["JSONValue"], dict[str, "JSONValue"]]

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_CEREMONY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z")
_FORMAT_ANY = re.compile(r"keyceremony transcript v([0-9]+)")
_MAX_NAME = 64
_MAX_ACTOR_NAME = 128


# --- small values ----------------------------------------------------------------------------


def utc_now() -> datetime:
    """The default clock: the system's time in UTC."""
    return datetime.now(timezone.utc)


def to_entry_time(moment: datetime) -> datetime:
    """``moment`` in UTC, cut to whole milliseconds, as entries carry it. ValueError if naive."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock must return timezone-aware datetimes")
    utc = moment.astimezone(timezone.utc)
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
        return datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None


def new_ceremony_id(randbytes: Callable[[int], bytes] = os.urandom) -> str:
    """A fresh random ceremony id, ``xxxxxxxx-xxxxxxxx`` (64 bits, as share-set ids)."""
    h = randbytes(8).hex()
    return f"{h[:8]}-{h[8:]}"


def genesis_hash(ceremony_id: str) -> bytes:
    """The ``prev`` of the first entry: SHA-256(GENESIS_CONTEXT || ceremony id)."""
    return hashlib.sha256(GENESIS_CONTEXT + ceremony_id.encode("utf-8")).digest()


def line_hash(line: bytes) -> bytes:
    """The ``prev`` of the next entry: SHA-256 of this line's exact bytes, line end included."""
    return hashlib.sha256(line).digest()


def _check_name(what: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > _MAX_NAME or not _NAME.fullmatch(value):
        raise ValueError(
            f"{what} must be 1 to {_MAX_NAME} characters of lower-case letters, digits and single "
            f"hyphens, starting with a letter (like 'generate-key'), not {value!r}"
        )
    return value


def _check_text(what: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise ValueError(f"{what} must be a string of 1 to {limit} characters")
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError(f"{what} must be in Unicode NFC form")
    if value != value.strip() or any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        raise ValueError(f"{what} must not contain control characters, line breaks or outer spaces")
    return value


# --- the secrets guard (docs/transcript.md §3.2) ---------------------------------------------

# Words that mark a field as possibly secret. The long ones are matched anywhere in the name
# ("apiSecret", "privatekey"); the short ones only as whole words ("pin", not "spinner").
_SECRET_ANYWHERE = (
    "secret", "private", "password", "passwd", "passphrase", "mnemonic", "plaintext",
    "cleartext", "credential",
)
_SECRET_WORDS = frozenset(
    {"key", "keys", "pin", "pins", "puk", "seed", "seeds", "pwd", "pass", "sk", "otp", "kek",
     "dek", "apikey", "share", "shares", "wrapped"}
)
# Words that say the field describes a secret instead of holding it: "key_label",
# "public_key", "key_check_value", "share_set_id", "pin_attempts", "key_destroyed".
_PUBLIC_QUALIFIERS = frozenset(
    {"public", "pub", "fingerprint", "fingerprints", "words", "kcv", "kcvs", "check", "checks",
     "checksum", "id", "ids", "label", "labels", "name", "names", "algorithm", "alg", "type",
     "kind", "length", "len", "size", "bits", "count", "number", "index", "x", "holder",
     "holders", "custodian", "custodians", "owner", "owners", "set", "status", "changed",
     "destroyed", "generated", "created", "verified", "attempts", "retries", "policy", "slot",
     "token", "handle", "location"}
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def looks_secret(field_name: str) -> bool:
    """True if a data field of this name may hold key material (module comment above).

    >>> [looks_secret(n) for n in ("pin", "userPIN", "key_label", "public_key", "seed", "kcv")]
    [True, True, False, False, True, False]
    """
    words = {w.lower() for w in _WORD.findall(field_name)}
    if words & _PUBLIC_QUALIFIERS:
        return False
    lower = field_name.lower()
    return bool(words & _SECRET_WORDS) or any(s in lower for s in _SECRET_ANYWHERE)


def check_public_data(data: object, *, field: str = "data") -> dict[str, JSONValue]:
    """A deep copy of ``data`` if it can go in a transcript; raises TranscriptDataRefused if not.

    Refused: anything but a ``dict`` at the top; field names that look secret
    (:func:`looks_secret`), at any depth; values other than ``str``, ``int``, ``bool``,
    ``None``, ``list`` / ``tuple`` and ``dict`` with ``str`` keys (so ``bytes``,
    ``bytearray``, ``memoryview``, floats and arrays are refused: give public binary values as
    hex strings); integers beyond ±(2^53 − 1); lone surrogates; nesting deeper than 16. The
    error names the field, never its value.
    """
    if not isinstance(data, dict):
        raise TranscriptDataRefused(f"{field} must be a dict of public values", field=field)
    return _check_value(data, field, 0)  # type: ignore[return-value]


def _check_value(value: object, path: str, depth: int) -> JSONValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -canonical_json.MAX_SAFE_INTEGER <= value <= canonical_json.MAX_SAFE_INTEGER:
            raise TranscriptDataRefused(f"{path} is an integer beyond ±(2^53 - 1); give it as a string", field=path)
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise TranscriptDataRefused(f"{path} holds a lone surrogate, which is not text", field=path) from None
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TranscriptDataRefused(
            f"{path} is a {type(value).__name__} object: binary values could be key material and "
            "are refused. Give public values (public keys, hashes, check values) as hex strings",
            field=path,
        )
    if depth >= MAX_DATA_DEPTH:
        raise TranscriptDataRefused(f"{path} is nested more than {MAX_DATA_DEPTH} levels deep", field=path)
    if isinstance(value, (list, tuple)):
        return [_check_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TranscriptDataRefused(f"{path} has a {type(key).__name__} key; keys must be strings", field=path)
            where = f"{path}.{key}"
            if looks_secret(key):
                raise TranscriptDataRefused(
                    f"{where}: a field of this name may hold a secret (PIN, key, seed, password), "
                    "and a transcript never holds secrets. Record public facts about it instead, "
                    "under a name that says so (key_label, kcv, public_key, fingerprint, pin_status)",
                    field=where,
                )
            out[_check_value(key, where, depth + 1)] = _check_value(item, where, depth + 1)  # type: ignore[index]
        return out
    kind = "a float: canonical JSON has integers only" if isinstance(value, float) else f"a {type(value).__name__}"
    raise TranscriptDataRefused(
        f"{path} is {kind}; data holds only str, int, bool, None, lists and dicts", field=path
    )


# --- models ----------------------------------------------------------------------------------


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
        _check_text("an actor's name", self.name, _MAX_ACTOR_NAME)
        _check_name("an actor's role", self.role)

    def to_json(self) -> dict[str, str]:
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

    ``ceremony_id``: 1–64 of ``A-Z a-z 0-9 . _ -`` (see :func:`new_ceremony_id`); ``title``:
    what the ceremony is for, printed on the report; ``details``: more public facts (template
    name and version, location, purpose), checked like any entry's data.
    """

    ceremony_id: str
    title: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.ceremony_id, str) or not _CEREMONY_ID.fullmatch(self.ceremony_id):
            raise ValueError("a ceremony id is 1 to 64 of A-Z a-z 0-9 . _ - and starts with a letter or digit")
        _check_text("the ceremony title", self.title, 200)
        details = check_public_data(dict(self.details), field="details")
        if "title" in details:
            raise ValueError("details must not repeat 'title'")
        object.__setattr__(self, "details", details)

    def opening_data(self) -> dict[str, JSONValue]:
        return {"title": self.title, **self.details}


_ENTRY_FIELDS = frozenset({"actors", "ceremony", "data", "event", "format", "prev", "seq", "sig", "step", "time"})
_OPTIONAL_FIELDS = frozenset({"key"})
_HEX = re.compile(r"[0-9a-f]*")


def _hex_field(obj: dict[str, Any], name: str, length: int) -> bytes:
    value = obj[name]
    if not isinstance(value, str) or len(value) != 2 * length or not _HEX.fullmatch(value):
        raise _bad("malformed", f"'{name}' must be {2 * length} lower-case hex digits")
    return bytes.fromhex(value)


@dataclass(frozen=True)
class Entry:
    """One signed line of a transcript (docs/transcript.md §3). Validates itself (ValueError).

    ``time`` is a UTC datetime in whole milliseconds; ``prev`` the SHA-256 of the previous line
    (or :func:`genesis_hash`); ``key`` the raw Ed25519 public key, present only on ``opened``
    and ``resumed`` entries; ``sig`` the signature over :meth:`signing_input`. ``data`` is a
    deep copy checked by :func:`check_public_data`.
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
        if not isinstance(self.ceremony, str) or not _CEREMONY_ID.fullmatch(self.ceremony):
            raise ValueError("ceremony must be a ceremony id (1 to 64 of A-Z a-z 0-9 . _ -)")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int):
            raise ValueError("seq must be an integer")
        if not 1 <= self.seq <= canonical_json.MAX_SAFE_INTEGER:
            raise ValueError("seq must be at least 1")
        if not isinstance(self.time, datetime) or self.time.utcoffset() != timedelta(0):
            raise ValueError("time must be a timezone-aware UTC datetime")
        if self.time.microsecond % 1000:
            raise ValueError("time must be in whole milliseconds (see to_entry_time)")
        object.__setattr__(self, "time", self.time.astimezone(timezone.utc))
        _check_name("step", self.step)
        _check_name("event", self.event)
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
            "actors": [a.to_json() for a in self.actors],  # type: ignore[misc]
            "ceremony": self.ceremony,
            "data": self.data,  # type: ignore[dict-item]
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
                raise _bad("version", f"transcript format version {match.group(1)} is not supported; use a newer keyceremony")
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


# --- template requirements --------------------------------------------------------------------


@dataclass(frozen=True)
class StepRequirement:
    """A step the template requires, with the roles that must take part in it.

    ``roles`` pairs a role with the least number of distinct people in that role who must appear
    among the actors of the step's entries: ``StepRequirement("split", {"custodian": 3})``.
    """

    step: str
    roles: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        _check_name("a required step", self.step)
        if self.step == CEREMONY_STEP:
            raise ValueError(f"'{CEREMONY_STEP}' is reserved for the transcript's own entries")
        roles = tuple(self.roles.items()) if isinstance(self.roles, Mapping) else tuple(tuple(r) for r in self.roles)
        for role, count in roles:
            _check_name("a required role", role)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"the count for role '{role}' must be a positive integer")
        if len({role for role, _ in roles}) != len(roles):
            raise ValueError(f"step '{self.step}' lists a role twice")
        object.__setattr__(self, "roles", roles)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "roles": dict(self.roles)}

    @classmethod
    def from_json(cls, obj: object) -> StepRequirement:
        if not isinstance(obj, dict) or not set(obj) <= {"step", "roles"} or "step" not in obj:
            raise ValueError('a step requirement is {"step": NAME, "roles": {ROLE: COUNT, ...}}')
        roles = obj.get("roles", {})
        if not isinstance(roles, dict):
            raise ValueError("'roles' must map role names to counts")
        return cls(obj["step"], tuple(roles.items()))


@dataclass(frozen=True)
class TemplateRequirements:
    """The steps a ceremony template requires, in order (docs/transcript.md §8.3).

    >>> TemplateRequirements.from_json({"steps": [{"step": "generate-key", "roles": {"witness": 2}},
    ...                                          {"step": "split"}]}).steps[1]
    StepRequirement(step='split', roles=())
    """

    steps: tuple[StepRequirement, ...]

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        if not all(isinstance(s, StepRequirement) for s in steps):
            raise ValueError("steps must be StepRequirement values")
        if len({s.step for s in steps}) != len(steps):
            raise ValueError("a step is required twice")
        object.__setattr__(self, "steps", steps)

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps]}

    @classmethod
    def from_json(cls, obj: object) -> TemplateRequirements:
        """Raises ValueError saying what is wrong."""
        if not isinstance(obj, dict) or set(obj) != {"steps"} or not isinstance(obj["steps"], list):
            raise ValueError('template requirements are {"steps": [{"step": NAME, "roles": {...}}, ...]}')
        return cls(tuple(StepRequirement.from_json(s) for s in obj["steps"]))


# --- reading and verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class KeySegment:
    """A run of entries signed by one key: from an ``opened`` or ``resumed`` entry to the next."""

    line: int
    public_key: bytes
    started: datetime

    @property
    def fingerprint(self) -> bytes:
        return key_fingerprint(self.public_key)


@dataclass(frozen=True)
class VerifiedTranscript:
    """What :func:`verify_transcript` found: a transcript intact from its first line to its last."""

    ceremony_id: str
    title: str
    meta: dict[str, JSONValue]
    segments: tuple[KeySegment, ...]
    entries: tuple[Entry, ...]
    sealed: bool

    @property
    def public_key(self) -> bytes:
        """The ceremony key: the key of the first segment."""
        return self.segments[0].public_key

    @property
    def fingerprint(self) -> bytes:
        return self.segments[0].fingerprint

    @property
    def key_changes(self) -> tuple[KeySegment, ...]:
        """Segments whose key differs from the one before: resumes with a new key."""
        return tuple(s for prev, s in zip(self.segments, self.segments[1:]) if s.public_key != prev.public_key)

    @property
    def resumes(self) -> int:
        return len(self.segments) - 1

    @property
    def started(self) -> datetime:
        return self.entries[0].time

    @property
    def ended(self) -> datetime:
        return self.entries[-1].time

    @property
    def steps(self) -> tuple[str, ...]:
        """The ceremony's steps in the order they first appear (the writer's own entries left out)."""
        return tuple(dict.fromkeys(e.step for e in self.entries if e.step != CEREMONY_STEP))

    @property
    def actors(self) -> tuple[Actor, ...]:
        """Everyone named in any entry, each (name, role) once, in order of first appearance."""
        return tuple(dict.fromkeys(a for e in self.entries for a in e.actors))


TranscriptSource = Union[str, os.PathLike, bytes, bytearray, Iterable[bytes]]


def split_lines(content: bytes) -> tuple[list[bytes], bytes]:
    """The complete lines of a transcript (each with its ``\\n``), and what follows the last one.

    A non-empty remainder is a *torn* line: a write that stopped part-way (docs/transcript.md §7).
    """
    lines = content.split(b"\n")
    torn = lines.pop()
    return [line + b"\n" for line in lines], torn


class _Chain:
    """Checks lines one at a time, in order: everything but the seal and the template.

    ``expected_first`` / ``expected_later``: fingerprints the keys must have, checked at the
    entry that introduces each key, so a substituted key is named where it appears.
    """

    def __init__(
        self,
        source: str | None,
        *,
        expected_first: bytes | None = None,
        expected_later: list[bytes] | None = None,
    ) -> None:
        self.source = source
        self.expected_first = expected_first
        self.expected_later = expected_later
        self.changes = 0
        self.entries: list[Entry] = []
        self.segments: list[KeySegment] = []
        self.ceremony_id: str | None = None
        self.last_hash: bytes | None = None
        self.length = 0  # bytes of complete, verified lines
        self.sealed_line: int | None = None

    @property
    def key(self) -> bytes | None:
        return self.segments[-1].public_key if self.segments else None

    def fail(self, reason: str, message: str, line: int | None, sequence: int | None = None) -> TranscriptTampered:
        return TranscriptTampered(message, reason=reason, line=line, sequence=sequence, source=self.source)

    def feed(self, line: bytes) -> Entry:
        n = len(self.entries) + 1
        body = line[:-1]
        if len(body) > MAX_LINE_BYTES:
            raise self.fail("malformed", f"the line is {len(body)} bytes; an entry is at most {MAX_LINE_BYTES}", n)
        if not body:
            raise self.fail("not-canonical", "the line is empty", n)
        if body.endswith(b"\r"):
            raise self.fail(
                "not-canonical",
                "the line ends in CR LF: the file was converted to Windows line ends after it was "
                "written. Verify the original file",
                n,
            )
        try:
            obj = canonical_json.decode(body)
        except NonCanonicalJSON as err:
            raise self.fail("not-canonical", f"{err}; the line was changed after it was written", n) from None
        claimed = obj.get("seq") if isinstance(obj, dict) else None
        claimed = claimed if isinstance(claimed, int) and not isinstance(claimed, bool) else None
        try:
            entry = Entry.from_json(obj)
        except TranscriptTampered as err:
            raise self.fail(err.reason, err.detail, n, claimed) from None
        self._check(n, line, entry)
        self.entries.append(entry)
        self.last_hash = line_hash(line)
        self.length += len(line)
        return entry

    def _check(self, n: int, line: bytes, entry: Entry) -> None:
        seq = entry.seq
        if self.sealed_line is not None:
            raise self.fail(
                "after-seal",
                f"this entry follows the seal on line {self.sealed_line}; nothing can be added to a "
                "sealed transcript, so it was appended by someone else afterwards",
                n, seq,
            )
        if self.ceremony_id is None:
            self.ceremony_id = entry.ceremony
        elif entry.ceremony != self.ceremony_id:
            raise self.fail(
                "foreign",
                f"the entry belongs to ceremony {entry.ceremony}, not {self.ceremony_id}: it was "
                "copied in from another ceremony's transcript",
                n, seq,
            )
        if seq != n:
            why = (
                f"entry {n} is missing, or entries were reordered" if seq > n
                else f"sequence number {seq} was used before: entries were repeated or reordered"
            )
            raise self.fail("sequence", f"sequence number {seq} where {n} was expected: {why}", n, seq)
        expected_prev = genesis_hash(entry.ceremony) if n == 1 else self.last_hash
        assert expected_prev is not None
        if entry.prev != expected_prev:
            if n == 1:
                why = "its 'prev' is not the genesis value of the ceremony: lines before it were removed"
            else:
                why = (
                    f"its 'prev' is not the hash of line {n - 1}: line {n - 1} was replaced by "
                    "another entry, or lines of different transcripts were mixed"
                )
            raise self.fail("chain", f"the hash chain is broken here: {why}", n, seq)
        self._check_structure(n, entry)
        if entry.key is not None:
            self._check_expected_key(n, entry.key, seq)
        key = entry.key if entry.key is not None else self.key
        assert key is not None
        if not entry.signature_verifies(key):
            segment = n if entry.key is not None else self.segments[-1].line
            raise self.fail(
                "signature",
                f"the signature does not verify under the ceremony key {format_fingerprint(key_fingerprint(key))} "
                f"(in force from line {segment}): the entry was changed after it was signed, or "
                "signed by another key. Keep this file as evidence and report it",
                n, seq,
            )
        if self.entries and entry.time < self.entries[-1].time:
            raise self.fail(
                "time",
                f"the time {format_time(entry.time)} is earlier than line {n - 1}'s "
                f"{format_time(self.entries[-1].time)}; times never go back in a transcript",
                n, seq,
            )
        if entry.key is not None:
            self.segments.append(KeySegment(n, entry.key, entry.time))
        if entry.step == CEREMONY_STEP and entry.event == SEALED:
            self.sealed_line = n

    def _check_expected_key(self, n: int, key: bytes, seq: int) -> None:
        fingerprint = key_fingerprint(key)
        if n == 1:
            if self.expected_first is not None and not same_fingerprint(fingerprint, self.expected_first):
                raise self.fail(
                    "wrong-key",
                    f"the ceremony key's fingerprint is {_describe_key(fingerprint)}, not "
                    f"{format_fingerprint(self.expected_first)}, the one recorded at the ceremony: "
                    "this transcript was not signed by that ceremony's key",
                    n, seq,
                )
            return
        if key == self.key:
            return
        self.changes += 1
        if self.expected_later is None:
            return
        i = self.changes - 1
        if i >= len(self.expected_later) or not same_fingerprint(fingerprint, self.expected_later[i]):
            wanted = format_fingerprint(self.expected_later[i]) if i < len(self.expected_later) else "no further key change"
            raise self.fail(
                "wrong-key",
                f"the transcript resumes here with a new key {_describe_key(fingerprint)}; the record "
                f"of the ceremony has {wanted}: the entries from here on were not signed by a key "
                "the ceremony accepted",
                n, seq,
            )

    def _check_structure(self, n: int, entry: Entry) -> None:
        seq = entry.seq
        own = entry.step == CEREMONY_STEP
        if n == 1 and not (own and entry.event == OPENED):
            raise self.fail(
                "structure",
                f"the first entry must open the ceremony (step '{CEREMONY_STEP}', event '{OPENED}'): "
                "the beginning of the transcript is missing",
                n, seq,
            )
        if own and entry.event not in (OPENED, RESUMED, SEALED):
            raise self.fail("structure", f"step '{CEREMONY_STEP}' is reserved; event '{entry.event}' is not one of its events", n, seq)
        if own and entry.event == OPENED and n != 1:
            raise self.fail("structure", "the ceremony is opened a second time (it was opened on line 1)", n, seq)
        head = own and entry.event in _SEGMENT_HEADS
        if head and entry.key is None:
            raise self.fail("structure", f"an '{entry.event}' entry must carry the key that signs it", n, seq)
        if not head and entry.key is not None:
            raise self.fail("structure", "only 'opened' and 'resumed' entries carry a key", n, seq)
        if own and entry.event == OPENED and not isinstance(entry.data.get("title"), str):
            raise self.fail("structure", "the opening entry must have a 'title' in its data", n, seq)


def _read_source(source: TranscriptSource) -> tuple[bytes, str | None]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except OSError as err:
            raise TranscriptError(f"{path}: cannot read the transcript: {err.strerror}") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None
    return b"".join(bytes(line) for line in source), None


def _scan(content: bytes, source: str | None, **expected: Any) -> tuple[_Chain, bytes]:
    """Verify every complete line; return the chain state and the torn remainder (unverified)."""
    lines, torn = split_lines(content)
    chain = _Chain(source, **expected)
    for line in lines:
        chain.feed(line)
    return chain, torn


def _torn_error(chain: _Chain, torn: bytes) -> TornTranscript:
    return TornTranscript(
        f"the last line is incomplete ({len(torn)} bytes with no line end): writing stopped "
        "part-way (a crash, power loss or full disk), or the file was cut. If the ceremony is "
        "being resumed, resume with truncate_torn to remove it; otherwise this transcript is not "
        "complete",
        line=len(chain.entries) + 1,
        good_length=chain.length,
        torn_bytes=len(torn),
        source=chain.source,
    )


def _fingerprint_arg(value: bytes | str) -> bytes:
    return parse_fingerprint(value) if isinstance(value, str) else bytes(value)


def _describe_key(fingerprint: bytes) -> str:
    return f"{format_fingerprint(fingerprint)} ({fingerprint_words(fingerprint)})"


def verify_transcript(
    source: TranscriptSource,
    *,
    expected_fingerprint: bytes | str | None = None,
    later_fingerprints: Sequence[bytes | str] | None = None,
    template_requirements: TemplateRequirements | None = None,
    require_sealed: bool = True,
    name: str | None = None,
) -> VerifiedTranscript:
    """Verify a whole transcript (docs/transcript.md §8); return its summary or raise.

    ``source`` is a path, the file's bytes, or its lines as bytes (each with its ``\\n``, as a
    binary file yields them). Checks every line's canonical form and fields, the ceremony id,
    sequence numbers, the hash chain, every signature, that times never go back, and that the
    transcript ends with the seal (unless ``require_sealed`` is false, for a ceremony in
    progress). Then, if given:

    - ``expected_fingerprint`` (bytes, hex or PGP words): the first key's fingerprint, as
      recorded at the ceremony. If the key changed later (a resume with a new key), each change
      must be confirmed: ``later_fingerprints`` lists the new keys' fingerprints in order, and
      without it :class:`~keyceremony.errors.TranscriptKeyChanged` is raised;
    - ``later_fingerprints`` alone: the key changes must be exactly these;
    - ``template_requirements``: the required steps ran, in order, with the required roles.

    Raises :class:`~keyceremony.errors.TranscriptTampered` (or its subclasses
    :class:`~keyceremony.errors.TornTranscript`, :class:`~keyceremony.errors.TemplateViolation`)
    naming the first bad line, its sequence number and what is wrong;
    :class:`~keyceremony.errors.TranscriptKeyChanged`; ``TranscriptError`` if a path cannot be
    read; ``ValueError`` for a malformed fingerprint argument.
    """
    content, path_name = _read_source(source)
    where = name or path_name
    expected = None if expected_fingerprint is None else _fingerprint_arg(expected_fingerprint)
    later = None if later_fingerprints is None else [_fingerprint_arg(f) for f in later_fingerprints]
    chain, torn = _scan(content, where, expected_first=expected, expected_later=later)
    if torn:
        raise _torn_error(chain, torn)
    if not chain.entries:
        raise TranscriptTampered("the transcript is empty", reason="empty", source=where)
    last = chain.entries[-1]
    if require_sealed and chain.sealed_line is None:
        raise chain.fail(
            "not-sealed",
            "the transcript ends here without the seal: entries after this one were cut off, or "
            "the ceremony never finished",
            len(chain.entries), last.seq,
        )
    opening = chain.entries[0]
    result = VerifiedTranscript(
        ceremony_id=opening.ceremony,
        title=str(opening.data["title"]),
        meta=dict(opening.data),
        segments=tuple(chain.segments),
        entries=tuple(chain.entries),
        sealed=chain.sealed_line is not None,
    )
    changes = result.key_changes
    if later is not None and len(later) > len(changes):
        raise TranscriptTampered(
            f"{len(later)} key change(s) were recorded at the ceremony, but the transcript has "
            f"{len(changes)}: the entries of a resumed segment are missing",
            reason="wrong-key",
            source=where,
        )
    if later is None and expected is not None and changes:
        listed = "; ".join(f"line {c.line}: {_describe_key(c.fingerprint)}" for c in changes)
        raise TranscriptKeyChanged(
            f"{where or 'transcript'}: the ceremony key changed when the transcript was resumed "
            f"after a crash ({listed}). Anyone who could write the file could have done this, so "
            "confirm each new fingerprint against the paper log, where it was read aloud at the "
            "time, and pass it with --later-fingerprint (later_fingerprints)",
            lines=tuple(c.line for c in changes),
            fingerprints=tuple(c.fingerprint for c in changes),
        )
    if template_requirements is not None:
        _check_template(result, template_requirements, where)
    return result


def _check_template(result: VerifiedTranscript, template: TemplateRequirements, source: str | None) -> None:
    """First violation by line: a required step out of order, missing, or short of a role."""
    index = {req.step: i for i, req in enumerate(template.steps)}
    violations: list[tuple[int, str, int]] = []  # (line, message, sequence)
    current = -1
    started: dict[int, int] = {}
    lines_of: dict[int, list[int]] = {}
    people: dict[int, dict[str, set[str]]] = {}
    for n, entry in enumerate(result.entries, start=1):
        i = index.get(entry.step)
        if i is None:
            continue
        if i < current:
            later = template.steps[current].step
            violations.append((
                n,
                f"step '{entry.step}' runs after step '{later}' began on line {started[current]}; "
                f"the template requires '{entry.step}' to be finished before '{later}' begins",
                entry.seq,
            ))
        elif i > current:
            for skipped in range(current + 1, i):
                violations.append((
                    n,
                    f"step '{entry.step}' begins, but the required step '{template.steps[skipped].step}' "
                    "never ran before it",
                    entry.seq,
                ))
            current = i
            started[i] = n
        lines_of.setdefault(i, []).append(n)
        for actor in entry.actors:
            people.setdefault(i, {}).setdefault(actor.role, set()).add(actor.name)
    last_line, last_seq = len(result.entries), result.entries[-1].seq
    for skipped in range(current + 1, len(template.steps)):
        violations.append((
            last_line,
            f"the transcript ends without the required step '{template.steps[skipped].step}'",
            last_seq,
        ))
    for i, req in enumerate(template.steps):
        if i not in lines_of:
            continue
        lines = lines_of[i]
        for role, count in req.roles:
            names = sorted(people.get(i, {}).get(role, set()))
            if len(names) < count:
                had = f"{len(names)} ({', '.join(names)})" if names else "none"
                span = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"
                violations.append((
                    lines[-1],
                    f"step '{req.step}' ({span}) had {had} in the role '{role}'; the template "
                    f"requires at least {count}",
                    result.entries[lines[-1] - 1].seq,
                ))
    if violations:
        line, message, seq = min(violations, key=lambda v: v[0])
        raise TemplateViolation(message, line=line, sequence=seq, source=source)


# --- writing ----------------------------------------------------------------------------------


def _public_key_of(signer: Signer) -> bytes:
    key = signer.public_key
    if not isinstance(key, (bytes, bytearray)) or len(key) != PUBLIC_KEY_LEN:
        raise ValueError("signer.public_key must be a raw 32-byte Ed25519 public key")
    return bytes(key)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise TranscriptError(
            f"{path}: another program is writing this transcript; only one may write it at a time"
        ) from None


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


class TranscriptWriter:
    """Appends signed entries to a transcript file, one fsynced line at a time.

    Make one with :meth:`create` (a new ceremony) or :meth:`resume` (after a crash or restart),
    then call :meth:`append` for each event and :meth:`seal` at the end. Every method either
    completes (the entry is on disk and durable) or raises with nothing new on disk, except
    when the disk itself fails mid-write: then the writer refuses further use and the transcript
    must be resumed, which detects and removes the partial line (docs/transcript.md §7).
    Thread-safe: one entry is written at a time.

    The engine should treat the file, not its own memory, as the record: after
    :meth:`resume`, :attr:`entries` holds every entry on disk and the last one says where the
    ceremony stopped.
    """

    def __init__(self, *, path: Path, fd: int, signer: Signer, chain: _Chain, clock: Clock) -> None:
        # Use create() or resume().
        self._path = path
        self._fd: int | None = fd
        self._signer = signer
        self._key = _public_key_of(signer)
        self._clock = clock
        self._entries = list(chain.entries)
        self._first_key = chain.segments[0].public_key
        self._last_hash = chain.last_hash
        self._sealed = chain.sealed_line is not None
        self._failed = False
        self._lock = threading.Lock()

    # -- making one

    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        signer: Signer,
        meta: CeremonyMeta,
        *,
        actors: Iterable[Actor] = (),
        clock: Clock = utc_now,
    ) -> TranscriptWriter:
        """Start a new transcript at ``path`` with its ``opened`` entry, signed by ``signer``.

        The file must not exist. It is created, the entry written and fsynced, and the directory
        fsynced, before this returns. Raises TranscriptError (file exists, cannot write; then
        no file is left behind), SignerUnavailable, ValueError for bad arguments.
        """
        path = Path(path)
        key = _public_key_of(signer)
        entry = _sign(
            signer,
            Entry(
                ceremony=meta.ceremony_id,
                seq=1,
                time=to_entry_time(clock()),
                step=CEREMONY_STEP,
                event=OPENED,
                actors=tuple(actors),
                data=meta.opening_data(),
                prev=genesis_hash(meta.ceremony_id),
                sig=bytes(SIGNATURE_LEN),
                key=key,
            ),
            key,
        )
        line = _encode_line(entry)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileExistsError:
            raise TranscriptError(
                f"{path} already exists: resume that transcript, or choose another file name"
            ) from None
        except OSError as err:
            raise TranscriptError(f"{path}: cannot create the transcript: {err.strerror}") from None
        try:
            _lock(fd, path)
            _write_all(fd, line)
            os.fsync(fd)
            fsync_directory(path.parent.resolve())
        except BaseException as err:
            os.close(fd)
            path.unlink(missing_ok=True)  # nothing usable was created
            if isinstance(err, OSError):
                raise TranscriptError(f"{path}: cannot write the transcript: {err.strerror}") from None
            raise
        chain = _Chain(str(path))
        chain.feed(line)
        return cls(path=path, fd=fd, signer=signer, chain=chain, clock=clock)

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike,
        signer: Signer,
        *,
        actors: Iterable[Actor] = (),
        data: Mapping[str, Any] | None = None,
        clock: Clock = utc_now,
        truncate_torn: bool = False,
        allow_new_key: bool = False,
    ) -> TranscriptWriter:
        """Reopen a transcript after a crash or restart and append a ``resumed`` entry.

        The existing lines are verified first (TranscriptTampered if any is bad). A torn last
        line (a write cut short) raises TornTranscript unless ``truncate_torn`` is true; then it
        is cut away and its length recorded in the ``resumed`` entry as ``dropped_bytes``.

        ``signer`` is normally the ceremony key itself: the same :class:`SoftSigner` object the
        engine still holds, or the HSM key, which survives a crash on its token. If the key was
        lost (a soft key dies with its process), pass a *new* signer and ``allow_new_key=True``:
        the ``resumed`` entry then starts a new key segment, signed by the new key and chained to
        the last good line, and verifiers report the key change and require its fingerprint to
        be confirmed (docs/transcript.md §7). Raises TranscriptSealed for a sealed transcript,
        TranscriptError if the file cannot be read or written, has no complete entry, or the
        signer's key is not the current one and ``allow_new_key`` is false.
        """
        path = Path(path)
        key = _public_key_of(signer)
        extra = check_public_data(dict(data or {}))
        for reserved in ("dropped_bytes", "key_changed"):
            if reserved in extra:
                raise ValueError(f"data must not set '{reserved}': resume records it itself")
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            raise TranscriptError(f"{path}: cannot open the transcript to resume it: {err.strerror}") from None
        try:
            _lock(fd, path)
            content = _read_all(fd)
            chain, torn = _scan(content, str(path))
            if not chain.entries:
                raise TranscriptError(
                    f"{path}: nothing to resume: the file has no complete entry (the crash came "
                    "while it was being created). Remove it and create the transcript again"
                )
            if chain.sealed_line is not None:
                raise TranscriptSealed(
                    f"{path}: the transcript was sealed on line {chain.sealed_line}; nothing can be "
                    "added to it. If its ceremony key still exists (a crash right after sealing), "
                    f"destroy key {format_fingerprint(key_fingerprint(chain.key or key))} now"
                )
            if torn and not truncate_torn:
                raise _torn_error(chain, torn)
            current = chain.key
            assert current is not None and chain.last_hash is not None
            if key != current and not allow_new_key:
                raise TranscriptError(
                    f"{path}: the signer's key {format_fingerprint(key_fingerprint(key))} is not the "
                    f"ceremony key {format_fingerprint(key_fingerprint(current))}. Resume with the "
                    "ceremony key; if it was lost, resume with a new key (allow_new_key), read its "
                    "fingerprint aloud and record it in the paper log"
                )
            last = chain.entries[-1]
            now = _check_clock(to_entry_time(clock()), last, path)
            entry = _sign(
                signer,
                Entry(
                    ceremony=last.ceremony,
                    seq=last.seq + 1,
                    time=now,
                    step=CEREMONY_STEP,
                    event=RESUMED,
                    actors=tuple(actors),
                    data={**extra, "dropped_bytes": len(torn), "key_changed": key != current},
                    prev=chain.last_hash,
                    sig=bytes(SIGNATURE_LEN),
                    key=key,
                ),
                key,
            )
            line = _encode_line(entry)
            try:
                if torn:
                    os.ftruncate(fd, chain.length)
                    os.fsync(fd)
                _write_all(fd, line)
                os.fsync(fd)
            except OSError as err:
                raise TranscriptError(
                    f"{path}: cannot write the transcript: {err.strerror}. Fix the cause and "
                    "resume again"
                ) from None
            chain.feed(line)
        except BaseException:
            os.close(fd)
            raise
        return cls(path=path, fd=fd, signer=signer, chain=chain, clock=clock)

    # -- using it

    @property
    def path(self) -> Path:
        return self._path

    @property
    def ceremony_id(self) -> str:
        return self._entries[0].ceremony

    @property
    def public_key(self) -> bytes:
        """The key that signs the next entry (the current segment's)."""
        return self._key

    @property
    def fingerprint(self) -> bytes:
        """The ceremony key's fingerprint: the *first* key's, printed on cards and the report."""
        return key_fingerprint(self._first_key)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    @property
    def last_entry(self) -> Entry:
        return self._entries[-1]

    @property
    def sealed(self) -> bool:
        return self._sealed

    def append(
        self,
        step: str,
        event: str,
        *,
        actors: Iterable[Actor] = (),
        data: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Sign and write one entry; it is durable on disk when this returns.

        ``step`` is the template step (not ``ceremony``, which is reserved), ``event`` what
        happened, ``actors`` who took part, ``data`` public facts only (see
        :func:`check_public_data`). Raises TranscriptDataRefused (nothing written), ValueError
        for a bad name, TranscriptSealed, TranscriptError (clock went back, write failed),
        SignerUnavailable.
        """
        _check_name("step", step)
        if step == CEREMONY_STEP:
            raise ValueError(f"step '{CEREMONY_STEP}' is reserved for the transcript's own entries")
        return self._append(step, event, tuple(actors), dict(data or {}))

    def seal(self, *, actors: Iterable[Actor] = (), data: Mapping[str, Any] | None = None) -> Entry:
        """Write the ``sealed`` entry, then destroy the ceremony key and close the file.

        After this nothing can be added: the verifier requires the seal to be the last line,
        and the key that could sign another entry no longer exists. Raises like
        :meth:`append`; if the key cannot be destroyed the transcript is still sealed and
        TranscriptError says which key to destroy by hand.
        """
        entry = self._append(CEREMONY_STEP, SEALED, tuple(actors), dict(data or {}))
        try:
            self._signer.destroy()
        except Exception as err:
            raise TranscriptError(
                f"{self._path}: the transcript is sealed (line {entry.seq}), but the ceremony key "
                f"{format_fingerprint(key_fingerprint(self._key))} could not be destroyed ({err}). "
                "Destroy it by hand now and record that in the paper log"
            ) from None
        finally:
            self.close()
        return entry

    def close(self) -> None:
        """Close the file without sealing (the engine may resume later). Idempotent."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> TranscriptWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TranscriptWriter({str(self._path)!r}, ceremony={self.ceremony_id!r}, entries={len(self._entries)})"

    def _append(self, step: str, event: str, actors: tuple[Actor, ...], data: dict[str, Any]) -> Entry:
        with self._lock:
            if self._sealed:
                raise TranscriptSealed(f"{self._path}: the transcript is sealed; nothing can be added")
            if self._failed:
                raise TranscriptError(
                    f"{self._path}: an earlier write failed, so the file may end in a partial line. "
                    "Resume the transcript (it removes a partial line) before writing more"
                )
            if self._fd is None:
                raise TranscriptError(f"{self._path}: the transcript writer is closed; resume it to write more")
            last = self._entries[-1]
            assert self._last_hash is not None
            entry = _sign(
                self._signer,
                Entry(
                    ceremony=last.ceremony,
                    seq=last.seq + 1,
                    time=_check_clock(to_entry_time(self._clock()), last, self._path),
                    step=step,
                    event=event,
                    actors=actors,
                    data=data,
                    prev=self._last_hash,
                    sig=bytes(SIGNATURE_LEN),
                ),
                self._key,
            )
            line = _encode_line(entry)
            try:
                _write_all(self._fd, line)
                os.fsync(self._fd)
            except OSError as err:
                self._failed = True
                raise TranscriptError(
                    f"{self._path}: could not write entry {entry.seq} ({err.strerror}); it may be "
                    "partly written. Fix the cause (a full disk?), then resume the transcript"
                ) from None
            self._entries.append(entry)
            self._last_hash = line_hash(line)
            if event == SEALED and step == CEREMONY_STEP:
                self._sealed = True
            return entry


def _sign(signer: Signer, draft: Entry, key: bytes) -> Entry:
    entry = draft.signed(signer)
    if len(entry.sig) != SIGNATURE_LEN or not entry.signature_verifies(key):
        raise TranscriptError(
            "the signer returned a signature that does not verify under its own public key; "
            "nothing was written. Check the HSM or signer"
        )
    return entry


def _encode_line(entry: Entry) -> bytes:
    line = entry.to_line()
    if len(line) - 1 > MAX_LINE_BYTES:
        raise TranscriptDataRefused(
            f"the entry would be {len(line) - 1} bytes; an entry is at most {MAX_LINE_BYTES}", field="data"
        )
    return line


def _check_clock(now: datetime, last: Entry, path: Path) -> datetime:
    if now < last.time:
        raise TranscriptError(
            f"{path}: the clock says {format_time(now)}, earlier than the last entry "
            f"({format_time(last.time)}); times in a transcript never go back. Set the clock "
            "right and try again (nothing was written)"
        )
    return now
