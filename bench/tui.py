"""Terminal UI figures: start-up and screen changes, in a real terminal and in Textual's pilot.

In a real terminal: the installed ``keyceremony`` command in a tmux window of 80x24 (its server
already running), the window polled with ``capture-pane`` every few ms. Start-up runs from
launching the command to the home screen on the window, the median of a few launches after an
untimed one. A screen change runs from ``send-keys`` to the other screen on the window (home
gone and the footer's ``esc`` there, or home back after Escape).

In the pilot (``App.run_test(size=(80, 24))``): from a key event that pushes a screen (``t``,
``c``, ``r``, ``s``) or pops it (Escape) to the end of the first refresh of the new screen once
it is current and mounted (``Screen.wait_for_refresh``). The pilot's own waits for an idle CPU
(``pilot.press``, ``pilot.pause``: some 100 ms a key) are outside the figure. Screen changes are
the median of several rounds after an untimed one (which imports each screen's module).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.ours import progress
from bench.table import Figure, Target
from bench.timing import Plan, Timing

REPO = Path(__file__).resolve().parent.parent
HOME_TEXT = "Verify share cards"
LAUNCH_TARGET = Target("<", 1000, "ms")
CHANGE_TARGET = Target("<", 100, "ms")
KEYS = (("t", "verify a transcript"), ("c", "verify share cards"), ("r", "run a ceremony"), ("s", "resume a ceremony"))
TIMEOUT = 20.0


class BenchError(Exception):
    """A figure could not be taken (the reason is its message)."""


def _keyceremony() -> str:
    beside_python = Path(sys.executable).parent / "keyceremony"
    return str(beside_python) if beside_python.exists() else shutil.which("keyceremony") or "keyceremony"


class TmuxWindow:
    """A tmux server on a private socket with one 80x24 window, idle until :meth:`launch`."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"keyceremony-bench-{uuid.uuid4().hex[:8]}"
        self.directory = tempfile.mkdtemp(prefix="keyceremony-bench-tmux-")  # the socket's folder
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"} | {"TMUX_TMPDIR": self.directory}
        try:
            self.run("new-session", "-d", "-x", "80", "-y", "24", "sleep 600")
        except BenchError:
            self.close()
            raise

    def run(self, *args: str) -> str:
        try:
            result = subprocess.run(
                [self.tmux, "-L", self.socket, "-f", "/dev/null", *args],
                capture_output=True, text=True, env=self.env, timeout=10, check=False, stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise BenchError(f"tmux {args[0]}: {error}") from error
        if result.returncode != 0:
            raise BenchError(f"tmux {args[0]}: {result.stderr.strip()}")
        return result.stdout

    def launch(self) -> None:
        pythonpath = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
        env = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONPATH": pythonpath}
        command = "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
        self.run("respawn-pane", "-k", f"{command} {shlex.quote(_keyceremony())}; sleep 600")

    def seconds_until(self, shown: Callable[[str], bool], start: float, what: str) -> float:
        """Seconds from ``start`` until ``shown(screen)`` holds for the window's text."""
        while not shown(self.run("capture-pane", "-p")):
            if time.perf_counter() - start > TIMEOUT:
                raise BenchError(f"no {what} after {TIMEOUT:.0f} s")
            time.sleep(0.005)
        return time.perf_counter() - start

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, env=self.env, timeout=10,
                       check=False)  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)


def _home(screen: str) -> bool:
    return HOME_TEXT in screen


def _other_screen(screen: str) -> bool:
    return HOME_TEXT not in screen and "esc " in screen  # every other screen's footer: "esc Home"


def launch_seconds(tmux: str) -> float:
    window = TmuxWindow(tmux)
    try:
        start = time.perf_counter()
        window.launch()
        return window.seconds_until(_home, start, "home screen")
    finally:
        window.close()


def terminal_change_seconds(tmux: str, rounds: int) -> dict[str, list[float]]:
    """Per key (and "Escape"): seconds from send-keys to the other screen on the window."""
    seconds: dict[str, list[float]] = {key: [] for key in [*(key for key, _ in KEYS), "Escape"]}
    window = TmuxWindow(tmux)
    try:
        window.launch()
        window.seconds_until(_home, time.perf_counter(), "home screen")
        for round_ in range(rounds + 1):  # round 0 is untimed
            for key, _ in KEYS:
                for pressed, shown in ((key, _other_screen), ("Escape", _home)):
                    start = time.perf_counter()
                    window.run("send-keys", pressed)
                    took = window.seconds_until(shown, start, f"screen change on {pressed}")
                    if round_:
                        seconds[pressed].append(took)
                    time.sleep(0.1)  # untimed: let the screen settle
    finally:
        window.close()
    return seconds


async def _pilot_change_seconds(rounds: int) -> dict[str, list[float]]:
    from keyceremony.tui.app import KeyceremonyApp
    from keyceremony.tui.screens.home import HomeScreen

    seconds: dict[str, list[float]] = {key: [] for key in [*(key for key, _ in KEYS), "Escape"]}
    app = KeyceremonyApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for round_ in range(rounds + 1):  # round 0 is untimed
            for key, _ in KEYS:
                for pressed in (key, "Escape"):
                    before = app.screen
                    start = time.perf_counter()
                    app.simulate_key(pressed.lower())
                    while app.screen is before or not app.screen.is_mounted:
                        if time.perf_counter() - start > TIMEOUT:
                            raise BenchError(f"pressing {pressed} did not change the screen")
                        await asyncio.sleep(0.001)
                    await app.screen.wait_for_refresh()
                    took = time.perf_counter() - start
                    if isinstance(app.screen, HomeScreen) != (pressed == "Escape"):
                        raise BenchError(f"pressing {pressed} did not lead to the expected screen")
                    if round_:
                        seconds[pressed].append(took)
                    await pilot.pause()  # untimed: let the screen settle
    return seconds


def _change_figures(where: str, measure: Callable[[], dict[str, list[float]]]) -> list[Figure]:
    rows = [(key, f"{where}: `{key}` to {name}") for key, name in KEYS] + [("Escape", f"{where}: Escape back home")]
    try:
        seconds = measure()
    except BenchError as error:
        return [Figure(what, None, "ms", "", str(error), CHANGE_TARGET) for _, what in rows]
    figures = []
    for key, what in rows:
        timing = Timing(tuple(seconds[key]), "median")
        figures.append(Figure(what, timing.value * 1000, "ms", timing.statistic, "", CHANGE_TARGET))
    return figures


def figures(plan: Plan) -> list[Figure]:
    launches, rounds = (3, 3) if plan.quick else (5, 7)
    launch_what = "start-up in tmux 80x24: `keyceremony` launched to the home screen"
    tmux = shutil.which("tmux")
    if tmux is None:
        problem = "tmux is not installed (apt-get install tmux)"
        terminal = [Figure(launch_what, None, "ms", "", problem, LAUNCH_TARGET)]
    else:
        progress(f"terminal UI: {launches + 1} launches in tmux")
        try:
            launch_seconds(tmux)  # untimed: warms the file cache
            timing = Timing(tuple(launch_seconds(tmux) for _ in range(launches)), "median")
            terminal = [Figure(launch_what, timing.value * 1000, "ms", timing.statistic, "", LAUNCH_TARGET)]
        except BenchError as error:
            terminal = [Figure(launch_what, None, "ms", "", str(error), LAUNCH_TARGET)]
        progress(f"terminal UI: {rounds + 1} rounds of screen changes in tmux")
        terminal += _change_figures("screen change in tmux", lambda: terminal_change_seconds(tmux, rounds))
    progress(f"terminal UI: {3 * rounds + 1} rounds of screen changes in the pilot")
    pilot = _change_figures("screen change in the pilot", lambda: asyncio.run(_pilot_change_seconds(3 * rounds)))
    return terminal + pilot
