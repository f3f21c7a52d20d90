"""Reading and verifying a transcript (docs/transcript.md §8).

:func:`verify_transcript` checks everything and returns a :class:`VerifiedTranscript`, or raises
:class:`~keyceremony.errors.TranscriptTampered` naming the first bad line. There is deliberately
no way to read entries without verifying them. :class:`Chain` checks lines one at a time, in
order; the writer uses it to verify a transcript before resuming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from itertools import pairwise
from pathlib import Path
from typing import TypeAlias

from keyceremony.codec import canonical_json
from keyceremony.codec.fingerprint import (
    fingerprint_words,
    format_fingerprint,
    parse_fingerprint,
    same_fingerprint,
)
from keyceremony.errors import (
    NonCanonicalJSON,
    TemplateViolation,
    TornTranscript,
    TranscriptError,
    TranscriptKeyChanged,
    TranscriptTampered,
    TranscriptTooLarge,
)
from keyceremony.transcript.model import Actor, Entry
from keyceremony.transcript.requirements import TemplateRequirements
from keyceremony.transcript.signer import key_fingerprint
from keyceremony.transcript.values import (
    CEREMONY_STEP,
    MAX_LINE_BYTES,
    OPENED,
    RESUMED,
    SEALED,
    JSONValue,
    format_time,
    genesis_hash,
    line_hash,
)

_SEGMENT_HEADS = (OPENED, RESUMED)


@dataclass(frozen=True)
class KeySegment:
    """A run of entries signed by one key: from an ``opened`` or ``resumed`` entry to the next."""

    line: int
    public_key: bytes
    started: datetime

    @property
    def fingerprint(self) -> bytes:
        return key_fingerprint(self.public_key)


class Anchor(Enum):
    """Whether a verified transcript is tied to the ceremony (docs/transcript.md §8.2).

    A transcript is *anchored* when its keys' fingerprints were checked against the ones
    recorded at the ceremony (read aloud, written in the paper log): the first key's
    (``expected_fingerprint``) and every later key's after a resume with a new key
    (``later_fingerprints``). Unanchored, verification proves only that the file is internally
    consistent: anyone can make such a file with a key of their own.
    """

    ANCHORED = "ANCHORED"  # every key's fingerprint was checked against one given
    PARTLY = "PARTLY ANCHORED"  # some keys' fingerprints were checked, not all
    UNANCHORED = "UNANCHORED"  # no key's fingerprint was checked


@dataclass(frozen=True)
class KeyAnchor:
    """One key of a transcript (the first, or a new key after a resume) and whether it was anchored."""

    line: int  # the line of the entry that introduces the key (1 for the ceremony key)
    fingerprint: bytes
    anchored: bool  # its fingerprint matched one the caller gave (from the paper log)

    @property
    def first(self) -> bool:
        return self.line == 1


@dataclass(frozen=True)
class VerifiedTranscript:
    """What :func:`verify_transcript` found: a transcript intact from its first line to its last.

    ``first_key_anchored`` / ``later_keys_anchored``: whether the first key's fingerprint, and
    the fingerprints of the keys it changed to after resumes, were checked against fingerprints
    the caller gave (:attr:`anchor` sums it up).
    """

    ceremony_id: str
    title: str
    meta: dict[str, JSONValue]
    segments: tuple[KeySegment, ...]
    entries: tuple[Entry, ...]
    sealed: bool
    first_key_anchored: bool = False
    later_keys_anchored: bool = False

    @property
    def public_key(self) -> bytes:
        """The ceremony key: the key of the first segment."""
        return self.segments[0].public_key

    @property
    def fingerprint(self) -> bytes:
        return self.segments[0].fingerprint

    @property
    def aborted(self) -> str | None:
        """The reason, when the ceremony was given up and sealed as aborted: a seal whose data
        has ``aborted`` true (docs/transcript.md §6.4); None for a seal that ends a ceremony."""
        if not self.sealed or self.entries[-1].data.get("aborted") is not True:
            return None
        return str(self.entries[-1].data.get("reason") or "no reason recorded")

    @property
    def key_changes(self) -> tuple[KeySegment, ...]:
        """Segments whose key differs from the one before: resumes with a new key."""
        return tuple(s for prev, s in pairwise(self.segments) if s.public_key != prev.public_key)

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

    @property
    def keys(self) -> tuple[KeyAnchor, ...]:
        """The ceremony key (line 1), then each new key after a resume, each with whether it was anchored."""
        first = KeyAnchor(1, self.fingerprint, self.first_key_anchored)
        return (first, *(KeyAnchor(c.line, c.fingerprint, self.later_keys_anchored) for c in self.key_changes))

    @property
    def unanchored_keys(self) -> tuple[KeyAnchor, ...]:
        """The keys whose fingerprints nobody checked against the record of the ceremony."""
        return tuple(k for k in self.keys if not k.anchored)

    @property
    def anchor(self) -> Anchor:
        unanchored = len(self.unanchored_keys)
        if not unanchored:
            return Anchor.ANCHORED
        return Anchor.UNANCHORED if unanchored == len(self.keys) else Anchor.PARTLY

    @property
    def anchored(self) -> bool:
        """True when every key's fingerprint was checked against one given (the paper log's)."""
        return self.anchor is Anchor.ANCHORED

    @property
    def anchor_summary(self) -> str:
        """One line for a person: anchored or not, to what, and what to do if not."""
        fp = format_fingerprint(self.fingerprint)
        changes = len(self.keys) - 1
        if self.anchor is Anchor.ANCHORED:
            later = f", and its {changes} later key(s) to the fingerprints in the paper log" if changes else ""
            return f"ANCHORED to the fingerprint read at the roll call {fp}{later}"
        more = " --later-fingerprint FP" * changes
        each = "each FP" if changes else "FP"
        advice = (f"Compare the fingerprint with the paper log: --fingerprint FP{more}, {each} from the paper "
                  "log, never from this file")  # fmt: skip
        if self.anchor is Anchor.UNANCHORED:
            return (
                "UNANCHORED: no fingerprint was given; this proves the file is internally consistent, "
                f"not that it is the ceremony's record. {advice}"
            )
        lines = ", ".join(str(k.line) for k in self.unanchored_keys)
        return (
            f"PARTLY ANCHORED: no fingerprint was given for the key(s) introduced on line(s) {lines}; "
            f"the entries they signed may not be the ceremony's record. {advice}"
        )


TranscriptSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | Iterable[bytes]

# Limits on a transcript read (docs/transcript.md §8), checked before any line is verified.
# A whole key-generation ceremony is about 40 entries and 32 KB (samples/ceremony/); verifying
# takes about 1 ms an entry and 0.35 s a megabyte.
#: Largest transcript file: sixteen entries of the largest size (``MAX_LINE_BYTES``).
MAX_TRANSCRIPT_BYTES = 16 << 20
#: Most entries (lines): about 10 s to verify.
MAX_TRANSCRIPT_ENTRIES = 10_000


def check_transcript_size(size: int, source: str | None) -> None:
    """Refuse a transcript of more than ``MAX_TRANSCRIPT_BYTES`` (before it is read, when a
    file's size is known)."""
    if size > MAX_TRANSCRIPT_BYTES:
        raise TranscriptTooLarge(
            f"the file is {TranscriptTooLarge.size(size)}, more than the "
            f"{TranscriptTooLarge.size(MAX_TRANSCRIPT_BYTES)} keyceremony reads as a transcript (file size "
            "limit); a whole ceremony's transcript is tens of kilobytes: check that this is the "
            "ceremony's transcript.jsonl",
            limit="file size", found=size, allowed=MAX_TRANSCRIPT_BYTES, source=source,
        )


def split_lines(content: bytes, source: str | None = None) -> tuple[list[bytes], bytes]:
    """The complete lines of a transcript (each with its ``\\n``), and what follows the last one.

    A non-empty remainder is a *torn* line: a write that stopped part-way (docs/transcript.md §7).
    Raises ``TranscriptTooLarge`` for more than ``MAX_TRANSCRIPT_BYTES`` or
    ``MAX_TRANSCRIPT_ENTRIES`` lines, before splitting.
    """
    check_transcript_size(len(content), source)
    count = content.count(b"\n") + (not content.endswith(b"\n"))
    if count > MAX_TRANSCRIPT_ENTRIES:
        raise TranscriptTooLarge(
            f"the file has {count:,} lines, more than the {MAX_TRANSCRIPT_ENTRIES:,} entries keyceremony "
            "reads in a transcript (entry count limit); a whole ceremony has tens of entries: check that "
            "this is the ceremony's transcript.jsonl",
            limit="entry count", found=count, allowed=MAX_TRANSCRIPT_ENTRIES, source=source,
        )
    lines = content.split(b"\n")
    torn = lines.pop()
    return [line + b"\n" for line in lines], torn


class Chain:
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
        if entry.step == CEREMONY_STEP and entry.event == RESUMED and "key_changed" in entry.data:
            changed = self.key is not None and entry.key is not None and entry.key != self.key
            if entry.data["key_changed"] is not changed:  # docs/transcript.md §3.3: the flag states a fact
                raise self.fail(
                    "structure",
                    f"the 'resumed' entry says key_changed={entry.data['key_changed']!r}, but the key it carries "
                    f"{'differs from' if changed else 'is'} the one in force before it: the entry contradicts "
                    "itself. Keep this file as evidence and report it",
                    n, seq,
                )  # fmt: skip
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
            wanted = (
                format_fingerprint(self.expected_later[i]) if i < len(self.expected_later) else "no further key change"
            )
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
            raise self.fail(
                "structure",
                f"step '{CEREMONY_STEP}' is reserved; event '{entry.event}' is not one of its events",
                n, seq,
            )
        if own and entry.event == OPENED and n != 1:
            raise self.fail("structure", "the ceremony is opened a second time (it was opened on line 1)", n, seq)
        head = own and entry.event in _SEGMENT_HEADS
        if head and entry.key is None:
            raise self.fail("structure", f"an '{entry.event}' entry must carry the key that signs it", n, seq)
        if not head and entry.key is not None:
            raise self.fail("structure", "only 'opened' and 'resumed' entries carry a key", n, seq)
        if own and entry.event == OPENED and not isinstance(entry.data.get("title"), str):
            raise self.fail("structure", "the opening entry must have a 'title' in its data", n, seq)


def _read_source(source: TranscriptSource, name: str | None = None) -> tuple[bytes, str | None]:
    """The transcript's bytes, read no further than ``MAX_TRANSCRIPT_BYTES`` (and one more byte)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            with path.open("rb") as f:
                check_transcript_size(os.fstat(f.fileno()).st_size, name or str(path))
                # Past the limit (a pipe or a device has no size): split_lines refuses it.
                return f.read(MAX_TRANSCRIPT_BYTES + 1), str(path)
        except OSError as err:
            raise TranscriptError(f"{path}: cannot read the transcript: {err.strerror}") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None
    lines: list[bytes] = []
    size = 0
    for line in source:
        lines.append(bytes(line))
        size += len(lines[-1])
        check_transcript_size(size, name)
    return b"".join(lines), None


def scan(
    content: bytes,
    source: str | None,
    *,
    expected_first: bytes | None = None,
    expected_later: list[bytes] | None = None,
) -> tuple[Chain, bytes]:
    """Verify every complete line; return the chain state and the torn remainder (unverified).

    ``expected_first`` / ``expected_later`` as for :class:`Chain`.
    """
    lines, torn = split_lines(content, source)
    chain = Chain(source, expected_first=expected_first, expected_later=expected_later)
    for line in lines:
        chain.feed(line)
    return chain, torn


def torn_error(chain: Chain, torn: bytes) -> TornTranscript:
    """The error for a transcript whose complete lines ``chain`` verified, followed by ``torn``."""
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
    content, path_name = _read_source(source, name)
    where = name or path_name
    expected = None if expected_fingerprint is None else _fingerprint_arg(expected_fingerprint)
    later = None if later_fingerprints is None else [_fingerprint_arg(f) for f in later_fingerprints]
    chain, torn = scan(content, where, expected_first=expected, expected_later=later)
    if torn:
        raise torn_error(chain, torn)
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
        first_key_anchored=expected is not None,
        later_keys_anchored=later is not None,  # the chain checked every change against ``later``
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
    # an aborted ceremony ran its steps up to the abort; the ones after it never began, and the
    # one it stopped in may be short of people (docs/transcript.md §6.4)
    aborted = result.aborted is not None
    for skipped in range(current + 1, len(template.steps) if not aborted else current + 1):
        violations.append((
            last_line,
            f"the transcript ends without the required step '{template.steps[skipped].step}'",
            last_seq,
        ))
    for i, req in enumerate(template.steps):
        if i not in lines_of or (aborted and i == current):
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

