"""The dialog shown when a ceremony step cannot go on (docs/tui.md §3).

It says what happened and what to do, and offers three ways on: ``r`` tries again now (the
engine resumes at the step that stopped, and its ``resumed`` entry records why it stopped),
``Escape`` closes the dialog (resume later from the home screen, with the same folder), and
``a`` gives the ceremony up: with the reason typed, its transcript is sealed as ABORTED
(docs/transcript.md §6.4). With a PKCS#11 token the user PIN is typed again (masked): the
ceremony never keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Decision:
    """What the people decided: ``again`` (with the token's ``pin``, if any) or ``abort`` (with
    the ``reason``)."""

    action: str
    pin: str = field(default="", repr=False)
    reason: str = ""


class StoppedDialog(ModalScreen[Decision | None]):
    """Dismissed with None (close; resume later) or a :class:`Decision`."""

    DEFAULT_CSS = DIALOG_CSS
    AUTO_FOCUS = None  # r, a and Escape act at once; the PIN field takes the focus when there is one
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close, resume later"),
        Binding("r", "again", "Try again now"),
        Binding("a", "abort", "Abort (recorded)"),
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
                "The transcript records why it stopped. To give the ceremony up for good, press a.",
                markup=False,
            )  # fmt: skip
            if self.needs_pin:
                yield Input(placeholder="user PIN (masked)", password=True, id="pin")
            reason = Input(placeholder="why the ceremony is aborted (goes into the transcript); Enter", id="reason")
            reason.display, reason.disabled = False, True  # no focus, no keys, until a is pressed
            yield reason

    def on_mount(self) -> None:
        if self.needs_pin:
            self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = self.query_one("#reason", Input)
        pin = self.query_one("#pin", Input).value if self.needs_pin else ""
        if not reason.display:  # the PIN, to try again
            if pin:
                self.dismiss(Decision("again", pin=pin))
            return
        if not reason.value.strip():
            reason.focus()
        elif self.needs_pin and not pin:  # the token signs the seal: its PIN is needed too
            self.query_one("#pin", Input).focus()
        else:
            self.dismiss(Decision("abort", pin=pin, reason=reason.value))

    def action_again(self) -> None:
        if not self.needs_pin:
            self.dismiss(Decision("again"))

    def action_abort(self) -> None:
        """Ask for the reason; Enter then aborts (Escape still closes without aborting)."""
        reason = self.query_one("#reason", Input)
        reason.display, reason.disabled = True, False
        reason.focus()

    def action_close(self) -> None:
        self.dismiss(None)
