"""Writing an answers file: :class:`AnswersDraft` and :func:`render_answers` (docs/ceremony-guide.md §9).

The terminal UI's set-up forms fill a draft; :func:`check_draft` renders it as TOML and reads it
back with :func:`~keyceremony.ceremony.answers.parse_answers`, so a form is checked by exactly
the answers file's rules and messages. A failure is a :class:`~keyceremony.errors.SetupError`
naming the form field that holds the offending line (the renderer keeps a line -> field map).
:func:`draft_from_answers` goes the other way, to prefill the forms from an existing file.

A draft never holds a PIN: the answers parser refuses secret-looking keys, and the PIN is asked
for when the ceremony starts, masked, and handed to the key store only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keyceremony.ceremony.answers import Answers, StepAnswers, parse_answers
from keyceremony.ceremony.template import Template
from keyceremony.errors import AnswersError, SetupError

# Form fields, as SetupError.field names them. "people:<role>" is the field of one role's names;
# "steps" and "confirm" are carried through from a loaded file and have no field of their own.
TITLE, LOCATION, BACKEND, MODULE, TOKEN = "title", "location", "backend", "module", "token"
OWNER, CONTACT = "owner", "contact"
REHEARSAL, STEPS, CONFIRM = "rehearsal", "steps", "confirm"
ANCHOR_FIELDS = ("set_fingerprint", "package_fingerprint", "kcv")


def people_field(role: str) -> str:
    return f"people:{role}"


@dataclass
class AnswersDraft:
    """What an answers file holds, as the set-up forms fill it in (texts as typed).

    ``participants``: (name, role) pairs in roll-call order. ``module``, ``token`` and the
    anchors are empty when not given. ``confirm`` and ``steps`` are carried through unchanged
    from a loaded answers file (the ceremony screen asks those questions on the day)."""

    title: str = ""
    location: str = ""
    owner: str = ""  # printed on the cards as whom to tell if one is lost (key generation)
    contact: str = ""
    participants: list[tuple[str, str]] = field(default_factory=list)
    backend: str = "soft"
    module: str = ""
    token: str = ""
    wrap_mechanism: str = ""
    warn: tuple[str, ...] = ()
    keep_card_files: bool = False
    set_fingerprint: str = ""
    package_fingerprint: str = ""
    kcv: str = ""
    confirm: dict[str, bool] = field(default_factory=dict)
    steps: dict[str, StepAnswers] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedAnswers:
    """The TOML text and, for each line that holds a value, the form field it came from."""

    text: str
    fields: Mapping[int, str]

    def field_of(self, line: int | None) -> str | None:
        return None if line is None else self.fields.get(line)


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: JSON's escapes (which TOML shares) plus DEL, and
    apostrophes spelled ``\\u0027`` when three in a row would look like a ''' string to
    :class:`~keyceremony.ceremony.template.KeyLines` (the line finder)."""
    text = json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if "'''" in text:
        text = text.replace("'", "\\u0027")
    return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def toml_text(value: str) -> str:
    """Like :func:`toml_string`, but text with line breaks as a multi-line string, line by line."""
    if "\n" not in value:
        return toml_string(value)
    escaped = toml_string(value)[1:-1]
    lines = re.sub(r"\\\\|\\n", lambda m: "\n" if m.group() == "\\n" else m.group(), escaped)
    return f'"""\n{lines}"""'


def toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.fields: dict[int, str] = {}

    def add(self, line: str, field: str | None = None) -> None:
        self.lines.append(line)
        if field is not None:
            self.fields[len(self.lines)] = field

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")


def render_answers_lines(draft: AnswersDraft, *, header: Sequence[str] = ()) -> RenderedAnswers:
    """The draft as a commented answers file, with the line -> field map. ``header``: comment
    lines to put first (what the file is for, how to run it)."""
    out = _Lines()
    for line in header:
        out.add(f"# {line}".rstrip())
    out.add("# The answers file format: docs/ceremony-guide.md §9. No PIN is ever written here: it comes")
    out.add("# from $KEYCEREMONY_PIN, --pin-file or a prompt (in the terminal UI, a masked field).")
    out.blank()
    out.add("[ceremony]", TITLE)
    if draft.title:
        out.add(f"title = {toml_string(draft.title)}", TITLE)
    if draft.location:
        out.add(f"location = {toml_string(draft.location)}", LOCATION)
    if draft.owner:
        out.add(f"owner = {toml_string(draft.owner)}", OWNER)
    if draft.contact:
        out.add(f"contact = {toml_string(draft.contact)}", CONTACT)
    out.blank()
    out.add("[hsm]", BACKEND)
    out.add(f"backend = {toml_string(draft.backend)}", BACKEND)
    if draft.module:
        out.add(f"module = {toml_string(draft.module)}", MODULE)
    if draft.token:
        out.add(f"token = {toml_string(draft.token)}", TOKEN)
    if draft.wrap_mechanism:
        out.add(f"wrap_mechanism = {toml_string(draft.wrap_mechanism)}", BACKEND)
    if draft.warn or draft.keep_card_files:
        out.blank()
        out.add("# A rehearsal: these checks only warn, and the card files are kept if so. The transcript says so.")
        out.add("[rehearsal]", REHEARSAL)
        out.add(f"warn = {toml_list(draft.warn)}", REHEARSAL)
        out.add(f"keep_card_files = {'true' if draft.keep_card_files else 'false'}", REHEARSAL)
    last_role = None
    for name, role in draft.participants:
        if role != last_role:
            out.blank()
            last_role = role
        where = people_field(role)
        out.add("[[participants]]", where)
        out.add(f"name = {toml_string(name)}", where)
        out.add(f"role = {toml_string(role)}", where)
    anchors = [(k, getattr(draft, k)) for k in ANCHOR_FIELDS if getattr(draft, k)]
    if anchors:
        out.blank()
        out.add("# From the paper log of the ceremony that made the cards.")
        out.add("[anchors]", anchors[0][0])
        for key, value in anchors:
            out.add(f"{key} = {toml_string(value)}", key)
    if draft.confirm:
        out.blank()
        out.add("[confirm]", CONFIRM)
        for key, yes in draft.confirm.items():
            out.add(f"{key} = {'true' if yes else 'false'}", CONFIRM)
    for step_id, step in draft.steps.items():
        out.blank()
        _render_step(out, step_id, step)
    return RenderedAnswers("\n".join(out.lines) + "\n", out.fields)


def _render_step(out: _Lines, step_id: str, step: StepAnswers) -> None:
    out.add(f"[steps.{step_id}]", STEPS)
    if step.present is not None:
        out.add(f"present = {toml_list(step.present)}", STEPS)
    if step.absent:
        out.add(f"absent = {toml_list(step.absent)}", STEPS)
    if step.hand_over:
        out.add("cards = [", STEPS)
        for share, who, bag in step.hand_over:
            bag_part = "" if bag is None else f", bag = {toml_string(bag)}"
            out.add(f"  {{ card = {share}, custodian = {toml_string(who)}{bag_part} }},", STEPS)
        out.add("]", STEPS)
    if step.images:
        pairs = ", ".join(f"{toml_string(str(x))} = {toml_string(str(p))}" for x, p in sorted(step.images.items()))
        out.add(f"images = {{ {pairs} }}", STEPS)
    if step.cards:
        out.add("cards = [", STEPS)
        for card in step.cards:
            parts = [f"file = {toml_string(str(card.path))}"]
            if card.custodian is not None:
                parts.append(f"custodian = {toml_string(card.custodian)}")
            if card.bag is not None:
                parts.append(f"bag = {toml_string(card.bag)}")
            out.add(f"  {{ {', '.join(parts)} }},", STEPS)
        out.add("]", STEPS)


def render_answers(draft: AnswersDraft, *, header: Sequence[str] = ()) -> str:
    """The draft as the text of an answers file that :func:`parse_answers` reads back."""
    return render_answers_lines(draft, header=header).text


def check_draft(
    draft: AnswersDraft, template: Template, *, base: Path | None = None, header: Sequence[str] = ()
) -> Answers:
    """Render the draft and read it back with the answers file's own parser; SetupError names
    the form field of the line the parser complained about."""
    rendered = render_answers_lines(draft, header=header)
    try:
        return parse_answers(rendered.text, template, source="the set-up", base=base)
    except AnswersError as err:
        where = rendered.field_of(err.line)
        if where is None:  # a table the draft left out: no participants, or no anchor where one is required
            where = people_field(template.roles[0].name) if not draft.participants else ANCHOR_FIELDS[0]
        raise SetupError(err.detail, field=where) from None


def split_names(text: str) -> list[str]:
    """The names typed in one role's field: comma-separated, outer spaces dropped, empty ones skipped."""
    return [name.strip() for name in text.split(",") if name.strip()]


def join_names(names: Sequence[str]) -> str:
    return ", ".join(names)


def draft_from_answers(answers: Answers) -> AnswersDraft:
    """A draft holding what an answers file said (paths absolute, ``$VAR`` already expanded)."""
    from keyceremony.codec.fingerprint import format_fingerprint

    anchors = answers.anchors
    return AnswersDraft(
        title=answers.title or "",
        location=answers.location or "",
        owner=answers.owner or "",
        contact=answers.contact or "",
        participants=[(a.name, a.role) for a in answers.participants],
        backend=answers.hsm.backend,
        module=answers.hsm.module or "",
        token=answers.hsm.token or "",
        wrap_mechanism=answers.hsm.wrap_mechanism or "",
        warn=tuple(answers.rehearsal.warn),
        keep_card_files=answers.rehearsal.keep_card_files,
        set_fingerprint=format_fingerprint(anchors.set_fingerprint) if anchors.set_fingerprint else "",
        package_fingerprint=format_fingerprint(anchors.package_fingerprint) if anchors.package_fingerprint else "",
        kcv=anchors.kcv or "",
        confirm=dict(answers.confirm),
        steps=dict(answers.steps),
    )
