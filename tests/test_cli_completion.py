"""``keyceremony completion bash|zsh``: the script the command prints, run in the real shells.

Each case sets the words typed so far, calls the completion function as the shell's completion
system would, and compares what it offers. zsh runs it through bashcompinit, as a user's
~/.zshrc does; ``PREFIX`` is what zsh's completion system sets to the word under the cursor,
and zsh itself keeps only the offers that start with it (as compadd does).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from keyceremony.cli.main import _parser

CASES = [  # (words typed, the cursor on the last one), what is offered
    (["keyceremony", ""], {"split", "combine", "verify-share", "backup", "recover", "transcript", "run", "tui",
                           "completion"}),
    (["keyceremony", "ver"], {"verify-share"}),
    (["keyceremony", "recover", "--ba"], {"--backend"}),
    (["keyceremony", "recover", "--backend", ""], {"soft", "pkcs11"}),
    (["keyceremony", "transcript", ""], {"verify", "report"}),
    (["keyceremony", "transcript", "report", "--req"], {"--requirements"}),
    (["keyceremony", "split", "--paper", "l"], {"letter"}),
    (["keyceremony", "run", "dr"], {"dr-drill"}),
    (["keyceremony", "completion", ""], {"bash", "zsh"}),
    # a value given to an option is not taken for a command: still completing recover's options
    (["keyceremony", "recover", "--token", "verify", "--dr"], {"--drill"}),
    (["keyceremony", "combine", "--fingerprint", "x", "--no"], {"--no-echo"}),
    # files and folders where a path goes
    (["keyceremony", "combine", "cards/ca"], {"cards/card-1.pdf", "cards/card-2.pdf"}),
    (["keyceremony", "split", "--out", "ca"], {"cards"}),
    (["keyceremony", "split", "--threshold", ""], set()),  # a number to type: nothing offered
]


def script(shell: str) -> str:
    done = subprocess.run([sys.executable, "-m", "keyceremony", "completion", shell],
                          capture_output=True, text=True, check=True)
    assert done.stderr == ""
    return done.stdout


def shell_or_skip(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, and CI=true requires it: apt-get install {name}", pytrace=False)
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return found


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "cards").mkdir()
    for name in ("card-1.pdf", "card-2.pdf"):
        (tmp_path / "cards" / name).write_text("")
    (tmp_path / "notes.txt").write_text("")
    return tmp_path


def offers(shell: str, code: str, folder: Path) -> list[set[str]]:
    calls = []
    for words, _ in CASES:
        quoted = " ".join("'" + w + "'" for w in words)
        calls.append(f"t {quoted}")
    run = subprocess.run([shell_or_skip(shell), *(["-f"] if shell == "zsh" else []), "-c",
                          code + "\n" + "\n".join(calls)],
                         capture_output=True, text=True, cwd=folder, timeout=60,
                         env={**os.environ, "HOME": str(folder)})  # the shell writes nothing in the real home
    assert run.returncode == 0, run.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode), "the shell replaced /dev/null"
    assert run.stderr == ""
    return [set(filter(None, line.split("\t")[1:])) for line in run.stdout.splitlines()]


def test_bash_completes_commands_flags_choices_and_paths(folder: Path) -> None:
    code = script("bash") + """
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _keyceremony
      local IFS=$'\\t'; echo "offered	${COMPREPLY[*]}"; }
complete -p keyceremony >/dev/null
"""
    got = offers("bash", code, folder)
    assert got == [want for _, want in CASES]


def test_zsh_completes_through_bashcompinit(folder: Path) -> None:
    # -D: compinit writes no dump file (with -d FILE it would replace FILE, even /dev/null, by moving one there)
    code = "autoload -U +X compinit && compinit -u -D\n" + script("zsh") + """
setopt ksharrays
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); PREFIX="${COMP_WORDS[COMP_CWORD]}"
      _keyceremony; local kept=() w; for w in "${COMPREPLY[@]}"; do [[ $w == "$PREFIX"* ]] && kept+=("$w"); done
      local IFS=$'\\t'; echo "offered	${kept[*]}"; }
"""
    got = offers("zsh", code, folder)
    assert got == [want for _, want in CASES]


def test_the_script_offers_every_flag_of_every_command() -> None:
    from test_cli_help import ALL, options

    offered = {m["path"]: set(m["options"].split())
               for m in re.finditer(r'^ +"(?P<path>[a-z -]*)"\) COMPREPLY=\(\$\(compgen -W "(?P<options>-[^"]*)"',
                                    script("bash"), re.MULTILINE)}
    assert offered == {path: options(parser) for path, parser in {"": _parser(), **ALL}.items()}
