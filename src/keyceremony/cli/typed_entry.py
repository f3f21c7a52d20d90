"""Shares typed in from their cards' text lines: ``combine --type`` and ``recover --type``.

Each line is checked as it comes (``shares.typed.TypedShare``) and a share ends by itself after
its last line. A pasted share file's header and its ``#`` comments are skipped silently; so is a
backup package block, unless ``recover --type`` still needs the package: then a pasted block, or
the lines typed from page 2 of a card (asked for once enough shares are in), are checked as they
come (``keys.typed_package.TypedPackage``) and end by themselves after the last line. One empty
line ends typing; on a terminal, a blank line inside pasted text
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

    from keyceremony.keys.typed_package import TypedPackage
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
    given: SharesFrom, anchor: bytes | None = None, *, no_echo: bool = False, package: TypedPackage | None = None
) -> tuple[SharesFrom, int, SharesFrom]:
    """Prompt for shares typed from their cards and answer each at once (accepted as share x
    of set X, or refused and why). Returns the accepted shares, how many were refused, and the
    typed shares of other sets (unanchored).

    ``package``: the backup package is needed too (``recover --type`` with no package given):
    its lines, typed or pasted, go into ``package`` (complete when ``package.package`` is set),
    and once enough shares are in the prompt asks for them."""
    from keyceremony.shares.collector import ShareCollector
    from keyceremony.shares.typed import TypedShare

    collector = ShareCollector(expected_fingerprint=anchor)
    for source, payload in given:  # shares from files count towards the threshold shown
        collector.add(source, payload)
    tty = sys.stdin.isatty()
    _say("Type each share's numbered lines from its card, or paste its share file: every line is "
         "checked at once,")
    _say("and a share ends by itself after its last line. An empty line ends typing.")
    if package is not None:
        _say("Then type the backup package's lines from page 2 of any card (the same on every card); "
             "it ends by itself too.")
    if no_echo and tty:
        _say("What you type is not shown (--no-echo).")
    if collector.reference is not None:
        _say(f"From the files: {collector.status()}.")
    typed: SharesFrom = []
    refused = refused_lines = 0
    number, share, headed, warned_blank = 1, TypedShare(), False, False
    package_line = 0  # in a pasted backup package block being skipped: the number of its next line, else 0
    in_package = False  # lines now go to ``package`` (its header came, or its first line, or it is asked for)
    noted: tuple[bytes, int, int, int] | None = None
    pushed: str | None = None  # a piped line read ahead after an empty line

    def refuse(problem: str | None, what: str) -> None:
        """A line not taken (said why, if ``problem``); lines in a row that are not ``what``:
        endless junk from a pipe must end."""
        nonlocal refused_lines
        if problem:
            _say(f"  {problem}")
        refused_lines += 1
        if refused_lines >= TYPED_REFUSALS_LIMIT and not tty:
            raise UsageError(f"standard input: {refused_lines} lines in a row are not {what}; "
                             "pipe in the lines typed from the cards")

    with _terminal(no_echo):
        while True:
            wanted = package is not None and not package.complete
            if wanted and collector.complete and not share.lines:
                in_package = True
            if pushed is None:
                what = (f"package, line {package.next_number:02d}" if in_package and package is not None
                        else f"share #{number}, line {share.next_number:02d}")
                print(f"{what}: ", end="", file=sys.stderr, flush=True)
            try:
                line, pushed = (read_typed_line(echo=not (no_echo and tty)), None) if pushed is None else (pushed, None)
            except EOFError:  # Ctrl+D, or the end of a pipe
                print(file=sys.stderr)
                if share.lines:
                    _say(f"  input ended in the middle of share #{number} ({len(share.lines)} line(s) typed); "
                         "that share was not used")
                if package is not None and package.lines and not package.complete:
                    _say(f"  input ended in the middle of the backup package ({len(package.lines)} line(s) "
                         "typed); it was not used")
                break
            except KeyboardInterrupt:
                print(file=sys.stderr)
                _say("keyceremony: typing stopped (Ctrl+C); nothing was recovered or written")
                raise SystemExit(130) from None
            pending = share.lines or (package is not None and package.lines and not package.complete)
            if not line.strip():
                if tty and _more_waiting():  # a blank line inside pasted text
                    continue
                if not tty and not pending:
                    pushed = _next_file_header()
                    if pushed is not None:  # a blank line between piped share files
                        continue
                if pending and not warned_blank:
                    _say(f"  {_unfinished(number, share, package)} is not complete: line "
                         f"{(share if share.lines else package).next_number:02d} is next. Type it, "  # type: ignore[union-attr]
                         "or an empty line again to stop without it")
                    warned_blank = True
                    continue
                if share.lines:
                    _say(f"  share #{number} was not complete ({len(share.lines)} line(s)) and was not used")
                elif pending and package is not None:
                    _say(f"  the backup package was not complete ({len(package.lines)} line(s)) and was not used")
                    package.reset()
                elif wanted and collector.complete and not warned_blank:
                    _say("  the backup package is still needed: type its lines from page 2 of any card, or an "
                         "empty line again to stop without it")
                    warned_blank = True
                    continue
                elif headed and not package_line and not in_package and not tty:
                    continue  # a blank line after a piped share's header, before its data lines
                break
            warned_blank = False
            if package is not None and wanted:
                step = _package_step(line, number, share, package, in_package)
                if step is not None:
                    in_package, share, problem = step
                    if problem is not None:
                        refuse(problem, "share or package lines")
                        continue
                    refused_lines = 0
                    if package.complete:
                        in_package = False
                        assert package.package is not None
                        from keyceremony.keys.backup_package import format_package_fingerprint

                        fingerprint = format_package_fingerprint(package.package.fingerprint())
                        _say(f"  the backup package is complete ({len(package.lines)} lines): "
                             f"{package.package.describe()}, package fingerprint {fingerprint}")
                        if collector.complete:
                            _say("  Enough shares and the package: an empty line finishes.")
                    continue
            skipped, package_line, headed, share = _skip(line, number, share, package_line, headed)
            problem = None if skipped else share.add(line)
            if skipped or problem:
                refuse(problem, "share lines")
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
                if collector.complete and package is not None and not package.complete:
                    _say("  Enough shares. Now type the backup package from page 2 of any card (its header "
                         "line may be left out); it ends by itself.")
                elif collector.complete:
                    _say("  Enough shares: an empty line finishes (or type another share to cross-check).")
            number, share, headed, noted = number + 1, TypedShare(), False, None
    others = [(src, p) for src, p in collector.others if src.startswith("typed share #")]
    return typed, refused, others


def _unfinished(number: int, share: TypedShare, package: TypedPackage | None) -> str:
    return f"share #{number}" if share.lines or package is None else "the backup package"


def _package_step(
    line: str, number: int, share: TypedShare, package: TypedPackage, in_package: bool
) -> tuple[bool, TypedShare, str | None] | None:
    """A line while the package is still wanted, if it is the package's (its header, a comment
    inside its block, or its next data line): (in_package, share, problem: None if taken, "" if
    skipped silently, else what is wrong). None: the line is a share's (handled as one)."""
    from keyceremony.keys.typed_package import first_line_magic
    from keyceremony.shares.typed import TypedShare, printed_line

    try:
        kind = printed_line(line)
    except ValueError:
        return None  # another version's header: _skip names it
    if kind == "package":
        if share.lines:
            _say(f"  a package header came before share #{number} was complete ({len(share.lines)} line(s)); "
                 "that share was not used")
        if package.lines:
            _say(f"  a new package header came before the package was complete ({len(package.lines)} line(s)); "
                 "those lines were not used")
            package.reset()
        return True, TypedShare(), ""
    if kind == "header":
        if in_package and package.lines:
            _say(f"  a share's header came before the backup package was complete ({len(package.lines)} "
                 "line(s)); those lines were not used")
            package.reset()
        return None
    if kind == "comment":
        return (in_package, share, "") if in_package else None
    if not package.lines and not share.lines:  # a first line says which it is: KCB a package, KCS a share
        magic = first_line_magic(line)
        if magic == b"KCB":
            in_package = True
        elif magic == b"KCS":
            return None  # a share's, even when the package was asked for (to cross-check a share)
    if not in_package:
        return None
    return in_package, share, package.add(line)


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
