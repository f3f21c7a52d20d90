"""What each kind of step does: one handler per step kind (docs/ceremony-guide.md §7.4).

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

import hmac
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from keyceremony.ceremony.ports import (
    Announcement,
    AnnouncementKind,
    AttendanceRequest,
    CardHoldersRequest,
    ConfirmRequest,
    HandOverRequest,
    Ports,
    PresentCardsRequest,
    Progress,
    ProgressTask,
    Prompter,
    RollCallRequest,
    ScanBackRequest,
    StepInfo,
    StepKind,
)
from keyceremony.ceremony.template import ADMINISTRATOR, CUSTODIAN, STEP_KINDS, Step, Template
from keyceremony.errors import CeremonyError, KeyCeremonyError, KeyCheckMismatch, PreflightFailed, QuorumNotMet
from keyceremony.transcript import Actor, Entry

if TYPE_CHECKING:
    from keyceremony.keys.backend import KeyBackend

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
    made_in_this_run: set[str]

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
    for role, count in step.quorum:
        names = sorted({a.name for a in present if a.role == role})
        if len(names) < count:
            had = f"{len(names)} ({', '.join(names)})" if names else "none"
            raise QuorumNotMet(
                f"step '{step.id}' ({step.title}) needs {count} {role}(s) present; {had} present. "
                f"Bring {count - len(names)} more, then run the ceremony again: it resumes at this step"
            )
    return present


def ask_attendance(
    prompter: Prompter, participants: tuple[Actor, ...], step: Step, info: StepInfo
) -> tuple[Actor, ...]:
    answer = prompter.attendance(AttendanceRequest(info, participants, step.quorum))
    return check_attendance(step, participants, tuple(answer))


def _algorithm(name: str) -> Any:
    from keyceremony.keys.model import KeyAlgorithm

    return KeyAlgorithm(name)


def _store(ctx: StepContext) -> str:
    if ctx.keys.kind == "pkcs11":
        return f"token '{getattr(ctx.backend, 'token_label', '?')}'"
    return "software key store (this program's memory)"


_USED = re.compile(r"^(?P<source>.*) \(share (?P<x>\d+)\)$")


def _used_shares(inputs: Any) -> dict[str, int]:
    """``RecoveryInputs.used`` ("card-1.pdf (share 1)") as {source: share number}."""
    out = {}
    for item in inputs.used:
        match = _USED.match(item)
        if match:
            out[match.group("source")] = int(match.group("x"))
    return out


# --- roll call, preflight, confirm --------------------------------------------------------------


class RollCall(StepHandler):
    kind = "roll-call"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint

        roles = tuple((r.name, r.title, r.min, r.max) for r in ctx.template.roles)
        people = tuple(dict.fromkeys(ctx.prompter.roll_call(RollCallRequest(ctx.info, roles))))
        declared = {r.name: r for r in ctx.template.roles}
        counts: dict[str, int] = {}
        for actor in people:
            if not isinstance(actor, Actor):
                raise ValueError("roll_call must return Actor values")
            if actor.role not in declared:
                raise CeremonyError(f"{actor}: the template has no role '{actor.role}' (roles: {', '.join(declared)})")
        for role in ctx.template.roles:
            names = sorted({a.name for a in people if a.role == role.name})
            counts[role.name] = len(names)
            if len(names) < role.min:
                raise QuorumNotMet(
                    f"the roll call has {len(names)} {role.name}(s); this ceremony needs at least "
                    f"{role.min}. Bring them, then run the ceremony again"
                )
            if role.max is not None and len(names) > role.max:
                raise CeremonyError(
                    f"the roll call has {len(names)} {role.name}(s) ({', '.join(names)}); this "
                    f"ceremony allows at most {role.max}"
                )
        if ctx.template.kind == "key-generation":  # custodians' names go on the cards
            for actor in people:
                problem = actor.role == CUSTODIAN and ctx.ports.printer.unprintable_name("custodian", actor.name)
                if problem:
                    raise CeremonyError(f"the roll call: {problem}. Correct the name, then run the ceremony again")
        ctx.present = check_attendance(ctx.step, people, people)
        ctx.engine.record_participants(people)
        fp = ctx.engine.fingerprint
        ctx.say(
            f"Ceremony key fingerprint: {format_fingerprint(fp)}. Read it aloud as words: "
            f"{fingerprint_words(fp)}. Write it in the paper log; witnesses check it.",
            "fingerprint",
            hex=format_fingerprint(fp),
            words=fingerprint_words(fp),
        )
        if ctx.step.confirm:
            ctx.confirm(ctx.step.id, ctx.step.confirm)
        ctx.append(
            "participants-recorded",
            {"roles": counts, "ceremony_key_fingerprint": format_fingerprint(fp),
             "fingerprint_read_aloud": bool(ctx.step.confirm)},
        )  # fmt: skip
        ctx.complete({"participants": len(people)})


class Preflight(StepHandler):
    kind = "preflight"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.ceremony.preflight import evaluate
        from keyceremony.transcript import format_time

        host = ctx.ports.host
        ctx.append(
            "host-recorded",
            {
                "system": dict(host.system()),
                "software": dict(host.software_versions()),
                "store": dict(ctx.keys.describe(ctx.backend)),
                "clock_utc": format_time(ctx.ports.clock()),
            },
        )
        try:
            hsm = (True, ctx.keys.check(ctx.backend))
        except KeyCeremonyError as err:
            hsm = (False, str(err))
        relaxed = ctx.engine.relaxed_checks
        policies = [(check, "warn" if check in relaxed else policy) for check, policy in ctx.step.checks]
        results = evaluate(host, policies, hsm)
        for r in results:
            ctx.append(
                f"check-{r.outcome}",
                {"check": r.check, "policy": r.policy, "relaxed_for_rehearsal": r.check in relaxed, "detail": r.detail},
            )
            if r.outcome != "passed":
                ctx.say(f"preflight check '{r.check}' {r.outcome}: {r.detail}", "warning")
        failed = [r for r in results if r.outcome == "failed"]
        if failed:
            detail = "; ".join(f"{r.check}: {r.detail}" for r in failed)
            raise PreflightFailed(
                f"step '{ctx.step.id}': this machine is not fit for the ceremony ({detail}). Fix "
                "it and run the ceremony again: it resumes at the preflight"
            )
        ctx.complete({r.check: r.outcome for r in results})


class Confirm(StepHandler):
    kind = "confirm"

    def run(self, ctx: StepContext) -> None:
        question = ctx.step.confirm or f"{ctx.step.title}: done"
        ctx.confirm(ctx.step.id, question)
        ctx.complete({"confirmed": question})


# --- key generation ---------------------------------------------------------------------------------


class GenerateKey(StepHandler):
    kind = "generate-key"

    def run(self, ctx: StepContext) -> None:
        p = ctx.params
        algorithm = _algorithm(p.algorithm)
        backend = ctx.backend
        ours = any(e.event == "generating" and e.data.get("key_label") == p.key_label for e in ctx.entries())
        if backend.count_objects(p.key_label):
            if not ours:  # a key this ceremony did not make: never touch it
                raise CeremonyError(
                    f"{_store(ctx)} already holds a key labelled '{p.key_label}'; a ceremony never "
                    "replaces a key. Choose another key_label in the template, or delete the old "
                    "key deliberately, then run again"
                )
            old = backend.find(p.key_label, algorithm=algorithm)
            kcv = backend.key_check_value(old)
            backend.destroy(old)
            ctx.append(
                "discarded",
                {"key_label": p.key_label, "kcv": kcv, "store": _store(ctx),
                 "reason": "made before the interruption and never backed up, so it was deleted; a new key is made"},
            )  # fmt: skip
        ctx.progress(
            ProgressTask.KEY_STORE, 0, 1, f"generating key '{p.key_label}' in the {_store(ctx)}", finished=False
        )
        ctx.append("generating", {"key_label": p.key_label, "algorithm": p.algorithm, "store": _store(ctx)})
        key = ctx.keys.generate_key(backend, p.key_label, algorithm)
        ctx.material["key"] = key
        kcv = backend.key_check_value(key)
        ctx.append(
            "key-generated",
            {"key_label": p.key_label, "algorithm": p.algorithm, "kcv": kcv, "store": _store(ctx),
             "persistent": ctx.keys.persistent, "sensitive": True, "export": "wrapped only"},
        )  # fmt: skip
        ctx.progress(ProgressTask.KEY_STORE, 1, 1, f"key '{p.key_label}' generated, check value {kcv}")
        ctx.complete({"kcv": kcv})

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        if not ctx.keys.persistent or not any(e.event == "key-generated" for e in prior):
            return False
        p = ctx.params
        key = ctx.backend.find(p.key_label, algorithm=_algorithm(p.algorithm))
        ctx.material["key"] = key
        ctx.complete({"kcv": ctx.backend.key_check_value(key), "found_after_interruption": True})
        return True


class SplitAndPrint(StepHandler):
    kind = "split-and-print"

    def rewind_reason(self, ctx: StepContext) -> str | None:
        if ctx.material.get("key") is not None:
            return None
        p = ctx.params
        if ctx.keys.persistent:
            ctx.material["key"] = ctx.backend.find(p.key_label, algorithm=_algorithm(p.algorithm))
            return None
        return (
            f"the key '{p.key_label}' generated in this step existed only in the memory of the "
            "program, which stopped before the key was backed up; it is lost (it was never "
            "written anywhere and has no backup), so a new key is generated"
        )

    def run(self, ctx: StepContext) -> None:
        from keyceremony.codec.fingerprint import format_fingerprint as format_key_fingerprint
        from keyceremony.codec.pgp_words import to_words
        from keyceremony.keys.backup_package import format_package_fingerprint
        from keyceremony.recipes.backup import make_backup
        from keyceremony.shares.shareset import format_fingerprint, format_set_id

        p = ctx.params
        key = ctx.material.get("key")
        if key is None:  # pragma: no cover - the engine rewinds first
            raise CeremonyError(f"step '{ctx.step.id}': the key to back up is not available")
        custodians = ctx.custodians()
        holders = list(ctx.prompter.card_holders(CardHoldersRequest(ctx.info, p.shares, tuple(custodians))))
        if len(holders) != p.shares or len(set(holders)) != p.shares or not set(holders) <= set(custodians):
            raise CeremonyError(
                f"step '{ctx.step.id}': name {p.shares} different custodians from the roll call, one "
                f"per card (custodians present: {', '.join(custodians) or 'none'})"
            )
        printer = ctx.ports.printer
        earlier = [path.name for path in printer.printed_files()]
        printer.shred(list(printer.printed_files()))  # cards of an attempt cut short: not recorded
        ctx.progress(ProgressTask.KEY_STORE, 0, 1, "wrapping the key for its backup", finished=False)
        backup = make_backup(ctx.backend, key, p.threshold, p.shares, randbytes=ctx.ports.randbytes)
        try:
            ctx.progress(ProgressTask.KEY_STORE, 1, 1, "key wrapped; the wrapping key is split")

            def card_done(done: int, total: int) -> None:
                ctx.progress(ProgressTask.PRINT_CARD, done, total, f"card {done} of {total} written and read back")

            cards = printer.print_backup(
                backup, custodians=holders, paper=p.paper,
                ceremony_fingerprint=format_key_fingerprint(ctx.engine.fingerprint), on_card=card_done,
            )  # fmt: skip
            share, package = backup.shares[0], backup.package
            data = {
                "key_label": package.label,
                "algorithm": package.algorithm.value,
                "kcv": package.key_check_value,
                "set_id": format_set_id(share.set_id),
                "set_fingerprint": format_fingerprint(share.fingerprint()),
                "set_fingerprint_words": " ".join(to_words(share.fingerprint())),
                "package_fingerprint": format_package_fingerprint(package.fingerprint()),
                "threshold": p.threshold,
                "count": p.shares,
                "wrap_mechanism": "RFC 5649 under a fresh 256-bit wrapping key, wiped after the split",
                "package_file": _relative(printer.directory / "package.kcb", ctx.engine.out_dir),
            }
        finally:
            del backup  # the shares: only on the cards from here on
        if earlier:
            data["earlier_card_files_removed"] = earlier
        ctx.append("shares-made", data)
        for card in cards:
            ctx.append(
                "card-printed",
                {"share_number": card.share_number, "holder": card.custodian,
                 "card_file": _relative(card.path, ctx.engine.out_dir), "readback": card.readback},
            )  # fmt: skip
        ctx.say(
            f"Share set {data['set_id']}, fingerprint {data['set_fingerprint']}: read it aloud "
            f"({data['set_fingerprint_words']}) and write it in the paper log. Print the cards "
            f"in {_relative(printer.directory, ctx.engine.out_dir)}/ now.",
            "fingerprint",
            hex=data["set_fingerprint"],
            words=data["set_fingerprint_words"],
        )
        ctx.complete({"cards": p.shares, "set_id": data["set_id"]})

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        made = ctx.facts("shares-made", prior)
        if not made:
            return False
        facts = made[-1]
        done = {d["share_number"] for d in ctx.facts("card-printed", prior)}
        custodians = tuple(ctx.custodians())
        holders = list(ctx.prompter.card_holders(CardHoldersRequest(ctx.info, facts["count"], custodians)))
        for x in range(1, facts["count"] + 1):
            if x in done:
                continue
            path = ctx.ports.printer.card_path(x)
            share = _read_card(ctx, path, x, facts)
            del share
            ctx.append(
                "card-printed",
                {"share_number": x, "holder": holders[x - 1] if x <= len(holders) else None,
                 "card_file": _relative(path, ctx.engine.out_dir),
                 "readback": "printed before the interruption; read back from the file after it"},
            )  # fmt: skip
        ctx.complete({"cards": facts["count"], "set_id": facts["set_id"]})
        return True


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _read_card(ctx: StepContext, source: Path, x: int, facts: Mapping[str, Any]) -> Any:
    """Read one card (or scan) and check it is share ``x`` of the recorded set, with the
    recorded package. Returns nothing secret to the caller's records; raises CeremonyError."""
    from keyceremony.keys.backup_package import format_package_fingerprint
    from keyceremony.shares.shareset import format_fingerprint, format_set_id, verify_share

    if not Path(source).exists():
        raise CeremonyError(
            f"{source}: card {x} of set {facts['set_id']} is missing. It was printed before and "
            "is needed now; if it was deleted, this ceremony cannot finish: start a new one"
        )
    contents = ctx.ports.scanner.read(Path(source))
    shares = contents.shares
    if len(shares) != 1:
        raise CeremonyError(f"{source}: expected one share on card {x}, found {len(shares)}")
    name, share = shares[0]
    verify_share(share, source=name)
    if share.x != x:
        raise CeremonyError(f"{source}: this is share {share.x}, not share {x}; check which card is which")
    if format_set_id(share.set_id) != facts["set_id"] or not hmac.compare_digest(
        format_fingerprint(share.fingerprint()), facts["set_fingerprint"]
    ):
        raise CeremonyError(
            f"{source}: share {x} belongs to set {format_set_id(share.set_id)}, not to set "
            f"{facts['set_id']} made in this ceremony; do not hand it over"
        )
    if not contents.packages:  # docs/share-cards.md §3.1
        raise CeremonyError(
            f"{source}: the backup package code (the smaller one, headed 'Backup package') was not "
            f"read from card {x}; scan or photograph the card again, flat and whole (300 dpi), and "
            "do not hand it over until it reads"
        )
    packages = [pkg for _, pkg in contents.packages
                if format_package_fingerprint(pkg.fingerprint()) == facts["package_fingerprint"]]  # fmt: skip
    if not packages:
        raise CeremonyError(f"{source}: card {x} does not carry this backup's package; do not hand it over")
    packages[0].verify(source=str(source))
    packages[0].check_shares(share, source=str(source))
    return share


class ScanBack(StepHandler):
    kind = "scan-back"

    def run(self, ctx: StepContext) -> None:
        facts = ctx.fact("shares-made", "split-and-print")
        for x in range(1, facts["count"] + 1):
            pdf = ctx.ports.printer.card_path(x)
            image = ctx.prompter.scan_back(ScanBackRequest(ctx.info, x, pdf))
            source = Path(image) if image is not None else pdf
            share = _read_card(ctx, source, x, facts)
            del share
            how = ("the card's PDF rendered and decoded" if image is None
                   else "a scan or photo of the printed card decoded")  # fmt: skip
            ctx.progress(ProgressTask.SCAN_CARD, x, facts["count"], f"card {x} of {facts['count']} read back")
            ctx.append(
                "card-scanned",
                {"share_number": x, "source": source.name, "how": how, "set_id": facts["set_id"],
                 "signature_verified": True, "set_fingerprint_matches": True, "package_fingerprint_matches": True},
            )  # fmt: skip
        ctx.complete({"cards": facts["count"]})


class HandOver(StepHandler):
    kind = "hand-over"

    def run(self, ctx: StepContext) -> None:
        self.resume(ctx, [])

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        facts = ctx.fact("shares-made", "split-and-print")
        planned = {
            d["share_number"]: d.get("holder")
            for d in ctx.facts("card-printed", ctx.entries(_step_of(ctx, "split-and-print")))
        }
        holders = {d["share_number"]: d["holder"] for d in ctx.facts("card-received", prior)}
        custodians = ctx.custodians()
        for x in range(1, facts["count"] + 1):
            if x in holders:
                continue
            answer = ctx.prompter.hand_over(HandOverRequest(ctx.info, x, planned.get(x), f"card-{x}.pdf"))
            who = answer.custodian
            if who not in custodians:
                raise CeremonyError(
                    f"card {x}: '{who}' is not a custodian present at this step (present: {', '.join(custodians)})"
                )
            if who in holders.values():
                raise CeremonyError(
                    f"card {x}: {who} already holds card {_key_of(holders, who)}; each custodian holds one card"
                )
            if planned.get(x) and planned[x] != who:
                raise CeremonyError(
                    f"card {x} has '{planned[x]}' printed on it as its custodian, not '{who}'; hand it to {planned[x]}"
                )
            holders[x] = who
            ctx.append(
                "card-received",
                {"share_number": x, "holder": who, "bag_number": answer.bag, "card_checked": True},
            )
        ctx.complete({"holders": {str(x): holders[x] for x in sorted(holders)}})
        return True


def _key_of(mapping: Mapping[int, str], value: str) -> int:
    return next(k for k, v in mapping.items() if v == value)


def _step_of(ctx: StepContext, kind: str) -> str:
    return next(s.id for s in ctx.template.steps if s.kind == kind)


# --- recovery and drills ----------------------------------------------------------------------------


def _gather(ctx: StepContext, sources: Sequence[str]) -> Any:
    from keyceremony.recipes.backup import gather_recovery_inputs

    return gather_recovery_inputs(list(sources))


def _inputs_again(ctx: StepContext, why: str) -> Any:
    """Rebuild the wrapping key from the cards recorded at the present-cards step."""
    facts = ctx.fact("cards-accepted", "present-cards")
    inputs = _gather(ctx, facts["sources"])
    ctx.material["inputs"] = inputs
    ctx.append("cards-read-again", {"reason": why, "cards_used": sorted(_used_shares(inputs).values())})
    return inputs


class PresentCards(StepHandler):
    kind = "present-cards"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.keys.backup_package import format_package_fingerprint
        from keyceremony.shares.shareset import format_fingerprint, format_set_id

        custodians = ctx.custodians()
        cards = list(ctx.prompter.present_cards(PresentCardsRequest(ctx.info, tuple(custodians))))
        for card in cards:
            if card.custodian is not None and card.custodian not in custodians:
                raise CeremonyError(f"{card.path}: '{card.custodian}' is not a custodian present at this step")
        old = ctx.material.pop("inputs", None)
        if old is not None:
            old.close()
        sources = [str(Path(c.path).resolve()) for c in cards]
        inputs = _gather(ctx, sources)
        ctx.material["inputs"] = inputs
        used = _used_shares(inputs)
        for card, source in zip(cards, sources, strict=True):
            if source in used:
                ctx.append(
                    "card-presented",
                    {"share_number": used[source], "presented_by": card.custodian, "bag_number": card.bag,
                     "card_file": Path(source).name},
                )  # fmt: skip
        if inputs.set_aside:
            ctx.append("cards-set-aside", {"reasons": list(inputs.set_aside)})
        ref, package = inputs.reference, inputs.package
        ctx.append(
            "cards-accepted",
            {
                "set_id": format_set_id(ref.set_id),
                "set_fingerprint": format_fingerprint(ref.fingerprint()),
                "package_fingerprint": format_package_fingerprint(package.fingerprint()),
                "key_label": package.label,
                "algorithm": package.algorithm.value,
                "kcv": package.key_check_value,
                "threshold": ref.threshold,
                "cards_used": sorted(used.values()),
                "sources": [s for s in sources if s in used],
            },
        )
        ctx.complete({"cards_used": len(used)})


class Recover(StepHandler):
    kind = "recover"

    def target(self, ctx: StepContext, package: Any) -> tuple[str, bool, bool]:
        from keyceremony.recipes.backup import DRILL_LABEL_PREFIX

        if ctx.template.drill:
            return DRILL_LABEL_PREFIX + ctx.ports.randbytes(4).hex(), False, False
        return ctx.params.key_label or package.label, True, ctx.params.extractable

    def run(self, ctx: StepContext) -> None:
        from keyceremony.keys.recovery import recover_key, verify_recovered_key

        inputs = ctx.material.get("inputs") or _inputs_again(
            ctx,
            "the wrapping key rebuilt from the cards was held only in memory and was lost "
            "when the program stopped; the cards recorded at the present-cards step are read again",
        )
        package = inputs.package
        label, persistent, extractable = self.target(ctx, package)
        ours = any(e.event == "recovering" and e.data.get("key_label") == label for e in ctx.entries())
        backend = ctx.backend
        key = None
        if persistent and backend.count_objects(label):
            if not ours:
                raise CeremonyError(
                    f"{_store(ctx)} already holds a key labelled '{label}'; set key_label in the "
                    "template's [parameters] to recover under another label, or delete the old key"
                )
            key = backend.find(label, algorithm=package.algorithm)
            verify_recovered_key(backend, key, package.key_check_value, package.canary, package.public_key)
            ctx.append("found-after-interruption", {"key_label": label, "kcv": package.key_check_value})
        else:
            ctx.append("recovering", {"key_label": label, "store": _store(ctx), "persistent": persistent})
            key = recover_key(
                backend, bytearray(inputs.wrapping_key), package.wrapped_key, package.key_check_value,
                package.canary, package.public_key, label, persistent, extractable=extractable,
            )  # fmt: skip
        ctx.material["recovered"] = key
        ctx.material["package"] = package
        ctx.append(
            "key-recovered",
            {"key_label": label, "backed_up_label": package.label, "algorithm": package.algorithm.value,
             "kcv": package.key_check_value, "kcv_matches": True, "canary_checked": True,
             "store": _store(ctx), "persistent": persistent, "extractable": extractable,
             "drill": ctx.template.drill},
        )  # fmt: skip
        ctx.complete({"kcv": package.key_check_value})

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        recovered = ctx.facts("key-recovered", prior)
        if not recovered:
            return False
        ctx.complete({"kcv": recovered[-1]["kcv"]})
        return True


def _package_again(ctx: StepContext) -> Any:
    """The backup package (public) from the cards recorded at the present-cards step."""
    from keyceremony.keys.backup_package import format_package_fingerprint

    facts = ctx.fact("cards-accepted", "present-cards")
    for source in facts["sources"]:
        contents = ctx.ports.scanner.read(Path(source))
        for _, package in contents.packages:
            if format_package_fingerprint(package.fingerprint()) == facts["package_fingerprint"]:
                package.verify(source=source)
                return package
    raise CeremonyError("the backup package recorded at the present-cards step cannot be read again from its cards")


class TestDecrypt(StepHandler):
    kind = "test-decrypt"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.keys.recovery import recover_key

        backend = ctx.backend
        facts = ctx.fact("key-recovered", "recover")
        key = ctx.material.get("recovered")
        package = ctx.material.get("package")
        if key is None and facts["persistent"] and ctx.keys.persistent:
            package = package or _package_again(ctx)
            key = backend.find(facts["key_label"], algorithm=package.algorithm)
        elif key is None:
            inputs = ctx.material.get("inputs") or _inputs_again(
                ctx,
                "the key recovered at the recover step was a throwaway copy in memory (or a "
                "session object) and was lost when the program stopped; the cards are read again",
            )
            package = inputs.package
            label, persistent, extractable = Recover().target(ctx, package)
            key = recover_key(
                backend, bytearray(inputs.wrapping_key), package.wrapped_key, package.key_check_value,
                package.canary, package.public_key, label, persistent, extractable=extractable,
            )  # fmt: skip
            ctx.append("recovered-again", {"key_label": label, "kcv": package.key_check_value, "store": _store(ctx)})
        if key is None or package is None:  # pragma: no cover - every branch above sets both
            raise CeremonyError(f"step '{ctx.step.id}': the recovered key is not available")
        ctx.material["recovered"] = key
        ctx.material["package"] = package
        kcv = backend.key_check_value(key)
        if not hmac.compare_digest(kcv, package.key_check_value):
            raise KeyCheckMismatch(
                f"key '{key.label}': its check value {kcv} is not the backed-up key's "
                f"{package.key_check_value}; it is not the key that was backed up"
            )
        backend.check_canary(key, package.canary, package.public_key)
        fresh = backend.make_canary(key, key.label)
        backend.check_canary(key, fresh, key.public_key or package.public_key)
        where = _store(ctx)
        canary = ("decrypted (AES-GCM) by the key inside " if package.algorithm.is_symmetric
                  else "signature verified, and a fresh challenge signed by the key inside ") + where  # fmt: skip
        ctx.append(
            "key-tested",
            {"key_label": key.label, "kcv": kcv, "kcv_matches": True, "canary": canary,
             "fresh_round_trip": "a new canary made and checked with the key: OK"},
        )  # fmt: skip
        ctx.complete({"kcv": kcv})


class Report(StepHandler):
    kind = "report"

    def run(self, ctx: StepContext) -> None:
        accepted = ctx.fact("cards-accepted", "present-cards")
        recovered = ctx.fact("key-recovered", "recover")
        presented = {str(d["share_number"]): d.get("presented_by") for d in
                     ctx.facts("card-presented", ctx.entries(_step_of(ctx, "present-cards")))}  # fmt: skip
        tested = any(s.kind == "test-decrypt" for s in ctx.template.steps)
        drill = ctx.template.drill
        data = {
            "outcome": "PASSED" if drill else "RECOVERED",
            "drill": drill,
            "key_label": accepted["key_label"],
            "algorithm": accepted["algorithm"],
            "kcv": accepted["kcv"],
            "set_id": accepted["set_id"],
            "set_fingerprint": accepted["set_fingerprint"],
            "package_fingerprint": accepted["package_fingerprint"],
            "cards_used": accepted["cards_used"],
            "presented_by": presented,
            "store": recovered["store"],
            "tested": tested,
            "kept": (
                "nothing: the throwaway copy is deleted at the destroy step"
                if drill
                else f"key '{recovered['key_label']}' in {recovered['store']}"
            ),  # fmt: skip
        }
        ctx.append("drill-report" if drill else "recovery-report", data)
        ctx.say(
            f"{'Drill' if drill else 'Recovery'}: {data['outcome']}; key '{data['key_label']}', "
            f"check value {data['kcv']}",
            "done",
        )
        ctx.complete({"outcome": data["outcome"]})


# --- destroy and seal --------------------------------------------------------------------------------


class Destroy(StepHandler):
    kind = "destroy"

    def run(self, ctx: StepContext) -> None:
        items: list[tuple[str, dict[str, Any]]] = []
        made_here = ctx.engine.made_in_this_run
        if ctx.template.kind == "key-generation":
            items.append(("destroyed", {
                "what": "backup wrapping key",
                "action": ("wiped in memory right after the split; it was never written anywhere"
                           if "split-and-print" in made_here else
                           "wiped in memory right after the split, by the program run that made it; "
                           "never written anywhere"),
            }))  # fmt: skip
            p = ctx.params
            if ctx.keys.persistent:
                items.append(
                    (
                        "kept",
                        {
                            "what": f"key '{p.key_label}'",
                            "store": _store(ctx),
                            "action": "kept in the token: sensitive, extractable only wrapped",
                        },
                    )
                )
            else:
                key = ctx.material.pop("key", None)
                if key is not None:
                    ctx.backend.destroy(key)
                    action = "wiped from memory; the backup on the cards is now its only copy"
                else:
                    action = "gone with the program run that held it; the backup on the cards is its only copy"
                items.append(
                    ("destroyed", {"what": f"key '{p.key_label}' in the software key store", "action": action})
                )
            printer = ctx.ports.printer
            files = list(printer.printed_files())
            keep = ctx.step.card_files == "keep" or ctx.engine.keep_card_files
            names = [_relative(f, ctx.engine.out_dir) for f in files]
            if keep:
                why = "kept (rehearsal)" if ctx.engine.keep_card_files else "kept, as the template says"
                items.append(("kept", {"what": "card PDF files", "files": names, "action": why}))
            else:
                printer.shred(files)
                items.append(
                    (
                        "destroyed",
                        {"what": "card PDF files", "files": names, "action": "overwritten with zeros and deleted"},
                    )
                )
        else:
            inputs = ctx.material.pop("inputs", None)
            if inputs is not None:
                inputs.close()
            items.append(("destroyed", {
                "what": "wrapping key rebuilt from the cards",
                "action": "wiped in memory" if inputs is not None else "gone with the program run that held it",
            }))  # fmt: skip
            facts = ctx.fact("key-recovered", "recover")
            key = ctx.material.pop("recovered", None)
            if ctx.template.drill:
                label = key.label if key is not None else facts["key_label"]
                if key is not None:
                    ctx.backend.destroy(key)
                left = ctx.backend.count_objects(label)
                if left:
                    raise CeremonyError(
                        f"the drill copy '{label}' could not be removed ({left} object(s) left); delete it by hand"
                    )
                items.append(("destroyed", {
                    "what": f"drill copy '{label}'",
                    "action": ("deleted from " if key is not None
                               else "gone (it was a session or in-memory object) from ") + _store(ctx),
                    "objects_left": left,
                }))  # fmt: skip
            else:
                if ctx.keys.persistent:
                    action = "kept: the recovered key" + ("" if facts["extractable"] else ", not extractable")
                else:
                    action = "kept only until this program ends: the software key store is memory (a rehearsal)"
                items.append(
                    ("kept", {"what": f"key '{facts['key_label']}'", "store": facts["store"], "action": action})
                )
        for event, data in items:
            ctx.append(event, data)
        ctx.complete({"items": len(items)})


class Seal(StepHandler):
    kind = "seal"

    def run(self, ctx: StepContext) -> None:
        count = len(ctx.engine.entries) + 2
        ctx.say(
            f"The transcript will be sealed with entry {count}; read the count aloud and write it in the paper log."
        )
        if ctx.step.confirm:
            ctx.confirm(ctx.step.id, ctx.step.confirm)
        ctx.append("sealing", {"entry_count": count})
        ctx.engine.seal(
            ctx.step, ctx.present, {"remarks": f"{ctx.template.title}: all steps done", "entry_count": count}
        )


HANDLERS: dict[str, StepHandler] = {
    h.kind: h
    for h in (
        RollCall(),
        Preflight(),
        Confirm(),
        GenerateKey(),
        SplitAndPrint(),
        ScanBack(),
        HandOver(),
        PresentCards(),
        Recover(),
        TestDecrypt(),
        Report(),
        Destroy(),
        Seal(),
    )  # fmt: skip
}
assert set(HANDLERS) == set(STEP_KINDS) == set(StepKind), "every step kind has a handler"

__all__ = ["HANDLERS", "StepContext", "StepHandler", "ask_attendance", "check_attendance", "ADMINISTRATOR"]
