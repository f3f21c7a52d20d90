"""``keyceremony split``, ``combine`` and ``verify-share``: a secret split into signed shares.

A thin front end over :mod:`keyceremony.shares` and :mod:`keyceremony.recipes.sources`
(docs/share-format.md). Only the standard library is imported here at start-up; the share code
and card rendering are imported inside the commands, so ``keyceremony --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, cast

from keyceremony.atomic_file import write_atomically
from keyceremony.cli.anchors import add_set_fingerprint_option, anchor_lines, parse_fingerprint_option
from keyceremony.cli.common import (
    Progress,
    Subcommands,
    add_owner_options,
    check_threshold,
    existing_outputs,
    output_file,
    output_folder,
    read_secret,
    write_stdout,
)
from keyceremony.cli.typed_entry import add_typing_options, type_shares
from keyceremony.errors import KeyCeremonyError, UsageError

if TYPE_CHECKING:
    from typing import TypeAlias

    from keyceremony.shares.payload import SharePayload

    SharesFrom: TypeAlias = list[tuple[str, SharePayload]]  # (source name, share), as read_shares gives them


def add_share_commands(sub: Subcommands) -> None:
    """Register ``split``, ``combine`` and ``verify-share`` on the main parser's subcommands."""
    p = sub.add_parser("split", help="split a secret into signed shares, any THRESHOLD of which recover it")
    p.add_argument("--threshold", "-k", type=int, required=True, help="shares needed to recover")
    p.add_argument("--shares", "-n", type=int, required=True, help="shares to make (at most 255)")
    p.add_argument("--in", dest="input", required=True, metavar="FILE", help="the secret; - reads stdin")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for share-1.txt ... share-N.txt")
    p.add_argument("--label", default="", help="what the secret is, printed on every share (64 bytes max)")
    p.add_argument("--force", action="store_true", help="overwrite share files already in DIR")
    p.add_argument("--cards", action="store_true", help="also print a PDF card per share and check it reads back")
    p.add_argument("--custodian", action="append", default=[], metavar="NAME",
                   help="holder of the next share's card (repeat, in share order)")
    add_owner_options(p)
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="card paper size (default a4)")
    p.set_defaults(run=_split)

    p = sub.add_parser("combine", help="recover a secret from share files")
    p.add_argument("sources", nargs="*", metavar="SHARE", help="share .txt files, card PDFs or images")
    add_typing_options(p)
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the secret; - for stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--strict", action="store_true", help="fail if any share given is set aside")
    add_set_fingerprint_option(p)
    p.set_defaults(run=_combine)

    p = sub.add_parser(
        "verify-share",
        help="check shares one by one, each on its own: integrity, signature, set",
        description=(
            "Check each share (a share .txt file, a card PDF or a scan or photo of a card) on its own: "
            "its text or QR code reads, its signature verifies under the set key it carries, and, with "
            "--fingerprint, its set is the one recorded in the ceremony's paper log. Nothing is combined. "
            "With several files, each is answered in turn; the exit status is not 0 if any was refused."
        ),
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="share .txt files, card PDFs or images")
    p.add_argument("--fingerprint", metavar="FP",
                   help="the set fingerprint recorded at the ceremony: 32 hex digits or its 16 words")
    p.set_defaults(run=_verify_share)


# --- split ---------------------------------------------------------------------------------------


def _read_secret(path: str) -> bytearray:
    """Read into a bytearray the caller wipes: an ordinary file, or standard input, at most
    256 MiB (cli/common.py ``read_secret``)."""
    return read_secret(path)


def _split(args: argparse.Namespace) -> int:
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.codec.pgp_words import to_words
    from keyceremony.shares import text as share_text
    from keyceremony.shares.payload import check_label
    from keyceremony.shares.shareset import create_share_set, describe_set

    check_threshold(args.threshold, args.shares)
    try:
        check_label(args.label)
    except ValueError as err:
        raise UsageError(f"--label: {err}") from None
    if len(args.custodian) > args.shares:
        raise UsageError(f"{len(args.custodian)} --custodian names for {args.shares} shares")
    if (args.custodian or args.owner or args.contact) and not args.cards:
        raise UsageError("--custodian, --owner and --contact go on the cards; add --cards")
    if args.cards:
        from keyceremony.cards.share_cards import check_card_names

        check_card_names(args.label, args.custodian, args.owner, args.contact)
    if args.custodian and len(args.custodian) < args.shares:  # a name left out, most likely
        blank = len(args.custodian) + 1  # the first card without a name
        which = f"card {blank} carries" if blank == args.shares else f"cards {blank}-{args.shares} carry"
        print(f"keyceremony: WARNING: {len(args.custodian)} --custodian name(s) for {args.shares} cards: {which} "
              "no custodian's name (a blank line to write it in by hand); give one --custodian per card to print "
              "every name", file=sys.stderr)  # fmt: skip
    out = output_folder(args.out)
    targets = [out / f"share-{i}.txt" for i in range(1, args.shares + 1)]
    if args.cards:
        targets += [out / f"card-{i}.pdf" for i in range(1, args.shares + 1)]
    existing = existing_outputs(targets)  # a link or a special file among them is refused
    if existing and not args.force:
        raise UsageError(
            f"{existing[0]} already exists; choose an empty --out folder or add --force to overwrite"
        )
    progress = Progress()
    secret = _read_secret(args.input)
    try:
        progress.step(f"splitting {len(secret):,} bytes {args.threshold}-of-{args.shares}...")
        # a bytearray, so it can be wiped below; create_share_set only reads it
        payloads = create_share_set(cast("bytes", secret), args.threshold, args.shares, label=args.label)
    finally:
        secret[:] = bytes(len(secret))
    if args.cards:
        from keyceremony.cards.share_cards import check_card_fits

        check_card_fits(payloads[0])
    out.mkdir(parents=True, exist_ok=True)
    first = payloads[0]
    fingerprint = format_fingerprint(first.fingerprint())
    for target, payload in zip(targets, payloads, strict=False):  # the share files; the cards come after
        progress.step(f"writing {target.name} ({payload.x} of {len(payloads)})...")
        comments = _share_comments(payload, fingerprint)
        write_atomically(target, share_text.iter_text(payload, comments))
    checks = []
    if args.cards:
        from keyceremony.cards.share_cards import write_cards

        progress.step("printing and reading back cards...")
        checks = write_cards(payloads, out, custodians=args.custodian, paper=args.paper, write=write_atomically,
                             owner=args.owner, contact=args.contact)
    progress.done()
    print(f"Wrote {len(payloads)} shares of {describe_set(first)} to {out}/")
    for check in checks:
        print(f"  {check.path.name}: printed, rendered at 150 dpi and read back to share {check.x}: OK")
    print(f"Set fingerprint: {fingerprint}")
    print(f"  in words: {' '.join(to_words(first.fingerprint()))}")
    print("Record the fingerprint in the ceremony log; custodians compare it with `keyceremony verify-share`.")
    return 0


def _share_comments(payload: SharePayload, fingerprint: str) -> list[str]:
    from datetime import datetime

    from keyceremony.shares.shareset import format_set_id

    when = datetime.fromtimestamp(payload.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    label = f"{payload.label}: " if payload.label else ""
    return [
        f"{label}share {payload.x} of {payload.count}; any {payload.threshold} recover the secret",
        f"set {format_set_id(payload.set_id)}, made {when}, secret {len(payload.y)} bytes",
        f"set fingerprint {fingerprint}",
        "Keep this secret. Each data line: number, 24 characters, 3-character check.",
    ]


# --- combine -------------------------------------------------------------------------------------


def _load_sources(sources: Sequence[str]) -> tuple[SharesFrom, list[KeyCeremonyError]]:
    from keyceremony.recipes.sources import read_shares

    items: SharesFrom = []
    problems: list[KeyCeremonyError] = []
    for source in sources:
        try:
            items.extend(read_shares(source))
        except KeyCeremonyError as err:
            problems.append(err)
    return items, problems


def _combine(args: argparse.Namespace) -> int:
    from keyceremony.errors import ThresholdNotMet
    from keyceremony.shares.shareset import describe_set, recover_secret

    if output_file(args.out, "--out") and not args.force:
        raise UsageError(f"{args.out} already exists; choose another --out or add --force")
    if args.no_echo and not args.type:
        raise UsageError("--no-echo hides shares typed in: use it with --type")
    if not args.sources and not args.type:
        raise UsageError("name the share files to combine, or add --type to type shares in")
    anchor = parse_fingerprint_option(args.fingerprint)
    progress = Progress()
    progress.step(f"reading {len(args.sources)} share source(s)...")
    items, problems = _load_sources(args.sources)
    progress.done()
    refused = 0
    if args.type:
        typed, refused, others = type_shares(items, anchor, no_echo=args.no_echo)
        items.extend(typed + others)  # shares of other sets too: recover_secret refuses an unanchored mix
    if not items and len(problems) == 1:
        raise problems[0]
    for err in problems:
        print(f"keyceremony: set aside: {err}", file=sys.stderr)
    if not items and refused:
        raise ThresholdNotMet(f"none of the {refused} share(s) typed in was accepted (see above); type shares "
                              "of one set, each once", have=0, need=1)
    if not items and not problems:  # only --type, and typing ended before a share was complete
        raise ThresholdNotMet("no share was typed in; type each share's lines from its card, and "
                              "at least the threshold number of shares", have=0, need=1)
    if not items:
        raise ThresholdNotMet("none of the shares given could be read (see above)", have=0, need=1)
    try:
        recovery = recover_secret(items, expected_fingerprint=anchor)
    except ThresholdNotMet as err:
        if problems:
            raise ThresholdNotMet(f"{err} (and {len(problems)} source(s) could not be read, see above)",
                                  have=err.have, need=err.need,
                                  set_aside=err.set_aside + tuple(str(p) for p in problems),
                                  causes=err.causes + tuple(problems)) from None
        raise
    for r in recovery.rejected:
        print(f"keyceremony: set aside: {r.reason}", file=sys.stderr)
    if args.strict and (problems or recovery.rejected):
        raise UsageError("--strict: some shares were set aside (see above); nothing was written")
    secret = bytearray(recovery.secret)
    try:
        if args.out == "-":
            write_stdout(secret)
        else:
            write_atomically(Path(args.out), bytes(secret))
    finally:
        secret[:] = bytes(len(secret))
    where = "standard output" if args.out == "-" else args.out
    print(
        f"Recovered the {len(secret)}-byte secret of {describe_set(recovery.reference)} from "
        f"{len(recovery.used)} share(s): {', '.join(recovery.used)}; wrote it to {where}",
        file=sys.stderr,
    )
    for line in anchor_lines(recovery.anchored, recovery.reference.fingerprint()):
        print(line, file=sys.stderr)
    return 0


# --- verify-share --------------------------------------------------------------------------------


def _verify_share(args: argparse.Namespace) -> int:
    from keyceremony.errors import KeyCeremonyError, StreamError

    expected = parse_fingerprint_option(args.fingerprint)
    if len(args.sources) == 1:  # one file: its error is the command's error, as always
        _verify_one(args.sources[0], expected)
        return 0
    refused: list[int] = []
    sets: dict[str, str] = {}  # set fingerprint -> the first source of that set
    for name in args.sources:
        try:
            for source, fingerprint in _verify_one(name, expected):
                sets.setdefault(fingerprint, source)
        except StreamError:  # standard output is closed or full: no other file can be answered either
            raise
        except KeyCeremonyError as err:  # answer this file, then go on with the next
            print(f"keyceremony: error: {err.diagnostics()}", file=sys.stderr)
            refused.append(err.exit_code)
    if len(sets) > 1:
        print(f"NOTE: these shares are of {len(sets)} different sets ("
              + "; ".join(f"{fp} first in {src}" for fp, src in sets.items())
              + "); a recovery needs shares of one set", file=sys.stderr)  # fmt: skip
    checked = len(args.sources)
    print(f"{checked - len(refused)} of {checked} source(s) verified" + (f"; {len(refused)} refused (above)"
                                                                          if refused else ""))  # fmt: skip
    return max(refused, default=0)


def _verify_one(name: str, expected: bytes | None) -> list[tuple[str, str]]:
    """Verify and describe the shares in one source; (source, set fingerprint) of each."""
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.codec.pgp_words import to_words
    from keyceremony.recipes.sources import read_shares
    from keyceremony.shares.shareset import check_fingerprint, describe_set, verify_share

    done = []
    for source, payload in read_shares(name):
        verify_share(payload, source=source)
        if expected is not None:
            check_fingerprint(payload, expected.hex(), source=source)
            print(f"{source}: OK, a genuine share: its signature verifies and its set fingerprint matches "
                  "the paper log's")
        else:  # self-consistent only: a forger's card is self-consistent too
            print(f"{source}: consistent: its signature verifies under the set key it carries")
        fingerprint = format_fingerprint(payload.fingerprint())
        print(f"  share {payload.x} of {payload.count} of {describe_set(payload)}")
        print(f"  set fingerprint: {fingerprint}")
        print(f"  in words: {' '.join(to_words(payload.fingerprint()))}")
        if expected is not None:
            print("  matches the fingerprint given")
        else:
            print("  UNANCHORED: compare the fingerprint with the one in the ceremony's paper log (or give it with "
                  "--fingerprint); only then is the share known to be genuine")
        done.append((source, fingerprint))
    return done
