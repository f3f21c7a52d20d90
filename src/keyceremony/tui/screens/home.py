"""The home screen: what to do (docs/tui.md §1)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from keyceremony.tui.footer import KeysFooter, TitleBar

CHOICES = (
    ("new", "n", "New ceremony: set it up in forms"),
    ("run", "r", "Run a ceremony from a template and an answers file"),
    ("resume", "s", "Resume a ceremony (its folder)"),
    ("cards", "c", "Verify share cards"),
    ("transcript", "t", "Verify a transcript"),
    ("quit", "q", "Quit"),
)


class HomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "choose('new')", "New"),
        Binding("r", "choose('run')", "Run"),
        Binding("s", "choose('resume')", "Resume"),
        Binding("c", "choose('cards')", "Cards"),
        Binding("t", "choose('transcript')", "Transcript"),
        Binding("q", "choose('quit')", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(
            "Shamir-split key backup and recovery, run as an in-person ceremony.\n"
            "Choose with the arrow keys and Enter, or press the letter.",
            classes="hint",
        )
        yield OptionList(*(Option(f"{key}  {text}", id=name) for name, key, text in CHOICES), id="choices")
        yield KeysFooter()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.action_choose(event.option.id)

    def action_choose(self, name: str) -> None:
        if name == "quit":
            self.app.exit()
        elif name == "new":
            from keyceremony.tui.screens.setup_template import TemplateChoiceScreen

            self.app.push_screen(TemplateChoiceScreen())
        elif name in ("run", "resume"):
            from keyceremony.tui.screens.ceremony import CeremonyScreen

            self.app.push_screen(CeremonyScreen(resume=name == "resume"))
        elif name == "cards":
            from keyceremony.tui.screens.verify_shares import VerifySharesScreen

            self.app.push_screen(VerifySharesScreen())
        elif name == "transcript":
            from keyceremony.tui.screens.verify_transcript import VerifyTranscriptScreen

            self.app.push_screen(VerifyTranscriptScreen())
