"""What the paper log recorded, as the command line takes it and says it (docs/threat-model.md).

A check that cards or a package agree with each other is not a check that they are the ones made
at the ceremony. Commands that recover take the fingerprints written in the paper log and say
plainly, on their first line of results, whether the result was anchored to them.
Standard library only, like every module the parser loads.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from keyceremony.errors import UsageError

if TYPE_CHECKING:
    from keyceremony.recipes.anchors import Anchors
    from keyceremony.recipes.backup import RecoveryInputs

UNANCHORED_MEANS = (
    "this proves the shares agree with each other, not that they are the ones made at the ceremony"
)


def add_set_fingerprint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fingerprint", metavar="FP",
        help="the share set's fingerprint from the ceremony's paper log: 32 hex digits or its 16 words; "
        "shares of any other set are refused",
    )  # fmt: skip


def parse_fingerprint_text(value: str, flag: str = "--fingerprint") -> bytes:
    """A fingerprint given on the command line (hex or the 16 words); UsageError naming ``flag``."""
    from keyceremony.codec.fingerprint import parse_fingerprint

    try:
        return parse_fingerprint(value)
    except ValueError as err:
        raise UsageError(f"{flag} {value!r}: {err}") from None


def parse_fingerprint_option(value: str | None, flag: str = "--fingerprint") -> bytes | None:
    """As :func:`parse_fingerprint_text`, and None when the option was not given."""
    return None if value is None else parse_fingerprint_text(value, flag)


def anchor_lines(anchored: bool, fingerprint: bytes, *, what: str = "set fingerprint") -> list[str]:
    """The lines that say whether a recovery was anchored, and what to compare if not."""
    from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint

    shown = f"{format_fingerprint(fingerprint)} ({fingerprint_words(fingerprint)})"
    if anchored:
        return [f"ANCHORED: the {what} {shown} is the one given from the paper log."]
    return [
        f"UNANCHORED: {UNANCHORED_MEANS}.",
        f"  Compare the {what} {shown} with the paper log, or give it with --fingerprint.",
    ]


def add_backup_anchor_options(parser: argparse.ArgumentParser) -> None:
    """--fingerprint (set), --package-fingerprint and --kcv: any one anchors a key backup."""
    add_set_fingerprint_option(parser)
    parser.add_argument("--package-fingerprint", metavar="FP",
                        help="the backup package's fingerprint from the paper log (hex or 16 words)")
    parser.add_argument("--kcv", metavar="KCV", help="the key check value from the paper log (6 hex digits)")


def backup_anchors(args: argparse.Namespace) -> Anchors:
    """The anchors given on the command line (UsageError if one is malformed)."""
    from keyceremony.recipes.anchors import Anchors, parse_kcv

    kcv = None
    if args.kcv is not None:
        try:
            kcv = parse_kcv(args.kcv)
        except ValueError as err:
            raise UsageError(f"--kcv: {err}") from None
    return Anchors(
        parse_fingerprint_option(args.fingerprint),
        parse_fingerprint_option(args.package_fingerprint, "--package-fingerprint"),
        kcv,
    )


def backup_anchor_lines(inputs: RecoveryInputs) -> list[str]:
    """ANCHORED (naming what matched) or UNANCHORED (with the three values to compare)."""
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.keys.backup_package import format_kcv

    if inputs.anchored:
        return [f"ANCHORED: {', '.join(inputs.anchors.names())} as recorded in the paper log."]
    return [
        f"UNANCHORED: {UNANCHORED_MEANS}.",
        "  Compare with the paper log: set fingerprint "
        f"{format_fingerprint(inputs.reference.fingerprint())}, package fingerprint "
        f"{format_fingerprint(inputs.package.fingerprint())}, key check value "
        f"{format_kcv(inputs.package.key_check_value)}; or give one with --fingerprint, --package-fingerprint "
        "or --kcv.",
    ]
