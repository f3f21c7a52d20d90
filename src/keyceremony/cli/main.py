"""The ``keyceremony`` command line: the parser, the one error handler, and :func:`main`.

The commands live in one module per group (:mod:`keyceremony.cli`). Only the standard library
is imported at start-up; each command imports what it needs when it runs, so
``keyceremony --help`` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence

from keyceremony import __version__
from keyceremony.cli import json_output  # --json (cli/json_output.py)

# Each command module imports only the standard library until its command runs.
from keyceremony.cli.ceremony import add_ceremony_commands  # run
from keyceremony.cli.common import add_command, flush_stdout, guard_standard_streams
from keyceremony.cli.completion import SHELLS
from keyceremony.cli.keys import add_key_commands  # backup, recover
from keyceremony.cli.shares import add_share_commands  # split, combine, verify-share
from keyceremony.cli.transcript import add_transcript_commands  # transcript verify, transcript report
from keyceremony.cli.verbosity import add_verbosity_flags, set_level, verbose
from keyceremony.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_IO, EXIT_USAGE, KeyCeremonyError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except json_output.ArgumentsRefused as refused:  # argparse said why on stderr; with --json, say it on stdout too
        json_output.answer_refused_arguments(argv, refused)
        raise
    if not getattr(args, "run", None):
        if _on_a_terminal():  # `keyceremony` alone at a terminal opens the terminal UI
            return _tui(args)
        parser.print_help()
        return EXIT_USAGE
    guard_standard_streams()  # a closed stdin/stdout fails with a message, not a traceback
    set_level(args)  # --quiet / --verbose (cli/verbosity.py)
    report = json_output.start(args)  # --json: one JSON object on stdout, written when the command ends
    code = _run(args, report)
    return report.finish(code) if report is not None else code


def _run(args: argparse.Namespace, report: json_output.JsonReport | None) -> int:
    """Run the command; an error is said on stderr (and kept for the JSON) and gives the exit status."""

    def failed(err: BaseException, message: str, code: int) -> int:
        print(f"keyceremony: error: {message}", file=sys.stderr)
        for cause in _causes(err):  # --verbose: what lay behind it
            verbose(f"cause: {cause}")
        json_output.record_error(args, err, message, code)
        return code

    try:
        if report is not None:
            report.begin()
        code = int(args.run(args) or 0)
        flush_stdout()  # a report that could not be shown (stdout a full device) is an error
        return code
    except KeyCeremonyError as err:
        code = failed(err, err.diagnostics(), err.exit_code)
        for note in getattr(err, "__notes__", ()):  # e.g. "the new key was deleted again"
            print(f"keyceremony: note: {note}", file=sys.stderr)
        return code
    except BrokenPipeError:  # the reader of stdout went away (`| head`): stop quietly, as `cat` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as err:  # a path that cannot be written or read: say which, and why
        where = f"{err.filename}: " if err.filename else ""
        hint = {errno.ENOENT: "; check that the folder exists", errno.ENOTDIR: "; a part of the path is a file",
                errno.EACCES: "; check the permissions", errno.ENOSPC: "; free some space and run it again",
                }.get(err.errno or 0, "")  # fmt: skip
        return failed(err, f"{where}{err.strerror or err}{hint}", EXIT_IO)
    except KeyboardInterrupt as err:
        message = ("interrupted. Files are only ever written whole; a ceremony (`run`) resumes where it "
                   "stopped when started again")  # fmt: skip
        print(f"keyceremony: {message}", file=sys.stderr)
        json_output.record_error(args, err, message, EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED


def _causes(err: BaseException) -> list[str]:
    """The errors behind ``err`` that were kept on purpose: a ThresholdNotMet's refused sources,
    and a ``raise ... from`` cause. A context that was dropped (``from None``) is left out: it
    may quote the input it failed on, and the input may be a share."""
    shown = [f"{type(c).__name__}: {c}" for c in getattr(err, "causes", ()) if isinstance(c, BaseException)]
    cause = err.__cause__
    while cause is not None and len(shown) < 20:
        shown.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return shown


def _on_a_terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # a closed or missing stream
        return False


def _tui(args: argparse.Namespace) -> int:
    """``keyceremony tui``: the terminal UI (docs/tui.md); Textual is imported only now.

    The command line is the entry point of both front ends, so it sits above the UI in the
    layers (docs/architecture.md §2); the UI never imports the command line.
    """
    from keyceremony.tui.app import run_app

    return int(run_app())


def _parser() -> argparse.ArgumentParser:
    parser = json_output.CliParser(  # an ArgumentParser whose refusals --json answers too
        prog="keyceremony",
        description="Shamir-split key backup and recovery, run as an in-person ceremony.",
    )
    parser.add_argument("--version", action="version", version=f"keyceremony {__version__}")
    add_verbosity_flags(parser, top=True)
    sub = parser.add_subparsers(metavar="COMMAND")
    add_share_commands(sub)
    add_key_commands(sub)
    add_transcript_commands(sub)
    add_ceremony_commands(sub)
    tui = add_command(
        sub, "tui",
        summary="open the terminal UI (also what `keyceremony` alone does at a terminal)",
        description="The terminal UI: set up, run or resume a ceremony with every question on the screen, "
        "verify share cards or a transcript; keyboard only, 80x24 is enough. See docs/tui.md.",
        examples=("keyceremony tui", "keyceremony   # the same, at a terminal"),
    )  # fmt: skip
    tui.set_defaults(run=_tui)
    completion = add_command(
        sub, "completion",
        summary="print a shell completion script for bash or zsh",
        description="Print the script that lets bash or zsh complete keyceremony's commands, flags, "
        "choices and file names with Tab. It is written from the command line's own definition.",
        examples=(
            'eval "$(keyceremony completion bash)"   # in ~/.bashrc',
            "keyceremony completion bash > /usr/share/bash-completion/completions/keyceremony",
            'eval "$(keyceremony completion zsh)"    # in ~/.zshrc, after compinit',
        ),
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    completion.set_defaults(run=lambda args: _completion(parser, args.shell))
    return parser


def _completion(parser: argparse.ArgumentParser, shell: str) -> int:
    from keyceremony.cli.completion import script

    sys.stdout.write(script(parser, shell))
    return 0
