"""Verify share cards, one at a time (docs/tui.md §5).

Each card (a card PDF, a scan or photo, or a share file; or, after ``Ctrl+T``, its text form
typed line by line, masked, each line checked as it is entered) is read in a worker thread with
:func:`~keyceremony.recipes.sources.read_payloads`, then handed to a
:class:`~keyceremony.shares.collector.ShareCollector`, which answers at once: accepted as share
x of set X, or refused with the reason, and how many more are needed. With the set fingerprint
from the paper log the cards are anchored to it; without it the screen says UNANCHORED. Share
values are never shown: the collector's answers name sources, share numbers, sets and
fingerprints only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from keyceremony.shares.typed import TypedShare
from keyceremony.tui.footer import KeysFooter, TitleBar
from keyceremony.tui.paths import PathSuggester

if TYPE_CHECKING:
    from keyceremony.recipes.sources import SourceContents
    from keyceremony.shares.collector import Answer, ShareCollector

FILE_HINT = "Card: a PDF, scan, photo or share file; Enter reads it (Ctrl+T: type it in)"
TYPE_HINT = "Type the card's numbered lines, one at a time (masked, checked); Ctrl+T: a file"

UNANCHORED = (
    "UNANCHORED: no set fingerprint was given; the cards are only checked against each other, "
    "not against the paper log. Type the set fingerprint from the paper log to anchor them."
)


class VerifySharesScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Home"),
        Binding("ctrl+n", "start_over", "Start over"),
        Binding("ctrl+t", "switch", "File / type"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.collector: ShareCollector | None = None
        self.answers: list[Answer] = []
        self.reading = 0  # cards being read now
        self.typed: TypedShare | None = None  # None: cards come from files
        self.typed_count = 0

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Label(FILE_HINT, classes="field", id="what")
        yield Input(placeholder="path of one card", id="path", suggester=PathSuggester())
        line = Input(placeholder="line 01 (masked)", id="line", password=True)
        line.display = False
        yield line
        yield Label("Expected set fingerprint, from the paper log (hex or words; optional)", classes="field")
        yield Input(placeholder="leave empty if you have none", id="fingerprint")
        yield Static(UNANCHORED, id="anchor", classes="status", markup=False)
        yield Static("no share yet", id="count", classes="status", markup=False)
        yield VerticalScroll(id="answers")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_start_over(self) -> None:
        self.collector = None
        self.answers = []
        self.query_one("#answers", VerticalScroll).remove_children()
        fingerprint = self.query_one("#fingerprint", Input)
        fingerprint.disabled = False
        self._show_anchor(fingerprint.value)
        self.query_one("#count", Static).update("no share yet")
        self.query_one("#path", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "fingerprint" and self.collector is None:
            self._show_anchor(event.value)

    def _show_anchor(self, text: str) -> None:
        from keyceremony.codec.fingerprint import format_fingerprint, parse_fingerprint

        anchor = self.query_one("#anchor", Static)
        if not text.strip():
            anchor.update(UNANCHORED)
            return
        try:
            expected = parse_fingerprint(text)
        except ValueError as err:
            anchor.update(f"The set fingerprint is not valid yet: {err}")
            return
        anchor.update(f"ANCHORED to the set fingerprint from the paper log: {format_fingerprint(expected)}")

    def action_switch(self) -> None:
        self.typed = TypedShare() if self.typed is None else None
        typing = self.typed is not None
        self.query_one("#path", Input).display = not typing
        line = self.query_one("#line", Input)
        line.display, line.placeholder = typing, "line 01 (masked)"
        self.query_one("#what", Label).update(TYPE_HINT if typing else FILE_HINT)
        (line if typing else self.query_one("#path", Input)).focus()

    def _typed_line(self, field: Input) -> None:
        assert self.typed is not None
        line, field.value = field.value, ""
        if not line.strip():
            return
        problem = self.typed.add(line)
        number = self.typed.next_number
        field.placeholder = f"line {number:02d} (masked)"
        self.query_one("#what", Label).update(problem or f"{number - 1} line(s) typed and checked; type line "
                                                         f"{number:02d}")  # fmt: skip
        if problem or not self.typed.complete:
            return
        if self.collector is None and not self._open_collector():
            return
        self.typed_count += 1
        text, self.typed = self.typed.text(), TypedShare()
        self.query_one("#what", Label).update(TYPE_HINT)
        field.placeholder = "line 01 (masked)"
        self._show(self.collector.add_text(text, f"typed share #{self.typed_count}"))  # type: ignore[union-attr]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "fingerprint":
            self.query_one("#line" if self.typed is not None else "#path", Input).focus()
            return
        if event.input.id == "line":
            self._typed_line(event.input)
            return
        path = event.value.strip()
        if not path:
            return
        if self.collector is None and not self._open_collector():
            return
        event.input.value = ""
        self.reading += 1
        self._read(path)

    def _open_collector(self) -> bool:
        """The first card fixes the expected fingerprint (Ctrl+N starts over with another)."""
        from keyceremony.codec.fingerprint import parse_fingerprint
        from keyceremony.shares.collector import ShareCollector

        field = self.query_one("#fingerprint", Input)
        expected = None
        if field.value.strip():
            try:
                expected = parse_fingerprint(field.value)
            except ValueError as err:
                self.query_one("#anchor", Static).update(f"The set fingerprint is not valid: {err}; correct it")
                field.focus()
                return False
        self.collector = ShareCollector(expected_fingerprint=expected)
        field.disabled = True
        return True

    @work(thread=True, group="cards")
    def _read(self, path: str) -> None:
        from keyceremony.errors import KeyCeremonyError
        from keyceremony.recipes.sources import read_payloads

        try:
            contents = read_payloads(path)
        except KeyCeremonyError as err:
            self.app.call_from_thread(self._unreadable, path, err)
            return
        except OSError as err:
            from keyceremony.errors import UsageError

            problem = UsageError(f"{path}: {err.strerror or err.__class__.__name__}; check the path")
            self.app.call_from_thread(self._unreadable, path, problem)
            return
        self.app.call_from_thread(self._answer, path, contents)

    def _unreadable(self, path: str, error: Exception) -> None:
        from keyceremony.errors import KeyCeremonyError

        assert self.collector is not None and isinstance(error, KeyCeremonyError)
        self.reading -= 1
        self._show(self.collector.unreadable(path, error))

    def _answer(self, path: str, contents: SourceContents) -> None:
        from keyceremony.errors import ShareFormatError

        assert self.collector is not None
        self.reading -= 1
        if not contents.shares:
            what = "a backup package only" if contents.packages else "nothing usable"
            self._show(self.collector.unreadable(path, ShareFormatError(f"no share on this card ({what})",
                                                                        source=path)))
        for source, payload in contents.shares:
            self._show(self.collector.add(source, payload))
        for problem in contents.problems:
            self.query_one("#answers", VerticalScroll).mount(Static(f"NOTE: {problem}", classes="note", markup=False))

    def _show(self, answer: Answer) -> None:
        assert self.collector is not None
        self.answers.append(answer)
        read = f"; set fingerprint read {answer.set_fingerprint}" if answer.set_fingerprint else ""
        if answer.accepted:
            line = Static(f"ACCEPTED  {answer.source}: share {answer.share_number} of set {answer.set_id}{read}",
                          classes="accepted", markup=False)  # fmt: skip
        else:
            line = Static(f"REFUSED   {answer.reason}", classes="refused", markup=False)
        answers = self.query_one("#answers", VerticalScroll)
        answers.mount(line)
        answers.scroll_end(animate=False)
        self.query_one("#count", Static).update(self.collector.status())
