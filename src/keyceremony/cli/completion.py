"""``keyceremony completion bash|zsh``: a shell completion script, written from the parser itself.

The script is generated from the same ``argparse`` parser the commands run with, so a new flag
completes as soon as it exists; tests/test_cli_completion.py runs the script in bash and zsh.
We write it out rather than depend on argcomplete: argcomplete would import and run the parser
at every Tab press (a ~70 ms start each time, on a laptop with no network to fetch it from), and
a static script is what packagers install (/usr/share/bash-completion/completions).

zsh runs the same function through zsh's ``bashcompinit`` layer. Standard library only.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh")
FILE_METAVARS = frozenset({"FILE", "PDF", "PATH", "SOURCE"})  # a value that is a file
DIR_METAVARS = frozenset({"DIR"})  # a value that is a folder
TEMPLATES = ("key-generation", "recovery", "dr-drill")  # ceremony_templates/*.toml, by name


@dataclass
class _Command:
    """What the script needs to know of one command (``path``: "" for the top level)."""

    path: str
    options: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # option -> "files", "dirs", "none" or words
    subcommands: list[str] = field(default_factory=list)
    positional: str = "none"  # "files", "templates" or "none"


def _kind(action: argparse.Action) -> str:
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):  # noqa: SLF001  # noqa: SLF001
        return " ".join(str(c) for c in action.choices)
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar in DIR_METAVARS:
        return "dirs"
    if metavar in FILE_METAVARS:
        return "files"
    if metavar == "TEMPLATE":
        return "templates"
    return "none"  # a name, label, number or fingerprint: typed, nothing to offer


def _commands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[_Command]:
    # argparse has no public way to list a parser's actions; _actions is what its own help uses.
    command = _Command(path)
    children: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:  # noqa: SLF001
        if action.help == argparse.SUPPRESS:
            continue  # e.g. --pin, which exists only to be refused
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, child in action.choices.items():
                command.subcommands.append(name)
                children.append((f"{path} {name}".strip(), child))
        elif action.option_strings:
            command.options.extend(action.option_strings)
            if action.nargs != 0:
                for option in action.option_strings:
                    command.values[option] = _kind(action)
        else:
            command.positional = _kind(action)
    yield command
    for child_path, child in children:
        yield from _commands(child, child_path)


def _words(kind: str) -> str:
    """The bash that fills COMPREPLY for one kind of value."""
    if kind == "files":
        return 'COMPREPLY=($(compgen -f -- "$cur"))'
    if kind == "dirs":
        return 'COMPREPLY=($(compgen -d -- "$cur"))'
    if kind == "templates":
        return f'COMPREPLY=($(compgen -W "{" ".join(TEMPLATES)}" -- "$cur") $(compgen -f -- "$cur"))'
    if kind == "none":
        return "COMPREPLY=()"
    return f'COMPREPLY=($(compgen -W "{kind}" -- "$cur"))'


def bash_function(parser: argparse.ArgumentParser) -> str:
    """The ``_keyceremony`` completion function, for bash (and zsh's bashcompinit)."""
    commands = list(_commands(parser))
    takes_value = sorted(f'"{c.path}:{option}"' for c in commands for option in c.values)
    subcommand_paths = sorted(f'"{c.path}:{name}"' for c in commands for name in c.subcommands)
    lines = [
        "_keyceremony() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local path="" word i=1 skip=0',
        "    # Which command is being typed: the words before the cursor, skipping each option's value.",
        "    while (( i < COMP_CWORD )); do",
        '        word="${COMP_WORDS[i]}"',
        "        if (( skip )); then",
        "            skip=0",
        '        elif [[ $word == -* ]]; then',
        f'            case "$path:$word" in {"|".join(takes_value)}) skip=1 ;; esac',
        "        else",
        f'            case "$path:$word" in {"|".join(subcommand_paths)}) path="${{path:+$path }}$word" ;; esac',
        "        fi",
        "        (( i++ ))",
        "    done",
        '    case "$path:$prev" in',
    ]
    for c in commands:
        for option, kind in c.values.items():
            lines.append(f'        "{c.path}:{option}") {_words(kind)}; return ;;')
    lines += ["    esac", '    if [[ $cur == -* ]]; then', '        case "$path" in']
    for c in commands:
        lines.append(f'            "{c.path}") COMPREPLY=($(compgen -W "{" ".join(c.options)}" -- "$cur")) ;;')
    lines += ["        esac", "        return", "    fi", '    case "$path" in']
    for c in commands:
        if c.subcommands:
            lines.append(f'        "{c.path}") {_words(" ".join(c.subcommands))} ;;')
        else:
            lines.append(f'        "{c.path}") {_words(c.positional)} ;;')
    lines += ["    esac", "}"]
    return "\n".join(lines) + "\n"


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The whole script for ``shell`` (one of SHELLS)."""
    register = "complete -o filenames -F _keyceremony keyceremony\n"
    if shell == "bash":
        return ("# bash completion for keyceremony: `keyceremony completion bash`; install it as\n"
                "# /usr/share/bash-completion/completions/keyceremony, or add to ~/.bashrc:\n"
                '#   eval "$(keyceremony completion bash)"\n'
                + bash_function(parser) + register)  # fmt: skip
    return ("# zsh completion for keyceremony: `keyceremony completion zsh`; add to ~/.zshrc, after compinit:\n"
            '#   eval "$(keyceremony completion zsh)"\n'
            "autoload -U +X bashcompinit && bashcompinit\n"
            + bash_function(parser) + register)  # fmt: skip
