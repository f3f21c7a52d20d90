"""Too small a terminal: a full-screen notice of the size the UI needs (docs/tui.md, Terminals).

Every screen is laid out for 80x24. In a smaller terminal :func:`guard_size` puts
:class:`SizeGuardScreen` on top, which says what size is needed and how big the terminal is; it
goes away by itself once the terminal is large enough. The screens under it keep running (a
ceremony's worker goes on); their keys are not reachable until then, except Ctrl+Q.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import App
    from textual.geometry import Size

MIN_WIDTH = 80
MIN_HEIGHT = 24


def too_small_message(width: int, height: int) -> str | None:
    """What to tell the person about a ``width`` x ``height`` terminal; None if it is large enough."""
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        return None
    return (
        f"keyceremony needs a terminal of at least {MIN_WIDTH}x{MIN_HEIGHT}; this one is {width}x{height}.\n"
        "Enlarge the window or use a smaller font.\n\nCtrl+Q quits."
    )


class SizeGuardScreen(Screen[None]):
    DEFAULT_CSS = """
    SizeGuardScreen { align: center middle; background: black; }
    SizeGuardScreen > Static { width: 100%; height: auto; padding: 0 1; color: white; text-style: bold;
                               text-align: center; }
    """

    def __init__(self, message: str) -> None:
        super().__init__()
        self._message = message

    def compose(self) -> ComposeResult:
        yield Static(self._message, id="size-notice", markup=False)

    def show(self, message: str) -> None:
        self._message = message  # for compose, if it has not run yet
        for notice in self.query("#size-notice").results(Static):
            notice.update(message)

    def on_screen_resume(self) -> None:
        # A guard left under a screen pushed on top of it: gone once uncovered if the size fits.
        self.app.call_later(self._leave_if_large_enough)

    def _leave_if_large_enough(self) -> None:
        if self.is_current and too_small_message(self.app.size.width, self.app.size.height) is None:
            self.app.pop_screen()


def guard_size(app: App[None], size: Size) -> None:
    """Show, update or take away the notice for a terminal of ``size``."""
    message = too_small_message(size.width, size.height)
    top = app.screen
    if message is None:
        if isinstance(top, SizeGuardScreen):
            app.pop_screen()
    elif isinstance(top, SizeGuardScreen):
        top.show(message)
    else:
        app.push_screen(SizeGuardScreen(message))
