"""Run (or resume) a ceremony: from the set-up forms, or from a template and an answers file
(docs/tui.md §3-4).

The engine runs in ONE ``@work(thread=True)`` worker, which calls ``engine.run()`` (start and
every step) and so owns every key-store call, PKCS#11 included (docs/architecture.md §5).

- From the set-up forms (a :class:`~keyceremony.tui.launch.CeremonyLaunch` with
  ``interactive``): the prompter is an :class:`~keyceremony.tui.driver.InteractivePrompter`;
  each request becomes a question panel (``screens/questions.py``) with the set-up's answer as
  its default, and the worker waits for the people in the room.
- From an answers file (the form on this screen): the answers file's
  :class:`~keyceremony.ceremony.answers.AnswersPrompter` answers, wrapped in a
  :class:`~keyceremony.tui.driver.ScreenPrompter` that shows each answer.

Announcements, ``on_entry`` and ``on_progress`` reach the screen through
``app.call_from_thread``. ``p`` pauses: the engine stops at the next unit boundary
(``engine.cancel()``), a waiting question ends; Resume on the home screen continues. A step that
cannot go on opens a dialog with the message and what to do: try again now, or close and
resume later. Never a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, ProgressBar, RichLog, Static

from keyceremony.tui.footer import KeysFooter, TitleBar
from keyceremony.tui.launch import CeremonyLaunch
from keyceremony.tui.screens.questions import Answered, Question
from keyceremony.tui.screens.stopped import Decision

if TYPE_CHECKING:
    from keyceremony.ceremony.answers import Answers
    from keyceremony.ceremony.engine import CeremonyEngine, CeremonyResult
    from keyceremony.ceremony.ports import Announcement, Progress
    from keyceremony.ceremony.template import Template
    from keyceremony.transcript import Entry
    from keyceremony.tui.driver import Reply

CEREMONY_CSS = """
CeremonyScreen #form { height: auto; }
CeremonyScreen #run { height: 1fr; }
CeremonyScreen #main { width: 1fr; }
CeremonyScreen #entries { width: 28; border-left: solid white; padding: 0 1; }
CeremonyScreen #question { height: auto; max-height: 100%; }
CeremonyScreen #fingerprint.small { border: none; color: white; padding: 0 1; }
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
        Binding("ctrl+p", "pause", "Pause", priority=True),  # also while a field has the focus
        Binding("p", "pause", "Pause", show=False),
        Binding("e", "toggle_entries", "Entries"),
    ]

    def __init__(self, *, resume: bool = False, launch: CeremonyLaunch | None = None) -> None:
        super().__init__()
        self.resume = resume
        self.launch = launch
        self.engine: CeremonyEngine | None = None
        self.running = False
        self.outcome: str | None = None  # "sealed", "aborted", "paused" or "failed" once the worker ends
        self.result: CeremonyResult | None = None
        self.message = ""
        self.said: list[str] = []  # every line shown in the log, for people and tests
        self.entries: list[Entry] = []
        self.asked: list[str] = []  # the prompter methods asked on screen, in order
        self.read_aloud: list[tuple[str, str]] = []  # (what, hex) of each fingerprint shown to read aloud
        self._pause_asked = False
        self._stop = threading.Event()  # a pause, or the screen going away: a waiting question ends
        self._reply: Reply | None = None
        self._last_card: str | None = None
        self._typed = 0

    # -- layout

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="form"):
            yield Label("Ceremony folder (new, or the one to resume)" if self.resume else
                        "Ceremony folder (new and empty; the same folder again resumes)", classes="field")
            yield Input(placeholder="folder", id="out")
            yield Label("Template: key-generation, recovery, dr-drill, or a template file", classes="field")
            yield Input(placeholder="template", id="template")
            yield Label("Answers file (TOML); Enter or Ctrl+S starts", classes="field")
            yield Input(placeholder="answers file", id="answers")
            yield Label("Token user PIN: the answers use a PKCS#11 token (masked, never stored)", classes="field",
                        id="pin-label")  # fmt: skip
            yield Input(placeholder="user PIN", id="pin", password=True)
        yield Static("", id="rehearsal", classes="banner", markup=False)
        yield Static("", id="step", classes="status", markup=False)
        yield Static("", id="fingerprint", classes="box", markup=False)
        with Horizontal(id="run"):
            with Vertical(id="main"):
                yield ProgressBar(total=None, show_eta=False, id="progress")
                yield Static("", id="progress-text", classes="note", markup=False)
                yield Vertical(id="question")
                yield RichLog(id="log", wrap=True, markup=False, highlight=False)
                yield Static("", id="status", classes="status", markup=False)
            yield VerticalScroll(id="entries")
        yield KeysFooter()

    def on_mount(self) -> None:
        for widget in ("#rehearsal", "#fingerprint", "#run", "#pin", "#pin-label", "#progress"):
            self.query_one(widget).display = False
        if self.launch is not None:
            self._begin(self.launch)
        else:
            self.query_one("#out", Input).focus()

    def on_unmount(self) -> None:
        """The screen goes away (Ctrl+Q): the engine stops at the next safe point, as after a pause."""
        self._stop.set()
        if self.engine is not None:
            self.engine.cancel()
        self._answer_with_cancel()

    # -- the form (run from an answers file)

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
        if self.running:
            return
        for name in ("out", "template", "answers"):
            if not self.query_one(f"#{name}", Input).value.strip():
                self.query_one(f"#{name}", Input).focus()
                return
        self.action_start()

    def action_start(self) -> None:
        if self.running or self.outcome == "sealed" or self.launch is not None:
            return
        values = {n: self.query_one(f"#{n}", Input).value.strip() for n in ("out", "template", "answers")}
        missing = [n for n, v in values.items() if not v]
        if missing:
            self.query_one(f"#{missing[0]}", Input).focus()
            return
        from keyceremony.errors import KeyCeremonyError

        try:
            launch = self._launch_from_files(values["template"], values["answers"], Path(values["out"]).expanduser())
        except KeyCeremonyError as err:
            self._status(f"{err.diagnostics()}. Correct it, then press Enter again.")
            return
        if launch is not None:
            self._begin(launch)

    def _launch_from_files(self, template_name: str, answers_path: str, out: Path) -> CeremonyLaunch | None:
        """The launch an answers file describes; None while the token's PIN is still to be typed.
        Run (``r``) takes every answer from the file; Resume (``s``) asks on the screen with the
        file's answers as the defaults, as a ceremony set up in the forms (whose saved answers
        hold no confirmations) was run."""
        from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys
        from keyceremony.ceremony.answers import load_answers
        from keyceremony.ceremony.template import load_template
        from keyceremony.errors import UsageError

        template = load_template(template_name)
        answers = load_answers(answers_path, template)
        if answers.hsm.backend == "soft":
            return CeremonyLaunch(template, answers, out, SoftKeys(), interactive=self.resume,
                                  answers_path=Path(answers_path))  # fmt: skip
        if not answers.hsm.module or not answers.hsm.token:
            raise UsageError("the answers ask for a PKCS#11 token: give [hsm] module and token in the answers file")
        pin = self.query_one("#pin", Input)
        if not pin.value:
            for widget in ("#pin", "#pin-label"):
                self.query_one(widget).display = True
            pin.focus()
            self._status(f"Type the user PIN of token '{answers.hsm.token}', then Enter.")
            return None
        keys = Pkcs11Keys(answers.hsm.module, answers.hsm.token, pin.value, wrap_mechanism=answers.hsm.wrap_mechanism)
        pin.value = ""
        return CeremonyLaunch(template, answers, out, keys, interactive=self.resume, answers_path=Path(answers_path))

    def _begin(self, launch: CeremonyLaunch, *, abort: str | None = None) -> None:
        self.launch = launch
        self.running, self.outcome, self._pause_asked, self.engine = True, None, False, None
        self.refresh_bindings()
        self._stop.clear()
        self.query_one("#form").display = False
        self.query_one("#run").display = True
        self.set_focus(None)  # single-letter keys (p, e) work while the ceremony runs
        self._status("Running. Ctrl+P pauses at the next safe point; e shows or hides the transcript entries."
                     if abort is None else "Aborting: the transcript is sealed as ABORTED with the reason given ...")
        self._run(launch, abort)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Start only while the form is shown; pause only while a ceremony runs (the footer follows)."""
        if action == "start":
            return not self.running and self.launch is None and self.outcome != "sealed"
        if action == "pause":
            return self.running
        return True

    def action_back(self) -> None:
        if self.running:
            self._status("The ceremony is running: press p to pause it first.")
            return
        self.app.pop_screen()

    def action_pause(self) -> None:
        if not self.running:
            return
        self._pause_asked = True
        self._stop.set()
        if self.engine is not None:
            self.engine.cancel()
        self._status("Pausing: the ceremony stops at the next safe point (between cards, before a step) ...")

    def action_toggle_entries(self) -> None:
        panel = self.query_one("#entries")
        panel.display = not panel.display

    # -- the worker: the engine's one thread

    @work(thread=True, exclusive=True, group="ceremony")
    def _run(self, launch: CeremonyLaunch, abort: str | None = None) -> None:
        from keyceremony.ceremony.adapters import FileCardScanner, PdfCardPrinter
        from keyceremony.ceremony.answers import AnswersPrompter
        from keyceremony.ceremony.engine import CeremonyEngine, CeremonyOptions
        from keyceremony.ceremony.ports import Ports, Prompter
        from keyceremony.ceremony.state import CARDS_DIR
        from keyceremony.errors import CeremonyCancelled, KeyCeremonyError
        from keyceremony.tui.driver import InteractivePrompter, ScreenPrompter

        app = self.app

        def post(callback: Callable[..., object], *args: object) -> None:
            """Run ``callback`` on the app's thread; nothing once the app has closed (Ctrl+Q)."""
            try:
                app.call_from_thread(callback, *args)
            except RuntimeError:  # the app is gone; the engine stops at its next safe point
                self._stop.set()

        template, answers, out = launch.template, launch.answers, launch.out
        try:
            post(self._opened, template, answers)
            recorded = AnswersPrompter(answers, template, say=lambda text: None)
            prompter: Prompter
            if launch.interactive:
                prompter = InteractivePrompter(
                    show=lambda method, request, default, reply: post(self._ask, method, request, default, reply),
                    announce=lambda a: post(self._announce, a),
                    stop=self._stop,
                    defaults=recorded,
                )
            else:
                prompter = ScreenPrompter(
                    recorded,
                    announce=lambda a: post(self._announce, a),
                    answered=lambda method, request, line: post(self._say, line),
                )
            ports = Ports(
                prompter=prompter,
                keys=launch.keys,
                host=self.app.host_facts(),  # type: ignore[attr-defined]
                printer=PdfCardPrinter(out / CARDS_DIR, paper=getattr(template.parameters, "paper", "a4")),
                scanner=FileCardScanner(),
                on_entry=lambda step_id, entry: post(self._entry, entry),
                on_progress=lambda progress: post(self._progress, progress),
            )
            options = CeremonyOptions(answers.title, answers.location, answers.rehearsal, answers.sha256,
                                      answers.anchors, owner=answers.owner, contact=answers.contact)  # fmt: skip
            engine = CeremonyEngine(template, out, ports, options)
            self.engine = engine
            if self._pause_asked:
                engine.cancel()
            result = engine.run() if abort is None else engine.abort(abort)
        except CeremonyCancelled as err:
            post(self._ended, "paused", f"{AFTER_PAUSE} ({err})")
        except KeyCeremonyError as err:
            post(self._failed, f"{err.diagnostics()}.")
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            post(self._failed, f"{where}{err.strerror or err.__class__.__name__}.")
        except Exception as err:  # noqa: BLE001 - shown, never a traceback on the custodians' screen
            post(self._failed, f"an unexpected error ({err.__class__.__name__}: {err}); this is a bug, please "
                               "report it.")  # fmt: skip
        else:
            post(self._sealed, result)

    # -- questions (on the app's thread)

    def _ask(self, method: str, request: object, default: object, reply: Reply) -> None:
        from keyceremony.tui.screens import questions as q

        if not self.running or self._stop.is_set():
            from keyceremony.tui.driver import CANCEL

            reply(CANCEL)
            return
        assert self.launch is not None
        template = self.launch.template
        titles = {role.name: role.title for role in template.roles}
        panel: Question
        if method == "roll_call":
            panel = q.RollCallPanel(request, self.launch.answers.participants, default)  # type: ignore[arg-type]
        elif method == "attendance":
            panel = q.AttendancePanel(request, default, titles)  # type: ignore[arg-type]
        elif method == "confirm":
            panel = q.ConfirmPanel(request)  # type: ignore[arg-type]
        elif method == "card_holders":
            panel = q.CardHoldersPanel(request, default)  # type: ignore[arg-type]
        elif method == "hand_over":
            panel = q.HandOverPanel(request, default)  # type: ignore[arg-type]
        elif method == "scan_back":
            panel = q.ScanBackPanel(request, default)  # type: ignore[arg-type]
        else:
            panel = q.PresentCardsPanel(request, default, expected=self._expected_set(),  # type: ignore[arg-type]
                                        last=self._last_card, typed_count=self._typed)  # fmt: skip
        self.asked.append(method)
        self._reply = reply
        area = self.query_one("#question", Vertical)
        area.remove_children()
        self.query_one("#log", RichLog).display = False
        area.mount(panel)  # the panel takes the focus once it is shown

    def _expected_set(self) -> str | None:
        from keyceremony.codec.fingerprint import format_fingerprint

        anchors = self.launch.answers.anchors if self.launch is not None else None
        if anchors is None or anchors.set_fingerprint is None:
            return None
        return format_fingerprint(anchors.set_fingerprint)

    def on_answered(self, event: Answered) -> None:
        event.stop()
        reply, self._reply = self._reply, None
        if isinstance(event.answer, list) and any(getattr(c, "text", None) for c in event.answer):
            self._typed += 1
        self._clear_question()
        self.set_focus(None)
        if reply is not None:
            reply(event.answer)

    def _clear_question(self) -> None:
        self.query_one("#question", Vertical).remove_children()
        self.query_one("#log", RichLog).display = True

    def _answer_with_cancel(self) -> None:
        from keyceremony.tui.driver import CANCEL

        reply, self._reply = self._reply, None
        if reply is not None:
            reply(CANCEL)

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
            # what to check, as the template words it, under the step's title
            what = f"\n{info.instructions}" if info.instructions else ""
            self.query_one("#step", Static).update(f"Step {info.number} of {info.total}: {info.title}{what}")
            if self.read_aloud:  # read aloud at an earlier step: one line from now on
                what, hex_ = self.read_aloud[-1]
                box = self.query_one("#fingerprint", Static)
                box.add_class("small")
                box.update(f"{what.capitalize()} fingerprint (read aloud): {hex_}")
            self._say(f"== {announcement.text}")
        elif kind is AnnouncementKind.FINGERPRINT:
            box = self.query_one("#fingerprint", Static)
            what, hex_ = str(announcement.data.get("what", "")), str(announcement.data.get("hex", ""))
            self.read_aloud.append((what, hex_))
            box.border_title = f"READ ALOUD: the {what} fingerprint"
            box.update(f"{hex_}\n{announcement.data.get('words', '')}")
            box.remove_class("small")
            box.display = True
            self._say(announcement.text)
        elif kind is AnnouncementKind.WARNING:
            self._say(f"WARNING: {announcement.text}")
        elif kind is AnnouncementKind.CARD:
            accepted = announcement.data.get("accepted") is not False
            self._last_card = ("ACCEPTED: " if accepted else "REFUSED: ") + announcement.text
            self._say(self._last_card)
        else:
            self._say(announcement.text)

    def _entry(self, entry: Entry) -> None:
        self.entries.append(entry)
        panel = self.query_one("#entries", VerticalScroll)
        panel.mount(Static(f"{entry.seq:>3} {entry.step}: {entry.event}", markup=False))
        panel.scroll_end(animate=False)

    def _progress(self, progress: Progress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True  # hidden until there is work to count (an idle bar would animate)
        if progress.total:
            done = progress.done if progress.finished else progress.done - 1
            bar.update(total=progress.total, progress=max(done, 0))
        else:
            bar.update(total=None if not progress.finished else 1, progress=1 if progress.finished else 0)
        self.query_one("#progress-text", Static).update(progress.text)

    def _ended(self, outcome: str, message: str) -> None:
        self.running, self.outcome, self.message = False, outcome, message
        self.refresh_bindings()
        self._reply = None
        self._clear_question()
        self._status(message)
        self._say(message)

    def _failed(self, problem: str) -> None:
        from keyceremony.tui.screens.stopped import StoppedDialog

        self._ended("failed", f"STOPPED: {problem} {AFTER_ERROR}")
        assert self.launch is not None
        self.app.push_screen(StoppedDialog(problem, needs_pin=self.launch.keys.kind == "pkcs11"), self._after_dialog)

    def _after_dialog(self, decision: Decision | None) -> None:
        """The dialog's answer: None closes it (resume later); try again now, or abort."""
        if decision is None or self.launch is None:
            return
        keys = self.launch.keys
        if keys.kind == "pkcs11":
            from keyceremony.ceremony.adapters import Pkcs11Keys

            assert isinstance(keys, Pkcs11Keys)
            keys = keys.with_pin(decision.pin)
        launch = CeremonyLaunch(self.launch.template, self.launch.answers, self.launch.out, keys,
                                self.launch.interactive, self.launch.answers_path)  # fmt: skip
        self._begin(launch, abort=decision.reason if decision.action == "abort" else None)

    def _sealed(self, result: CeremonyResult) -> None:
        self.result = result
        if result.verified.aborted is not None:
            self._ended("aborted", f"ABORTED and SEALED: {result.verified.aborted}. The transcript is verified; "
                                   f"the report is {result.report_path}. Escape goes back home.")  # fmt: skip
            return
        self._ended("sealed", f"SEALED. The transcript is verified; the report is {result.report_path}. "
                              "Escape goes back home.")  # fmt: skip
