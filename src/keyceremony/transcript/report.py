"""What the auditors' report of a verified transcript says (docs/auditor-guide.md §5).

Headless: builds a ``Report`` of plain strings from a ``VerifiedTranscript``; the PDF drawing is
in the reportlab boundary package (``cards.pdf.render_report_pdf``). A report is only made from a
transcript that verified, and it says what was verified, so a printed report can be checked
against the file it came from: its first page carries the file's SHA-256. Its first page also
says, in a box at the top, whether the transcript was *anchored* (its keys' fingerprints checked
against the paper log, docs/auditor-guide.md §1), every key with whether it was, and whether the
ceremony was opened as a rehearsal or its answers changed at a resume.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from keyceremony.codec.canonical_json import encode
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.codec.pgp_words import to_words
from keyceremony.transcript.values import CEREMONY_STEP, RESUMED, format_time
from keyceremony.transcript.verify import VerifiedTranscript


@dataclass(frozen=True)
class Report:
    title: str
    facts: tuple[tuple[str, str], ...]  # (label, value) rows of the summary
    people: tuple[tuple[str, str], ...]  # (name, role)
    # seq, time, step, event, actors, data (every value whole: one "name: value" line each)
    entries: tuple[tuple[str, str, str, str, str, str], ...]
    signers: tuple[tuple[str, str], ...]  # who signs the paper: (name, role)
    source_name: str
    anchor: str = ""  # ANCHORED, PARTLY ANCHORED or UNANCHORED (first page, top)
    anchor_summary: str = ""  # one line: to what, or what to compare
    keys: tuple[tuple[str, str, str], ...] = ()  # which key, its fingerprint, anchored or not
    notices: tuple[str, ...] = ()  # REHEARSAL, answers changed at resume, test hooks


def build_report(result: VerifiedTranscript, content: bytes, *, source_name: str) -> Report:
    """The report of ``result``, verified from the file bytes ``content``."""
    fp = result.fingerprint
    fingerprint = format_fingerprint(fp)
    facts = [
        ("Ceremony", f"{result.title} ({result.ceremony_id})"),
        ("Ceremony key", fingerprint),
        ("Key in words", " ".join(to_words(fp))),
        ("Started", format_time(result.started)),
        ("Ended", format_time(result.ended)),
        ("Entries", str(len(result.entries))),
        ("Sealed", "yes: the ceremony key was destroyed after the last entry" if result.sealed else "NO"),
        *((("ABORTED", f"given up and sealed unfinished: {result.aborted}"),) if result.aborted else ()),
        ("Resumed", f"{result.resumes} time(s)" if result.resumes else "never"),
        ("File SHA-256", hashlib.sha256(content).hexdigest()),
        ("Verified", "chain, every signature, sequence and times (keyceremony transcript verify)"),
    ]
    for segment in result.key_changes:
        facts.append((f"New key at line {segment.line}", format_fingerprint(segment.fingerprint)))
    for name, value in sorted(result.meta.items()):
        if name != "title":
            facts.append((name.replace("_", " ").capitalize(), data_text(value)))
    people = tuple((a.name, a.role) for a in result.actors)
    entries = tuple(
        (
            str(e.seq),
            format_time(e.time)[11:23],
            e.step,
            e.event,
            ", ".join(f"{a.name} ({a.role})" for a in e.actors),
            data_text(e.data),
        )
        for e in result.entries
    )
    signing_roles = ("witness", "auditor", "administrator", "ceremony-administrator", "custodian")
    signers = tuple(p for p in people if any(r in p[1] for r in signing_roles)) or people
    return Report(
        title=f"Ceremony transcript: {result.title}",
        facts=tuple(facts),
        people=people,
        entries=entries,
        signers=signers,
        source_name=source_name,
        anchor=result.anchor.value,
        anchor_summary=result.anchor_summary,
        keys=_keys(result),
        notices=notices(result),
    )


def _keys(result: VerifiedTranscript) -> tuple[tuple[str, str, str], ...]:
    rows = []
    for key in result.keys:
        which = "Ceremony key (line 1)" if key.first else f"New key from line {key.line} (resumed)"
        given = "--fingerprint" if key.first else "--later-fingerprint"
        status = (f"anchored: matches the fingerprint given ({given})" if key.anchored
                  else "NOT ANCHORED: compare it with the paper log")  # fmt: skip
        rows.append((which, format_fingerprint(key.fingerprint), status))
    return tuple(rows)


def notices(result: VerifiedTranscript) -> tuple[str, ...]:
    """What a reader must see before anything else, from the transcript's own entries: a ceremony
    opened as a rehearsal (its opening details), answers changed at a resume (a ``resumed``
    entry's ``answers_changed``), test hooks."""
    out: list[str] = []
    rehearsal = result.meta.get("rehearsal")
    if isinstance(rehearsal, dict):
        checks = rehearsal.get("checks_relaxed_to_warn")
        relaxed = ", ".join(str(c) for c in checks) if isinstance(checks, list) and checks else "none"
        kept = "; card PDF files to be kept" if rehearsal.get("card_files_kept") is True else ""
        out.append(f"REHEARSAL: the ceremony was opened as a rehearsal (declared: preflight checks relaxed to "
                   f"warn: {relaxed}{kept})")  # fmt: skip
    for line, entry in enumerate(result.entries, start=1):
        if entry.step == CEREMONY_STEP and entry.event == RESUMED and entry.data.get("answers_changed") is True:
            out.append(f"ANSWERS CHANGED AT RESUME (line {line}): the answers file differs from the one "
                       "used before; the entries from there on followed the new answers")  # fmt: skip
    hooks = result.meta.get("test_hooks")
    if isinstance(hooks, list) and hooks:
        out.append(f"TEST HOOKS {', '.join(str(h) for h in hooks)} active: NOT A REAL CEREMONY")
    return tuple(out)


def data_text(value: object) -> str:
    """Entry data as text for the report, every value whole (the report never cuts data): one
    ``name: value`` line per value, nested names joined with dots (``software.python: 3.11.7``),
    list items of objects numbered (``checks[0].name``), lists of plain values joined with ", "."""
    return "\n".join(_lines(value, ""))


def _lines(value: object, path: str) -> list[str]:
    if isinstance(value, dict) and value:
        return [line for key in sorted(value) for line in _lines(value[key], f"{path}.{key}" if path else str(key))]
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return [line for i, item in enumerate(value) for line in _lines(item, f"{path}[{i}]")]
    if isinstance(value, list):
        text = ", ".join(_plain(v) for v in value) if value else "[]"
    else:
        text = _plain(value)
    return [f"{path}: {text}" if path else text]


def _plain(value: object) -> str:
    """A string as itself (``""`` when empty), anything else as canonical JSON (5, true, null, {})."""
    if isinstance(value, str):
        return value or '""'
    return encode(value).decode("utf-8")
