"""Run (or resume) a ceremony from a template and an answers file (docs/tui.md §2).

The engine runs in ONE ``@work(thread=True)`` worker, which calls ``engine.run()`` (start and
every step) and so owns every key-store call (docs/architecture.md §5). Its prompter is the
answers file's :class:`~keyceremony.ceremony.answers.AnswersPrompter` wrapped in a
:class:`~keyceremony.tui.driver.ScreenPrompter`; announcements, requests, ``on_entry`` and
``on_progress`` reach the screen through ``app.call_from_thread``. ``p`` asks the engine to stop
at the next unit boundary (``engine.cancel()``); running the same template, answers and folder
again resumes it. Errors show their message and what to do, never a traceback.

This slice runs the soft key store only; PKCS#11 (with its PIN asked masked) comes later.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, ProgressBar, RichLog, Static

if TYPE_CHECKING:
    from keyceremony.ceremony.answers import Answers
    from keyceremony.ceremony.engine import CeremonyEngine, CeremonyResult
    from keyceremony.ceremony.ports import Announcement, Progress
    from keyceremony.ceremony.template import Template
    from keyceremony.transcript import Entry

CEREMONY_CSS = """
CeremonyScreen #form { height: auto; }
CeremonyScreen #run { height: 1fr; }
CeremonyScreen #main { width: 1fr; }
CeremonyScreen #entries { width: 30; border-left: solid white; padding: 0 1; }
CeremonyScreen #log { height: 1fr; background: black; }
CeremonyScreen ProgressBar { padding: 0 1; }
"""

AFTER_ERROR = (
    "Nothing was left half done: fix what the message says, then choose Resume on the home screen and "
    "give the same template, answers file and folder; the ceremony resumes at the step that stopped."
)
AFTER_PAUSE = (
    "PAUSED. The ceremony stopped at a safe point. To resume, choose Resume on the home screen and give "
    "the same template, answers file and folder."
)


class CeremonyScreen(Screen[None]):
    DEFAULT_CSS = CEREMONY_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start"),
        Binding("escape", "back", "Home"),
        Binding("p", "pause", "Pause"),
        Binding("e", "toggle_entries", "Entries"),
    ]

    def __init__(self, *, resume: bool = False) -> None:
        super().__init__()
        self.resume = resume
        self.engine: CeremonyEngine | None = None
        self.running = False
        self.outcome: str | None = None  # "sealed", "paused" or "failed" once the worker ends
        self.result: CeremonyResult | None = None
        self.message = ""
        self.said: list[str] = []  # every line shown in the log, for people and tests
        self.entries: list[Entry] = []
        self._pause_asked = False

    # -- layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="form"):
            yield Label("Ceremony folder (new, or the one to resume)" if self.resume else
                        "Ceremony folder (new and empty; the same folder again resumes)", classes="field")
            yield Input(placeholder="folder", id="out")
            yield Label("Template: key-generation, recovery, dr-drill, or a template file", classes="field")
            yield Input(placeholder="template", id="template")
            yield Label("Answers file (TOML); Enter or Ctrl+S starts", classes="field")
            yield Input(placeholder="answers file", id="answers")
        yield Static("", id="rehearsal", classes="banner", markup=False)
        yield Static("", id="step", classes="status", markup=False)
        yield Static("", id="fingerprint", classes="box", markup=False)
        with Horizontal(id="run"):
            with Vertical(id="main"):
                yield ProgressBar(total=None, show_eta=False, id="progress")
                yield Static("", id="progress-text", classes="note", markup=False)
                yield RichLog(id="log", wrap=True, markup=False, highlight=False)
                yield Static("", id="status", classes="status", markup=False)
            yield VerticalScroll(id="entries")
        yield Footer()

    def on_mount(self) -> None:
        for widget in ("#rehearsal", "#fingerprint", "#run"):
            self.query_one(widget).display = False
        self.query_one("#out", Input).focus()

    # -- the form

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "out" and self.resume:  # a ceremony folder names its template
            from keyceremony.ceremony.state import load_state
            from keyceremony.errors import KeyCeremonyError

            try:
                state = load_state(Path(event.value).expanduser()) if event.value.strip() else None
            except (KeyCeremonyError, OSError):
                state = None
            template = self.query_one("#template", Input)
            if state is not None and not template.value:
                template.value = state.template_source

    def on_input_submitted(self, event: Input.Submitted) -> None:
        order = ["out", "template", "answers"]
        for name in order:
            if not self.query_one(f"#{name}", Input).value.strip():
                self.query_one(f"#{name}", Input).focus()
                return
        self.action_start()

    def action_start(self) -> None:
        if self.running or self.outcome == "sealed":
            return
        values = {n: self.query_one(f"#{n}", Input).value.strip() for n in ("out", "template", "answers")}
        missing = [n for n, v in values.items() if not v]
        if missing:
            self.query_one(f"#{missing[0]}", Input).focus()
            return
        self.running, self.outcome, self._pause_asked, self.engine = True, None, False, None
        self.query_one("#form").display = False
        self.query_one("#run").display = True
        self.set_focus(None)  # single-letter keys (p, e) work while the ceremony runs
        self._status("Running. p pauses at the next safe point; e shows or hides the transcript entries.")
        self._run(values["template"], values["answers"], Path(values["out"]).expanduser())

    def action_back(self) -> None:
        if self.running:
            self._status("The ceremony is running: press p to pause it first.")
            return
        self.app.pop_screen()

    def action_pause(self) -> None:
        if not self.running:
            return
        self._pause_asked = True
        if self.engine is not None:
            self.engine.cancel()
        self._status("Pausing: the ceremony stops at the next safe point (between cards, before a step) ...")

    def action_toggle_entries(self) -> None:
        panel = self.query_one("#entries")
        panel.display = not panel.display

    # -- the worker: the engine's one thread

    @work(thread=True, exclusive=True, group="ceremony")
    def _run(self, template_name: str, answers_path: str, out: Path) -> None:
        from keyceremony.ceremony.adapters import FileCardScanner, PdfCardPrinter, SoftKeys
        from keyceremony.ceremony.answers import AnswersPrompter, load_answers
        from keyceremony.ceremony.engine import CeremonyEngine, CeremonyOptions
        from keyceremony.ceremony.ports import Ports
        from keyceremony.ceremony.state import CARDS_DIR
        from keyceremony.ceremony.template import load_template
        from keyceremony.errors import CeremonyCancelled, KeyCeremonyError, UsageError
        from keyceremony.tui.driver import ScreenPrompter

        post = self.app.call_from_thread
        try:
            template = load_template(template_name)
            answers = load_answers(answers_path, template)
            post(self._opened, template, answers)
            if answers.hsm.backend != "soft":
                raise UsageError(
                    "the answers ask for the PKCS#11 back end, which the terminal UI does not run yet "
                    "(docs/tui.md §6); run this ceremony with `keyceremony run`"
                )
            prompter = ScreenPrompter(
                AnswersPrompter(answers, template, say=lambda text: None),
                announce=lambda a: post(self._announce, a),
                answered=lambda method, request, line: post(self._say, line),
            )
            ports = Ports(
                prompter=prompter,
                keys=SoftKeys(),
                host=self.app.host_facts(),  # type: ignore[attr-defined]
                printer=PdfCardPrinter(out / CARDS_DIR, paper=getattr(template.parameters, "paper", "a4")),
                scanner=FileCardScanner(),
                on_entry=lambda step_id, entry: post(self._entry, entry),
                on_progress=lambda progress: post(self._progress, progress),
            )
            options = CeremonyOptions(answers.title, answers.location, answers.rehearsal, answers.sha256,
                                      answers.anchors)  # fmt: skip
            engine = CeremonyEngine(template, out, ports, options)
            self.engine = engine
            if self._pause_asked:
                engine.cancel()
            result = engine.run()
        except CeremonyCancelled as err:
            post(self._ended, "paused", f"{AFTER_PAUSE} ({err})")
        except KeyCeremonyError as err:
            post(self._ended, "failed", f"STOPPED: {err.diagnostics()}. {AFTER_ERROR}")
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            post(self._ended, "failed", f"STOPPED: {where}{err.strerror or err.__class__.__name__}. {AFTER_ERROR}")
        except Exception as err:  # noqa: BLE001 - shown, never a traceback on the custodians' screen
            post(self._ended, "failed", f"STOPPED by an unexpected error ({err.__class__.__name__}: {err}); "
                                        f"this is a bug, please report it. {AFTER_ERROR}")  # fmt: skip
        else:
            post(self._sealed, result)

    # -- what the worker posts (on the app's thread)

    def _opened(self, template: Template, answers: Answers) -> None:
        title = answers.title or template.title
        self._say(f"Ceremony: {title} (template {template.name}, {len(template.steps)} steps)")
        if answers.rehearsal.declared:
            banner = self.query_one("#rehearsal", Static)
            relaxed = ", ".join(answers.rehearsal.warn) or "none"
            kept = "; card files kept" if answers.rehearsal.keep_card_files else ""
            banner.update(f"REHEARSAL (checks relaxed to warn: {relaxed}{kept})")
            banner.display = True

    def _say(self, line: str) -> None:
        self.said.append(line)
        self.query_one("#log", RichLog).write(line)

    def _status(self, line: str) -> None:
        self.query_one("#status", Static).update(line)

    def _announce(self, announcement: Announcement) -> None:
        from keyceremony.ceremony.ports import AnnouncementKind

        kind = announcement.kind
        if kind is AnnouncementKind.STEP and announcement.step is not None:
            info = announcement.step
            self.query_one("#step", Static).update(f"Step {info.number} of {info.total}: {info.title}")
            self._say(f"== {announcement.text}")
        elif kind is AnnouncementKind.FINGERPRINT:
            box = self.query_one("#fingerprint", Static)
            box.update(f"READ ALOUD: {announcement.data.get('hex', '')}\n{announcement.data.get('words', '')}")
            box.display = True
            self._say(announcement.text)
        elif kind is AnnouncementKind.WARNING:
            self._say(f"WARNING: {announcement.text}")
        elif kind is AnnouncementKind.CARD and announcement.data.get("accepted") is False:
            self._say(f"REFUSED: {announcement.text}")
        else:
            self._say(announcement.text)

    def _entry(self, entry: Entry) -> None:
        self.entries.append(entry)
        panel = self.query_one("#entries", VerticalScroll)
        panel.mount(Static(f"{entry.seq:>3} {entry.step}: {entry.event}", markup=False))
        panel.scroll_end(animate=False)

    def _progress(self, progress: Progress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        if progress.total:
            done = progress.done if progress.finished else progress.done - 1
            bar.update(total=progress.total, progress=max(done, 0))
        else:
            bar.update(total=None if not progress.finished else 1, progress=1 if progress.finished else 0)
        self.query_one("#progress-text", Static).update(progress.text)

    def _ended(self, outcome: str, message: str) -> None:
        self.running, self.outcome, self.message = False, outcome, message
        self._status(message)
        self._say(message)

    def _sealed(self, result: CeremonyResult) -> None:
        self.result = result
        self._ended("sealed", f"SEALED. The transcript is verified; the report is {result.report_path}. "
                              "Escape goes back home.")  # fmt: skip
