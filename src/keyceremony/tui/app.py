"""The terminal UI's application: :class:`KeyceremonyApp` and :func:`run_app` (docs/tui.md).

Keyboard only, 80x24 at least, high contrast; ``NO_COLOR`` set in the environment makes it
monochrome (Textual reads it). Every screen says in words what a colour would say
(ACCEPTED/REFUSED, ANCHORED/UNANCHORED, REHEARSAL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from keyceremony.tui.screens.home import HomeScreen

if TYPE_CHECKING:
    from keyceremony.ceremony.ports import HostFacts

CSS = """
Screen { background: black; color: white; }
Header { background: white; color: black; text-style: bold; }
Footer { background: white; color: black; }
Label.field { width: 100%; padding: 0 1; text-style: bold; }
Input { border: tall white; background: black; color: white; }
Input:focus { border: tall yellow; }
Question Input { height: 1; border: none; padding: 0 1; background: black; color: white; text-style: underline; }
Question Input:focus { border: none; background: white; color: black; text-style: bold; }
OptionList { border: tall white; background: black; color: white; height: auto; }
OptionList:focus { border: tall yellow; }
.hint { padding: 0 1; color: white; }
.status { padding: 0 1; text-style: bold; }
.banner { background: yellow; color: black; text-style: bold; padding: 0 1; width: 100%; }
.accepted { color: white; padding: 0 1; }
.refused { color: black; background: white; text-style: bold; padding: 0 1; }
.note { padding: 0 1; }
.box { border: heavy yellow; color: yellow; text-style: bold; padding: 0 1; height: auto; }
"""


class KeyceremonyApp(App[None]):
    """keyceremony's terminal UI. ``host``: the machine's facts for a ceremony's preflight (tests
    give a fake; by default the facts of this Linux machine)."""

    TITLE = "keyceremony"
    CSS: ClassVar[str] = CSS
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, *, host: HostFacts | None = None) -> None:
        super().__init__()
        self._host = host

    def host_facts(self) -> HostFacts:
        if self._host is None:
            from keyceremony.ceremony.preflight import LinuxHostFacts

            self._host = LinuxHostFacts()
        return self._host

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())


def run_app() -> int:
    """Run the terminal UI until the person quits; the exit status for the command line."""
    KeyceremonyApp().run()
    return 0
