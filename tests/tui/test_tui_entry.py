"""`keyceremony tui`, and `keyceremony` alone at a terminal, open the terminal UI; elsewhere the usage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import keyceremony.tui.app
from keyceremony.cli import main as cli_main

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []

    def fake_run_app() -> int:
        calls.append(True)
        return 0

    monkeypatch.setattr(keyceremony.tui.app, "run_app", fake_run_app)
    return calls


def test_the_tui_command_opens_the_app(opened):
    assert cli_main.main(["tui"]) == 0 and opened == [True]


def test_no_command_at_a_terminal_opens_the_app(opened, monkeypatch):
    monkeypatch.setattr(cli_main, "_on_a_terminal", lambda: True)
    assert cli_main.main([]) == 0 and opened == [True]


def test_no_command_without_a_terminal_prints_the_usage(opened, capsys):
    assert cli_main.main([]) == 2 and not opened  # pytest's stdin and stdout are no terminal
    assert capsys.readouterr().out.startswith("usage: keyceremony")


def test_help_does_not_load_textual():
    probe = (
        "import sys\nfrom keyceremony.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('textual' in sys.modules, file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                            stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
    assert " tui " in result.stdout
