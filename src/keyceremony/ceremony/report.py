"""The ceremony report: what a verified transcript says, on one page, for the paper log.

Written to ``DIR/report.txt`` after the seal, from the *verified* transcript only (so it says
nothing the transcript does not). It carries the ceremony key's fingerprint in hex and words
(as every card does), every later key after a resume, the steps with their times, the people,
and the facts of the key, the share set and the cards, and the exact command an auditor runs.
Its header says REHEARSAL when the ceremony was opened as one, and when a resume found the
answers changed; it claims cards printed or card files shredded only where entries record it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from keyceremony.ceremony.state import TRANSCRIPT_FILE, CeremonyState
from keyceremony.ceremony.template import Template
from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint
from keyceremony.keys.backup_package import format_kcv
from keyceremony.transcript import Entry, VerifiedTranscript, format_time

REQUIREMENTS_FILE = "requirements.json"


def render_report(
    template: Template, verified: VerifiedTranscript, state: CeremonyState, out_dir: Path, pdf: Path | None = None
) -> str:
    """The report text (the engine writes it, and ``requirements_json`` beside it)."""
    requirements = out_dir / REQUIREMENTS_FILE
    entries = verified.entries
    lines: list[str] = []
    add = lines.append
    rehearsal = verified.meta.get("rehearsal")
    heading = "keyceremony ceremony report" + (": REHEARSAL" if isinstance(rehearsal, dict) else "")
    heading += ": ABORTED" if verified.aborted is not None else ""
    add(heading)
    add("=" * len(heading))
    if verified.aborted is not None:
        at = verified.entries[-1].data.get("at_step")
        _row(add, "ABORTED", f"the ceremony was given up{f' at step {at!r}' if at else ''} and sealed "
                             f"unfinished: {verified.aborted}")  # fmt: skip
    _row(add, "ceremony", f"{verified.ceremony_id}  {verified.title}")
    _row(add, "template", f"{template.name} v{template.version} ({template.kind}), SHA-256 {template.sha256[:16]}…")
    store = "software key store (in memory)" if state.backend == "soft" else f"PKCS#11 token '{state.token_label}'"
    _row(add, "key store", store)
    location = verified.meta.get("location")
    if location:
        _row(add, "location", str(location))
    _row(add, "ran", f"{format_time(verified.started)} to {format_time(verified.ended)} "
                    f"({len(entries)} entries; resumed {verified.resumes} time(s))")  # fmt: skip
    printed = any(e.event == "card-printed" for e in entries)
    if isinstance(rehearsal, dict):
        checks = rehearsal.get("checks_relaxed_to_warn")
        relaxed = ", ".join(str(c) for c in checks) if isinstance(checks, list) and checks else "none"
        _row(add, "REHEARSAL", f"opened as a rehearsal: preflight checks relaxed to warn: {relaxed}; "
                               f"{_card_files(template, entries, printed)}")  # fmt: skip
    for line, entry in enumerate(entries, start=1):
        if entry.step == "ceremony" and entry.event == "resumed" and entry.data.get("answers_changed") is True:
            _row(add, "ANSWERS", f"answers changed at resume (line {line}): the answers file differs from the "
                                 "one used before; the entries from there on followed the new answers")  # fmt: skip
    if state.test_hooks:
        _row(add, "TEST HOOKS", f"{', '.join(state.test_hooks)} active: NOT A REAL CEREMONY")
    add("")
    add(f"Ceremony key (read aloud at the roll call{', printed on every card' if printed else ''})")
    _row(add, "fingerprint", format_fingerprint(verified.fingerprint), indent=2)
    _row(add, "in words", fingerprint_words(verified.fingerprint), indent=2)
    for change in verified.key_changes:
        _row(add, "NEW KEY", f"from line {change.line} (resumed after the key was lost): "
                             f"{format_fingerprint(change.fingerprint)}", indent=2)  # fmt: skip
        _row(add, "in words", fingerprint_words(change.fingerprint), indent=2)
    add("")
    # files are named as they are in the ceremony folder, beside this report, so the report stays
    # right when the folder is copied or archived elsewhere
    path = Path(TRANSCRIPT_FILE)
    add("Transcript (files in the ceremony folder, beside this report)")
    add(f"  {path}: intact and sealed; every signature and every link of the hash chain verified;")
    add(f"  the template's {len(template.steps)} steps ran in order, each with its quorum present.")
    if verified.anchored:  # the engine verifies with the fingerprints of the keys it made
        later = " and every later key it made" if verified.key_changes else ""
        add(f"  ANCHORED to the ceremony key this program made and read out at the roll call{later};")
        add("  an auditor anchors it to the paper log with the fingerprints written there:")
    else:
        add(f"  {verified.anchor_summary}")
    command = [
        "keyceremony",
        "transcript",
        "verify",
        str(path),
        "--fingerprint",
        format_fingerprint(verified.fingerprint),
    ]
    for change in verified.key_changes:
        command += ["--later-fingerprint", format_fingerprint(change.fingerprint)]
    command += ["--requirements", requirements.name]
    add(f"  check it, in the ceremony folder: {shlex.join(command)}")
    if pdf is not None:
        add(f"  print for signing: {Path(pdf).name} (every entry, the file's SHA-256, signature lines)")
    add("")
    add("Steps")
    for number, step in enumerate(template.steps, start=1):
        mine = [e for e in entries if e.step == step.id]
        when = format_time(mine[-1].time)[11:] if mine else "-"
        restarts = sum(1 for e in mine if e.event == "restarted")
        note = f"  (restarted {restarts}x)" if restarts else ""
        add(f"  {number:>2}. {step.id:<18} {step.title:<52} {when}{note}")
    add("")
    add("People")
    for actor in verified.actors:
        add(f"  {actor.name} ({actor.role})")
    add("")
    add("What happened")
    for text in _facts(template, entries):
        add(f"  {text}")
    return "\n".join(lines) + "\n"


def _card_files(template: Template, entries: Sequence[Entry], printed: bool) -> str:
    """What became of the card PDF files, as the destroy step recorded it, and only that."""
    destroy_steps = {s.id for s in template.steps if s.kind == "destroy"}
    records = [e for e in entries if e.step in destroy_steps and e.data.get("what") == "card PDF files"]
    if any(e.event == "kept" for e in records):
        return "card PDF files kept"
    if any(e.event == "destroyed" and e.data.get("files") for e in records):
        return "card PDF files shredded"
    return "card PDF files not recorded as shredded" if printed else "no card files were made"


def requirements_json(template: Template) -> str:
    """The template's requirements as ``transcript verify --requirements`` reads them."""
    return json.dumps(template.requirements().to_json(), indent=2) + "\n"


def _row(add: Any, name: str, value: str, *, indent: int = 0) -> None:
    add(f"{' ' * indent}{name:<{14 - indent}} {value}")


def _last(entries: Sequence[Entry], event: str) -> dict[str, Any] | None:
    for entry in reversed(entries):
        if entry.event == event:
            return dict(entry.data)
    return None


def _facts(template: Template, entries: Sequence[Entry]) -> list[str]:
    out: list[str] = []
    generated = _last(entries, "key-generated")
    if generated:
        out.append(f"key generated: '{generated['key_label']}' ({generated['algorithm']}), check value "
                   f"{format_kcv(generated['kcv'])}, in the {generated['store']}")  # fmt: skip
    made = _last(entries, "shares-made")
    if made:
        out.append(f"share set {made['set_id']}: any {made['threshold']} of {made['count']} cards recover the key")
        out.append(f"set fingerprint {made['set_fingerprint']}")
        out.append(f"  in words {made['set_fingerprint_words']}")
        out.append(f"backup package fingerprint {made['package_fingerprint']} ({made['package_file']})")
    received: dict[int, Mapping[str, Any]] = {}
    for entry in entries:
        if entry.event == "card-received":
            received[int(str(entry.data["share_number"]))] = entry.data
    for x in sorted(received):
        d = received[x]
        bag = f", bag {d['bag_number']}" if d.get("bag_number") else ""
        out.append(f"card {x} handed to {d['holder']}{bag}")
    accepted = _last(entries, "cards-accepted")
    if accepted:
        presented = {e.data["share_number"]: e.data.get("presented_by") for e in entries if e.event == "card-presented"}
        used = ", ".join(f"{x} ({presented.get(x) or 'unnamed'})" for x in accepted["cards_used"])
        out.append(f"cards presented of set {accepted['set_id']}: shares {used}")
        out.append(
            f"backed-up key '{accepted['key_label']}' ({accepted['algorithm']}), "
            f"check value {format_kcv(accepted['kcv'])}"
        )
    for event in ("drill-report", "recovery-report"):
        report = _last(entries, event)
        if report:
            out.append(f"{'drill' if report['drill'] else 'recovery'}: {report['outcome']}; recovered into the "
                       f"{report['store']}; kept: {report['kept']}")  # fmt: skip
    tested = _last(entries, "key-tested")
    if tested:
        out.append(f"test: check value {format_kcv(tested['kcv'])} matches; canary {tested['canary']}")
    for entry in entries:
        if entry.event in ("destroyed", "kept") and entry.step in {s.id for s in template.steps if s.kind == "destroy"}:
            d = entry.data
            listed = d.get("files")
            files = f" ({', '.join(str(f) for f in listed)})" if isinstance(listed, list) and listed else ""
            out.append(f"{entry.event}: {d['what']}{files}: {d['action']}")
    return out
