"""``--json``: one JSON object on standard output for scripts, in the versioned shape of
docs/cli.md §3 (the schema: ``keyceremony/cli/schema/cli-output-v1.json``).

With ``--json`` the human text a command prints on standard output is dropped; messages on
standard error, prompts and typed entry are as without it. The commands hand their results to
:func:`record` (a no-op without ``--json``); :class:`JsonReport` adds the envelope and writes the
object once, after the command ended, on success and on failure alike. No secret (share value,
key, PIN) is ever put in it: the commands record only what they also print for a person.

Standard library only, like every module the parser loads.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from keyceremony.cli.common import ClosedStream, flush_stdout
from keyceremony.errors import EXIT_BROKEN_PIPE, EXIT_USAGE, KeyCeremonyError, StreamError

if TYPE_CHECKING:
    from keyceremony.ceremony.engine import CeremonyResult
    from keyceremony.recipes.backup import Backup, DrillReport, RecoveryInputs
    from keyceremony.shares.payload import SharePayload
    from keyceremony.transcript import TemplateRequirements, VerifiedTranscript

SCHEMA = "keyceremony-cli/1"
COMMANDS = ("split", "combine", "verify-share", "backup", "recover", "transcript verify", "transcript report", "run")
# The error details copied into "error" when the error carries them (docs/cli.md §3).
ERROR_DETAILS = ("source", "line", "sequence", "reason", "have", "need")


# --- the parser's refusals -----------------------------------------------------------------------


class ArgumentsRefused(SystemExit):
    """argparse refused the command line (exit status 2); ``message`` says why, ``prog`` names
    the (sub)command that refused it."""

    def __init__(self, message: str, prog: str):
        self.message = message
        self.prog = prog
        super().__init__(EXIT_USAGE)


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose refusals can be answered in JSON too: it prints what argparse
    prints, then raises ArgumentsRefused (a SystemExit with status 2, as argparse's)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise ArgumentsRefused(message, self.prog)


def json_requested(argv: Sequence[str] | None) -> bool:
    args = list(sys.argv[1:] if argv is None else argv)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def answer_refused_arguments(argv: Sequence[str] | None, refused: ArgumentsRefused) -> None:
    """With ``--json`` among the arguments, the JSON answer to a command line argparse refused."""
    if not json_requested(argv):
        return
    report = JsonReport(_command_named(refused.prog, argv))
    report.error = {"kind": "UsageError", "message": refused.message, "exit_code": EXIT_USAGE}
    report.finish(EXIT_USAGE)


def _command_named(prog: str, argv: Sequence[str] | None) -> str | None:
    """The command a refused command line names: the refusing subparser's, else the first words
    of the arguments (the main parser refuses unknown options after a command too); None if none."""
    if prog.partition(" ")[2] in COMMANDS:
        return prog.partition(" ")[2]
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")][:2]
    for n in (2, 1):
        if " ".join(words[:n]) in COMMANDS:
            return " ".join(words[:n])
    return None


# --- the report ----------------------------------------------------------------------------------


class _Dropped(io.TextIOBase):
    """Standard output while a command runs with ``--json``: the human text is dropped."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def isatty(self) -> bool:
        return False


class JsonReport:
    """The one JSON object of a command run with ``--json``."""

    def __init__(self, command: str | None):
        self.command = command
        self.fields: dict[str, object] = {}
        self.error: dict[str, object] | None = None
        self._stdout: TextIO | None = None

    def begin(self) -> None:
        """Drop the human text from here on; StreamError, before any work, if standard output is closed."""
        if isinstance(sys.stdout, ClosedStream):
            raise StreamError("standard output is closed; --json prints its answer there: run the command "
                              "with standard output open")  # fmt: skip
        self._stdout = sys.stdout
        sys.stdout = _Dropped()

    def fail(self, err: BaseException | None, message: str, code: int, *, kind: str | None = None) -> None:
        """The error the command ended with (the first one recorded is kept); ``kind`` defaults to
        the name of the error's class."""
        if self.error is not None:
            return
        if kind is None:
            kind = type(err).__name__ if isinstance(err, KeyCeremonyError) else (
                "OSError" if isinstance(err, OSError) else "Interrupted")  # fmt: skip
        error: dict[str, object] = {"kind": kind, "message": message, "exit_code": code}
        for name in ERROR_DETAILS:
            value = getattr(err, name, None)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                error[name] = value
        set_aside = getattr(err, "set_aside", ())
        if set_aside:
            error["set_aside"] = [str(reason) for reason in set_aside]
        notes = getattr(err, "__notes__", ())
        if notes:
            error["notes"] = [str(note) for note in notes]
        self.error = error
        if _anchor_mismatch(err):  # the result is not the ceremony's: said in "anchor" too
            self.fields["anchor"] = "MISMATCH"

    def finish(self, code: int) -> int:
        """Write the object on standard output; the exit status (a failure to write it is one)."""
        if self._stdout is not None:
            sys.stdout = self._stdout
            self._stdout = None
        if sys.stdout is None or isinstance(sys.stdout, ClosedStream):  # closed: begin() said so, before any work
            return code or StreamError.exit_code
        if code and self.error is None:  # a command that reported a failure without raising one
            self.error = {"kind": "KeyCeremonyError", "message": "the command failed; see standard error",
                          "exit_code": code}  # fmt: skip
        answer: dict[str, object] = {"schema": SCHEMA, "command": self.command, "ok": code == 0, "exit_code": code}
        answer.update(self.fields)
        answer["error"] = self.error if code else None
        try:
            sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
            flush_stdout()
        except BrokenPipeError:  # the reader went away: as without --json, stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except (OSError, ValueError, StreamError) as err:
            shown = err if isinstance(err, StreamError) else StreamError(f"standard output cannot be written ({err})")
            print(f"keyceremony: error: {shown}", file=sys.stderr)
            return code or shown.exit_code
        return code


def _anchor_mismatch(err: BaseException | None) -> bool:
    from keyceremony.errors import AnchorMismatch, TranscriptTampered

    return isinstance(err, AnchorMismatch) or (isinstance(err, TranscriptTampered) and err.reason == "wrong-key")


def start(args: argparse.Namespace) -> JsonReport | None:
    """The report of a command run with ``--json`` (kept on ``args`` for :func:`record`), or None."""
    if not getattr(args, "json", False):
        return None
    report = JsonReport(getattr(args, "json_command", None))
    args.json_report = report
    return report


def _report(args: argparse.Namespace) -> JsonReport | None:
    report = getattr(args, "json_report", None)
    return report if isinstance(report, JsonReport) else None


def record(args: argparse.Namespace, **fields: object) -> None:
    """Add the command's fields to its JSON object; nothing without ``--json``."""
    report = _report(args)
    if report is not None:
        report.fields.update(fields)


def record_error(args: argparse.Namespace, err: BaseException | None, message: str, code: int, *,
                 kind: str | None = None) -> None:
    """The command's error for its JSON object; nothing without ``--json``."""
    report = _report(args)
    if report is not None:
        report.fail(err, message, code, kind=kind)


def refuse_stdout_output(args: argparse.Namespace, option: str, value: str | None) -> None:
    """``--out -`` and ``--reveal -`` write a secret on standard output, where --json writes."""
    if getattr(args, "json", False) and value == "-":
        from keyceremony.errors import UsageError

        raise UsageError(f"{option} - writes the secret on standard output, where --json prints its answer; "
                         f"give {option} FILE with --json")  # fmt: skip


# --- the values, as the schema has them ------------------------------------------------------------


def fingerprint(value: bytes) -> dict[str, object]:
    """A fingerprint: 32 lower-case hex digits, and the 16 words read aloud."""
    from keyceremony.codec.fingerprint import fingerprint_words

    return {"hex": value.hex(), "words": fingerprint_words(value)}


def share_set(payload: SharePayload) -> dict[str, object]:
    """What every share of a set says about the set (never a share's value)."""
    from keyceremony.shares.shareset import format_set_id

    return {
        "id": format_set_id(payload.set_id), "label": payload.label, "threshold": payload.threshold,
        "count": payload.count, "secret_bytes": len(payload.y), "fingerprint": fingerprint(payload.fingerprint()),
    }  # fmt: skip


def anchor_status(anchored: bool) -> str:
    return "ANCHORED" if anchored else "UNANCHORED"


def backup_fields(backup: Backup, out: str, files: Sequence[str], origin: str, backend: str,
                  token: str | None, seconds: float) -> dict[str, object]:
    package = backup.package
    return {
        "out": out,
        "key": {"label": package.label, "algorithm": package.algorithm.value, "kcv": package.key_check_value,
                "origin": origin},
        "backend": backend,
        "token": token,
        "set": share_set(backup.shares[0]),
        "package": {"path": os.path.join(out, "package.kcb"), "fingerprint": fingerprint(package.fingerprint())},
        "files": list(files),
        "cards": [f for f in files if f.endswith(".pdf")],
        "seconds": round(seconds, 3),
    }  # fmt: skip


def recovery_fields(inputs: RecoveryInputs) -> dict[str, object]:
    """What a recovery took and how it was anchored, whether it then unwraps, drills or reveals."""
    package = inputs.package
    return {
        "key": {"label": package.label, "algorithm": package.algorithm.value, "kcv": package.key_check_value},
        "package": {"source": inputs.package_source, "fingerprint": fingerprint(package.fingerprint())},
        "set": share_set(inputs.reference),
        "shares_used": list(inputs.used),
        "set_aside": list(inputs.set_aside),
        "anchor": anchor_status(inputs.anchored),
        "anchors_checked": list(inputs.anchors.names()),
    }


def drill_fields(report: DrillReport) -> dict[str, object]:
    return {"canary": {"ok": True, "checked": report.canary}, "target": report.target, "outcome": report.outcome,
            "started": report.started, "seconds": round(report.seconds, 3)}  # fmt: skip


def transcript_fields(file: str, result: VerifiedTranscript, requirements_file: str | None = None,
                      requirements: TemplateRequirements | None = None) -> dict[str, object]:
    """A verified transcript: its state, its keys and whether each was anchored (docs/transcript.md §8.2),
    and the template's requirements it was checked against (it met them: it verified)."""
    aborted = result.aborted
    status = "aborted" if aborted is not None else ("sealed" if result.sealed else "in progress")
    return {
        "file": file,
        "status": status,
        "aborted_reason": aborted,
        "ceremony_id": result.ceremony_id,
        "title": result.title,
        "started": result.started.isoformat(),
        "ended": result.ended.isoformat(),
        "entries": len(result.entries),
        "steps": list(result.steps),
        "signer": fingerprint(result.fingerprint),
        "anchor": result.anchor.value,
        "keys": [{"line": k.line, "fingerprint": fingerprint(k.fingerprint), "anchored": k.anchored}
                 for k in result.keys],  # fmt: skip
        "resumes": result.resumes,
        "people": [{"name": a.name, "role": a.role} for a in result.actors],
        "requirements": None if requirements is None else {"file": requirements_file, "met": True,
                                                            "steps": len(requirements.steps)},
    }


def pdf_pages(pdf: bytes) -> int:
    """The pages of a PDF this tool wrote (reportlab writes one ``/Type /Page`` object per page)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def ceremony_fields(result: CeremonyResult) -> dict[str, object]:
    """A finished ``run``: where its files are and what its verified transcript says."""
    verified = transcript_fields(str(result.transcript_path), result.verified)
    return {
        "status": verified["status"],
        "aborted_reason": verified["aborted_reason"],
        "ceremony_id": verified["ceremony_id"],
        "transcript": str(result.transcript_path),
        "report": str(result.report_path),
        "report_pdf": None if result.report_pdf is None else str(result.report_pdf),
        "entries": verified["entries"],
        "steps": verified["steps"],
        "signer": verified["signer"],
        "later_keys": [fingerprint(fp) for fp in result.later_fingerprints],
    }
