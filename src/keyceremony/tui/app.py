"""The terminal UI's application: :class:`KeyceremonyApp` and :func:`run_app` (docs/tui.md).

Keyboard only, 80x24 at least, high contrast; ``NO_COLOR`` set in the environment makes it
monochrome (Textual reads it). Every screen says in words what a colour would say
(ACCEPTED/REFUSED, ANCHORED/UNANCHORED, REHEARSAL). A smaller terminal gets a notice of the size
needed (size_guard.py); the Linux console gets only glyphs its fonts have (linux_console.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from keyceremony.tui.screens.home import HomeScreen
from keyceremony.tui.size_guard import guard_size

if TYPE_CHECKING:
    from textual import events

    from keyceremony.ceremony.ports import HostFacts

CSS = """
Screen { background: black; color: white; }
TitleBar { background: white; color: black; text-style: bold; }
KeysFooter { background: white; color: black; }
Label.field { width: 100%; padding: 0 1; text-style: bold; }
Input { border: $field-border white; background: black; color: white; }
Input:focus { border: $field-border yellow; }
Question Input { height: 1; border: none; padding: 0 1; background: black; color: white; text-style: underline; }
Question Input:focus { border: none; background: white; color: black; text-style: bold; }
OptionList { border: $field-border white; background: black; color: white; height: auto; }
OptionList:focus { border: $field-border yellow; }
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
    give a fake; by default the facts of this Linux machine). ``linux_console``: draw for the
    Linux console's fonts (solid field borders, key names in letters; linux_console.py)."""

    TITLE = "keyceremony"
    CSS: ClassVar[str] = CSS
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, *, host: HostFacts | None = None, linux_console: bool = False) -> None:
        self.linux_console = linux_console  # before App.__init__, which reads the CSS variables
        driver_class = None
        if linux_console:
            from keyceremony.tui.linux_console import ConsoleDriver

            driver_class = ConsoleDriver
        super().__init__(driver_class=driver_class)
        self._host = host

    def get_css_variables(self) -> dict[str, str]:
        return {**super().get_css_variables(), "field-border": "solid" if self.linux_console else "tall"}

    def get_key_display(self, binding: Binding) -> str:
        shown = super().get_key_display(binding)
        if self.linux_console:
            from keyceremony.tui.linux_console import KEY_NAMES

            shown = shown.translate(KEY_NAMES)
        return shown

    def host_facts(self) -> HostFacts:
        if self._host is None:
            from keyceremony.ceremony.preflight import LinuxHostFacts

            self._host = LinuxHostFacts()
        return self._host

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())
        guard_size(self, self.size)

    def on_resize(self, event: events.Resize) -> None:
        guard_size(self, event.size)


def run_app() -> int:
    """Run the terminal UI until the person quits; the exit status for the command line."""
    from keyceremony.tui.linux_console import on_linux_console

    KeyceremonyApp(linux_console=on_linux_console()).run()
    return 0
