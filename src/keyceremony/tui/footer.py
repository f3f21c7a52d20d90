"""The title line and the key bindings line of every screen: :class:`TitleBar`, :class:`KeysFooter`.

Textual's own Footer builds one widget per key and restyles them all whenever a screen opens,
which took 30-45 ms of each screen change (about a third of it; bench/tui.py). This one is a
single line of text, rewritten when the screen's bindings change (a field takes the focus, a
ceremony starts): the same keys, in the same order, with the app's key names (the Linux console
gets them in letters, app.py). Keys are not clickable; the UI is keyboard first.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Static


class KeysFooter(Static):
    DEFAULT_CSS = """
    KeysFooter { dock: bottom; height: 1; width: 100%; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)
        self.call_after_refresh(self.show_keys)

    def _changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.show_keys()

    def show_keys(self) -> None:
        """One ``key Description`` per action the focused widget and the screen offer."""
        seen: set[str] = set()
        parts: list[str] = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            parts.append(f"{self.app.get_key_display(binding)} {binding.description}")
        self.update("  ".join(parts))


class TitleBar(Static):
    """The title line at the top of every screen: the app's title and the screen's, if any
    (Textual's Header, with its clock icon and subtitle, took some 20 ms of each screen change)."""

    DEFAULT_CSS = """
    TitleBar { dock: top; height: 1; width: 100%; content-align: center middle; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False)

    def on_mount(self) -> None:
        title = self.screen.title or ""
        self.update(f"{self.app.title} - {title}" if title else self.app.title)
