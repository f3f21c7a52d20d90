"""The first step of a new ceremony's set-up: which template (docs/tui.md §2).

A bundled template by its letter (or the arrows and Enter: the first, key generation, is one
Enter), or any template file by its path. The template is loaded and validated here; its errors
show with their line. Then the set-up form (:class:`~keyceremony.tui.screens.setup.SetupScreen`)
replaces this screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from keyceremony.tui.footer import KeysFooter, TitleBar

# The bundled templates offered, with their letter (docs/ceremony-guide.md §5).
BUNDLED = (
    ("key-generation", "k", "Key generation: make a key and split its backup onto share cards"),
    ("recovery", "r", "Recovery: bring the cards together and restore the key into a token"),
    ("dr-drill", "d", "DR drill: prove the cards still recover the key, keeping nothing"),
)


class TemplateChoiceScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"choose('{name}')", name.split("-")[0].capitalize()) for name, key, _ in BUNDLED),
        Binding("f", "file", "Template file"),
        Binding("escape", "back", "Home"),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("New ceremony: choose its template (the letter, or the arrows and Enter).", classes="hint")
        yield OptionList(*(Option(f"{key}  {text}", id=name) for name, key, text in BUNDLED), id="templates")
        yield Label("f  Or a template file (its path, then Enter)", classes="field")
        yield Input(placeholder="template file", id="path")
        yield Static("", id="message", classes="status", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#templates", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.action_choose(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.action_choose(event.value.strip())

    def action_file(self) -> None:
        self.query_one("#path", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_choose(self, name_or_path: str) -> None:
        from keyceremony.ceremony.template import bundled_directory, load_template, resolve_template
        from keyceremony.errors import KeyCeremonyError
        from keyceremony.tui.screens.setup import SetupScreen

        try:
            path = resolve_template(name_or_path)
            ref = name_or_path if path.parent == bundled_directory() else str(Path(path).absolute())
            template = load_template(ref)
        except KeyCeremonyError as err:
            self.query_one("#message", Static).update(f"{err}. Give another template.")
            return
        self.app.switch_screen(SetupScreen(template, template_ref=ref))
