"""Terminals (docs/tui.md, Terminals): too small a terminal gets a notice of the size needed; on the
Linux console every glyph Textual draws is one the console fonts have."""

from __future__ import annotations

import pytest
from console_glyphs import CONSOLE_GLYPHS, foreign_glyphs
from textual._border import BORDER_CHARS
from textual.binding import Binding
from textual.scrollbar import ScrollBarRender
from textual.widgets import Static
from textual.widgets._header import HeaderIcon
from textual.widgets._toggle_button import ToggleButton
from tui_helpers import SIZE, FakeHost

from keyceremony.tui.app import KeyceremonyApp
from keyceremony.tui.linux_console import GLYPHS, on_linux_console
from keyceremony.tui.screens.home import HomeScreen
from keyceremony.tui.screens.verify_transcript import VerifyTranscriptScreen
from keyceremony.tui.size_guard import SizeGuardScreen, too_small_message


def notice(app: KeyceremonyApp) -> str:
    return " ".join(str(app.screen.query_one("#size-notice", Static).render()).split())


@pytest.mark.asyncio
async def test_a_small_terminal_says_the_size_needed_until_it_is_large_enough():
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SizeGuardScreen)
        assert notice(app) == ("keyceremony needs a terminal of at least 80x24; this one is 60x18. "
                               "Enlarge the window or use a smaller font. Ctrl+Q quits.")  # fmt: skip
        await pilot.press("t")  # the home screen under the notice takes no keys
        await pilot.resize_terminal(79, 30)
        assert isinstance(app.screen, SizeGuardScreen) and "this one is 79x30." in notice(app)
        await pilot.resize_terminal(*SIZE)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("t")
        assert isinstance(app.screen, VerifyTranscriptScreen)
        await pilot.resize_terminal(80, 23)  # on any screen
        assert isinstance(app.screen, SizeGuardScreen) and "this one is 80x23." in notice(app)
        await pilot.resize_terminal(100, 40)
        assert isinstance(app.screen, VerifyTranscriptScreen)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


@pytest.mark.asyncio
async def test_80x24_shows_no_notice():
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and len(app.screen_stack) == 2  # the default screen, home


def test_the_size_needed():
    assert too_small_message(80, 24) is None and too_small_message(200, 60) is None
    assert too_small_message(80, 23) and too_small_message(79, 24)


def test_the_console_is_told_by_term():
    assert on_linux_console({"TERM": "linux"})
    assert not on_linux_console({"TERM": "xterm-256color"}) and not on_linux_console({})


def test_textual_glyphs_become_console_glyphs():
    drawn = "".join("".join(row) for rows in BORDER_CHARS.values() for row in rows)
    drawn += "".join(ScrollBarRender.VERTICAL_BARS + ScrollBarRender.HORIZONTAL_BARS)
    drawn += ToggleButton.BUTTON_LEFT + ToggleButton.BUTTON_RIGHT + HeaderIcon().icon
    assert foreign_glyphs(drawn), "the check would be empty"
    assert not foreign_glyphs(drawn.translate(GLYPHS))
    assert "▊▔▔▎".translate(GLYPHS) == "│──│" and "▛▀▜".translate(GLYPHS) == "┌─┐"
    assert all(len(str(glyph)) == 1 for glyph in GLYPHS.values())  # one glyph for one: the layout stays
    assert set(map(chr, GLYPHS)).isdisjoint(CONSOLE_GLYPHS)  # no glyph the fonts have is replaced


@pytest.mark.asyncio
async def test_on_the_console_key_names_are_letters():
    app = KeyceremonyApp(host=FakeHost(), linux_console=True)
    async with app.run_test(size=SIZE):
        assert app.get_key_display(Binding("enter", "x")) == "enter"
        assert app.get_key_display(Binding("backspace", "x")) == "backspace"
    assert KeyceremonyApp(host=FakeHost()).get_key_display(Binding("enter", "x")) == "⏎"
