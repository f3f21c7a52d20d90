"""``keyceremony backup`` and ``keyceremony recover``: HSM keys backed up onto signed cards.

A thin front end over :mod:`keyceremony.recipes.backup` (docs/backup-package.md, docs/hsm.md). Only the
standard library is imported here at start-up; back ends, cryptography and card rendering are
imported inside the commands, so ``keyceremony --help`` stays fast.

PINs come from a prompt, the ``KEYCEREMONY_PIN`` environment variable or ``--pin-file``; never
from the command line, where ``ps`` and shell history would keep them.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyceremony.cli.anchors import add_backup_anchor_options, backup_anchor_lines, backup_anchors
from keyceremony.cli.common import (
    MODULE_ENV,
    PIN_ENV,
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
    read_pin,
    write_stdout,
)
from keyceremony.cli.json_output import record, record_error, refuse_stdout_output
from keyceremony.cli.typed_entry import add_typing_options, type_shares
from keyceremony.cli.verbosity import detail
from keyceremony.errors import KeyCeremonyError, UsageError

if TYPE_CHECKING:
    from keyceremony.keys.backend import KeyBackend
    from keyceremony.keys.backup_package import BackupPackage
    from keyceremony.keys.model import KeyAlgorithm
    from keyceremony.recipes.backup import Backup, SourcesRead
    from keyceremony.shares.payload import SharePayload
ALGORITHMS = ("aes256", "aes192", "aes128", "ec-p256", "ed25519")
WRAP_MECHANISMS = ("AES_KEY_WRAP_KWP", "AES_KEY_WRAP_PAD")
# The rows of a backup's or recovery's report that --quiet still prints: what the paper log records.
RECORDED_ROWS = frozenset({"key check value", "set fingerprint", "backup package", "result"})


def add_key_commands(sub: Subcommands) -> None:
    """Register ``backup`` and ``recover`` on the main parser's subcommands."""
    p = add_command(
        sub, "backup",
        summary="generate (or take) a key in an HSM and back it up wrapped, its wrapping key split onto cards",
        description="Back up a key: wrap it (RFC 5649) under a fresh 256-bit wrapping key, record its "
        "check value and a canary, write a signed backup package, and split the wrapping key onto "
        "signed share cards, each printed and read back. Prints the key check value and the set "
        "fingerprint to record in the paper log. docs/backup-package.md, docs/hsm.md.",
        examples=(
            "keyceremony backup --module /usr/lib/softhsm/libsofthsm2.so --token prod --label payments-kek "
            "-k 3 -n 5 --custodian Alice --custodian Bob --custodian Chen --custodian Dana --custodian Eve "
            "--out backup/",
            "keyceremony backup --backend pkcs11 --token prod --existing payments-kek -k 2 -n 3 --out backup/",
            "keyceremony backup --backend soft --label test-kek -k 2 -n 3 --out backup/   # no HSM",
        ),
    )  # fmt: skip
    _backend_options(p, "where the key is made or found: soft (in memory, cryptography) "
                     "or pkcs11 (an HSM token; the default when --module or --token is given)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--label", help="generate a new key with this label (64 bytes max)")
    what.add_argument("--existing", metavar="LABEL", help="back up the key already in the token with this label")
    p.add_argument("--algorithm", choices=ALGORITHMS, help="key type for --label (default aes256)")
    p.add_argument("--key-file", metavar="FILE",
                   help="with --backend soft and --label: back up this existing key (raw AES bytes, "
                        "or a PKCS#8 DER/PEM EC P-256 or Ed25519 private key) instead of a new one")
    p.add_argument("--threshold", "-k", type=int, required=True, help="cards needed to recover")
    p.add_argument("--shares", "-n", type=int, required=True, help="cards to make (at most 255)")
    p.add_argument("--custodian", action="append", default=[], metavar="NAME",
                   help="holder of the next card (repeat, in share order)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for package.kcb, share-N.txt, card-N.pdf")
    p.add_argument("--no-cards", action="store_true", help="write share files and the package only")
    add_owner_options(p)
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="card paper size (default a4)")
    p.add_argument("--force", action="store_true", help="overwrite backup files already in DIR")
    add_json_flag(p)
    p.set_defaults(run=_backup)

    p = add_command(
        sub, "recover",
        summary="recover a backed-up key from k cards into an HSM token, or rehearse it with --drill",
        description="Rebuild the wrapping key from k cards or share files (or shares typed in with "
        "--type: pasted share files are taken as they are, one empty line ends), unwrap the key into the "
        "target token (not extractable by default), and prove it: its check value and canary must "
        "match the backup package. The package is read from the cards unless --package is given. "
        "Give what the paper log recorded (--fingerprint, --package-fingerprint, --kcv): without it the "
        "result is UNANCHORED.",
        examples=(
            "keyceremony recover card-1.pdf card-3.pdf card-4.pdf --backend pkcs11 "
            "--module /usr/lib/softhsm/libsofthsm2.so --token recovery --kcv 771489",
            "keyceremony recover --drill backup/share-1.txt backup/share-2.txt backup/share-3.txt --kcv 771489",
            "keyceremony recover --type --no-echo --backend pkcs11 --token recovery --kcv 771489",
        ),
    )  # fmt: skip
    add_source_argument(p)
    add_typing_options(p)
    p.add_argument("--package", metavar="FILE",
                   help="the backup package (package.kcb); optional: every card carries it")
    _backend_options(p, "where the key goes: pkcs11 (an HSM token; the default when --module "
                     "or --token is given) or soft (in memory: only with --drill or --reveal)")
    p.add_argument("--label", dest="new_label", metavar="LABEL",
                   help="label for the recovered key (default: the backed-up label)")
    p.add_argument("--extractable", action="store_true",
                   help="let the recovered key be exported again, wrapped (default: never)")
    p.add_argument("--drill", action="store_true",
                   help="rehearse: recover a session copy, check it, delete it, print a drill report")
    p.add_argument("--reveal", metavar="FILE",
                   help="write the key in plaintext to FILE (- for stdout) for migration (raw AES bytes or "
                        "PKCS#8 PEM); dangerous")
    p.add_argument("--force", action="store_true", help="overwrite the --reveal FILE")
    add_backup_anchor_options(p)
    add_json_flag(p)
    p.set_defaults(run=_recover)


def _backend_options(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--backend`` and the PKCS#11 options: the same flags on backup, recover and run."""
    p.add_argument("--backend", choices=("soft", "pkcs11"), help=help_text)
    p.add_argument("--module", metavar="PATH",
                   help=f"the PKCS#11 module (default ${MODULE_ENV}), e.g. /usr/lib/softhsm/libsofthsm2.so")
    p.add_argument("--token", metavar="LABEL", help="the token's label (never a slot number)")
    p.add_argument("--pin-file", metavar="FILE", help=f"read the user PIN from FILE (else ${PIN_ENV}, else a prompt)")
    p.add_argument("--wrap-mechanism", choices=WRAP_MECHANISMS,
                   help="skip probing for the RFC 5649 mechanism (docs/hsm.md)")
    p.add_argument("--pin", nargs="?", action=_RefusePin, help=argparse.SUPPRESS)


class _RefusePin(argparse.Action):
    """``--pin`` exists only to refuse it without echoing the value (and so that argparse does
    not read ``--pin 1234`` as an abbreviation of ``--pin-file``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"PINs are never taken on the command line (ps and shell history would keep them); "
            f"type it at the prompt, set {PIN_ENV}, or use --pin-file FILE"
        )


def _reports_errors(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print a KeyCeremonyError with its notes (what was cleaned up) and return its exit code."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except KeyCeremonyError as err:
            print(f"keyceremony: error: {err.diagnostics()}", file=sys.stderr)
            for note in getattr(err, "__notes__", ()):
                print(f"  {note}", file=sys.stderr)
            record_error(args, err, err.diagnostics(), err.exit_code)
            return err.exit_code

    return run


# --- back ends and PINs --------------------------------------------------------------------------


def _choose_backend(args: argparse.Namespace) -> str:
    if args.backend:
        return str(args.backend)
    return "pkcs11" if (args.module or args.token) else "soft"


def _open_backend(args: argparse.Namespace, kind: str) -> tuple[KeyBackend, str]:
    """The key store to use, and how to name it in messages."""
    if kind == "soft":
        from keyceremony.keys.soft import SoftBackend

        return SoftBackend(), "the software key store (in memory)"
    module = args.module or os.environ.get(MODULE_ENV)
    if not module:
        raise UsageError(f"name the PKCS#11 module with --module PATH (or set {MODULE_ENV})")
    if not args.token:
        raise UsageError("name the token with --token LABEL (see `softhsm2-util --show-slots` or the vendor tool)")
    pin = read_pin(args.pin_file, args.token)
    from keyceremony.keys.pkcs11_backend import Pkcs11Backend

    return Pkcs11Backend(module, args.token, pin, wrap_mechanism=args.wrap_mechanism), f"token '{args.token}'"


# --- backup --------------------------------------------------------------------------------------


@_reports_errors
def _backup(args: argparse.Namespace) -> int:
    kind = _choose_backend(args)
    check_threshold(args.threshold, args.shares)
    if len(args.custodian) > args.shares:
        raise UsageError(f"{len(args.custodian)} --custodian names for {args.shares} cards")
    if (args.custodian or args.owner or args.contact) and args.no_cards:
        raise UsageError("--custodian, --owner and --contact go on the cards; leave out --no-cards")
    if args.key_file and (kind != "soft" or args.existing):
        raise UsageError("--key-file backs up a key you hold in a file: use it with --backend soft and --label")
    if args.existing and kind == "soft":
        raise UsageError("--existing takes a key from an HSM token: add --backend pkcs11 --module ... --token ...")
    label = args.label or args.existing
    try:
        from keyceremony.shares.payload import check_label

        check_label(label)
    except ValueError as err:
        raise UsageError(f"key label {label!r}: {err}") from None
    if not args.no_cards:  # before any key is made (docs/share-cards.md §2.1)
        from keyceremony.cards.share_cards import check_card_names

        check_card_names(label, args.custodian, args.owner, args.contact)
    out = output_folder(args.out)
    names = ["package.kcb"] + [f"share-{i}.txt" for i in range(1, args.shares + 1)]
    if not args.no_cards:
        names += [f"card-{i}.pdf" for i in range(1, args.shares + 1)]
    existing = existing_outputs([out / n for n in names])  # a link or a special file among them is refused
    if existing and not args.force:
        raise UsageError(f"{existing[0]} already exists; choose an empty --out folder or add --force to overwrite")

    from keyceremony.keys.model import KeyAlgorithm
    from keyceremony.recipes.backup import generate_and_back_up, make_backup, write_backup

    progress = Progress()
    t0 = time.perf_counter()
    algorithm = KeyAlgorithm(args.algorithm) if args.algorithm else None
    files: list[Path] = []
    timing: dict[str, float] = {}

    def write(backup: Backup) -> None:
        timing["backup"] = time.perf_counter() - t0
        files.extend(write_backup(backup, out, cards=not args.no_cards, custodians=args.custodian,
                                  paper=args.paper, on_step=progress.step, owner=args.owner,
                                  contact=args.contact))

    progress.step("opening the key store...")
    backend, where = _open_backend(args, kind)
    with backend:
        if args.existing:
            progress.step(f"finding key '{label}' in {where}...")
            key = backend.find(label, algorithm=algorithm)
            backup = make_backup(backend, key, args.threshold, args.shares, on_step=progress.step)
            write(backup)
            origin = f"existing key in {where}"
        elif args.key_file:
            from keyceremony.keys.soft import SoftBackend

            assert isinstance(backend, SoftBackend)  # --key-file is refused above unless the back end is soft
            material, algorithm = _load_key_file(args.key_file, algorithm)
            try:
                key = backend.import_key(label, algorithm, material)
            except ValueError as err:
                raise UsageError(f"--key-file {args.key_file}: {err}") from None
            finally:
                material[:] = bytes(len(material))
            backup = make_backup(backend, key, args.threshold, args.shares, on_step=progress.step)
            write(backup)
            origin = f"read from {args.key_file}, held in memory only"
        else:
            algorithm = algorithm or KeyAlgorithm.AES256
            progress.step(f"generating {algorithm.value} key '{label}' in {where}...")
            backup = generate_and_back_up(
                backend, label, algorithm, args.threshold, args.shares, on_step=progress.step, then=write
            )
            origin = f"generated in {where}" + ("" if kind == "soft" else " (sensitive; extractable only wrapped)")
    progress.done()
    seconds = time.perf_counter() - t0
    _print_backup_summary(backup, out, files, origin, kind, timing["backup"], seconds)
    from keyceremony.cli.json_output import backup_fields

    record(args, **backup_fields(backup, str(out), [str(f) for f in files], origin, kind,
                                 args.token if kind == "pkcs11" else None, seconds))  # fmt: skip
    return 0


def _load_key_file(path: str, algorithm: KeyAlgorithm | None) -> tuple[bytearray, KeyAlgorithm]:
    """(bytearray material, KeyAlgorithm): raw AES bytes, or PKCS#8 DER of an EC/Ed25519 key."""
    from keyceremony.keys.model import KeyAlgorithm

    try:
        data = bytearray(Path(path).read_bytes())
    except FileNotFoundError:
        raise UsageError(f"--key-file {path}: no such file") from None
    is_pem = data.lstrip().startswith(b"-----BEGIN")
    if not is_pem and len(data) in (16, 24, 32) and (algorithm is None or algorithm.is_symmetric):
        found = KeyAlgorithm.aes(len(data))
        if algorithm is not None and algorithm is not found:
            raise UsageError(f"--key-file {path}: a {len(data)}-byte key is {found.value}, not {algorithm.value}")
        return data, found
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    try:
        load = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
        private = load(bytes(data), password=None)
    except (ValueError, TypeError):
        raise UsageError(
            f"--key-file {path}: not a key this tool reads (raw 16/24/32-byte AES key, or an "
            "unencrypted PKCS#8 DER/PEM EC P-256 or Ed25519 private key)"
        ) from None
    finally:
        data[:] = bytes(len(data))
    if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, ec.SECP256R1):
        found = KeyAlgorithm.EC_P256
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        found = KeyAlgorithm.ED25519
    else:
        raise UsageError(f"--key-file {path}: only EC P-256 and Ed25519 private keys are supported")
    if algorithm is not None and algorithm is not found:
        raise UsageError(f"--key-file {path}: the key is {found.value}, not {algorithm.value}")
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return bytearray(der), found


def _print_backup_summary(backup: Backup, out: Path, files: list[Path], origin: str, kind: str,
                          seconds_backup: float, seconds_total: float) -> None:
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.codec.pgp_words import to_words
    from keyceremony.keys.backup_package import format_kcv, format_package_fingerprint
    from keyceremony.shares.shareset import describe_set

    package = backup.package
    first = backup.shares[0]
    cards = sorted(p.name for p in files if p.suffix == ".pdf")
    canary = "AES-GCM" if package.algorithm.is_symmetric else "signature"
    rows = [
        ("key", f"'{package.label}' ({package.algorithm.value}), {origin}"),
        ("key check value", format_kcv(package.key_check_value)),
        ("canary", f"{canary}, made by the key; the wrapped copy was restored and checked"),
        ("wrapping key", f"256 bits, fresh; split {first.threshold}-of-{first.count} into signed shares, then wiped"),
        ("share set", describe_set(first)),
        ("set fingerprint", format_fingerprint(first.fingerprint())),
        ("  in words", " ".join(to_words(first.fingerprint()))),
        ("backup package", f"{out / 'package.kcb'} (not secret), fingerprint "
                           f"{format_package_fingerprint(package.fingerprint())}"),
        ("share files", f"share-1.txt .. share-{first.count}.txt (each also carries the package)"),
        ("cards", f"{len(cards)} written, each rendered and read back: OK" if cards else "none (--no-cards)"),
        ("time", f"{seconds_backup:.2f} s backup, {seconds_total:.2f} s with the files"),
    ]
    print(f"Backed up key '{package.label}' into {out}/")
    for name, value in rows:  # --quiet: only what the paper log records
        (print if name in RECORDED_ROWS else detail)(f"  {name:<16} {value}")
    detail("Record the key check value and the set fingerprint in the ceremony log.")
    if kind == "soft":
        print("The key exists only in this backup (software back end): recover it into its HSM with "
              "`keyceremony recover --backend pkcs11 ...`.")


# --- recover -------------------------------------------------------------------------------------


def _type_in(
    args: argparse.Namespace, anchor: bytes | None, progress: Progress
) -> tuple[list[tuple[str, SharePayload]], list[str] | SourcesRead, BackupPackage | None]:
    """``recover --type``: the sources are read first (their shares count, and whether one of them
    carries the package), then shares are typed, and the package too when nothing else gives it
    (docs/share-format.md §5.4). Returns the typed shares, the sources as read, the typed package."""
    from keyceremony.errors import PackageMissing, ThresholdNotMet
    from keyceremony.keys.typed_package import TypedPackage
    from keyceremony.recipes.backup import read_sources

    read = read_sources(args.sources, on_step=progress.step)
    progress.done()
    entry = None if args.package or read.packages else TypedPackage()
    accepted, _, others = type_shares(read.shares, anchor, no_echo=args.no_echo, package=entry)
    typed = accepted + others  # shares of other sets too: recovery refuses an unanchored mix
    if not typed and not args.sources:
        raise ThresholdNotMet("no typed share was accepted (see above); type the lines of at least the "
                              "threshold number of this backup's cards, each card once", have=0, need=1)
    if entry is not None and entry.package is None:
        raise PackageMissing(
            "the shares rebuild the wrapping key, but the backup package is needed too and none was typed: "
            "run `keyceremony recover --type` again and type the package's lines from page 2 of any card "
            "after the shares, or give --package package.kcb, or one card of this backup (PDF or photo) or "
            "one of its share .txt files as SOURCE; nothing was recovered"
        )
    return typed, (read if args.sources else []), entry.package if entry is not None else None


@_reports_errors
def _recover(args: argparse.Namespace) -> int:
    if args.reveal and args.drill:
        raise UsageError("--reveal writes the key out, --drill only rehearses; choose one")
    kind = args.backend or (
        "pkcs11" if (args.module or args.token) else ("soft" if (args.drill or args.reveal) else None)
    )
    if kind is None:
        raise UsageError(
            "say where the key goes: --backend pkcs11 --module PATH --token LABEL; or --drill to "
            "rehearse (in memory, or in a token); or --reveal FILE to write it out for migration"
        )
    if args.reveal and kind == "pkcs11":
        raise UsageError("--reveal recovers in memory and writes the key to a file; leave out --backend pkcs11")
    if kind == "soft" and not (args.drill or args.reveal):
        raise UsageError(
            "a key recovered into memory is gone when the command ends: add --drill to rehearse, "
            "--reveal FILE to write it out, or use --backend pkcs11"
        )
    refuse_stdout_output(args, "--reveal", args.reveal)
    if args.reveal and output_file(args.reveal, "--reveal") and not args.force:
        raise UsageError(f"{args.reveal} already exists; choose another file or add --force")
    if args.new_label and args.drill:
        raise UsageError("--drill uses a scratch label and keeps nothing; leave out --label")
    if args.no_echo and not args.type:
        raise UsageError("--no-echo hides shares typed in: use it with --type")
    if not args.sources and not args.type:
        raise UsageError("name the cards or share files (SOURCE), or add --type to type shares in")

    from keyceremony.atomic_file import write_atomically
    from keyceremony.cli.json_output import drill_fields, recovery_fields
    from keyceremony.errors import CanaryMismatch
    from keyceremony.recipes.backup import gather_recovery_inputs, recover_backup, reveal_key

    progress = Progress()
    t0 = time.perf_counter()
    anchors = backup_anchors(args)
    record(args, backend=kind, token=args.token if kind == "pkcs11" else None, drill=args.drill,
           reveal=args.reveal)  # fmt: skip
    typed: list[tuple[str, SharePayload]] = []
    sources: list[str] | SourcesRead = args.sources
    typed_package = None
    if args.type:
        typed, sources, typed_package = _type_in(args, anchors.set_fingerprint, progress)
    with gather_recovery_inputs(
        sources, package_path=args.package, on_step=progress.step, anchors=anchors, typed=typed,
        typed_package=typed_package,
    ) as inputs:
        progress.done()
        anchor_lines = backup_anchor_lines(inputs)
        record(args, **recovery_fields(inputs))
        if args.reveal:
            to_stdout = args.reveal == "-"  # stdout then carries the key only; messages go to stderr
            where = "standard output" if to_stdout else args.reveal
            print(
                f"keyceremony: WARNING: writing key '{inputs.package.label}' IN PLAINTEXT to "
                f"{where}. Anyone who reads that file has the key: import it into its new "
                "home at once, then destroy the file (shred -u).",
                file=sys.stderr,
            )
            try:
                material = reveal_key(inputs)
            except CanaryMismatch:
                record(args, canary={"ok": False, "checked": "in memory, before the key was written out"})
                raise
            try:
                if to_stdout:
                    write_stdout(material)
                else:
                    write_atomically(Path(args.reveal), bytes(material))
            finally:
                material[:] = bytes(len(material))
            what = "raw AES key bytes" if inputs.package.algorithm.is_symmetric else "PKCS#8 PEM private key"
            print(f"Recovered key '{inputs.package.label}' ({inputs.package.algorithm.value}); its check value "
                  f"and canary match the backup package. Wrote it to {where} ({what}"
                  f"{'' if to_stdout else ', mode 0600'}).", file=sys.stderr if to_stdout else sys.stdout)
            print("\n".join(anchor_lines), file=sys.stderr if to_stdout else sys.stdout)
            record(args, canary={"ok": True, "checked": "in memory, before the key was written out"},
                   target="a file (plaintext)", outcome=f"key written to {args.reveal}")  # fmt: skip
            return 0
        progress.step("opening the key store...")
        backend, where = _open_backend(args, kind)
        with backend:
            progress.step(f"unwrapping into {where} and checking the key...")
            try:
                report = recover_backup(
                    backend, inputs, label=args.new_label, extractable=args.extractable,
                    drill=args.drill, target=where, started=t0,
                )  # fmt: skip
            except CanaryMismatch:
                record(args, canary={"ok": False, "checked": f"inside {where}"}, target=where)
                raise
        progress.done()
    for line in report.to_text().splitlines():  # --quiet: the verdict, the check value and the result
        (print if not line.startswith("  ") or line.split("  ")[1].strip() in RECORDED_ROWS else detail)(line)
    print("\n".join(anchor_lines))
    record(args, **drill_fields(report))
    return 0
