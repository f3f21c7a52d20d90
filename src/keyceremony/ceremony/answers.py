"""The answers file: participants and confirmations for ``keyceremony run``, as TOML.

A scripted driver of the engine (for automation, scheduled drills and tests): everything the
terminal UI would ask people, written down beforehand. :func:`load_answers` reads and checks a
file against its template (every error names the line); :class:`AnswersPrompter` answers the
engine's requests from it (docs/ceremony-guide.md §9 describes the format).

Paths in the file are relative to the file's own folder, and ``$VAR`` / ``${VAR}`` are taken
from the environment (an unset variable is an error). PINs are refused here: they come from
``$KEYCEREMONY_PIN`` or ``--pin-file``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyceremony.ceremony.ports import (
    NEW_KEY_CONFIRMATION,
    Announcement,
    AttendanceRequest,
    CardHoldersRequest,
    ConfirmRequest,
    HandOver,
    HandOverRequest,
    PresentCardsRequest,
    PresentedCard,
    Rehearsal,
    RollCallRequest,
    ScanBackRequest,
)
from keyceremony.ceremony.template import CHECKS, KeyLines, Template, read_bounded, toml_error
from keyceremony.errors import AnswersError
from keyceremony.recipes.anchors import Anchors
from keyceremony.transcript import Actor, looks_secret

_TOP = {"ceremony", "hsm", "rehearsal", "participants", "confirm", "steps", "anchors"}
_ANCHORS = {"set_fingerprint", "package_fingerprint", "kcv"}
_CEREMONY = {"title", "location", "owner", "contact"}
_HSM = {"backend", "module", "token", "wrap_mechanism"}
_REHEARSAL = {"warn", "keep_card_files"}
_STEP_COMMON = {"present", "absent"}
_STEP_BY_KIND = {"hand-over": {"cards"}, "scan-back": {"images"}, "present-cards": {"cards"}}
_HAND_OVER_CARD = {"card", "custodian", "bag"}
_PRESENTED_CARD = {"file", "custodian", "bag"}
_VAR = re.compile(r"\$(\w+|\{[^}]*\})")

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class HsmAnswers:
    backend: str = "soft"
    module: str | None = None
    token: str | None = None
    wrap_mechanism: str | None = None


@dataclass(frozen=True)
class StepAnswers:
    present: tuple[str, ...] | None = None
    absent: tuple[str, ...] = ()
    hand_over: tuple[tuple[int, str, str | None], ...] = ()  # (share, custodian, bag)
    images: Mapping[int, Path] = field(default_factory=dict)
    cards: tuple[PresentedCard, ...] = ()


@dataclass(frozen=True)
class Answers:
    source: str
    sha256: str
    title: str | None
    location: str | None
    hsm: HsmAnswers
    rehearsal: Rehearsal
    participants: tuple[Actor, ...]
    confirm: Mapping[str, bool]
    steps: Mapping[str, StepAnswers]
    anchors: Anchors = field(default_factory=Anchors)  # from the paper log (docs/ceremony-guide.md §9)
    owner: str | None = None  # [ceremony] owner and contact: printed on the cards as whom to tell
    contact: str | None = None

    def step(self, step_id: str) -> StepAnswers:
        return self.steps.get(step_id, StepAnswers())


#: Largest answers file read (docs/share-cards.md §5); the examples are about 2 KB.
MAX_ANSWERS_BYTES = 1 << 20


def load_answers(path: str | os.PathLike[str], template: Template) -> Answers:
    """Read and check an answers file for ``template``; AnswersError names the line."""
    path = Path(path)
    try:
        data = read_bounded(path, MAX_ANSWERS_BYTES, "an answers file",
                            "an answers file is a few kilobytes of TOML: check that --answers names it")  # fmt: skip
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise AnswersError("no such file; give the answers file with --answers FILE", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise AnswersError(f"cannot read the answers file ({err.__class__.__name__})", source=str(path)) from None
    return parse_answers(text, template, source=str(path), base=path.resolve().parent)


def parse_answers(text: str, template: Template, *, source: str = "answers", base: Path | None = None) -> Answers:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message, line = toml_error(err)
        raise AnswersError(f"not valid TOML: {message}", source=source, line=line) from None
    parser = _Parser(raw, KeyLines(text), source, base or Path.cwd(), template)
    return parser.answers(hashlib.sha256(text.encode("utf-8")).hexdigest())


class _Parser:
    def __init__(self, raw: dict[str, Any], lines: KeyLines, source: str, base: Path, template: Template) -> None:
        self.raw, self.lines, self.source, self.base, self.template = raw, lines, source, base, template

    def fail(self, path: Path_, message: str) -> AnswersError:
        return AnswersError(message, source=self.source, line=self.lines.line_of(path))

    def table(self, value: object, path: Path_, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"{what} must be a table")
        return value

    def known(self, table: Mapping[str, Any], allowed: set[str], path: Path_, what: str) -> None:
        for key in table:
            if key in allowed:
                continue
            if looks_secret(key):
                raise self.fail(
                    (*path, key),
                    f"'{key}': secrets (PINs, keys, passwords) never go in an answers file; the PIN "
                    "comes from $KEYCEREMONY_PIN, --pin-file or a prompt",
                )
            raise self.fail((*path, key), f"unknown key '{key}' in {what} (known: {', '.join(sorted(allowed))})")

    def text(self, value: object, path: Path_, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"{what} must be a non-empty string")
        return value

    def names(self, value: object, path: Path_, what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(path, f"{what} must be a list of names")
        return tuple(value)

    def expanded(self, value: object, path: Path_, what: str) -> str:
        """A string with ``$VAR`` / ``${VAR}`` taken from the environment; an unset one is an error."""
        text = self.text(value, path, what)
        missing = [m.group(1).strip("{}") for m in _VAR.finditer(text) if m.group(1).strip("{}") not in os.environ]
        if missing:
            raise self.fail(path, f"{what} {text!r} uses the environment variable ${missing[0]}, which is not set")
        return os.path.expandvars(text)

    def path(self, value: object, path: Path_, what: str) -> Path:
        return (self.base / self.expanded(value, path, what)).resolve()

    def answers(self, sha256: str) -> Answers:
        raw = self.raw
        self.known(raw, _TOP, (), "the answers file")
        ceremony = self.table(raw.get("ceremony", {}), ("ceremony",), "[ceremony]")
        self.known(ceremony, _CEREMONY, ("ceremony",), "[ceremony]")
        title = self.text(ceremony["title"], ("ceremony", "title"), "title") if "title" in ceremony else None
        location = (
            self.text(ceremony["location"], ("ceremony", "location"), "location") if "location" in ceremony else None
        )
        hsm = self.hsm()
        rehearsal = self.rehearsal()
        participants = self.participants()
        confirm = self.confirm()
        steps = self.steps({a.name for a in participants})
        anchors = self.anchors()
        owner, contact = (self.card_text(ceremony, key) for key in ("owner", "contact"))
        return Answers(self.source, sha256, title, location, hsm, rehearsal, participants, confirm, steps, anchors,
                       owner, contact)

    def card_text(self, ceremony: Mapping[str, Any], key: str) -> str | None:
        """[ceremony] owner or contact: printed on the cards, so bounded (cards.model.check_owner)."""
        if key not in ceremony:
            return None
        from keyceremony.cards.model import check_owner

        text = self.text(ceremony[key], ("ceremony", key), key)
        try:
            check_owner(text if key == "owner" else None, text if key == "contact" else None)
        except ValueError as err:
            raise self.fail(("ceremony", key), f"{err}; it is printed on every card, so keep it short") from None
        return text

    def anchors(self) -> Anchors:
        """[anchors]: what the paper log of the backup's ceremony recorded; ``$VAR`` allowed."""
        from keyceremony.codec.fingerprint import parse_fingerprint
        from keyceremony.recipes.anchors import parse_kcv

        path = ("anchors",)
        table = self.table(self.raw.get("anchors", {}), path, "[anchors]")
        self.known(table, _ANCHORS, path, "[anchors]")
        values: dict[str, str] = {}
        for key in sorted(_ANCHORS & set(table)):
            values[key] = self.expanded(table[key], (*path, key), key)
        parsed: dict[str, Any] = {}
        parsers: dict[str, Callable[[str], Any]] = {
            "set_fingerprint": parse_fingerprint, "package_fingerprint": parse_fingerprint, "kcv": parse_kcv,
        }  # fmt: skip
        for key, text in values.items():
            try:
                parsed[key] = parsers[key](text)
            except ValueError as err:
                raise self.fail((*path, key), f"{key}: {err}") from None
        anchors = Anchors(parsed.get("set_fingerprint"), parsed.get("package_fingerprint"), parsed.get("kcv"))
        params = self.template.parameters
        if getattr(params, "anchor", "optional") == "required" and not anchors.any:
            raise self.fail(
                path,
                f"template '{self.template.name}' requires an anchor: give [anchors] set_fingerprint (or "
                "package_fingerprint, or kcv) as written in the paper log of the ceremony that made the cards",
            )
        return anchors

    def hsm(self) -> HsmAnswers:
        path = ("hsm",)
        table = self.table(self.raw.get("hsm", {}), path, "[hsm]")
        self.known(table, _HSM, path, "[hsm]")
        backend = table.get("backend", "soft")
        if backend not in ("soft", "pkcs11"):
            raise self.fail((*path, "backend"), f"backend must be 'soft' or 'pkcs11', not {backend!r}")
        values = {k: self.text(table[k], (*path, k), k) for k in ("module", "token", "wrap_mechanism") if k in table}
        if "module" in values:
            values["module"] = os.path.expandvars(values["module"])
        return HsmAnswers(backend, values.get("module"), values.get("token"), values.get("wrap_mechanism"))

    def rehearsal(self) -> Rehearsal:
        path = ("rehearsal",)
        table = self.table(self.raw.get("rehearsal", {}), path, "[rehearsal]")
        self.known(table, _REHEARSAL, path, "[rehearsal]")
        warn = self.names(table.get("warn", []), (*path, "warn"), "warn")
        for check in warn:
            if check not in CHECKS:
                raise self.fail((*path, "warn"), f"unknown check {check!r} (checks: {', '.join(CHECKS)})")
            if check not in self.template.rehearsal.may_warn:
                raise self.fail(
                    (*path, "warn"),
                    f"template '{self.template.name}' does not let a rehearsal relax the '{check}' check "
                    f"(it allows: {', '.join(self.template.rehearsal.may_warn) or 'none'})",
                )
        keep = table.get("keep_card_files", False)
        if not isinstance(keep, bool):
            raise self.fail((*path, "keep_card_files"), "keep_card_files must be true or false")
        if keep and not self.template.rehearsal.may_keep_card_files:
            raise self.fail(
                (*path, "keep_card_files"),
                f"template '{self.template.name}' does not let a rehearsal keep the card files",
            )
        return Rehearsal(warn, keep)

    def participants(self) -> tuple[Actor, ...]:
        items = self.raw.get("participants")
        if not isinstance(items, list) or not items:
            raise self.fail(("participants",), "list the participants, each as [[participants]] with name and role")
        roles = {r.name for r in self.template.roles}
        out = []
        for i, item in enumerate(items):
            path = ("participants", i)
            item = self.table(item, path, f"participant {i + 1}")
            self.known(item, {"name", "role"}, path, f"participant {i + 1}")
            name = self.text(item.get("name"), (*path, "name"), f"participant {i + 1}'s name")
            role = self.text(item.get("role"), (*path, "role"), f"{name}'s role")
            if role not in roles:
                raise self.fail(
                    (*path, "role"), f"{name}: the template has no role {role!r} (roles: {', '.join(sorted(roles))})"
                )
            try:
                actor = Actor(name, role)
            except ValueError as err:
                raise self.fail((*path, "name"), str(err)) from None
            if actor in out:
                raise self.fail(path, f"{actor} is listed twice")
            out.append(actor)
        return tuple(out)

    def confirm(self) -> dict[str, bool]:
        path = ("confirm",)
        table = self.table(self.raw.get("confirm", {}), path, "[confirm]")
        allowed = {s.id for s in self.template.steps if s.confirm or s.kind == "confirm"} | {NEW_KEY_CONFIRMATION}
        self.known(table, allowed, path, "[confirm] (the steps of this template that ask for a confirmation)")
        for key, value in table.items():
            if not isinstance(value, bool):
                raise self.fail((*path, key), f"confirm.{key} must be true or false")
        return dict(table)

    def steps(self, people: set[str]) -> dict[str, StepAnswers]:
        path0 = ("steps",)
        table = self.table(self.raw.get("steps", {}), path0, "[steps]")
        kinds = {s.id: s.kind for s in self.template.steps}
        out = {}
        for step_id, raw in table.items():
            path = ("steps", step_id)
            if step_id not in kinds:
                raise self.fail(
                    path, f"[steps.{step_id}]: the template has no step '{step_id}' (steps: {', '.join(kinds)})"
                )
            raw = self.table(raw, path, f"[steps.{step_id}]")
            kind = kinds[step_id]
            self.known(raw, _STEP_COMMON | _STEP_BY_KIND.get(kind, set()), path, f"[steps.{step_id}] ({kind})")
            present = self.names(raw["present"], (*path, "present"), "present") if "present" in raw else None
            absent = self.names(raw.get("absent", []), (*path, "absent"), "absent")
            for key, names in (("present", present or ()), ("absent", absent)):
                for name in names:
                    if name not in people:
                        raise self.fail((*path, key), f"{name!r} is not among the participants")
            answers = StepAnswers(present, absent)
            if kind == "hand-over" and "cards" in raw:
                answers = StepAnswers(present, absent, hand_over=self.hand_over(raw["cards"], (*path, "cards"), people))
            if kind == "scan-back" and "images" in raw:
                images = self.table(raw["images"], (*path, "images"), "images")
                parsed = {}
                for key, value in images.items():
                    if not key.isdigit() or not 1 <= int(key) <= 255:
                        raise self.fail((*path, "images", key), f"images: {key!r} is not a share number")
                    parsed[int(key)] = self.path(value, (*path, "images", key), f"the image of card {key}")
                answers = StepAnswers(present, absent, images=parsed)
            if kind == "present-cards" and "cards" in raw:
                answers = StepAnswers(present, absent, cards=self.presented(raw["cards"], (*path, "cards"), people))
            out[step_id] = answers
        return out

    def hand_over(self, value: object, path: Path_, people: set[str]) -> tuple[tuple[int, str, str | None], ...]:
        if not isinstance(value, list):
            raise self.fail(path, "cards must be a list of { card = N, custodian = NAME, bag = NUMBER }")
        out, seen = [], set()
        for i, item in enumerate(value):
            item = self.table(item, path, f"card {i + 1}")
            self.known(item, _HAND_OVER_CARD, path, f"card {i + 1}")
            share = item.get("card")
            if isinstance(share, bool) or not isinstance(share, int) or not 1 <= share <= 255 or share in seen:
                raise self.fail(
                    path, f"entry {i + 1}: card must be the card's share number, each once (found {share!r})"
                )
            seen.add(share)
            who = self.text(item.get("custodian"), path, f"card {share}'s custodian")
            if who not in people:
                raise self.fail(path, f"card {share}: {who!r} is not among the participants")
            bag = item.get("bag")
            if bag is not None:
                bag = self.text(str(bag), path, "bag")
            out.append((share, who, bag))
        return tuple(sorted(out))

    def presented(self, value: object, path: Path_, people: set[str]) -> tuple[PresentedCard, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(
                path, "cards must list the cards presented: { file = PATH, custodian = NAME, bag = NUMBER }"
            )
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                item = {"file": item}
            item = self.table(item, path, f"card {i + 1}")
            self.known(item, _PRESENTED_CARD, path, f"card {i + 1}")
            file = self.path(item.get("file"), path, f"card {i + 1}'s file")
            who = item.get("custodian")
            if who is not None and who not in people:
                raise self.fail(path, f"card {i + 1}: {who!r} is not among the participants")
            bag = item.get("bag")
            out.append(PresentedCard(file, who, None if bag is None else str(bag)))
        return tuple(out)


class AnswersPrompter:
    """Answers the engine's requests from an :class:`Answers` file; ``say`` prints messages."""

    def __init__(self, answers: Answers, template: Template, *, say: Callable[[str], None] = print) -> None:
        self.answers = answers
        self.template = template
        self.say = say

    def _missing(self, message: str) -> AnswersError:
        return AnswersError(message, source=self.answers.source)

    def announce(self, announcement: Announcement) -> None:
        if announcement.kind == "step":
            self.say(f"== {announcement.text}")
        elif announcement.kind in ("warning",):
            self.say(f"   WARNING: {announcement.text}")
        elif announcement.kind == "card" and announcement.data.get("accepted") is False:
            self.say(f"   REFUSED: {announcement.text}")
        else:
            self.say(f"   {announcement.text}")

    def roll_call(self, request: RollCallRequest) -> Sequence[Actor]:
        return self.answers.participants

    def attendance(self, request: AttendanceRequest) -> Sequence[Actor]:
        step = self.answers.step(request.step.id)
        names = set(step.present) if step.present is not None else {a.name for a in request.participants}
        names -= set(step.absent)
        return [a for a in request.participants if a.name in names]

    def confirm(self, request: ConfirmRequest) -> bool:
        value = self.answers.confirm.get(request.key)
        if value is None:
            raise self._missing(
                f"the answers do not confirm '{request.key}': \"{request.question}\". Add "
                f"`{request.key} = true` under [confirm] once it is true, and run again"
            )
        return value

    def _hand_over_answers(self) -> tuple[tuple[int, str, str | None], ...]:
        for step in self.template.steps:
            if step.kind == "hand-over":
                return self.answers.step(step.id).hand_over
        return ()

    def card_holders(self, request: CardHoldersRequest) -> Sequence[str]:
        planned = {share: who for share, who, _ in self._hand_over_answers()}
        if planned:
            missing = [x for x in range(1, request.shares + 1) if x not in planned]
            if missing:
                raise self._missing(
                    f"the hand-over cards list no custodian for share(s) {', '.join(map(str, missing))}"
                )
            return [planned[x] for x in range(1, request.shares + 1)]
        return list(request.custodians[: request.shares])

    def hand_over(self, request: HandOverRequest) -> HandOver:
        for share, who, bag in self._hand_over_answers():
            if share == request.share_number:
                return HandOver(who, bag)
        if request.planned:
            return HandOver(request.planned)
        raise self._missing(f"the answers name no custodian for card {request.share_number}")

    def scan_back(self, request: ScanBackRequest) -> Path | None:
        if request.attempt > 1:  # a file gives the same read again: stop, saying why
            raise self._missing(
                f"card {request.share_number} did not read back: {request.problem}. Fix the scan named "
                f"under [steps.{request.step.id}] images (or remove it to read the PDF), then run again"
            )
        return self.answers.step(request.step.id).images.get(request.share_number)

    def present_cards(self, request: PresentCardsRequest) -> Sequence[PresentedCard]:
        if request.attempt > 1:  # the answers listed every card they have
            raise self._missing(
                f"the cards listed under [steps.{request.step.id}] are not enough: {request.status} "
                "(see the refusals above). List more cards, then run again: it resumes at this step"
            )
        cards = self.answers.step(request.step.id).cards
        if not cards:
            raise self._missing(
                f"list the cards presented under [steps.{request.step.id}]: cards = [{{ file = "
                '"card-1.pdf", custodian = "...", bag = "..." }, ...]'
            )
        return cards
