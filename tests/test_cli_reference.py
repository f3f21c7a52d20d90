"""docs/cli.md §1 lists every command and flag as the parser defines them (issue 11)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("make_cli_reference", ROOT / "scripts" / "make_cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_in_docs_is_the_one_the_parser_gives() -> None:
    script = load_script()
    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert script.updated(text) == text, "docs/cli.md §1 is stale: run .venv/bin/python scripts/make_cli_reference.py"


def test_every_flag_of_every_command_is_in_the_reference() -> None:
    from test_cli_help import ALL, options

    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    for path, parser in ALL.items():
        section = text.split(f"### keyceremony {path}\n", 1)[1].split("\n### ", 1)[0]
        for option in options(parser) - {"-h", "--help"}:
            assert f"`{option}`" in section, f"keyceremony {path} {option} is not in docs/cli.md"
