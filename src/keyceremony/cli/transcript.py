"""``keyceremony transcript ...``: the command line over :mod:`keyceremony.transcript`.

Registered by ``keyceremony.cli.main`` with :func:`add_transcript_commands`. Only ``argparse`` and
the standard library are imported at start-up; the command imports what it needs when it runs,
so ``keyceremony --help`` stays fast. Failures are raised as :class:`~keyceremony.errors.KeyCeremonyError` and printed
by ``keyceremony.cli.main``, which exits non-zero: for a bad transcript the message names the
first bad line and its sequence number (docs/auditor-guide.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from keyceremony.cli.anchors import parse_fingerprint_text
from keyceremony.cli.common import Subcommands, add_command, add_json_flag, output_file
from keyceremony.cli.json_output import record
from keyceremony.cli.verbosity import detail, is_quiet, is_verbose

if TYPE_CHECKING:
    from datetime import datetime

    from keyceremony.transcript import TemplateRequirements, VerifiedTranscript


def add_transcript_commands(subparsers: Subcommands) -> None:
    """Add ``transcript verify`` to the top-level ``subparsers`` (from ``add_subparsers``)."""
    parser = add_command(
        subparsers, "transcript",
        summary="check a signed ceremony transcript, or render it as a PDF report",
        description="Audit a ceremony's signed, hash-chained transcript: `verify` checks it and prints what it "
        "records; `report` checks it and renders a PDF for the witnesses and auditors. "
        "docs/auditor-guide.md.",
        examples=(
            "keyceremony transcript verify ceremony/transcript.jsonl --fingerprint 'FP FROM THE PAPER LOG'",
            "keyceremony transcript report ceremony/transcript.jsonl --out report.pdf",
        ),
    )  # fmt: skip
    actions = parser.add_subparsers(metavar="ACTION")
    parser.set_defaults(run=lambda args: _usage(parser))

    p = add_command(
        actions, "verify",
        summary="verify a transcript: every signature, the hash chain, the seal and the ceremony key",
        description=(
            "Verify a ceremony transcript and print what it records. Exits 0 only if every line "
            "is intact, the transcript is sealed, (with --fingerprint) it was signed by the "
            "ceremony key whose fingerprint was recorded at the ceremony, and (with --requirements) "
            "the template's steps ran in order with their roles. On failure, names the first bad "
            "line. See docs/auditor-guide.md."
        ),
        examples=(
            "keyceremony transcript verify ceremony/transcript.jsonl --fingerprint 'FP FROM THE PAPER LOG' "
            "--requirements ceremony/requirements.json",
            "keyceremony transcript verify ceremony/transcript.jsonl --in-progress   # a ceremony still running",
        ),
    )
    _transcript_options(p)
    p.set_defaults(run=_verify)

    p = add_command(
        actions, "report",
        summary="verify a transcript, then render it as a PDF report for auditors, with signature lines",
        description="Verify a ceremony transcript exactly as `transcript verify` does (the same flags), then "
        "write it as a PDF: every entry with its data, who was present, the fingerprints, and lines "
        "for the witnesses' and auditors' signatures. Nothing is written if the transcript does not verify.",
        examples=(
            "keyceremony transcript report ceremony/transcript.jsonl --out report.pdf "
            "--fingerprint 'FP FROM THE PAPER LOG' --requirements ceremony/requirements.json",
        ),
    )
    _transcript_options(p)
    p.add_argument("--out", required=True, metavar="PDF", help="where to write the report")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="report paper size (default a4)")
    p.set_defaults(run=_report)


def _transcript_options(p: argparse.ArgumentParser) -> None:
    """What both actions check a transcript against: the same flags on verify and report."""
    p.add_argument("file", metavar="FILE", help="the transcript (transcript.jsonl in the ceremony folder)")
    p.add_argument(
        "--fingerprint", metavar="FP",
        help="the ceremony key's fingerprint from the paper log: 32 hex digits, or the 16 words in quotes",
    )
    p.add_argument(
        "--later-fingerprint", action="append", metavar="FP", dest="later_fingerprints",
        help="the fingerprint of a new key the transcript was resumed with, from the paper log (repeat, in order)",
    )
    p.add_argument(
        "--requirements", metavar="FILE",
        help="the steps the template requires, in order, with roles (requirements.json in the ceremony folder; "
        "docs/transcript.md)",
    )
    p.add_argument("--in-progress", action="store_true", help="accept a transcript that is not sealed yet")
    add_json_flag(p)


def _requirements(path: str | None) -> TemplateRequirements | None:
    """``--requirements FILE``, read; UsageError naming the file if it cannot be read or used."""
    from keyceremony.errors import UsageError
    from keyceremony.transcript import TemplateRequirements

    if path is None:
        return None
    try:
        return TemplateRequirements.from_json(json.loads(Path(path).read_text("utf-8")))
    except OSError as err:
        raise UsageError(f"{path}: cannot read the requirements: {err.strerror}") from None
    except ValueError as err:  # includes json.JSONDecodeError and UnicodeDecodeError
        raise UsageError(f"{path}: not valid template requirements: {err}") from None


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _verify(args: argparse.Namespace) -> int:
    from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint, same_fingerprint
    from keyceremony.transcript import RESUMED, verify_transcript

    expected = parse_fingerprint_text(args.fingerprint, "--fingerprint") if args.fingerprint else None
    later = None
    if args.later_fingerprints:
        later = [parse_fingerprint_text(f, "--later-fingerprint") for f in args.later_fingerprints]
    requirements = _requirements(args.requirements)

    record(args, file=args.file)
    result = verify_transcript(
        args.file,
        expected_fingerprint=expected,
        later_fingerprints=later,
        template_requirements=requirements,
        require_sealed=not args.in_progress,
    )
    from keyceremony.cli.json_output import transcript_fields

    record(args, **transcript_fields(args.file, result, args.requirements, requirements))

    _print_anchor(args.file, result)
    state = "sealed" if result.sealed else "NOT SEALED (in progress)"
    print(f"{args.file}: intact and {state}; {len(result.entries)} entries, "
          "every signature and link of the hash chain verified")
    if result.aborted is not None:
        print(f"  ABORTED:   the ceremony was given up and sealed unfinished: {result.aborted}")
    detail(f"  ceremony:  {result.ceremony_id}  {result.title}")
    detail(f"  ran:       {_time(result.started)} to {_time(result.ended)}")
    print(f"  ceremony key fingerprint: {format_fingerprint(result.fingerprint)}")
    detail(f"    in words: {fingerprint_words(result.fingerprint)}")
    if expected is not None:
        detail("    matches the fingerprint given")
    else:
        print("    NOT CHECKED: compare it with the fingerprint in the paper log, or pass --fingerprint")
    changes = {c.line: c for c in result.key_changes}
    for entry_line, entry in enumerate(result.entries, start=1):
        if entry.event != RESUMED or entry.step != "ceremony":
            continue
        dropped = entry.data.get("dropped_bytes")
        cut = f", {dropped} bytes of a partial line removed" if dropped else ""
        if entry_line in changes:
            fp = changes[entry_line].fingerprint
            confirmed = later is not None and any(same_fingerprint(fp, f) for f in later)
            print(f"  resumed on line {entry_line} with a NEW key{cut}: {format_fingerprint(fp)}")
            detail(f"    in words: {fingerprint_words(fp)}")
            print("    matches the --later-fingerprint given" if confirmed else "    NOT CHECKED against the paper log")
        else:
            detail(f"  resumed on line {entry_line} with the same key{cut}")
    detail(f"  steps:     {', '.join(result.steps) or '(none)'}")
    if requirements is not None:
        if result.aborted is not None:
            print("  template:  the steps that ran before the abort ran in order, with the required roles")
        else:
            print(f"  template:  all {len(requirements.steps)} required steps ran in order, with the required roles")
    detail("  people:")
    for actor in result.actors:
        detail(f"    {actor.name} ({actor.role})")
    if is_verbose():
        _print_entries(result)
    return 0


def _print_anchor(file: str, result: VerifiedTranscript) -> None:
    """The first lines: anchored to the paper log or not, and, if the key changed, every key."""
    from keyceremony.codec.fingerprint import format_fingerprint

    print(f"{file}: {result.anchor_summary}")
    if len(result.keys) > 1:
        for key in result.keys:
            which = "ceremony key, line 1:" if key.first else f"new key from line {key.line}:"
            given = "--fingerprint" if key.first else "--later-fingerprint"
            status = f"anchored ({given})" if key.anchored else "NOT ANCHORED"
            print(f"  {which:<24}{format_fingerprint(key.fingerprint)}  {status}")


def _print_entries(result: VerifiedTranscript) -> None:
    """--verbose: every entry, one line each (its number, time, step and event), and who was
    present whenever that changes."""
    print("  entries:")
    present: tuple[object, ...] | None = None
    for entry in result.entries:
        print(f"    {entry.seq:>4}  {_time(entry.time)}  {entry.step} / {entry.event}")
        if entry.actors != present:
            who = ", ".join(f"{a.name} ({a.role})" for a in entry.actors) or "nobody named"
            print(f"          present: {who}")
            present = entry.actors


def _time(moment: datetime) -> str:
    from keyceremony.transcript import format_time

    return format_time(moment)


def _report(args: argparse.Namespace) -> int:
    from keyceremony.atomic_file import write_atomically
    from keyceremony.cards.pdf import render_report_pdf
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.errors import UsageError
    from keyceremony.transcript import verify_transcript
    from keyceremony.transcript.report import build_report

    output_file(args.out, "--out", stdout=False)  # a new or ordinary file, checked before the work
    record(args, file=args.file)
    try:
        content = Path(args.file).read_bytes()
    except OSError as err:
        raise UsageError(f"{args.file}: cannot read the transcript: {err.strerror}") from None
    expected = parse_fingerprint_text(args.fingerprint, "--fingerprint") if args.fingerprint else None
    later = [parse_fingerprint_text(f, "--later-fingerprint") for f in args.later_fingerprints or ()] or None
    requirements = _requirements(args.requirements)
    result = verify_transcript(
        content,
        expected_fingerprint=expected,
        later_fingerprints=later,
        template_requirements=requirements,
        require_sealed=not args.in_progress,
        name=args.file,
    )
    pdf = render_report_pdf(build_report(result, content, source_name=Path(args.file).name), paper=args.paper)
    write_atomically(Path(args.out), pdf, mode=0o644)  # whole or not at all; a report is not secret
    from keyceremony.cli.json_output import pdf_pages, transcript_fields

    record(args, **transcript_fields(args.file, result, args.requirements, requirements), out=args.out,
           pages=pdf_pages(pdf))  # fmt: skip
    _print_anchor(args.file, result)
    print(f"{args.file}: verified ({len(result.entries)} entries, "
          f"ceremony key {format_fingerprint(result.fingerprint)})")
    hint = "" if is_quiet() else "; print it for the witnesses and auditors to sign."
    print(f"Wrote the report to {args.out}{hint}")
    return 0
