"""What more than one command module of the command line uses: output folders and files,
standard input and output, progress, PINs.

Standard library only, like every module the parser loads, so ``keyceremony --help`` stays fast.
"""

from __future__ import annotations

import argparse
import io
import os
import select
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, Protocol

from keyceremony.atomic_file import UnsafeOutputPath, check_output_path
from keyceremony.cli.verbosity import add_verbosity_flags, is_quiet, is_verbose
from keyceremony.errors import StreamError, UnsafeOutput, UsageError

PIN_ENV = "KEYCEREMONY_PIN"
MODULE_ENV = "PKCS11_MODULE"
# The largest secret read (256 MiB): its share files (about 3.1 times the secret) stay under the
# 1 GiB that combine reads (recipes/sources.py MAX_SOURCE_BYTES), and a stream that never ends is
# cut off there.
SECRET_LIMIT = 256 << 20
TYPED_LINE_LIMIT = 4096  # the longest line read when shares are typed in from a pipe or file
TYPED_REFUSALS_LIMIT = 100  # refused lines in a row from a pipe or file before typing is given up


class Subcommands(Protocol):
    """What ``ArgumentParser.add_subparsers`` returns, as the command modules use it: each adds
    its commands to the main parser's with :func:`add_command`."""

    def add_parser(
        self,
        name: str,
        *,
        help: str | None = ...,
        description: str | None = ...,
        epilog: str | None = ...,
        formatter_class: type[argparse.HelpFormatter] = ...,
    ) -> argparse.ArgumentParser: ...


class HelpFormatter(argparse.HelpFormatter):
    """Wraps the description's paragraphs to the terminal, and keeps indented lines (the
    examples of the epilog) as written, so each example stays one line that can be pasted."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("  "):
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


def add_command(
    sub: Subcommands, name: str, *, summary: str, description: str, examples: Sequence[str] = ()
) -> argparse.ArgumentParser:
    """One command (or a group's action): ``summary`` in the list of commands, ``description``
    at the top of its ``--help``, and ``examples`` (command lines, ``#`` comments allowed) at its
    end. tests/test_cli_help.py parses every example with the real parser."""
    epilog = None
    if examples:
        epilog = "examples:\n\n" + "\n".join(f"  {line}" for line in examples)
    parser = sub.add_parser(name, help=summary, description=description, epilog=epilog, formatter_class=HelpFormatter)
    add_verbosity_flags(parser)
    return parser


def add_source_argument(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """The share sources, named alike wherever shares are read (combine, recover, verify-share)."""
    p.add_argument("sources", nargs="+" if required else "*", metavar="SOURCE",
                   help="share .txt files, card PDFs, or scans or photos of cards")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """``--json``: one JSON object on standard output (cli/json_output.py, docs/cli.md §3). The
    command's name in it is its parser's name without the program's ("transcript verify")."""
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on standard output and nothing else (docs/cli.md §3)")
    parser.set_defaults(json_command=parser.prog.split(" ", 1)[-1])


def output_folder(path: str) -> Path:
    """``--out DIR`` as a Path; UsageError if it names an existing file or sits under one."""
    out = Path(path)
    for part in (out, *out.parents):
        if part.exists():
            if not part.is_dir():
                raise UsageError(f"--out {path}: {part} is a file, not a folder; give a folder for the output")
            break
    return out


def output_file(path: str, option: str, *, stdout: bool = True) -> bool:
    """Check an output FILE option (``--out``, ``--reveal``) before any work is done: ``-``
    (standard output, unless ``stdout`` is False), a new path, or an ordinary file (True: it
    exists, the caller asks for --force). A symbolic link, a folder, a device (/dev/null), a
    named pipe or a socket is refused with UnsafeOutput; ``write_atomically`` refuses them
    again when it writes."""
    if path == "-" and stdout:
        if isinstance(sys.stdout, ClosedStream):  # say so before any work, not after
            raise StreamError(f"standard output is closed; {option} - writes there: give a file name, or run "
                              "the command with standard output open")
        return False
    if path == "-":
        raise UsageError(f"{option} -: give a file name; this output is not written to standard output")
    try:
        return check_output_path(Path(path))
    except UnsafeOutputPath as err:
        dash = ", or - for standard output" if stdout else ""
        raise UnsafeOutput(f"{option} {path}: {err.strerror}{dash}") from None


def existing_outputs(paths: Sequence[Path]) -> list[Path]:
    """The ordinary files among ``paths`` (files a command would replace, with --force); refuses
    with UnsafeOutput, before any work is done, the first that is a link or not a file."""
    existing = []
    for path in paths:
        try:
            if check_output_path(path):
                existing.append(path)
        except UnsafeOutputPath as err:
            raise UnsafeOutput(f"{path}: {err.strerror}; nothing was written") from None
    return existing


# --- standard input and output -------------------------------------------------------------------


class ClosedStream(io.TextIOBase):
    """Stands for standard input or output when the command was started with it closed (``<&-``,
    ``>&-``), where Python leaves ``sys.stdin``/``sys.stdout`` as None: reading or writing raises
    StreamError, so the command ends with a message instead of a traceback."""

    def __init__(self, name: str, hint: str):
        super().__init__()
        self.stream_name = name
        self.hint = hint

    def fail(self) -> NoReturn:
        raise StreamError(f"{self.stream_name} is closed; {self.hint}")

    def isatty(self) -> bool:
        return False

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        self.fail()

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.fail()

    def write(self, text: str) -> int:
        self.fail()

    def flush(self) -> None:  # Python flushes stdout at exit: nothing to flush, nothing to say
        return None


def guard_standard_streams() -> None:
    """Make a closed standard stream fail with a message, not a traceback (``keyceremony`` with
    ``<&-``, ``>&-`` or ``2>&-``).

    Its file descriptor (0, 1 or 2) is held open on /dev/null, so that no file the command
    opens later gets that number and is taken for standard input or output; ``sys.stdin`` and
    ``sys.stdout`` become a ClosedStream; ``sys.stderr`` writes to /dev/null (there is no one
    to tell), and the exit code still says whether the command failed.
    """
    streams = (
        (0, "stdin", "standard input", "give the input in a file, or run it with standard input open"),
        (1, "stdout", "standard output", "what the command reports was not shown; any file it wrote is complete"),
        (2, "stderr", "standard error", ""),
    )
    for fd, name, shown, hint in streams:
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:  # closed: hold the number on /dev/null
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        setattr(sys, name, open(os.devnull, "w") if fd == 2 else ClosedStream(shown, hint))  # noqa: SIM115


def _stdout_failed(err: OSError | ValueError) -> NoReturn:
    """Standard output cannot be written: point it at /dev/null (so that Python's flush at exit
    does not fail again) and raise StreamError."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass
    reason = getattr(err, "strerror", None) or str(err)
    raise StreamError(f"standard output cannot be written ({reason}); give an output file instead, "
                      "or free the device or pipe it goes to") from None


def write_stdout(data: bytes | bytearray) -> None:
    """Write ``data`` (a secret) to standard output and flush it; StreamError if standard output
    is closed or cannot be written (a full device, /dev/full), BrokenPipeError if its reader went
    away. Written with os.write, so no copy is left in a buffer when writing fails."""
    out = sys.stdout
    if isinstance(out, ClosedStream):
        out.fail()
    try:
        out.flush()
        try:
            fd = out.fileno()
        except io.UnsupportedOperation:  # not a file (a test's StringIO wrapper): its buffer
            out.buffer.write(data)
            out.buffer.flush()
            return
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as err:
        _stdout_failed(err)


def flush_stdout() -> None:
    """Flush what the command printed; StreamError if standard output cannot take it (a full
    device): a report that was not shown must not end in success."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as err:
        _stdout_failed(err)


def read_secret(path: str, *, limit: int | None = None) -> bytearray:
    """The secret in ``path`` (``-``: standard input), in a bytearray the caller wipes.

    Only an ordinary file, or standard input that is a pipe, a file, a socket or a terminal, is
    read, and at most ``limit`` bytes (default SECRET_LIMIT): a named pipe, a device (/dev/zero),
    a folder or a socket given as the file is refused without waiting on it, and input that goes
    on past the limit is refused instead of read for ever.
    """
    limit = SECRET_LIMIT if limit is None else limit
    if path == "-":
        return _read_stdin_secret(limit)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; check the path of the secret") from None
    except OSError as err:  # a socket (ENXIO), no permission, ...
        raise UsageError(f"{path}: cannot be read ({err.strerror}); give the file holding the secret") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{path}: is a folder; give the file holding the secret")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path}: is a {_kind(mode)}, not an ordinary file; put the secret in a file, "
                             "or pipe it in with --in -")
        size = os.fstat(fd).st_size
        if size > limit:
            raise UsageError(f"{path}: {size:,} bytes is more than the {limit:,} bytes a secret may have")
        data = bytearray(size)
        view = memoryview(data)
        got = 0
        while got < size and (n := os.readv(fd, [view[got:]])):
            got += n
        del view
        if got != size:
            data[:] = bytes(len(data))
            raise UsageError(f"{path}: the file changed size while being read; try again")
    finally:
        os.close(fd)
    if not data:
        raise UsageError(f"{path}: the secret is empty; nothing to split")
    return data


def _read_stdin_secret(limit: int) -> bytearray:
    stdin = sys.stdin
    if isinstance(stdin, ClosedStream):
        raise StreamError("standard input is closed; pipe the secret in, or give --in FILE")
    try:
        fd = stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):
        raise StreamError("standard input cannot be read; pipe the secret in, or give --in FILE") from None
    if stat.S_ISDIR(mode) or (stat.S_ISCHR(mode) and not os.isatty(fd)) or stat.S_ISBLK(mode):
        raise StreamError(f"standard input is a {_kind(mode)}, not the secret; pipe the secret in, "
                          "or give --in FILE")
    data = bytearray(min(limit + 1, 1 << 16))
    got = 0
    try:
        while True:
            if got == len(data):
                if got > limit:
                    raise UsageError(f"standard input: more than the {limit:,} bytes a secret may have; "
                                     "nothing was split")
                bigger = bytearray(min(2 * len(data), limit + 1))
                bigger[:got] = data
                data[:] = bytes(len(data))
                data = bigger
            with memoryview(data) as view:
                try:
                    n = os.readv(fd, [view[got:]])
                except BlockingIOError:  # a non-blocking pipe: wait for it, never take "no data" for the end
                    select.select([fd], [], [])
                    continue
            if not n:
                break
            got += n
    except OSError as err:
        data[:] = bytes(len(data))
        raise StreamError(f"standard input cannot be read ({err.strerror}); pipe the secret in, "
                          "or give --in FILE") from None
    except BaseException:
        data[:] = bytes(len(data))
        raise
    if got == 0:
        raise UsageError("standard input: the secret is empty; nothing to split")
    secret = bytearray(data[:got])
    data[:] = bytes(len(data))
    return secret


def read_typed_line(*, echo: bool = True) -> str:
    """One line typed in for ``--type``, without its line end; EOFError at the end.

    On a terminal it is ``input()``; with ``echo`` False a plain read (the caller has turned the
    terminal's echo off, and ``input()`` with the readline module would echo by itself). From a
    pipe or file a line is read up to TYPED_LINE_LIMIT characters, so endless input without line
    ends (/dev/zero) is refused, not gathered for ever; a closed standard input raises StreamError."""
    stdin = sys.stdin
    if isinstance(stdin, ClosedStream):
        stdin.fail()
    tty = stdin.isatty()
    if tty and echo:
        return input()
    try:
        line = stdin.readline() if tty else stdin.readline(TYPED_LINE_LIMIT + 1)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise StreamError(f"standard input cannot be read ({getattr(err, 'strerror', None) or err}); "
                          "type the shares on a terminal or pipe in their lines") from None
    if not line:
        raise EOFError
    if len(line) > TYPED_LINE_LIMIT:
        raise StreamError(f"standard input: a line longer than {TYPED_LINE_LIMIT} characters; a "
                          "share's lines are short: pipe in the lines typed from the cards")
    return line[:-1] if line.endswith("\n") else line  # as input() gives it


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "device"


def add_owner_options(p: argparse.ArgumentParser) -> None:
    """``--owner`` and ``--contact``: whom a card says to tell when it is lost (docs/share-cards.md §2)."""
    p.add_argument("--owner", metavar="NAME",
                   help="the key owner, printed on every card as whom to tell if it is lost (64 characters max)")
    p.add_argument("--contact", metavar="TEXT",
                   help="how to reach the key owner (telephone, e-mail), printed beside the name (64 max)")


class Progress:
    """Stage messages on standard error: on a terminal, each replacing the last; with --verbose,
    each on its own line with the seconds since the command started (a log keeps them); none
    with --quiet, or when standard error is not a terminal."""

    def __init__(self) -> None:
        self.lines = is_verbose()
        self.enabled = not is_quiet() and (self.lines or sys.stderr.isatty())
        self.started = time.perf_counter()

    def step(self, message: str) -> None:
        if self.lines:
            print(f"keyceremony: [{time.perf_counter() - self.started:6.2f} s] {message}", file=sys.stderr, flush=True)
        elif self.enabled:
            print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled and not self.lines:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def read_pin(pin_file: str | None, token: str) -> str:
    """The token's user PIN: from ``pin_file``'s first line, else $KEYCEREMONY_PIN, else a
    prompt on a terminal; never from the command line (shared by ``backup``, ``recover``, ``run``)."""
    if pin_file:
        path = Path(pin_file)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--pin-file {pin_file}: no such file") from None
        except (OSError, UnicodeDecodeError) as err:
            raise UsageError(f"--pin-file {pin_file}: cannot be read ({err.__class__.__name__})") from None
        pin = raw.splitlines()[0] if raw.splitlines() else ""
        if not pin:
            raise UsageError(f"--pin-file {pin_file}: the file is empty; its first line must be the PIN")
        if path.stat().st_mode & 0o077:
            print(f"keyceremony: warning: {pin_file} can be read by other users; chmod 600 it",
                  file=sys.stderr)
        return pin
    env_pin = os.environ.get(PIN_ENV)
    if env_pin:
        return env_pin
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        pin = getpass.getpass(f"User PIN for token '{token}': ")
        if pin:
            return pin
    raise UsageError(
        f"token '{token}' needs its user PIN: type it at the prompt (run on a terminal), set "
        f"{PIN_ENV}, or give --pin-file FILE"
    )


def check_threshold(threshold: int, shares: int) -> None:
    """``--threshold`` and ``--shares``: UsageError outside 1 <= k <= n <= 255; a warning for k = 1,
    where every share alone is the secret (no dual control)."""
    if not 1 <= threshold <= shares <= 255:
        raise UsageError(f"--threshold {threshold} --shares {shares}: need 1 <= threshold <= shares <= 255")
    if threshold == 1:
        print(
            "keyceremony: WARNING: --threshold 1: every share alone is the whole secret; anyone holding one "
            "card holds it, so there is no dual control. Use --threshold 2 or more unless that is what you want.",
            file=sys.stderr,
        )
