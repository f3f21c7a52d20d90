"""Shares typed in from their cards' text lines: ``combine --type`` and ``recover --type``.

Each line is checked as it comes (``shares.typed.TypedShare``) and a share ends by itself after
its last line. A pasted share file's header, its ``#`` comments and a backup package block are
skipped silently. One empty line ends typing; on a terminal, a blank line inside pasted text
(more lines already waiting) is skipped instead, and so is one between piped share files (the
next line a header). ``--no-echo`` turns the terminal's echo off
while shares are typed. Standard library only at import, so ``keyceremony --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import select
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from keyceremony.cli.common import TYPED_REFUSALS_LIMIT, read_typed_line
from keyceremony.errors import UsageError

if TYPE_CHECKING:
    from typing import TypeAlias

    from keyceremony.shares.collector import ShareCollector
    from keyceremony.shares.payload import SharePayload
    from keyceremony.shares.typed import TypedShare

    SharesFrom: TypeAlias = list[tuple[str, SharePayload]]

PASTE_WAIT = 0.05  # seconds: a blank line followed this soon by more input is inside pasted text


def add_typing_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--type", action="store_true",
                   help="type (or paste) shares from their cards' text lines; an empty line ends")
    p.add_argument("--no-echo", action="store_true",
                   help="with --type on a terminal: do not show what is typed")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # stderr: with --out - stdout carries only the secret


@contextlib.contextmanager
def _terminal(no_echo: bool) -> Iterator[None]:
    """On a terminal: echo off (``no_echo``; the line end is still shown) while shares are typed,
    and input left over when typing ends is dropped, never handed to the shell."""
    stdin = sys.stdin
    try:
        fd = stdin.fileno() if stdin.isatty() else -1
    except (OSError, ValueError):
        fd = -1
    if fd < 0:
        yield
        return
    import termios

    saved = termios.tcgetattr(fd)
    if no_echo:
        quiet = termios.tcgetattr(fd)
        quiet[3] = (quiet[3] & ~termios.ECHO) | termios.ECHONL
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)  # TCSAFLUSH also drops what was left


def _more_waiting() -> bool:
    """More input is already waiting on the terminal (the rest of a paste)."""
    try:
        return bool(select.select([sys.stdin.fileno()], [], [], PASTE_WAIT)[0])
    except (OSError, ValueError):
        return False


def type_shares(
    given: SharesFrom, anchor: bytes | None = None, *, no_echo: bool = False
) -> tuple[SharesFrom, int, SharesFrom]:
    """Prompt for shares typed from their cards and answer each at once (accepted as share x
    of set X, or refused and why). Returns the accepted shares, how many were refused, and the
    typed shares of other sets (unanchored)."""
    from keyceremony.shares.collector import ShareCollector
    from keyceremony.shares.typed import TypedShare

    collector = ShareCollector(expected_fingerprint=anchor)
    for source, payload in given:  # shares from files count towards the threshold shown
        collector.add(source, payload)
    tty = sys.stdin.isatty()
    _say("Type each share's numbered lines from its card, or paste its share file: every line is "
         "checked at once,")
    _say("and a share ends by itself after its last line. An empty line ends typing.")
    if no_echo and tty:
        _say("What you type is not shown (--no-echo).")
    if collector.reference is not None:
        _say(f"From the files: {collector.status()}.")
    typed: SharesFrom = []
    refused = refused_lines = 0
    number, share, headed, warned_blank = 1, TypedShare(), False, False
    package_line = 0  # in a pasted backup package block: the number of its next line, else 0
    noted: tuple[bytes, int, int, int] | None = None
    pushed: str | None = None  # a piped line read ahead after an empty line
    with _terminal(no_echo):
        while True:
            if pushed is None:
                print(f"share #{number}, line {share.next_number:02d}: ", end="", file=sys.stderr, flush=True)
            try:
                line, pushed = (read_typed_line(echo=not (no_echo and tty)), None) if pushed is None else (pushed, None)
            except EOFError:  # Ctrl+D, or the end of a pipe
                print(file=sys.stderr)
                if share.lines:
                    _say(f"  input ended in the middle of share #{number} ({len(share.lines)} line(s) typed); "
                         "that share was not used")
                break
            except KeyboardInterrupt:
                print(file=sys.stderr)
                _say("keyceremony: typing stopped (Ctrl+C); nothing was recovered or written")
                raise SystemExit(130) from None
            if not line.strip():
                if tty and _more_waiting():  # a blank line inside pasted text
                    continue
                if not tty and not share.lines:
                    pushed = _next_file_header()
                    if pushed is not None:  # a blank line between piped share files
                        continue
                if share.lines and not warned_blank:
                    _say(f"  share #{number} is not complete: line {share.next_number:02d} is next. Type it, "
                         "or an empty line again to stop without this share")
                    warned_blank = True
                    continue
                if share.lines:
                    _say(f"  share #{number} was not complete ({len(share.lines)} line(s)) and was not used")
                elif headed and not package_line and not tty:
                    continue  # a blank line after a piped share's header, before its data lines
                break
            warned_blank = False
            skipped, package_line, headed, share = _skip(line, number, share, package_line, headed)
            problem = None if skipped else share.add(line)
            if skipped or problem:  # lines in a row that are not a share's: endless junk from a pipe must end
                if problem:
                    _say(f"  {problem}")
                refused_lines += 1
                if refused_lines >= TYPED_REFUSALS_LIMIT and not tty:
                    raise UsageError(f"standard input: {refused_lines} lines in a row are not share lines; "
                                     "pipe in the lines typed from the cards")
                continue
            refused_lines = 0
            noted = _note_header(share, collector, number, noted)
            if not share.complete:
                continue
            _say(f"  share #{number} is complete ({len(share.lines)} lines)")
            accepted, answer = _hand_in(share, collector, f"typed share #{number}")
            _say(f"  {answer}")
            if accepted is None:
                refused += 1
            else:
                typed.append(accepted)
                if collector.complete:
                    _say("  Enough shares: an empty line finishes (or type another share to cross-check).")
            number, share, headed, noted = number + 1, TypedShare(), False, None
    others = [(src, p) for src, p in collector.others if src.startswith("typed share #")]
    return typed, refused, others


def _next_file_header() -> str | None:
    """From a pipe, after an empty line: the next line if it is a share file's (or its backup
    package's) header, so piped share files may have empty lines between them; else None (the
    empty line ends typing, and what follows it is not read as shares)."""
    from keyceremony.shares.typed import printed_line

    try:
        line = read_typed_line()
    except EOFError:
        return None
    try:
        return line if printed_line(line) in ("header", "package") else None
    except ValueError:
        return line  # another version's header: named when it is handled


def _skip(
    line: str, number: int, share: TypedShare, package_line: int, headed: bool
) -> tuple[bool, int, bool, TypedShare]:
    """Whether ``line`` is skipped (a header, a comment, the next line of a backup package
    block), and the state after it: (skipped, package_line, headed, share). A package block
    ends at the first line that is not its next line (that line is then a share's)."""
    from keyceremony.shares.text import line_check_error
    from keyceremony.shares.typed import TypedShare, printed_line

    try:
        kind = printed_line(line)
    except ValueError as err:
        _say(f"  {err}")
        return True, package_line, headed, share
    if kind == "comment":
        return True, package_line, headed, share
    if kind in ("header", "package"):
        if share.lines:
            _say(f"  a new header came before share #{number} was complete ({len(share.lines)} line(s)); "
                 "that share was not used")
            share = TypedShare()
        return True, int(kind == "package"), kind == "header", share
    if package_line and line_check_error(line, package_line) is None:
        return True, package_line + 1, headed, share
    return False, 0, headed, share


def _note_header(
    share: TypedShare, collector: ShareCollector, number: int, noted: tuple[bytes, int, int, int] | None
) -> tuple[bytes, int, int, int] | None:
    """Once the share's first lines say which share it is, say at once if that is not a share
    the collection still needs (another set, or a number already accepted)."""
    if noted is not None:
        return noted
    head = share.header()
    if head is None:
        return None
    from keyceremony.shares.shareset import format_set_id

    set_id, _, _, x = head
    reference = collector.reference
    if reference is not None and set_id != reference.set_id:
        _say(f"  note: share #{number} is share {x} of set {format_set_id(set_id)}, but the shares so far "
             f"are of set {format_set_id(reference.set_id)}; check that this card is of the right set")
    elif x in collector.accepted:
        _say(f"  note: share #{number} is share {x}, accepted already from {collector.accepted[x][0]}; "
             "is this the same card again?")
    return head


def _hand_in(
    share: TypedShare, collector: ShareCollector, source: str
) -> tuple[tuple[str, SharePayload] | None, str]:
    """Give a complete typed share to the collector: (the share if accepted, what to say)."""
    from keyceremony.shares.collector import Outcome

    answer = collector.add_text(share.text(), source)
    if answer.accepted:
        return collector.accepted[answer.share_number or 0], answer.message
    if answer.outcome is Outcome.UNREADABLE:  # every line passed its check: lines of two cards
        return None, f"{share.mixed_lines_message(source)} [refused; {collector.status()}]"
    return None, answer.message
