"""What more than one command module of the command line uses: output folders, progress, PINs.

Standard library only, like every module the parser loads, so ``keyceremony --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Protocol

from keyceremony.errors import UsageError

PIN_ENV = "KEYCEREMONY_PIN"
MODULE_ENV = "PKCS11_MODULE"


class Subcommands(Protocol):
    """What ``ArgumentParser.add_subparsers`` returns, as the command modules use it: each adds
    its commands to the main parser's with ``add_commands(subcommands)``."""

    def add_parser(
        self, name: str, *, help: str | None = ..., description: str | None = ...
    ) -> argparse.ArgumentParser: ...


def output_folder(path: str) -> Path:
    """``--out DIR`` as a Path; UsageError if it names an existing file or sits under one."""
    out = Path(path)
    for part in (out, *out.parents):
        if part.exists():
            if not part.is_dir():
                raise UsageError(f"--out {path}: {part} is a file, not a folder; give a folder for the output")
            break
    return out


class Progress:
    """Stage messages on a terminal's stderr; silent when stderr is piped or redirected."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def step(self, message: str) -> None:
        if self.enabled:
            print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
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
    if sys.stdin.isatty():
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
