"""Ceremony templates: TOML scripts of roles, quorums and ordered steps, validated on load.

A template says what a ceremony is for (``kind``: ``key-generation``, ``recovery`` or
``dr-drill``), who takes part (``[roles.*]``, with how many must attend), and the steps in
order (``[[steps]]``), each with the people it needs present (``quorum``). The format is
specified, with an example, in docs/ceremony-guide.md §8; the bundled templates are in
``keyceremony/ceremony_templates/`` (and, in a checkout, ``ceremony_templates/``).

Every error names the file and the line: tomllib's own line for a TOML syntax error, and for a
template that parses but does not make sense, the line of the offending key or step, found in
the source text by :class:`KeyLines`.

>>> t = load_template("key-generation")
>>> t.kind, [s.id for s in t.steps][:3], t.parameters.threshold
('key-generation', ['roll-call', 'preflight', 'generate-key'], 3)
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyceremony.errors import InputTooLarge, TemplateError

FORMAT = "keyceremony template v1"
KINDS = ("key-generation", "recovery", "dr-drill")
RECOVERY_KINDS = ("recovery", "dr-drill")
ALGORITHMS = ("aes256", "aes192", "aes128", "ec-p256", "ed25519")
CHECKS = ("network", "swap", "hsm")
POLICIES = ("stop", "warn")
CARD_FILES = ("shred", "keep")
PAPERS = ("a4", "letter")
ADMINISTRATOR = "ceremony-administrator"
CUSTODIAN = "custodian"

# Step kinds: the template kinds they may appear in (docs/ceremony-guide.md §8.4).
STEP_KINDS: dict[str, tuple[str, ...]] = {
    "roll-call": KINDS,
    "preflight": KINDS,
    "confirm": KINDS,
    "generate-key": ("key-generation",),
    "split-and-print": ("key-generation",),
    "scan-back": ("key-generation",),
    "hand-over": ("key-generation",),
    "present-cards": RECOVERY_KINDS,
    "recover": RECOVERY_KINDS,
    "test-decrypt": RECOVERY_KINDS,
    "report": RECOVERY_KINDS,
    "destroy": KINDS,
    "seal": KINDS,
}
# Each kind of template must run these step kinds (and they need the ones listed after them).
REQUIRED_STEPS: dict[str, tuple[str, ...]] = {
    "key-generation": ("roll-call", "generate-key", "split-and-print", "seal"),
    "recovery": ("roll-call", "present-cards", "recover", "seal"),
    "dr-drill": ("roll-call", "present-cards", "recover", "seal"),
}
# A step of the first kind must come after one of the second (after "right after": see below).
STEP_NEEDS: dict[str, str] = {
    "split-and-print": "generate-key",
    "scan-back": "split-and-print",
    "hand-over": "split-and-print",
    "recover": "present-cards",
    "test-decrypt": "recover",
    "report": "recover",
}
# The generated key of the software back end lives only in memory from generate-key to
# split-and-print; if it is lost in a crash, generate-key runs again, which the transcript's
# step order allows only when no other step ran in between (docs/ceremony-guide.md §6).
RIGHT_AFTER = {"split-and-print": "generate-key"}
UNIQUE_KINDS = ("roll-call", "generate-key", "split-and-print", "present-cards", "recover", "seal")

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_LABEL_MAX = 64

_TOP_KEYS = {"format", "template", "parameters", "roles", "rehearsal", "steps"}
_TEMPLATE_KEYS = {"name", "version", "kind", "title", "description"}
_ROLE_KEYS = {"title", "min", "max", "description"}
_REHEARSAL_KEYS = {"may_warn", "may_keep_card_files"}
_STEP_KEYS = {"id", "kind", "title", "quorum", "instructions", "confirm"}
_STEP_EXTRA_KEYS = {"preflight": {"checks"}, "destroy": {"card_files"}}
_PARAMETER_KEYS = {
    "key-generation": {"key_label", "algorithm", "threshold", "shares", "paper"},
    "recovery": {"key_label", "extractable", "anchor"},
    "dr-drill": {"anchor"},
}

Path_ = tuple[Any, ...]


# --- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """A role people take in the ceremony; at least ``min`` (at most ``max``) must attend."""

    name: str
    title: str
    min: int
    max: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Step:
    """One step of the ceremony, in the order the template lists it.

    ``quorum`` pairs roles with how many people in that role must be present at this step;
    ``confirm`` is a question the ceremony administrator must answer yes to before the step
    counts as done. ``checks`` (preflight: check name -> ``stop`` / ``warn``) and
    ``card_files`` (destroy: ``shred`` / ``keep``) belong to those kinds only.
    """

    id: str
    kind: str
    title: str
    quorum: tuple[tuple[str, int], ...] = ()
    instructions: str = ""
    confirm: str | None = None
    checks: tuple[tuple[str, str], ...] = ()
    card_files: str | None = None

    def quorum_of(self, role: str) -> int:
        return dict(self.quorum).get(role, 0)


@dataclass(frozen=True)
class KeyGenerationParameters:
    """What a key-generation ceremony makes: the key, and how its backup is split."""

    key_label: str = "root-kek"
    algorithm: str = "aes256"
    threshold: int = 3
    shares: int = 5
    paper: str = "a4"


@dataclass(frozen=True)
class RecoveryParameters:
    """A recovery's target: the label of the recovered key (default: the backed-up label).

    ``anchor``: ``required`` makes the answers give what the paper log recorded (the set
    fingerprint, the package fingerprint or the key check value); ``optional`` (the default)
    lets the ceremony run without, and its transcript and report then say UNANCHORED."""

    key_label: str | None = None
    extractable: bool = False
    anchor: str = "optional"


@dataclass(frozen=True)
class RehearsalPolicy:
    """What an answers file may relax when it declares a rehearsal (docs/ceremony-guide.md §5).

    ``may_warn``: preflight checks that a rehearsal may downgrade from ``stop`` to ``warn``
    (a development laptop has a network); ``may_keep_card_files``: whether a rehearsal may
    keep the card PDFs instead of shredding them at the destroy step.
    """

    may_warn: tuple[str, ...] = ()
    may_keep_card_files: bool = False


@dataclass(frozen=True)
class Template:
    """A validated ceremony template. Build with :func:`parse_template` or :func:`load_template`."""

    name: str
    version: int
    kind: str
    title: str
    description: str
    parameters: KeyGenerationParameters | RecoveryParameters
    roles: tuple[Role, ...]
    steps: tuple[Step, ...]
    rehearsal: RehearsalPolicy
    source: str
    sha256: str = field(repr=False)

    @property
    def drill(self) -> bool:
        return self.kind == "dr-drill"

    def role(self, name: str) -> Role:
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(name)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def index(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)

    def requirements(self) -> Any:
        """The :class:`~keyceremony.transcript.TemplateRequirements` a transcript of this
        template must meet: every step, in order, with its quorum (docs/transcript.md §8.3)."""
        from keyceremony.transcript import StepRequirement, TemplateRequirements

        return TemplateRequirements(tuple(StepRequirement(s.id, s.quorum) for s in self.steps))


# --- finding templates ------------------------------------------------------------------------------


def bundled_directory() -> Path:
    """The templates shipped with the package (``keyceremony/ceremony_templates``)."""
    return Path(__file__).resolve().parent.parent / "ceremony_templates"


def bundled_template_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in bundled_directory().glob("*.toml")))


def resolve_template(name_or_path: str) -> Path:
    """A bundled template's path for a bare name (``key-generation``), else the path given.

    Raises TemplateError naming the bundled templates if neither exists.
    """
    bundled = bundled_directory() / f"{name_or_path}.toml"
    if _NAME.fullmatch(name_or_path) and bundled.is_file():
        return bundled
    path = Path(name_or_path)
    if path.is_file():
        return path
    names = ", ".join(bundled_template_names()) or "none"
    raise TemplateError(
        f"no such template: give the name of a bundled template ({names}) or the path of a template file",
        source=name_or_path,
    )


#: Largest template file read (docs/share-cards.md §5); the bundled ones are about 3 KB.
MAX_TEMPLATE_BYTES = 1 << 20


def read_bounded(path: Path, limit: int, what: str, hint: str) -> bytes:
    """A small text file's bytes (a template, an answers file), read no further than ``limit``:
    InputTooLarge names the file, its size and the limit. OSError is left to the caller."""
    with path.open("rb") as f:
        data = f.read(limit + 1)
        size = max(os.fstat(f.fileno()).st_size, len(data))
    if size > limit:
        raise InputTooLarge.file_size(size, limit, what, hint, source=str(path))
    return data


def load_template(name_or_path: str) -> Template:
    """Load and validate a bundled template by name, or a template file by path."""
    path = resolve_template(name_or_path)
    try:
        data = read_bounded(path, MAX_TEMPLATE_BYTES, "a ceremony template",
                            "a template is a few kilobytes of TOML: check that this is the template")  # fmt: skip
    except OSError as err:
        raise TemplateError(f"cannot read the template: {err.strerror}", source=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateError("the template is not UTF-8 text", source=str(path)) from None
    source = name_or_path if path.parent == bundled_directory() else str(path)
    return parse_template(text, source=source)


# --- parsing and validation ---------------------------------------------------------------------------


def parse_template(text: str, *, source: str = "template") -> Template:
    """Parse and validate a template from its TOML text; raise TemplateError with the line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message, line = toml_error(err)
        raise TemplateError(f"not valid TOML: {message}", source=source, line=line) from None
    return _Validator(raw, KeyLines(text), source, hashlib.sha256(text.encode("utf-8")).hexdigest()).template()


def toml_error(err: tomllib.TOMLDecodeError) -> tuple[str, int | None]:
    """tomllib's message without its ``(at line N, column M)`` suffix, and N."""
    text = str(err)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if not match:
        match = re.search(r"\s*\(at end of document\)\s*$", text)
        return (text[: match.start()] + " (at the end of the file)" if match else text), None
    return f"{text[: match.start()]} (column {match.group(2)})", int(match.group(1))


class _Validator:
    def __init__(self, raw: dict[str, Any], lines: KeyLines, source: str, sha256: str) -> None:
        self.raw = raw
        self.lines = lines
        self.source = source
        self.sha256 = sha256

    def fail(self, path: Path_, message: str) -> TemplateError:
        return TemplateError(message, source=self.source, line=self.lines.line_of(path))

    # -- helpers

    def table(self, value: object, path: Path_, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"{what} must be a table")
        return value

    def known(self, table: Mapping[str, Any], allowed: Iterable[str], path: Path_, what: str) -> None:
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                hint = _closest(key, allowed)
                raise self.fail(
                    (*path, key),
                    f"unknown key '{key}' in {what}"
                    + (f"; did you mean '{hint}'?" if hint else "")
                    + f" (known: {', '.join(sorted(allowed))})",
                )

    def string(
        self, table: Mapping[str, Any], key: str, path: Path_, what: str, *, required: bool = True, default: str = ""
    ) -> str:
        if key not in table:
            if required:
                raise self.fail(path, f"{what} needs '{key}'")
            return default
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail((*path, key), f"'{key}' in {what} must be a non-empty string")
        return value

    def name(self, table: Mapping[str, Any], key: str, path: Path_, what: str) -> str:
        value = self.string(table, key, path, what)
        if not _NAME.fullmatch(value) or len(value) > 64:
            raise self.fail(
                (*path, key),
                f"'{key}' in {what} must be lower-case letters, digits and single hyphens "
                f"(like 'hand-over'), not {value!r}",
            )
        return value

    def integer(self, value: object, path: Path_, what: str, *, least: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise self.fail(path, f"{what} must be a whole number of at least {least}, not {value!r}")
        return value

    # -- the parts

    def template(self) -> Template:
        raw = self.raw
        self.known(raw, _TOP_KEYS, (), "the template")
        fmt = raw.get("format")
        if fmt != FORMAT:
            raise self.fail(("format",), f'the first line must be format = "{FORMAT}" (found {fmt!r})')
        head = self.table(raw.get("template"), ("template",), "[template]")
        self.known(head, _TEMPLATE_KEYS, ("template",), "[template]")
        name = self.name(head, "name", ("template",), "[template]")
        version = self.integer(head.get("version"), ("template", "version"), "[template] version", least=1)
        kind = self.string(head, "kind", ("template",), "[template]")
        if kind not in KINDS:
            raise self.fail(("template", "kind"), f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        title = self.string(head, "title", ("template",), "[template]")
        description = self.string(head, "description", ("template",), "[template]", required=False)
        parameters = self.parameters(kind)
        roles = self.roles()
        self.check_roles(kind, roles, parameters)
        rehearsal = self.rehearsal()
        steps = self.steps(kind, roles)
        return Template(
            name=name, version=version, kind=kind, title=title, description=description,
            parameters=parameters, roles=roles, steps=steps, rehearsal=rehearsal,
            source=self.source, sha256=self.sha256,
        )  # fmt: skip

    def parameters(self, kind: str) -> KeyGenerationParameters | RecoveryParameters:
        path = ("parameters",)
        table = self.table(self.raw.get("parameters", {}), path, "[parameters]")
        self.known(table, _PARAMETER_KEYS[kind], path, f"[parameters] of a {kind} template")
        if kind != "key-generation":
            label = table.get("key_label")
            if label is not None:
                self.label(label, (*path, "key_label"))
            extractable = table.get("extractable", False)
            if not isinstance(extractable, bool):
                raise self.fail((*path, "extractable"), "extractable must be true or false")
            anchor = table.get("anchor", "optional")
            if anchor not in ("required", "optional"):
                raise self.fail((*path, "anchor"), f"anchor must be 'required' or 'optional', not {anchor!r}")
            return RecoveryParameters(label, extractable, anchor)
        d = KeyGenerationParameters()
        label = self.label(table.get("key_label", d.key_label), (*path, "key_label"))
        algorithm = table.get("algorithm", d.algorithm)
        if algorithm not in ALGORITHMS:
            raise self.fail(
                (*path, "algorithm"), f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}"
            )
        threshold = self.integer(table.get("threshold", d.threshold), (*path, "threshold"), "threshold", least=1)
        shares = self.integer(table.get("shares", d.shares), (*path, "shares"), "shares", least=1)
        if not threshold <= shares <= 255:
            raise self.fail(
                (*path, "threshold" if "threshold" in table else "shares"),
                f"need 1 <= threshold <= shares <= 255, not {threshold} of {shares}",
            )
        paper = table.get("paper", d.paper)
        if paper not in PAPERS:
            raise self.fail((*path, "paper"), f"paper must be one of {', '.join(PAPERS)}, not {paper!r}")
        return KeyGenerationParameters(label, algorithm, threshold, shares, paper)

    def label(self, value: object, path: Path_) -> str:
        from keyceremony.shares.payload import check_label

        if not isinstance(value, str) or not value:
            raise self.fail(path, "key_label must be a non-empty string")
        try:
            check_label(value)
        except ValueError as err:
            raise self.fail(path, f"key_label {value!r}: {err}") from None
        return value

    def roles(self) -> tuple[Role, ...]:
        table = self.table(self.raw.get("roles"), ("roles",), "[roles]")
        roles = []
        for name, spec in table.items():
            path = ("roles", name)
            if not _NAME.fullmatch(name):
                raise self.fail(path, f"role name {name!r} must be lower-case letters, digits and hyphens")
            spec = self.table(spec, path, f"[roles.{name}]")
            self.known(spec, _ROLE_KEYS, path, f"[roles.{name}]")
            least = self.integer(spec.get("min", 0), (*path, "min"), f"roles.{name}.min", least=0)
            most = spec.get("max")
            if most is not None:
                most = self.integer(most, (*path, "max"), f"roles.{name}.max", least=max(least, 1))
            title = self.string(
                spec, "title", path, f"[roles.{name}]", required=False, default=name.replace("-", " ").capitalize()
            )
            roles.append(Role(name, title, least, most, self.string(spec, "description", path, "", required=False)))
        if not roles:
            raise self.fail(("roles",), "[roles] must declare at least the ceremony administrator")
        return tuple(roles)

    def rehearsal(self) -> RehearsalPolicy:
        path = ("rehearsal",)
        table = self.table(self.raw.get("rehearsal", {}), path, "[rehearsal]")
        self.known(table, _REHEARSAL_KEYS, path, "[rehearsal]")
        may_warn = table.get("may_warn", [])
        if not isinstance(may_warn, list) or any(c not in CHECKS for c in may_warn):
            raise self.fail((*path, "may_warn"), f"may_warn must list checks among {', '.join(CHECKS)}")
        keep = table.get("may_keep_card_files", False)
        if not isinstance(keep, bool):
            raise self.fail((*path, "may_keep_card_files"), "may_keep_card_files must be true or false")
        return RehearsalPolicy(tuple(may_warn), keep)

    def steps(self, kind: str, roles: tuple[Role, ...]) -> tuple[Step, ...]:
        raw_steps = self.raw.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail(("steps",), "the template needs its steps, each as a [[steps]] table")
        declared = {r.name: r for r in roles}
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_steps):
            path: Path_ = ("steps", i)
            raw = self.table(raw, path, f"step {i + 1}")
            step_id = self.name(raw, "id", path, f"step {i + 1}")
            what = f"step '{step_id}'"
            if step_id == "ceremony":
                raise self.fail((*path, "id"), "the step id 'ceremony' is reserved for the transcript's own entries")
            if step_id in seen:
                raise self.fail(
                    (*path, "id"),
                    f"duplicate step id '{step_id}': step {seen[step_id] + 1} has it too; step ids must be unique",
                )
            seen[step_id] = i
            step_kind = self.string(raw, "kind", path, what)
            if step_kind not in STEP_KINDS:
                hint = _closest(step_kind, STEP_KINDS)
                raise self.fail(
                    (*path, "kind"),
                    f"{what} has the unknown kind '{step_kind}'"
                    + (f"; did you mean '{hint}'?" if hint else "")
                    + f" (known kinds: {', '.join(STEP_KINDS)})",
                )
            if kind not in STEP_KINDS[step_kind]:
                raise self.fail((*path, "kind"), f"{what}: a '{step_kind}' step has no place in a {kind} ceremony")
            self.known(raw, _STEP_KEYS | _STEP_EXTRA_KEYS.get(step_kind, set()), path, what)
            title = self.string(
                raw, "title", path, what, required=False, default=step_id.replace("-", " ").capitalize()
            )
            instructions = self.string(raw, "instructions", path, what, required=False)
            confirm = self.string(raw, "confirm", path, what, required=False) or None
            quorum = self.quorum(raw.get("quorum", {}), (*path, "quorum"), what, declared)
            checks: tuple[tuple[str, str], ...] = ()
            card_files = None
            if step_kind == "preflight":
                checks = self.checks(raw.get("checks", {}), (*path, "checks"), what)
            if step_kind == "destroy":
                card_files = raw.get("card_files", "shred")
                if card_files not in CARD_FILES:
                    raise self.fail(
                        (*path, "card_files"), f"{what}: card_files must be 'shred' or 'keep', not {card_files!r}"
                    )
            steps.append(Step(step_id, step_kind, title, quorum, instructions, confirm, checks, card_files))
        self.check_order(kind, steps)
        return tuple(steps)

    def quorum(
        self, value: object, path: Path_, what: str, declared: Mapping[str, Role]
    ) -> tuple[tuple[str, int], ...]:
        table = self.table(value, path, f"the quorum of {what}")
        out = []
        for role, count in table.items():
            if role not in declared:
                raise self.fail(
                    (*path, role),
                    f"{what}: the quorum names the role '{role}', which [roles] does not declare "
                    f"(declared: {', '.join(declared)}); add [roles.{role}] or fix the name",
                )
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise self.fail(
                    (*path, role),
                    f"{what}: bad quorum for '{role}': {count!r}; a quorum is a whole number of "
                    "people, at least 1 (leave the role out if nobody in it is needed)",
                )
            role_spec = declared[role]
            if role_spec.max is not None and count > role_spec.max:
                raise self.fail(
                    (*path, role),
                    f"{what}: bad quorum for '{role}': {count} is more than roles.{role}.max ({role_spec.max})",
                )
            if count > role_spec.min:
                raise self.fail(
                    (*path, role),
                    f"{what}: bad quorum for '{role}': {count} present are needed, but the roll "
                    f"call requires only {role_spec.min} to attend; raise roles.{role}.min to at least {count}",
                )
            out.append((role, count))
        return tuple(out)

    def checks(self, value: object, path: Path_, what: str) -> tuple[tuple[str, str], ...]:
        table = self.table(value, path, f"the checks of {what}")
        self.known(table, CHECKS, path, f"the checks of {what}")
        out = []
        for check in CHECKS:
            policy = table.get(check, "stop")
            if policy not in POLICIES:
                raise self.fail((*path, check), f"{what}: check '{check}' must be 'stop' or 'warn', not {policy!r}")
            out.append((check, policy))
        return tuple(out)

    def check_order(self, kind: str, steps: list[Step]) -> None:
        kinds = [s.kind for s in steps]
        where = {s.id: ("steps", i) for i, s in enumerate(steps)}
        for unique in UNIQUE_KINDS:
            found = [s for s in steps if s.kind == unique]
            if len(found) > 1:
                raise self.fail(
                    (*where[found[1].id], "kind"),
                    f"a template has one '{unique}' step; step '{found[1].id}' is a second one",
                )
        for required in REQUIRED_STEPS[kind]:
            if required not in kinds:
                raise self.fail(("steps",), f"a {kind} template needs a '{required}' step")
        if steps[0].kind != "roll-call":
            raise self.fail((*where[steps[0].id], "kind"), "the first step must be the roll call (kind 'roll-call')")
        if steps[-1].kind != "seal":
            raise self.fail((*where[steps[-1].id], "kind"), "the last step must be the seal (kind 'seal')")
        for i, step in enumerate(steps):
            need = STEP_NEEDS.get(step.kind)
            if need and need not in kinds[:i]:
                raise self.fail(
                    (*where[step.id], "kind"), f"step '{step.id}' ({step.kind}) must come after a '{need}' step"
                )
            before = RIGHT_AFTER.get(step.kind)
            if before and kinds[i - 1] != before:
                raise self.fail(
                    (*where[step.id], "kind"),
                    f"step '{step.id}' ({step.kind}) must come right after the '{before}' step: "
                    "a key held in memory is lost in a crash, and then the key is made again, "
                    "which the transcript's step order allows only if no step ran in between",
                )

    def check_roles(self, kind: str, roles: tuple[Role, ...], parameters: Any) -> None:
        names = {r.name: r for r in roles}
        if ADMINISTRATOR not in names or names[ADMINISTRATOR].min < 1:
            raise self.fail(
                ("roles",), f"[roles.{ADMINISTRATOR}] with min >= 1 is missing: every ceremony has an administrator"
            )
        if kind == "key-generation":
            if CUSTODIAN not in names:
                raise self.fail(
                    ("roles",), f"a key-generation template needs [roles.{CUSTODIAN}]: the cards go to custodians"
                )
            if names[CUSTODIAN].min < parameters.shares:
                raise self.fail(
                    ("roles", CUSTODIAN, "min"),
                    f"the key is split into {parameters.shares} cards, one per custodian, so "
                    f"roles.{CUSTODIAN}.min must be at least {parameters.shares}",
                )


def _closest(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


# --- where keys are in the source text ----------------------------------------------------------------


class KeyLines:
    """Line numbers of the keys and tables of a TOML text, by their path in the parsed data.

    ``("steps", 2, "quorum", "witness")`` is the ``witness`` key in the ``quorum`` of the third
    ``[[steps]]`` table. A light scanner, not a TOML parser: it follows table and
    array-of-tables headers and ``key = value`` lines (one level into inline tables), which is
    all templates and answers files use; anything it does not find is reported at the line of
    the nearest enclosing key or table it did find.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(
        r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\'))*)\s*=\s*(.*)$'
    )
    _INLINE_KEY = re.compile(r'(?:^|[{,])\s*([A-Za-z0-9_-]+|"[^"]*")\s*=')

    def __init__(self, text: str) -> None:
        self.lines: dict[Path_, int] = {}
        arrays: dict[Path_, int] = {}
        current: Path_ = ()
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = self._HEADER.match(line)
            if header:
                parts = self._resolve(_split_key(header.group(2)), arrays)
                if header.group(1) == "[[":
                    base = tuple(parts)
                    arrays[base] = arrays.get(base, -1) + 1
                    current = (*base, arrays[base])
                    self.lines.setdefault(base, number)
                else:
                    current = tuple(parts)
                for end in range(1, len(current) + 1):  # [roles.x] also locates [roles]
                    self.lines.setdefault(current[:end], number)
                continue
            key = self._KEY.match(line)
            if not key:
                continue
            path = (*current, *_split_key(key.group(1)))
            self.lines.setdefault(path, number)
            value = key.group(2)
            for delimiter in ('"""', "'''"):
                if value.count(delimiter) % 2 == 1:
                    in_string = delimiter
            if value.lstrip().startswith("{"):
                for inner in self._INLINE_KEY.finditer(value.strip()):
                    self.lines.setdefault((*path, inner.group(1).strip('"')), number)

    @staticmethod
    def _resolve(parts: list[str], arrays: dict[Path_, int]) -> list[Any]:
        """``[steps.checks]`` after ``[[steps]]`` belongs to the last step: insert its index."""
        out: list[Any] = []
        for part in parts:
            out.append(part)
            if tuple(out) in arrays:
                out.append(arrays[tuple(out)])
        if out and isinstance(out[-1], int) and tuple(out[:-1]) == tuple(parts):
            out.pop()
        return out

    def line_of(self, path: Path_) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _split_key(key: str) -> list[str]:
    parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', key)
    return [p.strip("\"'") for p in parts]
