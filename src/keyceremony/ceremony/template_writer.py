"""Writing a template: :func:`render_template` and :func:`derive_template` (docs/ceremony-guide.md §8).

Threshold, shares, key label, algorithm and paper are a key-generation template's
``[parameters]``, not answers. When the set-up forms change them, the terminal UI writes a
*derived template* beside the answers file and runs that: :func:`derive_template` copies the
template with the new parameters, says in its description what it was derived from (name,
version, SHA-256), and moves the custodians' roll-call minimum and step quorums along with the
share count. The result is checked by the template validator itself (:func:`check_parameters`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from keyceremony.ceremony.answers_writer import toml_list, toml_string, toml_text
from keyceremony.ceremony.template import (
    CUSTODIAN,
    FORMAT,
    KeyGenerationParameters,
    KeyLines,
    RecoveryParameters,
    Template,
    parse_template,
)
from keyceremony.errors import SetupError, TemplateError

PARAMETER_FIELDS = ("key_label", "algorithm", "threshold", "shares", "paper")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return toml_string(str(value))


def _inline(pairs: Sequence[tuple[str, object]]) -> str:
    return "{ " + ", ".join(f"{key} = {_value(value)}" for key, value in pairs) + " }"


def render_template(template: Template, *, header: Sequence[str] = ()) -> str:
    """The template as TOML that :func:`parse_template` reads back to an equal template (all but
    ``source`` and ``sha256``). ``header``: comment lines to put first."""
    return _render(template, header, None)


def _render(t: Template, header: Sequence[str], parameters: Mapping[str, object] | None) -> str:
    """``parameters``: a key-generation template's parameters as given (maybe not valid yet)."""
    out = [f"# {line}".rstrip() for line in header]
    out += [f"format = {toml_string(FORMAT)}", "", "[template]", f"name = {toml_string(t.name)}",
            f"version = {t.version}", f"kind = {toml_string(t.kind)}", f"title = {toml_string(t.title)}"]  # fmt: skip
    if t.description:
        out.append(f"description = {toml_text(t.description)}")
    out += ["", "[parameters]"]
    params = t.parameters
    if parameters is not None:
        out += [f"{name} = {_value(parameters[name])}" for name in PARAMETER_FIELDS]
    elif isinstance(params, KeyGenerationParameters):
        out += [f"{name} = {_value(getattr(params, name))}" for name in PARAMETER_FIELDS]
    else:
        if t.kind == "recovery":
            if params.key_label is not None:
                out.append(f"key_label = {toml_string(params.key_label)}")
            out.append(f"extractable = {_value(params.extractable)}")
        out.append(f"anchor = {toml_string(params.anchor)}")
    for role in t.roles:
        out += ["", f"[roles.{role.name}]", f"title = {toml_string(role.title)}", f"min = {role.min}"]
        if role.max is not None:
            out.append(f"max = {role.max}")
        if role.description:
            out.append(f"description = {toml_text(role.description)}")
    out += ["", "[rehearsal]", f"may_warn = {toml_list(t.rehearsal.may_warn)}",
            f"may_keep_card_files = {_value(t.rehearsal.may_keep_card_files)}"]  # fmt: skip
    for step in t.steps:
        out += ["", "[[steps]]", f"id = {toml_string(step.id)}", f"kind = {toml_string(step.kind)}",
                f"title = {toml_string(step.title)}"]  # fmt: skip
        if step.quorum:
            out.append(f"quorum = {_inline(step.quorum)}")
        if step.instructions:
            out.append(f"instructions = {toml_text(step.instructions)}")
        if step.confirm is not None:
            out.append(f"confirm = {toml_string(step.confirm)}")
        if step.checks:
            out.append(f"checks = {_inline(step.checks)}")
        if step.card_files is not None:
            out.append(f"card_files = {toml_string(step.card_files)}")
    return "\n".join(out) + "\n"


def derive_template(
    template: Template, *, key_label: str, algorithm: str, threshold: int | str, shares: int | str, paper: str
) -> str:
    """A key-generation template like ``template`` with these parameters, as TOML.

    Where the custodian role's ``min``, or a step's quorum of custodians, equalled the old share
    count it becomes the new one (one card per custodian). The text is not validated here: read
    it with :func:`parse_template`, or use :func:`check_parameters`. A threshold or share count
    that is not a whole number is written as the string typed, so the validator names it.
    """
    old = template.parameters
    if not isinstance(old, KeyGenerationParameters):
        raise ValueError(f"only a key-generation template has these parameters, not a {template.kind} template")
    new = dict(key_label=key_label, algorithm=algorithm, threshold=threshold, shares=shares, paper=paper)

    def custodians(count: int) -> int:
        return shares if isinstance(shares, int) and count == old.shares else count

    roles = tuple(dataclasses.replace(r, min=custodians(r.min)) if r.name == CUSTODIAN else r for r in template.roles)
    steps = tuple(
        dataclasses.replace(s, quorum=tuple((role, custodians(n) if role == CUSTODIAN else n) for role, n in s.quorum))
        for s in template.steps
    )
    was, now = f"{old.threshold}-of-{old.shares}", f"{threshold}-of-{shares}"
    changes = ", ".join(f"{name} {getattr(old, name)} -> {new[name]}" for name in PARAMETER_FIELDS
                        if getattr(old, name) != new[name])  # fmt: skip
    note = (f"Derived from {template.name} v{template.version} (sha256 {template.sha256[:16]}) by the set-up "
            f"form: {changes or 'no change'}.")  # fmt: skip
    derived = dataclasses.replace(
        template,
        title=template.title.replace(was, now),
        description="\n\n".join(p for p in (template.description.replace(was, now).strip(), note) if p),
        roles=roles,
        steps=steps,
    )
    header = [note, "Run it with: keyceremony run THIS-FILE --answers FILE --out DIR (docs/ceremony-guide.md §8)"]
    return _render(derived, header, new)


def parameters_changed(template: Template, *, key_label: str, algorithm: str, threshold: int | str,
                       shares: int | str, paper: str) -> bool:  # fmt: skip
    params = template.parameters
    return not isinstance(params, RecoveryParameters) and (key_label, algorithm, threshold, shares, paper) != (
        params.key_label, params.algorithm, params.threshold, params.shares, params.paper)  # fmt: skip


def whole_number(text: str) -> int | str:
    """The number typed in a form field, or the text as it is (the validator then says why not)."""
    stripped = text.strip()
    return int(stripped) if stripped.isascii() and stripped.isdigit() else text


def check_parameters(
    template: Template, *, key_label: str, algorithm: str, threshold: str, shares: str, paper: str
) -> tuple[Template, str | None]:
    """The template to run with these parameters (typed text) and its TOML, or ``template``
    itself and None when nothing changed. SetupError carries the template validator's message
    and names the field: the parameter, or ``shares`` for the custodians' minimum and quorums."""
    values = dict(key_label=key_label, algorithm=algorithm, threshold=whole_number(threshold),
                  shares=whole_number(shares), paper=paper)  # fmt: skip
    if not parameters_changed(template, **values):  # type: ignore[arg-type]
        return template, None
    text = derive_template(template, **values)  # type: ignore[arg-type]
    try:
        return parse_template(text, source="the set-up"), text
    except TemplateError as err:
        raise SetupError(err.detail, field=_field_of(text, err.line)) from None


def _field_of(text: str, line: int | None) -> str | None:
    if line is None:
        return None
    paths = sorted((p for p, n in KeyLines(text).lines.items() if n == line), key=len, reverse=True)
    for path in paths:
        if path[:1] == ("parameters",) and len(path) > 1 and path[1] in PARAMETER_FIELDS:
            return str(path[1])
        if path[:2] == ("roles", CUSTODIAN) or CUSTODIAN in path[2:]:  # the custodians' minimum or a quorum
            return "shares"
    return None

