"""The installed ``keyceremony`` command in a real terminal: tmux at 80x24 with TERM=linux and
TERM=xterm-256color, walked by key presses (home, verify a transcript, home, quit with status 0);
on TERM=linux only glyphs the console fonts have; at 60x18 the notice of the size it needs.

Every wait polls the screen (``capture-pane``) with a deadline; tmux runs on a private socket
and its server is killed after each test. Without tmux these tests skip on a developer's
machine and fail under CI (``CI=true``), like the SoftHSM2 tests.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_glyphs import foreign_glyphs
from tui_helpers import REPO

HOME_TEXT = "Verify share cards"
TRANSCRIPT_TEXT = "Transcript file (transcript.jsonl)"
TIMEOUT = 20.0


def keyceremony_command() -> Path:
    """The console script of the environment running the tests (an editable install)."""
    beside_python = Path(sys.executable).parent / "keyceremony"
    if beside_python.exists():
        return beside_python
    found = shutil.which("keyceremony")
    assert found, "the keyceremony command is not installed: run make setup (pip install -e .)"
    return Path(found)


def tmux_or_skip() -> str:
    found = shutil.which("tmux")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is not installed, and CI=true requires it: apt-get install tmux", pytrace=False)
        pytest.skip("tmux is not installed (apt-get install tmux)")
    return found


class Terminal:
    """One tmux server on a private socket, with one window of ``width`` x ``height`` running
    ``keyceremony`` with ``TERM``; after it exits the window shows ``EXIT=<status>``."""

    def __init__(self, tmux: str, directory: Path, term: str, width: int, height: int) -> None:
        self.tmux = tmux
        self.socket = f"keyceremony-test-{uuid.uuid4().hex[:8]}"
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}  # also when the tests run inside tmux
        self.env["TMUX_TMPDIR"] = str(directory)  # the socket's folder, removed with the test's
        pythonpath = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
        env = {"TERM": term, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONPATH": pythonpath}
        command = (
            "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
            + f" {shlex.quote(str(keyceremony_command()))}; echo EXIT=$?; sleep 60"
        )
        self._run("new-session", "-d", "-x", str(width), "-y", str(height), command)

    def _run(self, *args: str) -> str:
        result = subprocess.run([self.tmux, "-L", self.socket, "-f", "/dev/null", *args], capture_output=True,
                                text=True, env=self.env, timeout=10, check=False, stdin=subprocess.DEVNULL)  # fmt: skip
        assert result.returncode == 0, f"tmux {args[0]} failed: {result.stderr.strip()}"
        return result.stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        """Poll the screen until ``text`` is on it (wrapped lines joined); the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in " ".join(screen.split()):
                return screen
            assert time.monotonic() < deadline, f"{text!r} did not appear within {timeout} s; the screen:\n{screen}"
            time.sleep(0.05)

    def press(self, key: str) -> None:
        self._run("send-keys", key)

    def resize(self, width: int, height: int) -> None:
        self._run("resize-window", "-x", str(width), "-y", str(height))

    def kill(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, env=self.env, timeout=10,
                       check=False)  # fmt: skip


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    try:
        yield started
    finally:
        for terminal in started:
            terminal.kill()


def open_terminal(terminals: list[Terminal], tmp_path: Path, term: str, width: int = 80, height: int = 24) -> Terminal:
    terminal = Terminal(tmux_or_skip(), tmp_path, term, width, height)
    terminals.append(terminal)
    return terminal


@pytest.mark.parametrize("term", ["linux", "xterm-256color"])
def test_walk_home_transcript_home_and_quit(terminals, tmp_path, term):
    terminal = open_terminal(terminals, tmp_path, term)
    screens = [terminal.wait_for(HOME_TEXT)]
    terminal.press("t")
    screens.append(terminal.wait_for(TRANSCRIPT_TEXT))
    terminal.press("Escape")
    screens.append(terminal.wait_for(HOME_TEXT))
    assert TRANSCRIPT_TEXT not in screens[-1]
    terminal.press("q")
    assert "EXIT=0" in terminal.wait_for("EXIT=")
    if term == "linux":
        for screen in screens:
            assert not foreign_glyphs(screen), f"glyphs the console fonts lack: {foreign_glyphs(screen)}\n{screen}"
            assert "┌" in screen and "│" in screen  # the fields are framed, in glyphs the fonts have
    else:
        assert "▔" in screens[0]  # outside the console Textual's tall borders stay


def test_too_small_a_terminal_says_the_size_needed(terminals, tmp_path):
    terminal = open_terminal(terminals, tmp_path, "xterm-256color", 60, 18)
    screen = terminal.wait_for("keyceremony needs a terminal of at least 80x24; this one is 60x18.")
    assert "Enlarge the window or use a smaller font." in " ".join(screen.split())
    assert HOME_TEXT not in screen
    terminal.resize(80, 24)
    terminal.wait_for(HOME_TEXT)
    terminal.press("q")
    assert "EXIT=0" in terminal.wait_for("EXIT=")


def test_without_tmux_ci_fails_and_a_developer_skips(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="tmux is not installed, and CI=true requires it"):
        tmux_or_skip()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="tmux is not installed"):
        tmux_or_skip()
