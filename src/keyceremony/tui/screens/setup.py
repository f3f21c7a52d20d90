"""Set up a new ceremony in one form instead of an answers file (docs/tui.md §2).

One scrollable form for the chosen template: the folder, the rehearsal box, title and location,
the people by role, the key's parameters (key generation) or the anchors from the paper log
(recovery, drill), the key store (soft, or a PKCS#11 token with its PIN typed masked), and the
file to save the set-up as. The rules are the ceremony layer's (:mod:`keyceremony.ceremony.setup`):
each change is checked there, and the message shows under the field it names (once that field
was touched) and in the line at the bottom. ``Ctrl+S`` saves the answers file (and a derived
template when the parameters changed); ``Ctrl+R``, or Enter on the last field, saves and starts
the ceremony. The PIN is read from its field only then, handed to the key store, and cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from keyceremony.ceremony.setup import SetupFields, default_answers_path, default_fields, describe_rehearsal
from keyceremony.errors import SetupError
from keyceremony.tui.footer import KeysFooter, TitleBar

if TYPE_CHECKING:
    from keyceremony.ceremony.answers_writer import AnswersDraft
    from keyceremony.ceremony.ports import KeyBackendFactory
    from keyceremony.ceremony.setup import SavedSetup, SetupPlan
    from keyceremony.ceremony.template import Role, Template
    from keyceremony.tui.launch import CeremonyLaunch

SETUP_CSS = """
SetupScreen #form { height: 1fr; }
SetupScreen .row { height: auto; }
SetupScreen .row Label { width: 28; padding: 1 1 0 1; text-style: bold; }
SetupScreen .row Input, SetupScreen .row Select, SetupScreen .row Checkbox { width: 1fr; }
SetupScreen .error { padding: 0 1 0 29; text-style: bold; background: white; color: black; }
SetupScreen #status { height: auto; max-height: 3; border-top: solid white; }
SetupScreen Checkbox { border: tall white; background: black; }
SetupScreen Checkbox:focus { border: tall yellow; }
"""

PKCS11_FIELDS = ("module", "token", "pin")
KEY_STORES = [("soft: software, in memory (no HSM)", "soft"), ("pkcs11: an HSM token", "pkcs11")]


def _slug(field: str) -> str:
    return field.replace(":", "-").replace("_", "-")


def _role_label(role: Role) -> str:
    if role.max is not None and role.max == role.min:
        count = str(role.min)
    elif role.max is not None:
        count = f"{role.min} to {role.max}"
    else:
        count = "optional" if role.min == 0 else f"{role.min} or more"
    return f"{role.title} ({count})"


class SetupScreen(Screen[None]):
    DEFAULT_CSS = SETUP_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+r", "start", "Save and start", priority=True),
        Binding("ctrl+o", "load", "Load answers", priority=True),
        Binding("escape", "back", "Home"),
    ]

    def __init__(self, template: Template, *, template_ref: str) -> None:
        super().__init__()
        self.template = template
        self.template_ref = template_ref
        self.carried: AnswersDraft | None = None  # a loaded answers file: its step answers are kept
        self.labels: dict[str, str] = {}  # field -> its label, for messages
        self.touched: set[str] = set()
        self.problem: SetupError | None = None
        self.plan: SetupPlan | None = None
        self._replace: tuple[str, str | None] | None = None  # the texts a second save may replace with
        self._show_all = False  # after a save or start: show every field's message
        self._shown: tuple[str, str] | None = None  # (field, message) shown under a field
        self._status_text = ""

    # -- layout

    def compose(self) -> ComposeResult:
        t = self.template
        form = default_fields(t)
        yield TitleBar()
        with VerticalScroll(id="form"):
            yield Static(f"New ceremony from the template '{t.name}' v{t.version}: {t.title}", classes="hint",
                         markup=False)  # fmt: skip
            yield from self._row("load", "Load answers file", Input(placeholder="answers file; Enter loads it"))
            yield from self._row("folder", "Ceremony folder", Input(placeholder="a new folder"))
            if describe_rehearsal(t) is not None:
                yield from self._row("rehearsal", "Rehearsal", Checkbox(self._rehearsal_label(form.rehearsal)))
            yield from self._row("title", "Title", Input(placeholder=t.title))
            yield from self._row("location", "Location", Input(placeholder="optional"))
            for role in t.roles:
                yield from self._row(f"people:{role.name}", _role_label(role),
                                     Input(placeholder="names, comma-separated"))  # fmt: skip
            if t.kind == "key-generation":
                from keyceremony.ceremony.template import ALGORITHMS, PAPERS

                yield from self._row("threshold", "Threshold (cards needed)", Input(form.threshold, type="integer"))
                yield from self._row("shares", "Shares (cards made)", Input(form.shares, type="integer"))
                yield from self._row("key_label", "Key label", Input(form.key_label))
                yield from self._row("algorithm", "Algorithm", Select([(a, a) for a in ALGORITHMS],
                                                                      value=form.algorithm, allow_blank=False))
                yield from self._row("paper", "Paper", Select([(p, p) for p in PAPERS], value=form.paper,
                                                              allow_blank=False))  # fmt: skip
                yield from self._row("owner", "Key owner", Input(placeholder="optional: on the cards, whom to tell"))
                yield from self._row("contact", "Owner's contact", Input(placeholder="optional: telephone, e-mail"))
            else:
                hint = "from the paper log: 32 hex digits or 16 words"
                yield from self._row("set_fingerprint", "Set fingerprint", Input(placeholder=hint))
                yield from self._row("package_fingerprint", "Package fingerprint", Input(placeholder=hint))
                yield from self._row("kcv", "Key check value", Input(placeholder="from the paper log: 6 hex digits"))
            yield from self._row("backend", "Key store", Select(KEY_STORES, value=form.backend, allow_blank=False))
            yield from self._row("module", "PKCS#11 module", Input(form.module, placeholder="path of the library"))
            yield from self._row("token", "Token label", Input(placeholder="the token's label"))
            yield from self._row("pin", "PIN", Input(password=True, placeholder="typed masked; never saved"))
            yield from self._row("save_as", "Save set-up as", Input(placeholder="<folder>-answers.toml"))
        yield Static("", id="status", classes="status", markup=False)
        yield KeysFooter()

    def _row(self, field: str, label: str, widget: Widget) -> ComposeResult:
        self.labels[field] = label
        widget.id = _slug(field)
        with Vertical(classes="row", id=f"row-{_slug(field)}"):
            with Horizontal(classes="row"):
                yield Label(label)
                yield widget
            yield Static("", id=f"error-{_slug(field)}", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#row-load").display = False
        self._show_pkcs11(default_fields(self.template).backend == "pkcs11")
        for error in self.query(".error"):
            error.display = False
        self.query_one("#folder", Input).focus()
        self.check()

    # -- reading and filling the form

    def _value(self, field: str) -> str:
        matches = self.query(f"#{_slug(field)}")
        if not matches:
            return ""
        widget = matches.first()
        if isinstance(widget, Input):
            return widget.value
        if isinstance(widget, Select):
            return str(widget.value)
        return ""

    def fields(self) -> SetupFields:
        """What the form holds now (never the PIN)."""
        rehearsal = self.query("#rehearsal")
        return SetupFields(
            folder=self._value("folder"), title=self._value("title"), location=self._value("location"),
            owner=self._value("owner"), contact=self._value("contact"),
            people={r.name: self._value(f"people:{r.name}") for r in self.template.roles},
            backend=self._value("backend"),
            module=self._value("module"), token=self._value("token"),
            rehearsal=bool(rehearsal) and rehearsal.first(Checkbox).value,
            set_fingerprint=self._value("set_fingerprint"), package_fingerprint=self._value("package_fingerprint"),
            kcv=self._value("kcv"), key_label=self._value("key_label"), algorithm=self._value("algorithm"),
            threshold=self._value("threshold"), shares=self._value("shares"), paper=self._value("paper"),
            save_as=self._value("save_as"),
        )  # fmt: skip

    def fill(self, fields: SetupFields) -> None:
        """Put ``fields`` in the form (a loaded answers file)."""
        texts = {"title": fields.title, "location": fields.location, "module": fields.module, "token": fields.token,
                 "owner": fields.owner, "contact": fields.contact,
                 "set_fingerprint": fields.set_fingerprint, "package_fingerprint": fields.package_fingerprint,
                 "kcv": fields.kcv, **{f"people:{r}": names for r, names in fields.people.items()}}  # fmt: skip
        for field, text in texts.items():
            for widget in self.query(f"#{_slug(field)}").results(Input):
                widget.value = text
        for box in self.query("#rehearsal").results(Checkbox):
            box.value = fields.rehearsal
        self.query_one("#backend", Select).value = fields.backend
        self._show_pkcs11(fields.backend == "pkcs11")

    def _rehearsal_label(self, on: bool) -> str:
        """The box's state in words (its mark differs only by colour)."""
        return f"YES: {describe_rehearsal(self.template)}" if on else "no: a real ceremony (Space: yes)"

    def _show_pkcs11(self, shown: bool) -> None:
        for field in PKCS11_FIELDS:
            self.query_one(f"#row-{_slug(field)}").display = shown

    # -- checking as the form is filled

    def _field_of(self, widget: Widget | None) -> str | None:
        while widget is not None:
            if widget.id and widget.has_class("row") and widget.id.startswith("row-"):
                slug = widget.id[len("row-") :]
                return next((f for f in self.labels if _slug(f) == slug), None)
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        return None

    def _touch(self, widget: Widget | None) -> None:
        field = self._field_of(widget)
        if field is not None and field not in ("load", "pin"):
            self.touched.add(field)

    def check(self) -> SetupPlan | None:
        """Check the form with the ceremony layer; show the first problem. The plan, or None."""
        from keyceremony.ceremony.setup import check_setup, check_start

        folder = self._value("folder").strip()
        save_as = self.query_one("#save-as", Input)
        hint = str(default_answers_path(Path(folder).expanduser())) if folder else "<folder>-answers.toml"
        if save_as.placeholder != hint:
            save_as.placeholder = hint
        self.problem = self.plan = None
        try:
            plan = check_setup(self.fields(), self.template, template_ref=self.template_ref, carried=self.carried)
            check_start(plan)
        except SetupError as err:
            self.problem = err
            self._show(err)
            return None
        self.plan = plan
        self._show(None)
        derived = f" and the derived template {plan.template_path.name}" if plan.template_path else ""
        self._status(f"Ready. Ctrl+S saves {plan.answers_path.name}{derived} beside the folder; Ctrl+R saves "
                     "and starts the ceremony.")  # fmt: skip
        return plan

    def _show(self, problem: SetupError | None) -> None:
        """The problem under its field (once touched) and in the status line; None clears them."""
        field = problem.field if problem is not None else None
        shown = None
        if problem is not None and field in self.labels and (field in self.touched or self._show_all):
            shown = (field, problem.detail)
        if shown != self._shown:
            if self._shown is not None:
                self.query_one(f"#error-{_slug(self._shown[0])}").display = False
            if shown is not None:
                error = self.query_one(f"#error-{_slug(shown[0])}", Static)
                error.update(shown[1])
                error.display = True
            self._shown = shown
        if problem is not None:
            label = self.labels.get(field or "", "The set-up" if field is None else "Step answers (loaded)")
            self._status(f"{label}: {problem.detail}")

    def _status(self, text: str) -> None:
        if text != self._status_text:
            self._status_text = text
            self.query_one("#status", Static).update(text)

    def _stop_at(self, problem: SetupError) -> None:
        """After Ctrl+S or Ctrl+R: show the problem under its field, and go there."""
        self._show_all = True
        self.problem = problem
        self._show(problem)
        if problem.field is not None and problem.field in self.labels:
            row = self.query_one(f"#row-{_slug(problem.field)}")
            if row.display:
                self.query_one(f"#{_slug(problem.field)}").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("load", "pin"):
            return
        if event.input.has_focus:
            self._touch(event.input)
        self._replace = None
        self.check()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = self._rehearsal_label(event.value)
        self._touch(event.checkbox)
        self.check()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "backend":
            self._show_pkcs11(event.value == "pkcs11")
        self._touch(event.select)
        self.check()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._touch(event.widget)
        if self.problem is not None:
            self._show(self.problem)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "load":
            self.load(event.value)
        elif event.input.id == "save-as":
            self.action_start()
        else:
            self.focus_next()

    # -- actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_load(self) -> None:
        row = self.query_one("#row-load")
        row.display = not row.display
        if row.display:
            self.query_one("#load", Input).focus()

    def load(self, path: str) -> None:
        """Prefill the form from an answers file (checked against this template)."""
        from keyceremony.ceremony.answers import load_answers
        from keyceremony.ceremony.answers_writer import draft_from_answers
        from keyceremony.ceremony.setup import fields_from_draft
        from keyceremony.errors import KeyCeremonyError

        error = self.query_one("#error-load", Static)
        try:
            draft = draft_from_answers(load_answers(Path(path.strip()).expanduser(), self.template))
            fields = fields_from_draft(draft, self.template, self.fields())
        except KeyCeremonyError as err:
            error.update(f"{err}")
            error.display = True
            self._status(f"Not loaded: {err}")
            return
        error.display = False
        self.carried = draft
        self.fill(fields)
        self.query_one("#row-load").display = False
        self.query_one("#folder", Input).focus()
        plan = self.check()
        if plan is not None:
            self._status(f"Loaded {path.strip()}; its step answers are kept. Ctrl+S saves, Ctrl+R starts.")

    def _save(self, *, pin: str | None) -> tuple[SetupPlan, SavedSetup, KeyBackendFactory | None] | None:
        """Check (and for a start, build the key store), then save; None after a problem."""
        from keyceremony.ceremony.setup import WouldReplace, check_setup, check_start, make_keys, save_setup

        token: tuple[str, str | None] | None = None
        try:
            plan = check_setup(self.fields(), self.template, template_ref=self.template_ref, carried=self.carried)
            keys: KeyBackendFactory | None = None
            if pin is not None:
                check_start(plan)
                keys = make_keys(plan, pin)
            token = (plan.answers_text, plan.template_text)
            saved = save_setup(plan, replace=self._replace == token)
        except WouldReplace as err:
            self._replace = token  # the same texts saved again replace the files
            self._stop_at(err)
            return None
        except SetupError as err:
            self._stop_at(err)
            return None
        self._replace = None
        return plan, saved, keys

    def action_save(self) -> None:
        done = self._save(pin=None)
        if done is None:
            return
        plan = done[0]
        derived = f" and {plan.template_path}" if plan.template_path else ""
        self._status(f"Saved {plan.answers_path}{derived}. Without the UI: {plan.run_command()}")

    def action_start(self) -> None:
        from keyceremony.tui.launch import CeremonyLaunch

        pin_field = self.query_one("#pin", Input)
        done = self._save(pin=pin_field.value)
        if done is None:
            return
        plan, saved, keys = done
        pin_field.value = ""  # the key store holds the PIN now, until it opens the token
        assert keys is not None
        self.start_ceremony(CeremonyLaunch(saved.template, saved.answers, plan.folder, keys, interactive=True,
                                           answers_path=saved.answers_path))  # fmt: skip

    def start_ceremony(self, launch: CeremonyLaunch) -> None:
        """Hand the set-up to the ceremony screen, which starts it at once (tests capture it here).
        Escape there comes back to this form, filled in (after a wrong PIN, say)."""
        from keyceremony.tui.screens import ceremony

        make: Callable[..., Screen[None]] = ceremony.CeremonyScreen
        self.app.push_screen(make(launch=launch))

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.check()  # the folder holds a ceremony now, or is still empty
