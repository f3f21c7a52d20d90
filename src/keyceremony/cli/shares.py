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
    add_command,
    add_json_flag,
    add_owner_options,
    add_source_argument,
    check_threshold,
    existing_outputs,
    output_file,
    output_folder,
    read_secret,
    write_stdout,
)
from keyceremony.cli.json_output import anchor_status, record, record_error, refuse_stdout_output, share_set
from keyceremony.cli.typed_entry import add_typing_options, type_shares
from keyceremony.cli.verbosity import detail
from keyceremony.errors import KeyCeremonyError, UsageError

if TYPE_CHECKING:
    from typing import TypeAlias

    from keyceremony.shares.payload import SharePayload

    SharesFrom: TypeAlias = list[tuple[str, SharePayload]]  # (source name, share), as read_shares gives them


def add_share_commands(sub: Subcommands) -> None:
    """Register ``split``, ``combine`` and ``verify-share`` on the main parser's subcommands."""
    p = add_command(
        sub, "split",
        summary="split a secret into signed shares, any THRESHOLD of which recover it",
        description="Split a secret (any file up to 256 MiB) into N signed shares over GF(256), any THRESHOLD "
        "of which recover it, and write each as a share .txt file (share-1.txt ... share-N.txt), with "
        "--cards also a printed PDF card that is read back before the command ends. Prints the set "
        "fingerprint to record in the ceremony's paper log. For an HSM key, use `backup` instead. "
        "docs/share-format.md, docs/share-cards.md.",
        examples=(
            "keyceremony split -k 3 -n 5 --in secret.bin --out shares/",
            "keyceremony split -k 2 -n 3 --in secret.bin --out cards/ --cards --label db-master "
            "--custodian 'Alice Ng' --custodian 'Bob Ruiz' --custodian 'Chen Li'",
            "head -c 32 /dev/urandom | keyceremony split -k 2 -n 3 --in - --out shares/",
        ),
    )  # fmt: skip
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
    add_json_flag(p)
    p.set_defaults(run=_split)

    p = add_command(
        sub, "combine",
        summary="recover a secret from THRESHOLD shares (files, cards, photos, or typed in)",
        description="Recover the secret of a share set made by `split` from its shares: share .txt files, "
        "card PDFs, scans or photos of cards, or shares typed in from their cards' text lines (--type). "
        "Shares that cannot be used are set aside with the reason; with --fingerprint, only shares of "
        "the set recorded in the paper log are used, and the result says ANCHORED, else UNANCHORED.",
        examples=(
            "keyceremony combine shares/share-1.txt shares/share-3.txt shares/share-5.txt --out recovered.bin",
            "keyceremony combine cards/card-1.pdf card-2.jpg --out recovered.bin "
            "--fingerprint 'FP FROM THE PAPER LOG'",
            "keyceremony combine --type --no-echo --out recovered.bin",
        ),
    )  # fmt: skip
    add_source_argument(p)
    add_typing_options(p)
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the secret; - for stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--strict", action="store_true", help="fail if any share given is set aside")
    add_set_fingerprint_option(p)
    add_json_flag(p)
    p.set_defaults(run=_combine)

    p = add_command(
        sub, "verify-share",
        summary="check shares one by one, each on its own: integrity, signature, set",
        description=(
            "Check each share (a share .txt file, a card PDF, a scan or photo of a card, or typed in from the "
            "card's text lines with --type) on its own: "
            "its text or QR code reads, its signature verifies under the set key it carries, and, with "
            "--fingerprint, its set is the one recorded in the ceremony's paper log. Nothing is combined. "
            "With several files, each is answered in turn; the exit status is not 0 if any was refused."
        ),
        examples=(
            "keyceremony verify-share card-1.pdf --fingerprint 'FP FROM THE PAPER LOG'",
            "keyceremony verify-share shares/share-1.txt shares/share-2.txt scan-3.png",
            "keyceremony verify-share --type --no-echo --fingerprint 'FP FROM THE PAPER LOG'",
        ),
    )
    add_source_argument(p)
    add_typing_options(p)
    add_set_fingerprint_option(p)
    add_json_flag(p)
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
        detail(f"  {check.path.name}: printed, rendered at 150 dpi and read back to share {check.x}: OK")
    print(f"Set fingerprint: {fingerprint}")
    detail(f"  in words: {' '.join(to_words(first.fingerprint()))}")
    detail("Record the fingerprint in the ceremony log; custodians compare it with `keyceremony verify-share`.")
    record(args, out=str(out), set=share_set(first), files=[str(t) for t in targets if t.suffix == ".txt"],
           cards=[{"path": str(c.path), "share": c.x, "read_back": True} for c in checks])  # fmt: skip
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

    refuse_stdout_output(args, "--out", args.out)
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
    record(args, out=args.out, set=share_set(recovery.reference), shares_used=list(recovery.used),
           set_aside=[{"source": getattr(p, "source", None), "reason": str(p)} for p in problems]
           + [{"source": r.source, "reason": r.reason} for r in recovery.rejected],
           anchor=anchor_status(recovery.anchored))  # fmt: skip
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
    from keyceremony.errors import EXIT_REFUSED, KeyCeremonyError, StreamError

    expected = parse_fingerprint_option(args.fingerprint)
    if args.no_echo and not args.type:
        raise UsageError("--no-echo hides a share typed in: use it with --type")
    if not args.sources and not args.type:
        raise UsageError("name the share files, cards or photos to check (SOURCE), or add --type to type shares in")
    entries: list[dict[str, object]] = []  # for --json: one per share verified, and per source refused
    record(args, fingerprint_given=expected is not None, sources=entries)
    if len(args.sources) == 1 and not args.type:  # one file: its error is the command's error, as always
        try:
            _verify_one(args.sources[0], expected, entries)
        except KeyCeremonyError:
            record(args, verified=0, refused=1)
            raise
        record(args, verified=1, refused=0)
        return 0
    refused: list[KeyCeremonyError] = []
    sets: dict[str, str] = {}  # set fingerprint -> the first source of that set
    for name in args.sources:
        try:
            for source, fp in _verify_one(name, expected, entries):
                sets.setdefault(fp, source)
        except StreamError:  # standard output is closed or full: no other file can be answered either
            raise
        except KeyCeremonyError as err:  # answer this file, then go on with the next
            print(f"keyceremony: error: {err.diagnostics()}", file=sys.stderr)
            refused.append(err)
    checked, typed_refused = len(args.sources), 0
    if args.type:  # each typed share was answered as it ended (type_shares); described here like a file's
        typed, typed_refused, others = type_shares([], expected, no_echo=args.no_echo)
        for source, payload in typed + others:
            sets.setdefault(_describe(source, source, payload, expected, entries), source)
        checked += len(typed) + len(others) + typed_refused
    if len(sets) > 1:
        detail(f"NOTE: these shares are of {len(sets)} different sets ("
               + "; ".join(f"{fp} first in {src}" for fp, src in sets.items())
               + "); a recovery needs shares of one set", file=sys.stderr)  # fmt: skip
    failed = len(refused) + typed_refused
    print(f"{checked - failed} of {checked} source(s) verified" + (f"; {failed} refused (above)"
                                                                         if failed else ""))  # fmt: skip
    record(args, verified=checked - failed, refused=failed)
    if refused:
        worst = max(refused, key=lambda err: err.exit_code)  # its exit status is the command's; --json says it
        record_error(args, worst, worst.diagnostics(), worst.exit_code)
        return worst.exit_code
    if typed_refused:
        message = f"{typed_refused} share(s) typed in were refused (above)"
        record_error(args, None, message, EXIT_REFUSED, kind="ShareRejected")
        return EXIT_REFUSED
    return 0


def _verify_one(name: str, expected: bytes | None, entries: list[dict[str, object]]) -> list[tuple[str, str]]:
    """Verify and describe the shares in one source; (source, set fingerprint) of each. An entry
    for --json is added to ``entries`` for each share, and for the source if it is refused."""
    try:
        return _verify_shares(name, expected, entries)
    except KeyCeremonyError as err:
        from keyceremony.errors import ForeignShare

        mismatch = expected is not None and isinstance(err, ForeignShare)  # check_fingerprint refused it
        entries.append({"file": name, "ok": False, "anchor": "MISMATCH" if mismatch else None,
                        "error": {"kind": type(err).__name__, "message": err.diagnostics(),
                                  "exit_code": err.exit_code}})  # fmt: skip
        raise


def _verify_shares(name: str, expected: bytes | None, entries: list[dict[str, object]]) -> list[tuple[str, str]]:
    from keyceremony.recipes.sources import read_shares

    done = []
    for source, payload in read_shares(name):
        done.append((source, _describe(name, source, payload, expected, entries)))
    return done


def _describe(name: str, source: str, payload: SharePayload, expected: bytes | None,
              entries: list[dict[str, object]]) -> str:
    """Verify one share on its own and say what it is; its set fingerprint, formatted."""
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.codec.pgp_words import to_words
    from keyceremony.shares.shareset import check_fingerprint, describe_set, verify_share

    verify_share(payload, source=source)
    if expected is not None:
        check_fingerprint(payload, expected.hex(), source=source)
        print(f"{source}: OK, a genuine share: its signature verifies and its set fingerprint matches "
              "the paper log's")
    else:  # self-consistent only: a forger's card is self-consistent too
        print(f"{source}: consistent: its signature verifies under the set key it carries")
    fingerprint = format_fingerprint(payload.fingerprint())
    detail(f"  share {payload.x} of {payload.count} of {describe_set(payload)}")
    print(f"  set fingerprint: {fingerprint}")
    detail(f"  in words: {' '.join(to_words(payload.fingerprint()))}")
    if expected is not None:
        detail("  matches the fingerprint given")
    else:
        print("  UNANCHORED: compare the fingerprint with the one in the ceremony's paper log (or give it with "
              "--fingerprint); only then is the share known to be genuine")
    entries.append({"file": name, "source": source, "ok": True, "share": payload.x, "set": share_set(payload),
                    "anchor": anchor_status(expected is not None), "error": None})  # fmt: skip
    return fingerprint
