"""Write docs/cli.md §1, the reference of every command and flag, from the parser itself.

The section lies between the markers ``<!-- cli-reference: begin -->`` and ``<!-- cli-reference:
end -->``; the rest of docs/cli.md is written by hand. tests/test_cli_reference.py checks that the
section is what this script writes, so a flag cannot be added without its line in the docs.

    .venv/bin/python scripts/make_cli_reference.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
BEGIN, END = "<!-- cli-reference: begin -->", "<!-- cli-reference: end -->"


def _commands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:  # noqa: SLF001 (argparse lists its actions nowhere public)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, child in action.choices.items():
                child_path = f"{path} {name}".strip()
                yield child_path, child
                yield from _commands(child, child_path)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{o}`" for o in sorted(action.option_strings, key=len, reverse=True))
    else:
        names = f"`{action.metavar or action.dest}`"
    if action.choices is not None:
        value = " \\| ".join(f"`{c}`" for c in action.choices)
    elif action.nargs == 0:
        value = ""
    else:
        value = f"`{action.metavar or action.dest.upper()}`"
    if not action.option_strings and action.nargs in ("*", "+"):
        value = {"*": "zero or more", "+": "one or more"}[str(action.nargs)]
    help_text = (action.help or "") % {"default": action.default} if action.help else ""
    if action.required:
        help_text = f"**required.** {help_text}"
    if isinstance(action, argparse._AppendAction):  # noqa: SLF001
        help_text += " (may be repeated)" if "repeat" not in help_text else ""
    return f"| {names} | {value} | {_cell(help_text)} |"


def reference() -> str:
    from keyceremony.cli.main import _parser

    root = _parser()
    out = ["| command | what it does |", "|---|---|"]
    commands = list(_commands(root))
    summaries = {}
    for action in root._actions:  # noqa: SLF001
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            summaries = {c.dest: c.help or "" for c in action._choices_actions}  # noqa: SLF001
    for name, _ in commands:
        if " " not in name:
            out.append(f"| [`{name}`](#keyceremony-{name.replace(' ', '-')}) | {_cell(summaries.get(name, ''))} |")
    out.append("")
    out.append("Every command also takes `-h`/`--help`; `keyceremony --version` prints the version.")
    for name, parser in commands:
        out += ["", f"### keyceremony {name}", "", _cell(parser.description or ""), ""]
        rows = [_row(a) for a in parser._actions  # noqa: SLF001
                if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction | argparse._HelpAction)]  # noqa: SLF001
        if rows:
            out += ["| argument | value | what |", "|---|---|---|", *rows, ""]
        examples = [line.strip() for line in (parser.epilog or "").splitlines()[1:] if line.strip()]
        if examples:
            out += ["```sh", *examples, "```"]
    return "\n".join(out).rstrip() + "\n"


def updated(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{reference()}{END}{tail}"


def main(argv: list[str]) -> int:
    text = DOC.read_text("utf-8")
    new = updated(text)
    if "--check" in argv:
        if new != text:
            print("docs/cli.md §1 is stale: run .venv/bin/python scripts/make_cli_reference.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
