"""What a step handler may use, and the rules every handler keeps (docs/ceremony-guide.md §8.4).

A handler works only through its :class:`StepContext`: the people present, the prompter, the
key store, the card printer and scanner, the transcript (``ctx.append``) and the in-memory
*material* (keys and the rebuilt wrapping key, never written anywhere). Three rules make every
step resumable after a crash (docs/ceremony-guide.md §6):

1. **Secrets first, records after.** A step does all the work that needs secret material
   before it writes its first entry, so a step that has begun never needs material that a
   crash can take away; its remaining entries can be written from what is on disk.
2. **Lost material is made again, and the transcript says so.** A step that needs a key held
   only in memory by an earlier step either finds it again (a token object), rebuilds it from
   the cards (the wrapping key, a drill copy: entries ``cards-read-again``, ``recovered-again``),
   or, for a generated software key, asks the engine to run the step that made it again
   (:meth:`StepHandler.rewind_reason`; a ``restarted`` entry says why).
3. **Every step ends with a ``completed`` entry** (the seal step with the transcript's seal).

Nothing secret goes into ``data``: the transcript writer refuses secret-looking field names and
binary values (docs/transcript.md §3.2), and handlers record check values, fingerprints, set ids
and names only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from keyceremony.ceremony.ports import (
    Announcement,
    AnnouncementKind,
    AttendanceRequest,
    ConfirmRequest,
    Ports,
    Progress,
    ProgressTask,
    Prompter,
    StepInfo,
)
from keyceremony.ceremony.quorum import quorum_lines
from keyceremony.ceremony.template import CUSTODIAN, Step, Template
from keyceremony.errors import CeremonyError, QuorumNotMet
from keyceremony.transcript import Actor, Entry

if TYPE_CHECKING:
    from keyceremony.keys.backend import KeyBackend
    from keyceremony.recipes.anchors import Anchors


COMPLETED = "completed"
RESTARTED = "restarted"


class StepHost(Protocol):
    """What a step may use of the engine that runs it (the engine implements this; the steps
    never import the engine, so the two cannot grow into each other)."""

    ports: Ports
    backend: KeyBackend | None
    material: dict[str, Any]
    template: Template
    out_dir: Path
    participants: tuple[Actor, ...]
    relaxed_checks: frozenset[str]
    keep_card_files: bool
    anchors: Anchors
    made_in_this_run: set[str]
    owner: str | None  # the key owner and contact printed on cards (whom to tell if one is lost)
    contact: str | None

    @property
    def fingerprint(self) -> bytes: ...

    @property
    def entries(self) -> Sequence[Entry]: ...

    def append(self, step_id: str, event: str, actors: Sequence[Actor], data: Mapping[str, Any]) -> Entry: ...

    def seal(self, step: Step, actors: Sequence[Actor], data: Mapping[str, Any]) -> Entry: ...

    def record_participants(self, people: tuple[Actor, ...]) -> None: ...

    def report_progress(self, progress: Progress) -> None: ...


class StepContext:
    """What a step handler may use. Made by the engine for one run of one step."""

    def __init__(self, engine: StepHost, step: Step, info: StepInfo, present: tuple[Actor, ...]) -> None:
        self.engine = engine
        self.step = step
        self.info = info
        self.present = present
        self.ports = engine.ports
        self.prompter = engine.ports.prompter
        self.keys = engine.ports.keys
        if engine.backend is None:
            raise CeremonyError(f"step '{step.id}': the key store is not open; start the ceremony first")
        self.backend: KeyBackend = engine.backend
        self.material = engine.material
        self.template = engine.template
        self.params: Any = engine.template.parameters

    # -- the transcript

    def append(
        self, event: str, data: Mapping[str, Any] | None = None, *, actors: Sequence[Actor] | None = None
    ) -> Entry:
        return self.engine.append(self.step.id, event, self.present if actors is None else tuple(actors), data or {})

    def complete(self, data: Mapping[str, Any] | None = None) -> Entry:
        """The step's last entry. A template ``confirm`` on a step of any other kind than
        roll-call, confirm and seal (which ask it themselves) is asked here, before it."""
        data = dict(data or {})
        if self.step.confirm and self.step.kind not in ("roll-call", "confirm", "seal"):
            self.confirm(self.step.id, self.step.confirm)
            data["confirmed"] = self.step.confirm
        return self.append(COMPLETED, data)

    def entries(self, step_id: str | None = None) -> list[Entry]:
        """Every entry of a step (this one by default), in order."""
        wanted = step_id or self.step.id
        return [e for e in self.engine.entries if e.step == wanted]

    def since_restart(self, step_id: str | None = None) -> list[Entry]:
        entries = self.entries(step_id)
        last = max((i for i, e in enumerate(entries) if e.event == RESTARTED), default=-1)
        return entries[last + 1 :]

    def fact(self, event: str, kind: str | None = None) -> dict[str, Any]:
        """The data of the latest entry with this event (of the step of this kind, if given)."""
        step_ids = None if kind is None else {s.id for s in self.template.steps if s.kind == kind}
        for entry in reversed(self.engine.entries):
            if entry.event == event and (step_ids is None or entry.step in step_ids):
                return dict(entry.data)
        raise CeremonyError(
            f"step '{self.step.id}': the transcript has no '{event}' entry to go on; the steps "
            "before this one did not record what this step needs"
        )

    def facts(self, event: str, entries: Sequence[Entry]) -> list[dict[str, Any]]:
        return [dict(e.data) for e in entries if e.event == event]

    # -- people

    def confirm(self, key: str, question: str) -> None:
        if self.prompter.confirm(ConfirmRequest(self.info, key, question)) is not True:
            raise CeremonyError(
                f"step '{self.step.id}': not confirmed: {question}. The step is not done; run the "
                "ceremony again when it is (it resumes here)"
            )

    def custodians(self) -> list[str]:
        return list(dict.fromkeys(a.name for a in self.present if a.role == CUSTODIAN))

    def say(self, text: str, kind: str = "info", **data: str | int | bool) -> None:
        self.prompter.announce(Announcement(AnnouncementKind(kind), text, self.info, data))

    def progress(self, task: ProgressTask, done: int, total: int, text: str, *, finished: bool = True) -> None:
        """Report how far this step is; the engine stops here if a driver asked it to."""
        self.engine.report_progress(Progress(self.info, task, done, total, text, finished))


class StepHandler:
    """The behaviour of one step kind. ``run`` does the step from the start; ``resume`` is
    called instead when the step had begun before an interruption, with its entries since its
    last restart, and returns True if it finished the step from them (else the engine writes a
    ``restarted`` entry and calls ``run``)."""

    kind = ""

    def rewind_reason(self, ctx: StepContext) -> str | None:
        """Before a step that has not begun runs after a resume: a reason to run the previous
        step again (its material is lost and cannot be found or rebuilt), or None."""
        return None

    def run(self, ctx: StepContext) -> None:
        raise NotImplementedError

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        return False


# --- shared ---------------------------------------------------------------------------------------


def check_attendance(step: Step, participants: Sequence[Actor], present: Sequence[Actor]) -> tuple[Actor, ...]:
    """The people present, checked against the roll call and the step's quorum."""
    known = set(participants)
    present = tuple(dict.fromkeys(present))
    for actor in present:
        if actor not in known:
            raise CeremonyError(
                f"step '{step.id}': {actor} is not in the roll call; only people recorded at the "
                "roll call can take part"
            )
    for line in quorum_lines(step.quorum, present):
        if not line.met:
            names = line.names
            had = f"{len(names)} ({', '.join(names)})" if names else "none"
            raise QuorumNotMet(
                f"step '{step.id}' ({step.title}) needs {line.least} {line.role}(s) present; {had} present. "
                f"Bring {line.least - len(names)} more, then run the ceremony again: it resumes at this step"
            )
    return present


def ask_attendance(
    prompter: Prompter, participants: tuple[Actor, ...], step: Step, info: StepInfo
) -> tuple[Actor, ...]:
    answer = prompter.attendance(AttendanceRequest(info, participants, step.quorum))
    return check_attendance(step, participants, tuple(answer))


def key_algorithm(name: str) -> Any:
    from keyceremony.keys.model import KeyAlgorithm

    return KeyAlgorithm(name)


def store_name(ctx: StepContext) -> str:
    if ctx.keys.kind == "pkcs11":
        return f"token '{getattr(ctx.backend, 'token_label', '?')}'"
    return "software key store (this program's memory)"


def relative_path(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def step_id_of(ctx: StepContext, kind: str) -> str:
    return next(s.id for s in ctx.template.steps if s.kind == kind)
