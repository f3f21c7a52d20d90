"""Setting up a new ceremony in forms: from the fields typed to a saved answers file (docs/tui.md §2).

The terminal UI's set-up screen collects :class:`SetupFields` (texts as typed; never the PIN)
and calls, in order:

- :func:`check_setup`: the folder, the file to save, the template's parameters (a derived
  template when they changed, :mod:`.template_writer`) and the answers (rendered and read back
  by the answers file's parser, :mod:`.answers_writer`), giving a :class:`SetupPlan`;
- :func:`check_start`: what the day needs beyond a valid file (enough people in each role for
  the roll call, names and label the cards can print, the PKCS#11 module and token);
- :func:`save_setup`: the answers file (and the derived template) written atomically, never
  replacing a different file unless asked again; :func:`make_keys`: the key store, with the PIN.

Every refusal is a :class:`~keyceremony.errors.SetupError` naming the form field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from keyceremony.ceremony.answers import Answers
from keyceremony.ceremony.answers_writer import (
    ANCHOR_FIELDS,
    AnswersDraft,
    check_draft,
    join_names,
    people_field,
    render_answers,
    split_names,
)
from keyceremony.ceremony.template import CUSTODIAN, KeyGenerationParameters, Template
from keyceremony.ceremony.template_writer import check_parameters
from keyceremony.errors import KeyCeremonyError, SetupError

if TYPE_CHECKING:
    from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys

MODULE_ENV = "PKCS11_MODULE"  # as for `keyceremony run`
STATE_FILE = "state.json"
BACKENDS = ("soft", "pkcs11")


@dataclass(frozen=True)
class SetupFields:
    """The set-up form as typed. ``people``: role name -> that role's names, comma-separated.
    ``threshold`` to ``paper`` matter for key-generation templates only; the anchors for
    recovery and drills. ``save_as`` empty: beside the folder, ``<folder>-answers.toml``."""

    folder: str = ""
    title: str = ""
    location: str = ""
    owner: str = ""  # key generation: printed on the cards as whom to tell if one is lost
    contact: str = ""
    people: Mapping[str, str] = field(default_factory=dict)
    backend: str = "soft"
    module: str = ""
    token: str = ""
    rehearsal: bool = False
    set_fingerprint: str = ""
    package_fingerprint: str = ""
    kcv: str = ""
    key_label: str = ""
    algorithm: str = ""
    threshold: str = ""
    shares: str = ""
    paper: str = ""
    save_as: str = ""


def default_fields(template: Template) -> SetupFields:
    """An empty form for ``template``: its parameters, and the key store: the PKCS#11 module
    ``$PKCS11_MODULE`` names (a ceremony laptop set up for its HSM), else the soft one."""
    params = template.parameters
    module = os.environ.get(MODULE_ENV, "")
    fields = SetupFields(people={r.name: "" for r in template.roles}, module=module,
                         backend="pkcs11" if module else "soft")  # fmt: skip
    if isinstance(params, KeyGenerationParameters):
        fields = replace(fields, key_label=params.key_label, algorithm=params.algorithm,
                         threshold=str(params.threshold), shares=str(params.shares), paper=params.paper)  # fmt: skip
    return fields


def fields_from_draft(draft: AnswersDraft, template: Template, form: SetupFields) -> SetupFields:
    """``form`` with what a loaded answers file says (folder, file name and parameters stay)."""
    people: dict[str, list[str]] = {r.name: [] for r in template.roles}
    for name, role in draft.participants:
        if "," in name:
            raise SetupError(
                f"the answers name {name!r}, with a comma, and the form separates names with commas: run that "
                "answers file as it is (Run on the home screen), or write the name without a comma",
                field=people_field(role),
            )
        people.setdefault(role, []).append(name)
    return replace(
        form, title=draft.title, location=draft.location, owner=draft.owner, contact=draft.contact,
        people={r: join_names(n) for r, n in people.items()},
        backend=draft.backend, module=draft.module or form.module, token=draft.token,
        rehearsal=bool(draft.warn or draft.keep_card_files), set_fingerprint=draft.set_fingerprint,
        package_fingerprint=draft.package_fingerprint, kcv=draft.kcv,
    )  # fmt: skip


def describe_rehearsal(template: Template) -> str | None:
    """What the form's rehearsal box relaxes, in words; None if the template allows nothing."""
    policy = template.rehearsal
    parts = []
    if policy.may_warn:
        parts.append(f"{'/'.join(policy.may_warn)} only warn")
    if policy.may_keep_card_files:
        parts.append("card files kept")
    return "; ".join(parts) or None


@dataclass(frozen=True)
class SetupPlan:
    """A checked set-up, ready to save. ``template``: what runs (the derived template when the
    parameters changed, ``template_text`` its TOML); ``template_ref``: the template chosen, as
    a bundled name or a path."""

    template: Template
    template_ref: str
    template_text: str | None
    folder: Path
    answers_path: Path
    template_path: Path | None
    draft: AnswersDraft
    answers_text: str
    answers: Answers

    def run_command(self) -> str:
        """How to run this set-up without the UI."""
        template = str(self.template_path) if self.template_path else self.template_ref
        return f"keyceremony run {template} --answers {self.answers_path} --out {self.folder}"


def default_answers_path(folder: Path) -> Path:
    """``<folder>-answers.toml``, beside the folder."""
    return folder.parent / f"{folder.name or 'ceremony'}-answers.toml"


def derived_template_path(answers_path: Path) -> Path:
    name = answers_path.name
    stem = name[: -len("-answers.toml")] if name.endswith("-answers.toml") else answers_path.stem
    return answers_path.with_name(f"{stem}-template.toml")


def check_folder(text: str) -> Path:
    """The ceremony folder: new, or an empty folder."""
    if not text.strip():
        raise SetupError("type the path of a new (or empty) folder: it will hold the transcript, the state and "
                         "the cards", field="folder")  # fmt: skip
    folder = Path(text.strip()).expanduser().absolute()
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise SetupError(f"{part} is a file, not a folder: give a new folder", field="folder")
            break
    if folder.is_dir() and (folder / STATE_FILE).exists():
        raise SetupError(f"{folder} holds a ceremony already: give a new folder, or choose Resume on the home "
                         "screen to continue that one", field="folder")  # fmt: skip
    if folder.is_dir() and any(folder.iterdir()):
        raise SetupError(f"{folder} is not empty: give a new or empty folder", field="folder")
    return folder


def check_save_path(text: str, folder: Path) -> Path:
    from keyceremony.atomic_file import UnsafeOutputPath, check_output_path

    path = Path(text.strip()).expanduser().absolute() if text.strip() else default_answers_path(folder)
    if path == folder or folder in path.parents:
        raise SetupError(f"save the set-up beside the ceremony folder, not in it ({folder} must stay empty "
                         "until the ceremony starts)", field="save_as")  # fmt: skip
    for target in (path, derived_template_path(path)):
        try:
            check_output_path(target)
        except UnsafeOutputPath as err:
            raise SetupError(f"{target} {err.strerror}", field="save_as") from None
    return path


def check_setup(
    fields: SetupFields, template: Template, *, template_ref: str, carried: AnswersDraft | None = None
) -> SetupPlan:
    """Check the form and build what would be saved; SetupError names the first field that is wrong.

    ``carried``: a loaded answers file, whose confirmations, step answers, wrap mechanism and
    exact rehearsal (when the box is ticked) are kept."""
    folder = check_folder(fields.folder)
    answers_path = check_save_path(fields.save_as, folder)
    run_template, template_text = template, None
    if isinstance(template.parameters, KeyGenerationParameters):
        run_template, template_text = check_parameters(
            template, key_label=fields.key_label, algorithm=fields.algorithm, threshold=fields.threshold,
            shares=fields.shares, paper=fields.paper,
        )  # fmt: skip
    draft = _draft(fields, template, carried)
    template_path = derived_template_path(answers_path) if template_text is not None else None
    plan_ref = str(template_path) if template_path else template_ref
    header = [
        f"Answers for a {template.kind} ceremony, saved by the set-up form of `keyceremony tui`.",
        f"Run it: keyceremony run {plan_ref} --answers {answers_path.name} --out {folder}",
        "Without the UI the questions of the steps (confirmations, cards, bags) come from this file:",
        "add them under [confirm] and [steps.ID] first, or the run stops and says what to add.",
    ]
    answers = check_draft(draft, run_template, base=answers_path.parent, header=header)
    text = render_answers(draft, header=header)
    return SetupPlan(run_template, template_ref, template_text, folder, answers_path, template_path, draft, text,
                     answers)  # fmt: skip


def _draft(fields: SetupFields, template: Template, carried: AnswersDraft | None) -> AnswersDraft:
    participants = [(name, role.name) for role in template.roles
                    for name in split_names(fields.people.get(role.name, ""))]  # fmt: skip
    if fields.backend not in BACKENDS:
        raise SetupError(f"the key store is 'soft' or 'pkcs11', not {fields.backend!r}", field="backend")
    warn: tuple[str, ...] = ()
    keep = False
    if fields.rehearsal:
        loaded = carried is not None and bool(carried.warn or carried.keep_card_files)
        warn = carried.warn if carried is not None and loaded else template.rehearsal.may_warn
        keep = carried.keep_card_files if carried is not None and loaded else template.rehearsal.may_keep_card_files
    pkcs11 = fields.backend == "pkcs11"
    return AnswersDraft(
        title=fields.title.strip(), location=fields.location.strip(), participants=participants,
        owner=fields.owner.strip(), contact=fields.contact.strip(),
        backend=fields.backend, module=fields.module.strip() if pkcs11 else "",
        token=fields.token.strip() if pkcs11 else "",
        wrap_mechanism=carried.wrap_mechanism if carried is not None and pkcs11 else "",
        warn=tuple(warn), keep_card_files=keep,
        **{name: getattr(fields, name).strip() for name in ANCHOR_FIELDS},
        confirm=dict(carried.confirm) if carried else {}, steps=dict(carried.steps) if carried else {},
    )  # fmt: skip


def check_start(plan: SetupPlan) -> None:
    """What the ceremony needs on the day beyond a valid answers file: as many people in each
    role as the roll call requires (and no more than allowed), custodian names and a key label
    the cards can print (key generation), and a PKCS#11 module file and token label."""
    template = plan.template
    for role in template.roles:
        count, where = sum(a.role == role.name for a in plan.answers.participants), people_field(role.name)
        if count < role.min:
            raise SetupError(f"{count} named; the roll call needs at least {role.min}", field=where)
        if role.max is not None and count > role.max:
            raise SetupError(f"{count} named; the ceremony allows at most {role.max}", field=where)
    params = template.parameters
    if isinstance(params, KeyGenerationParameters):
        from keyceremony.cards.share_cards import unprintable_name

        problem = unprintable_name("the key label", params.key_label)
        if problem:
            raise SetupError(problem, field="key_label")
        for actor in plan.answers.participants:
            problem = unprintable_name("custodian", actor.name) if actor.role == CUSTODIAN else None
            if problem:
                raise SetupError(problem, field=people_field(CUSTODIAN))
        for what, name, where in (("the key owner", plan.answers.owner, "owner"),
                                  ("the owner's contact", plan.answers.contact, "contact")):
            problem = unprintable_name(what, name) if name else None
            if problem:
                raise SetupError(problem, field=where)
    if plan.answers.hsm.backend == "pkcs11":
        module, token = plan.answers.hsm.module, plan.answers.hsm.token
        if not module:
            raise SetupError("give the PKCS#11 module: the path of the HSM's library (for SoftHSM2, "
                             "libsofthsm2.so)", field="module")  # fmt: skip
        if not Path(module).is_file():
            raise SetupError(f"no file {module}: give the path of the HSM's PKCS#11 library", field="module")
        if not token:
            raise SetupError("name the token: its label (softhsm2-util --show-slots, or the HSM's tools, list them)",
                             field="token")  # fmt: skip


def make_keys(plan: SetupPlan, pin: str) -> SoftKeys | Pkcs11Keys:
    """The key store the ceremony opens: the soft one, or the token with this PIN (kept only by
    the key store, and only until it opens the token)."""
    from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys

    check_start(plan)
    hsm = plan.answers.hsm
    if hsm.backend == "soft":
        return SoftKeys()
    if not pin:
        raise SetupError("type the token's user PIN: it opens the token when the ceremony starts and is never "
                         "saved", field="pin")  # fmt: skip
    assert hsm.module is not None and hsm.token is not None  # check_start made sure
    return Pkcs11Keys(hsm.module, hsm.token, pin, wrap_mechanism=hsm.wrap_mechanism)


class WouldReplace(SetupError):
    """Saving would replace files that differ from this set-up; ``paths`` names them."""

    def __init__(self, paths: tuple[Path, ...]):
        self.paths = paths
        names = " and ".join(str(p) for p in paths)
        many = len(paths) > 1
        super().__init__(f"{names} {'exist' if many else 'exists'} already and {'differ' if many else 'differs'} "
                         f"from this set-up: save again to replace {'them' if many else 'it'}, or give another "
                         "file name", field="save_as")  # fmt: skip


@dataclass(frozen=True)
class SavedSetup:
    """The files written, and the template and answers read back from them."""

    answers_path: Path
    template_path: Path | None
    template: Template
    answers: Answers


def save_setup(plan: SetupPlan, *, replace: bool = False) -> SavedSetup:
    """Write the answers file (and the derived template) atomically, then read both back as a
    ceremony will. A different file already there is replaced only with ``replace``."""
    from keyceremony.atomic_file import write_atomically
    from keyceremony.ceremony.answers import load_answers
    from keyceremony.ceremony.template import load_template

    files = [(plan.answers_path, plan.answers_text.encode("utf-8"))]
    if plan.template_path is not None and plan.template_text is not None:
        files.insert(0, (plan.template_path, plan.template_text.encode("utf-8")))
    try:
        different = tuple(p for p, data in files if p.is_file() and p.read_bytes() != data)
        if different and not replace:
            raise WouldReplace(different)
        for path, data in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not (path.is_file() and path.read_bytes() == data):
                write_atomically(path, data, mode=0o644)
    except OSError as err:
        raise SetupError(f"cannot write {err.filename or plan.answers_path}: {err.strerror or err}", field="save_as") \
            from None  # fmt: skip
    try:
        template = load_template(str(plan.template_path) if plan.template_path else plan.template_ref)
        answers = load_answers(plan.answers_path, template)
    except KeyCeremonyError as err:  # a file changed under us, or a template file moved
        raise SetupError(f"the saved set-up does not read back: {err}", field="save_as") from None
    return SavedSetup(plan.answers_path, plan.template_path, template, answers)
