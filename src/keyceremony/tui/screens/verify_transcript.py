"""Verify a ceremony transcript (docs/tui.md §6).

:func:`~keyceremony.transcript.verify_transcript` runs in a worker thread. The screen shows
first whether the transcript is anchored to the fingerprints from the paper log (its
``anchor_summary``: ANCHORED, PARTLY ANCHORED when a resume brought in a new ceremony key whose
fingerprint was not given, or UNANCHORED), then what was verified, or the error message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from keyceremony.tui.footer import KeysFooter, TitleBar

if TYPE_CHECKING:
    from keyceremony.transcript import VerifiedTranscript


class VerifyTranscriptScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Home")]

    def __init__(self) -> None:
        super().__init__()
        self.result: VerifiedTranscript | None = None
        self.error: str | None = None
        self.done = False  # the last verification finished (result or error)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Label("Transcript file (transcript.jsonl)", classes="field")
        yield Input(placeholder="path of the transcript", id="path")
        yield Label("Ceremony key fingerprint, from the paper log (hex or words; optional)", classes="field")
        yield Input(placeholder="leave empty if you have none; Enter verifies", id="fingerprint")
        yield Label("New ceremony keys after resumes, from the paper log (in order, separated by ;)", classes="field")
        yield Input(placeholder="optional; Enter verifies", id="later")
        with VerticalScroll():
            yield Static("", id="anchor", classes="status", markup=False)
            yield Static("", id="summary", classes="note", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from keyceremony.codec.fingerprint import parse_fingerprint

        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.query_one("#path", Input).focus()
            return
        text = self.query_one("#fingerprint", Input).value
        expected = None
        if text.strip():
            try:
                expected = parse_fingerprint(text)
            except ValueError as err:
                self._show_error(f"The fingerprint is not valid: {err}; correct it")
                return
        later: list[bytes] | None = None
        texts = [t for t in self.query_one("#later", Input).value.split(";") if t.strip()]
        if texts:
            try:
                later = [parse_fingerprint(t) for t in texts]
            except ValueError as err:
                self._show_error(f"A new key's fingerprint is not valid: {err}; correct it")
                return
        self.done = False
        self.query_one("#anchor", Static).update("Verifying ...")
        self.query_one("#summary", Static).update("")
        self._verify(path, expected, later)

    @work(thread=True, exclusive=True, group="transcript")
    def _verify(self, path: str, expected: bytes | None, later: list[bytes] | None = None) -> None:
        from keyceremony.errors import KeyCeremonyError, TranscriptKeyChanged
        from keyceremony.transcript import verify_transcript

        try:
            result = verify_transcript(path, expected_fingerprint=expected, later_fingerprints=later)
        except TranscriptKeyChanged as err:
            self.app.call_from_thread(self._show_error, f"{err.diagnostics()}. Here: type each new key's fingerprint "
                                      "from the paper log in the third field (in order, separated by ;)")  # fmt: skip
            return
        except KeyCeremonyError as err:
            self.app.call_from_thread(self._show_error, err.diagnostics())
            return
        except OSError as err:
            self.app.call_from_thread(self._show_error, f"{path}: {err.strerror or err.__class__.__name__}")
            return
        self.app.call_from_thread(self._show_result, path, result)

    def _show_error(self, message: str) -> None:
        self.result, self.error, self.done = None, message, True
        self.query_one("#anchor", Static).update("NOT VERIFIED")
        self.query_one("#summary", Static).update(message)

    def _show_result(self, path: str, result: VerifiedTranscript) -> None:
        from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint

        self.result, self.error, self.done = result, None, True
        self.query_one("#anchor", Static).update(result.anchor_summary)
        state = "sealed" if result.sealed else "NOT SEALED (in progress)"
        if result.aborted is not None:
            state = f"sealed as ABORTED ({result.aborted})"
        lines = [
            f"{path}: intact and {state}; {len(result.entries)} entries, every signature and link of the "
            "hash chain verified",
            f"ceremony: {result.ceremony_id}  {result.title}",
            f"ceremony key fingerprint: {format_fingerprint(result.fingerprint)}",
            f"  in words: {fingerprint_words(result.fingerprint)}",
        ]
        changes = result.key_changes
        lines.append(f"key changes: {len(changes)}" if changes else "key changes: none (one ceremony key throughout)")
        lines += [f"  line {c.line}: new key {format_fingerprint(c.fingerprint)}" for c in changes]
        lines.append(f"steps: {', '.join(result.steps) or '(none)'}")
        self.query_one("#summary", Static).update("\n".join(lines))
