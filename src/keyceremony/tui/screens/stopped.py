"""The dialog shown when a ceremony step cannot go on (docs/tui.md §3).

It says what happened and what to do, and offers two ways on: ``r`` tries again now (the engine
resumes at the step that stopped, and its ``resumed`` entry records why it stopped), ``Escape``
closes the dialog (resume later from the home screen, with the same folder). With a PKCS#11
token the user PIN is typed again (masked): the ceremony never keeps it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

DIALOG_CSS = """
StoppedDialog { align: center middle; }
StoppedDialog #dialog { width: 72; height: auto; max-height: 20; border: heavy white; background: black;
                        padding: 0 1; }
StoppedDialog .title { text-style: bold reverse; width: 100%; }
"""


class StoppedDialog(ModalScreen[str | None]):
    """Dismissed with None (close; resume later) or a string (try again now; the PIN if any)."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close, resume later"),
        Binding("r", "again", "Try again now"),
    ]

    def __init__(self, problem: str, *, needs_pin: bool = False) -> None:
        super().__init__()
        self.problem = problem
        self.needs_pin = needs_pin

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("STOPPED: this step cannot go on", classes="title", markup=False)
            yield Static(self.problem, markup=False)
            yield Static(
                "Nothing was left half done. Fix what the message says, then "
                + ("type the token's user PIN and press Enter to try again now (the ceremony resumes at this "
                   "step), " if self.needs_pin else "press r to try again now (the ceremony resumes at this step), ")
                + "or Escape to close this and resume later from the home screen (Resume, same folder). "
                "The transcript records why it stopped.",
                markup=False,
            )  # fmt: skip
            if self.needs_pin:
                yield Input(placeholder="user PIN (masked)", password=True, id="pin")

    def on_mount(self) -> None:
        if self.needs_pin:
            self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value:
            self.dismiss(event.value)

    def action_again(self) -> None:
        if not self.needs_pin:
            self.dismiss("")

    def action_close(self) -> None:
        self.dismiss(None)
