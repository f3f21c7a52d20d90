"""The command line speaks one vocabulary, and every command explains itself (issue 11).

Walks the real parser: every command and action has a description and examples, every example
parses, and the same thing has the same flag everywhere.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest

from keyceremony.cli.main import _parser

SHARE_READERS = ("combine", "recover", "verify-share")  # commands that take shares
TRANSCRIPT_CHECKERS = ("transcript verify", "transcript report")
KEY_STORES = ("backup", "recover", "run")  # commands that use an HSM or the software back end


def commands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                child_path = f"{path} {name}".strip()
                yield child_path, child
                yield from commands(child, child_path)


ALL = dict(commands(_parser()))


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if a.help != argparse.SUPPRESS}


def positional_metavars(parser: argparse.ArgumentParser) -> list[str]:
    return [str(a.metavar) for a in parser._actions
            if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]


def examples(parser: argparse.ArgumentParser) -> list[str]:
    epilog = parser.epilog or ""
    return [line.strip() for line in epilog.splitlines()[1:] if line.strip()]


def test_the_commands_are_the_ones_documented() -> None:
    assert set(ALL) == {"split", "combine", "verify-share", "backup", "recover", "transcript", "transcript verify",
                        "transcript report", "run", "tui", "completion"}


@pytest.mark.parametrize("path", sorted(ALL))
def test_every_command_has_a_description_and_examples_that_parse(path: str) -> None:
    parser = ALL[path]
    assert parser.description and len(parser.description) > 60, f"{path}: no description"
    lines = examples(parser)
    assert lines, f"{path}: no examples in its --help"
    for line in lines:
        argv = command_of(line)
        if argv == ["keyceremony"] and path == "tui":  # the bare command opens the UI at a terminal
            continue
        assert argv[1:len(path.split()) + 1] == path.split() or path == "transcript", line
        try:
            args = _parser().parse_args(argv[1:])
        except SystemExit:
            pytest.fail(f"{path}: the example does not parse: {line}")
        assert callable(args.run)


def command_of(line: str) -> list[str]:
    """The keyceremony command in an example line, without what a shell puts around it
    (``head ... |``, ``"$(...)"``, ``> file``, ``# comment``)."""
    start = line.index("keyceremony")
    rest = re.split(r"[|>)]", line[start:], maxsplit=1)[0]
    return shlex.split(rest, comments=True)


@pytest.mark.parametrize("path", SHARE_READERS)
def test_shares_are_read_alike(path: str) -> None:
    parser = ALL[path]
    assert positional_metavars(parser) == ["SOURCE"]
    assert {"--type", "--no-echo", "--fingerprint"} <= options(parser)


@pytest.mark.parametrize("path", TRANSCRIPT_CHECKERS)
def test_transcripts_are_checked_alike(path: str) -> None:
    assert {"--fingerprint", "--later-fingerprint", "--requirements", "--in-progress"} <= options(ALL[path])


@pytest.mark.parametrize("path", KEY_STORES)
def test_the_key_store_is_chosen_alike(path: str) -> None:
    assert {"--backend", "--module", "--token", "--pin-file"} <= options(ALL[path])
    backend = next(a for a in ALL[path]._actions if "--backend" in a.option_strings)
    assert tuple(backend.choices or ()) == ("soft", "pkcs11")


def test_no_command_keeps_an_old_name_for_the_same_thing() -> None:
    for path, parser in ALL.items():
        assert "--into" not in options(parser), path
        assert "SHARE" not in positional_metavars(parser), path


def test_help_keeps_each_example_on_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "keyceremony", "recover", "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "80"}, check=True)
    shown = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("keyceremony recover")]
    assert shown == examples(ALL["recover"])
