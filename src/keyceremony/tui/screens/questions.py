"""The questions a ceremony asks the people in the room, one panel each (docs/tui.md §3).

The ceremony screen mounts one panel per request of the engine's prompter
(:class:`~keyceremony.tui.driver.InteractivePrompter`), with the default the set-up or answers
file gave, and the panel posts :class:`Answered` once its answer passes the same checks the
engine makes (``keyceremony.ceremony.quorum``, ``check_card_holders``, the share text's line
check): the rules live in the ceremony layer, the panel only shows and asks.

Keys: Enter answers (space ticks a person), ``y`` / ``n`` answer a confirmation, ``Ctrl+T``
switches card entry between a file and typing the card's text form. A typed share line is
masked on screen and checked as it is entered; nothing secret is ever displayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from keyceremony.ceremony.ports import (
    AttendanceRequest,
    CardHoldersRequest,
    ConfirmRequest,
    HandOver,
    HandOverRequest,
    PresentCardsRequest,
    PresentedCard,
    RollCallRequest,
    ScanBackRequest,
)
from keyceremony.ceremony.quorum import QuorumLine, quorum_lines, roster_lines
from keyceremony.shares.typed import TypedShare
from keyceremony.transcript import Actor
from keyceremony.tui.paths import PathSuggester


class Answered(Message):
    """A panel's answer, checked; the screen hands it to the waiting engine."""

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer


class TickList(SelectionList[int]):
    """People to tick: space ticks or unticks, Enter answers."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "done", "Confirm", priority=True)]

    class Done(Message):
        pass

    def action_done(self) -> None:
        self.post_message(self.Done())


class ConfirmKeys(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "answer(True)", "Yes"), Binding("n", "answer(False)", "No")]

    def action_answer(self, yes: bool) -> None:
        self.post_message(Answered(yes))


def row(label: str, field: Input) -> Horizontal:
    """A labelled one-line field."""
    return Horizontal(Label(label), field)


class Question(Vertical):
    """A panel: the question, its widgets, and a line for what is wrong with the answer."""

    # One-line fields (app.py draws them: the focused one reversed), so the share entry fits
    # 80x24 under the fingerprint line.
    DEFAULT_CSS = """
    Question { height: 1fr; padding: 0 1; }
    Question .ask { text-style: bold; }
    Question .problem { text-style: bold reverse; }
    Question .last { max-height: 5; }
    Question Horizontal { height: 1; }
    Question Horizontal > Label { width: 18; }
    Question Input { width: 1fr; }
    Question TickList { height: 1fr; max-height: 12; }
    """

    def problem(self, text: str) -> None:
        line = self.query_one("#problem", Static)
        line.update(text)
        line.display = bool(text)

    def compose_problem(self) -> ComposeResult:
        line = Static("", id="problem", classes="problem", markup=False)
        line.display = False
        yield line

    def on_mount(self) -> None:
        self.call_after_refresh(self.focus_first)  # once the fields are composed and shown

    def focus_first(self) -> None:
        for widget in self.query("Input, TickList, ConfirmKeys"):
            if widget.focusable:
                widget.focus()
                return


# --- who is here ----------------------------------------------------------------------------------


class PeoplePanel(Question):
    """The roll call (role limits) or a step's attendance (its quorum): tick who is present."""

    def __init__(self, ask: str, people: Sequence[Actor], ticked: Sequence[Actor], titles: dict[str, str]) -> None:
        super().__init__()
        self.ask, self.people, self.titles = ask, tuple(people), titles
        self.ticked = set(ticked)

    def lines(self, present: Sequence[Actor]) -> tuple[QuorumLine, ...]:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield Static(self.ask, classes="ask", markup=False)
        yield TickList(
            *(Selection(f"{a.name} ({self.titles.get(a.role, a.role)})", i, a in self.ticked)
              for i, a in enumerate(self.people))  # fmt: skip
        )
        yield Static("", id="quorum", markup=False)
        yield Static("Space ticks or unticks the person under the cursor; Enter confirms.", markup=False)
        yield from self.compose_problem()

    def present(self) -> list[Actor]:
        return [self.people[i] for i in sorted(self.query_one(TickList).selected)]

    def on_mount(self) -> None:
        super().on_mount()
        self.show_quorum()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[int]) -> None:
        self.show_quorum()

    def show_quorum(self) -> None:
        self.query_one("#quorum", Static).update("; ".join(str(line) for line in self.lines(self.present())))

    def on_tick_list_done(self, event: TickList.Done) -> None:
        present = self.present()
        unmet = [str(line) for line in self.lines(present) if not line.met]
        if unmet:
            self.problem("Cannot go on: " + "; ".join(unmet) + ". Tick who is here, or pause (p) until they are.")
            return
        self.post_message(Answered(present))


class RollCallPanel(PeoplePanel):
    def __init__(self, request: RollCallRequest, people: Sequence[Actor], default: Sequence[Actor] | None) -> None:
        titles = {name: title for name, title, _least, _most in request.roles}
        super().__init__("Roll call: tick everyone who is here and has shown identification.", people,
                         people if default is None else default, titles)  # fmt: skip
        self.request = request

    def lines(self, present: Sequence[Actor]) -> tuple[QuorumLine, ...]:
        return roster_lines(self.request.roles, present)


class AttendancePanel(PeoplePanel):
    def __init__(
        self, request: AttendanceRequest, default: Sequence[Actor] | None, titles: dict[str, str]
    ) -> None:
        ticked = request.participants if default is None else default
        super().__init__(f"Who is present for this step? It needs: {_quorum_text(request.quorum)}.",
                         request.participants, ticked, titles)  # fmt: skip
        self.request = request

    def lines(self, present: Sequence[Actor]) -> tuple[QuorumLine, ...]:
        return quorum_lines(self.request.quorum, present)


def _quorum_text(quorum: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{count} {role}" for role, count in quorum) or "nobody in particular"


# --- yes or no ------------------------------------------------------------------------------------


class ConfirmPanel(Question):
    def __init__(self, request: ConfirmRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        yield Static(f"Confirm: {self.request.question}?", classes="ask", markup=False)
        yield ConfirmKeys("y: yes, it is done.   n: no (the step stops; resume it later).", markup=False)


# --- cards ----------------------------------------------------------------------------------------


class CardHoldersPanel(Question):
    """Before printing: which custodian's name goes on each card."""

    def __init__(self, request: CardHoldersRequest, default: Sequence[str] | None) -> None:
        super().__init__()
        self.request = request
        self.default = list(default or request.custodians[: request.shares])

    def compose(self) -> ComposeResult:
        yield Static(f"Whose name goes on each of the {self.request.shares} cards? Enter confirms.",
                     classes="ask", markup=False)  # fmt: skip
        suggester = SuggestFromList(self.request.custodians, case_sensitive=False)
        for x in range(1, self.request.shares + 1):
            value = self.default[x - 1] if x <= len(self.default) else ""
            yield row(f"Card {x}", Input(value, placeholder="custodian", id=f"holder-{x}", suggester=suggester))
        yield from self.compose_problem()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from keyceremony.ceremony.steps.generation import check_card_holders
        from keyceremony.errors import KeyCeremonyError

        holders = [self.query_one(f"#holder-{x}", Input).value.strip() for x in range(1, self.request.shares + 1)]
        try:
            check_card_holders(self.request.step.id, holders, self.request.shares, self.request.custodians)
        except KeyCeremonyError as err:
            self.problem(str(err))
            return
        self.post_message(Answered(holders))


class HandOverPanel(Question):
    """Card x goes to the custodian printed on it, who seals it in a numbered bag."""

    def __init__(self, request: HandOverRequest, default: HandOver | None) -> None:
        super().__init__()
        self.request = request
        self.default = default

    def compose(self) -> ComposeResult:
        r = self.request
        who = r.planned or (self.default.custodian if self.default else "")
        yield Static(f"Hand card {r.share_number} ({r.card}) to {who or 'its custodian'}: they check its "
                     "fingerprint words, seal it in a tamper-evident bag and sign the paper log.",
                     classes="ask", markup=False)  # fmt: skip
        if not r.planned:
            yield row("Custodian", Input(who, placeholder="custodian", id="custodian"))
        yield row("Bag number", Input((self.default.bag or "") if self.default else "", placeholder="then Enter",
                                      id="bag"))  # fmt: skip
        yield from self.compose_problem()

    def focus_first(self) -> None:
        self.query_one("#bag", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        who = self.request.planned or self.query_one("#custodian", Input).value.strip()
        if not who:
            self.problem("Name the custodian who takes this card.")
            return
        bag = self.query_one("#bag", Input).value.strip() or None
        self.post_message(Answered(HandOver(who, bag)))


class ScanBackPanel(Question):
    """Card x read back: Enter reads the card's PDF, or give a scan or photo of the paper card."""

    def __init__(self, request: ScanBackRequest, default: Path | None) -> None:
        super().__init__()
        self.request = request
        self.default = default

    def compose(self) -> ComposeResult:
        r = self.request
        yield Static(f"Read card {r.share_number} back: Enter reads {r.card.name}; or give the path of a "
                     "scan or photo of the printed card.", classes="ask", markup=False)  # fmt: skip
        if r.problem:
            yield Static(f"Read {r.attempt - 1} was refused: {r.problem}. Try again.", classes="problem",
                         markup=False)  # fmt: skip
        yield row("Scan or photo", Input(str(self.default or ""), placeholder="empty: the card's PDF", id="scan",
                                         suggester=PathSuggester()))  # fmt: skip
        yield from self.compose_problem()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.post_message(Answered(None))
            return
        path = Path(text).expanduser()
        if not path.is_file():
            self.problem(f"{text}: no such file; check the path (the right arrow completes a name).")
            return
        self.post_message(Answered(path))


CARD_HINT = "Enter reads the card. Ctrl+T: type the card's text form instead; right arrow completes a name."
TYPE_HINT = "Type the card's numbered lines one at a time (masked, each checked). Ctrl+T: a card file."


class PresentCardsPanel(Question):
    """A recovery's share entry: one card at a time, from a file or typed in from its text form."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+t", "switch", "File / type")]

    def __init__(
        self,
        request: PresentCardsRequest,
        default: PresentedCard | None,
        *,
        expected: str | None,
        last: str | None,
        typed_count: int,
    ) -> None:
        super().__init__()
        self.request, self.default, self.expected, self.last = request, default, expected, last
        self.typing = False
        self.typed = TypedShare()
        self.typed_count = typed_count

    def compose(self) -> ComposeResult:
        r = self.request
        status = r.status or "no card read yet"
        yield Static(f"Present the cards, one at a time: {status}.", classes="ask", markup=False)
        yield Static(f"Expected set fingerprint (paper log): {self.expected}" if self.expected else
                     "UNANCHORED: no set fingerprint from the paper log; the cards are checked against each other.",
                     markup=False)  # fmt: skip
        if self.last:
            yield Static(f"Last card: {self.last}", classes="last", markup=False)
        suggest = SuggestFromList(r.custodians, case_sensitive=False)
        d = self.default
        yield row("Custodian", Input((d.custodian or "") if d else "", placeholder="who presents it", id="custodian",
                                     suggester=suggest))  # fmt: skip
        yield row("Bag number", Input((d.bag or "") if d else "", placeholder="optional", id="bag"))
        yield row("Card file", Input(str(d.path) if d else "", placeholder="PDF, scan, photo or share file",
                                     id="card", suggester=PathSuggester()))  # fmt: skip
        line = Input("", placeholder="line 01 (masked)", id="line", password=True)
        typed = row("Typed line", line)
        typed.id = "typed"
        typed.display = False
        yield typed
        yield Label(CARD_HINT, id="what")
        yield from self.compose_problem()

    def focus_first(self) -> None:
        self.query_one("#card", Input).focus()

    def action_switch(self) -> None:
        self.typing = not self.typing
        self.typed = TypedShare()
        card = self.query_one("#card", Input).parent
        assert card is not None
        card.display = not self.typing
        self.query_one("#typed").display = self.typing
        self.query_one("#what", Label).update(TYPE_HINT if self.typing else CARD_HINT)
        self.problem("")
        self.query_one("#line" if self.typing else "#card", Input).focus()

    def _who(self) -> tuple[str | None, str | None] | None:
        who = self.query_one("#custodian", Input).value.strip() or None
        if who is not None and who not in self.request.custodians:
            self.problem(f"{who!r} is not a custodian present at this step "
                         f"({', '.join(self.request.custodians) or 'none'}).")  # fmt: skip
            return None
        return who, self.query_one("#bag", Input).value.strip() or None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "line":
            self._typed_line(event.input)
            return
        if event.input.id in ("custodian", "bag"):
            self.query_one("#line" if self.typing else "#card", Input).focus()
            return
        who = self._who()
        if who is None:
            return
        text = event.value.strip()
        path = Path(text).expanduser()
        if not text or not path.is_file():
            self.problem(f"{text or 'the card file'}: no such file; give the card's PDF, a scan or photo, or its "
                         "share file (the right arrow completes a name), or Ctrl+T to type it.")  # fmt: skip
            return
        self.post_message(Answered([PresentedCard(path, *who)]))

    def _typed_line(self, field: Input) -> None:
        line = field.value
        field.value = ""
        if not line.strip():
            return
        problem = self.typed.add(line)
        self.problem(problem or "")
        number = self.typed.next_number
        field.placeholder = f"line {number:02d} (masked)"
        self.query_one("#what", Label).update(f"{number - 1} line(s) typed and checked; type line {number:02d}.")
        if problem or not self.typed.complete:
            return
        who = self._who()
        if who is None:
            return
        name = Path(f"typed share #{self.typed_count + 1}")
        text, self.typed = self.typed.text(), TypedShare()
        self.post_message(Answered([PresentedCard(name, *who, text=text)]))
