"""``--quiet`` and ``--verbose``, on every command (docs/cli.md §1).

- ``--quiet``: the result only. The lines a person needs to act on stay: each verdict, the
  fingerprints and check values to record, ANCHORED or UNANCHORED, warnings and errors. Progress,
  the fingerprints' words, explanations and hints are left out.
- ``--verbose``: each stage on its own line with the seconds since the start (on a terminal or
  not, so a log keeps them), the causes behind an error, and the details a command otherwise
  sums up (``transcript verify`` lists every entry).

The level is set once per run by ``main``; the commands print through :func:`detail` and
:func:`verbose`. Standard library only, like every module the parser loads.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

QUIET, NORMAL, VERBOSE = -1, 0, 1
_level = NORMAL


def add_verbosity_flags(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``-q``/``--quiet`` and ``-v``/``--verbose``, on the main parser (``top``) and on every
    command, so either place works: ``keyceremony -q verify-share F`` or ``verify-share F -q``. A
    command's copy does not reset what was given before the command (default SUPPRESS)."""
    default = False if top else argparse.SUPPRESS
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="print only the result: verdicts, fingerprints to record, warnings and errors")
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="print each stage with its time, the causes of an error, and every detail")


def set_level(args: argparse.Namespace) -> None:
    global _level
    _level = QUIET if getattr(args, "quiet", False) else VERBOSE if getattr(args, "verbose", False) else NORMAL


def is_quiet() -> bool:
    return _level == QUIET


def is_verbose() -> bool:
    return _level == VERBOSE


def detail(*values: Any, **kwargs: Any) -> None:
    """``print``, left out with ``--quiet``: what explains or repeats the result."""
    if _level != QUIET:
        print(*values, **kwargs)


def verbose(text: str) -> None:
    """A line on standard error with ``--verbose`` only."""
    if _level == VERBOSE:
        print(f"keyceremony: {text}", file=sys.stderr, flush=True)
