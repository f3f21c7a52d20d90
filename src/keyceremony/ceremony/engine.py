"""The ceremony engine: a template run as a state machine over injected ports (docs/architecture.md §3, rule 5).

The engine holds no I/O of its own beyond the transcript writer and the state file: people,
the machine, key stores, printers and the clock are ports (:mod:`.ports`). Its state is the
transcript itself: :meth:`CeremonyEngine.current_step` is read from the entries on disk, so a
restart after a crash continues exactly where the record stopped (docs/ceremony-guide.md §6).

Drive it one step at a time (a terminal UI runs each call in a worker thread)::

    engine = CeremonyEngine(template, out_dir, ports, options).start()   # opens or resumes
    while not engine.finished:
        engine.step()            # one template step; raises KeyCeremonyError to stop
    result = engine.result       # the verified transcript and the report

or all at once with :meth:`CeremonyEngine.run`. A step that raises leaves the transcript open:
call ``step()`` again after the cause is fixed, or start the engine again in a new process;
either way the ceremony resumes at that step.

**One thread.** ``start``, ``step``, ``run`` and ``close`` must all be called on the thread that
called ``start`` (a driver's single worker thread): every PKCS#11 call of a ceremony (login,
key generation, wrapping, the ceremony key's signatures) runs there, because a PKCS#11 session
is not to be shared between threads (PKCS#11 v2.40 §6.6.2) and python-pkcs11 does not lock it.
A call from another thread raises :class:`~keyceremony.errors.CeremonyError`.
:meth:`CeremonyEngine.cancel` is the exception: any thread may call it.

**Cancelling.** ``cancel()`` asks the running ceremony to stop. The engine stops at the next
unit boundary (before a step, between cards, before a key-store operation), never halfway
through writing a file or making an HSM object, raises
:class:`~keyceremony.errors.CeremonyCancelled`, and keeps the reason in the state file. The
transcript stays open, and starting the engine again resumes exactly as after a crash (the
``resumed`` entry records the cancellation as ``previous_error``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyceremony.ceremony.ports import (
    NEW_KEY_CONFIRMATION,
    Announcement,
    AnnouncementData,
    AnnouncementKind,
    ConfirmRequest,
    Ports,
    Progress,
    Rehearsal,
    StepInfo,
    StepKind,
    StepState,
)
from keyceremony.ceremony.state import (
    REPORT_FILE,
    STATE_FILE,
    TRANSCRIPT_FILE,
    CeremonyState,
    load_state,
    save_state,
)
from keyceremony.ceremony.steps import COMPLETED, HANDLERS, RESTARTED, StepContext, ask_attendance
from keyceremony.ceremony.template import KeyGenerationParameters, Step, Template
from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint
from keyceremony.errors import CeremonyCancelled, CeremonyError, KeyCeremonyError
from keyceremony.recipes.anchors import Anchors
from keyceremony.transcript import (
    Actor,
    CeremonyMeta,
    Entry,
    TranscriptWriter,
    VerifiedTranscript,
    new_ceremony_id,
    split_lines,
    verify_transcript,
)
from keyceremony.transcript.signer import Signer, key_fingerprint

__all__ = [  # the vocabulary a driver needs lives in .ports; these names stay importable here
    "NEW_KEY_CONFIRMATION",
    "CeremonyEngine",
    "CeremonyOptions",
    "CeremonyResult",
    "Ports",
    "Rehearsal",
    "StepStatus",
]


@dataclass(frozen=True)
class CeremonyOptions:
    title: str | None = None
    location: str | None = None
    rehearsal: Rehearsal = field(default_factory=Rehearsal)
    answers_sha256: str = ""
    anchors: Anchors = field(default_factory=Anchors)  # what the paper log recorded (recoveries)
    owner: str | None = None  # the key owner the cards name: whom to tell if one is lost
    contact: str | None = None  # how to reach the owner, printed beside the name


@dataclass(frozen=True)
class CeremonyResult:
    """A finished ceremony: its transcript verified with the template's requirements."""

    verified: VerifiedTranscript
    report: str
    report_path: Path
    transcript_path: Path
    fingerprint: bytes
    later_fingerprints: tuple[bytes, ...]
    report_pdf: Path | None = None  # the auditors' PDF of the transcript, if the printer makes one


@dataclass(frozen=True)
class StepStatus:
    step: Step
    status: StepState


class CeremonyEngine:
    """Runs one ceremony of ``template`` in ``out_dir`` (transcript, state, cards, report)."""

    def __init__(self, template: Template, out_dir: Path, ports: Ports, options: CeremonyOptions | None = None) -> None:
        self.template = template
        self.out_dir = Path(out_dir)
        self.ports = ports
        self.options = options or CeremonyOptions()
        rehearsal = self.options.rehearsal
        not_allowed = [c for c in rehearsal.warn if c not in template.rehearsal.may_warn]
        if not_allowed:
            raise CeremonyError(
                f"the answers ask to relax the preflight check(s) {', '.join(not_allowed)} for a "
                f"rehearsal, which template '{template.name}' does not allow "
                f"(allowed: {', '.join(template.rehearsal.may_warn) or 'none'})"
            )
        if rehearsal.keep_card_files and not template.rehearsal.may_keep_card_files:
            raise CeremonyError(f"template '{template.name}' does not allow a rehearsal to keep the card files")
        self.anchors = self.options.anchors
        self.owner, self.contact = self.options.owner, self.options.contact
        self.relaxed_checks = frozenset(rehearsal.warn)
        self.keep_card_files = rehearsal.keep_card_files
        self.material: dict[str, Any] = {}  # keys and wrapping keys: memory only, wiped on close
        self.participants: tuple[Actor, ...] = ()
        self.made_in_this_run: set[str] = set()
        self.backend: Any = None
        self.writer: TranscriptWriter | None = None
        self.state: CeremonyState | None = None
        self.finished = False
        self.result: CeremonyResult | None = None
        self._signer: Any = None
        self._thread: int | None = None  # the thread that drives this engine (module docstring)
        self._cancel = threading.Event()

    # -- paths and public properties

    @property
    def transcript_path(self) -> Path:
        return self.out_dir / TRANSCRIPT_FILE

    @property
    def fingerprint(self) -> bytes:
        """The ceremony key's fingerprint (the first key's): on every card and the report."""
        assert self.state is not None
        return bytes.fromhex(self.state.fingerprint)

    def current_step(self) -> Step | None:
        """The first step without a ``completed`` entry since its last restart (None: sealed)."""
        return _current_step(self.template, self.writer.entries if self.writer else ())

    def plan(self) -> list[StepStatus]:
        """Every step with its status (``done``, ``current``, ``pending``), for a UI."""
        current = self.current_step()
        return [
            StepStatus(step, StepState.CURRENT if current is not None and step.id == current.id
                       else StepState.DONE if self.writer is not None and self._is_done(step)
                       else StepState.PENDING)
            for step in self.template.steps
        ]  # fmt: skip

    # -- the driver's thread, and stopping on request

    def _on_driver_thread(self) -> None:
        me = threading.get_ident()
        if self._thread is None:
            self._thread = me
        elif self._thread != me:
            raise CeremonyError(
                "the ceremony engine was called from another thread than the one that started it; "
                "drive it from one thread (its PKCS#11 session belongs to that thread)"
            )

    def cancel(self) -> None:
        """Ask the running ceremony to stop at the next unit boundary (any thread may call this)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def checkpoint(self) -> None:
        """A unit boundary: raise CeremonyCancelled if a stop was asked for."""
        if self._cancel.is_set():
            raise CeremonyCancelled(
                "the ceremony was stopped on request; nothing was left half done. Start it again "
                "with the same folder to resume where it stopped"
            )

    def report_progress(self, progress: Progress) -> None:
        """Tell the driver how far a long step is, then stop here if asked to."""
        self.ports.on_progress(progress)
        self.checkpoint()

    # -- opening and resuming

    def start(self) -> CeremonyEngine:
        """Open a new ceremony in an empty ``out_dir``, or resume the one it holds."""
        self._on_driver_thread()
        state = load_state(self.out_dir)
        if state is None:
            self._open_new()
        else:
            self._resume(state)
        return self

    def _open_new(self) -> None:
        if self.out_dir.exists() and any(self.out_dir.iterdir()):
            raise CeremonyError(
                f"{self.out_dir} is not empty and holds no ceremony ({STATE_FILE} is missing); "
                "give an empty or new folder for a new ceremony"
            )
        if self.template.kind == "key-generation":  # the label goes on every card
            label = str(getattr(self.template.parameters, "key_label", ""))
            named = [("the template's key_label", label), ("the key owner", self.owner),
                     ("the owner's contact", self.contact)]
            for what, text in named:
                problem = self.ports.printer.unprintable_name(what, text) if text is not None else None
                if problem is not None:
                    raise CeremonyError(f"{problem}. Nothing was started")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        keys = self.ports.keys
        self.backend = keys.open()
        ceremony_id = new_ceremony_id(self.ports.randbytes)
        signer = keys.new_signer(self.backend, ceremony_id)
        self.state = CeremonyState(
            ceremony_id=ceremony_id,
            template_name=self.template.name,
            template_sha256=self.template.sha256,
            template_source=self.template.source,
            backend=keys.kind,
            token_label=getattr(self.backend, "token_label", None),
            fingerprint=key_fingerprint(signer.public_key).hex(),
            answers_sha256=self.options.answers_sha256,
            rehearsal=self.options.rehearsal.declared,
            test_hooks=list(getattr(keys, "test_hooks", ())),
        )
        save_state(self.out_dir, self.state)
        self._create(signer)

    def _create(self, signer: Any) -> None:
        from keyceremony import __version__

        assert self.state is not None
        t = self.template
        details: dict[str, Any] = {
            "template": t.name,
            "template_version": t.version,
            "template_kind": t.kind,
            "template_sha256": t.sha256,
            "backend": self.ports.keys.kind,
            "keyceremony_version": __version__,
            "parameters": _public_parameters(t),
        }
        if self.state.token_label:
            details["token_label"] = self.state.token_label
        if self.options.location:
            details["location"] = self.options.location
        if self.owner:  # whom the cards name (not secret)
            details["key_owner"] = self.owner
        if self.contact:
            details["key_owner_contact"] = self.contact
        if self.options.rehearsal.declared:
            details["rehearsal"] = {
                "checks_relaxed_to_warn": list(self.options.rehearsal.warn),
                "card_files_kept": self.options.rehearsal.keep_card_files,
            }
        if self.state.test_hooks:
            details["test_hooks"] = list(self.state.test_hooks)
        meta = CeremonyMeta(self.state.ceremony_id, self.options.title or t.title, details)
        self._signer = signer
        self.writer = TranscriptWriter.create(self.transcript_path, signer, meta, clock=self.ports.clock)
        self.ports.on_entry("ceremony", self.writer.last_entry)

    def _resume(self, state: CeremonyState) -> None:
        t = self.template
        if state.template_sha256 != t.sha256:
            raise CeremonyError(
                f"{self.out_dir} holds ceremony {state.ceremony_id} of template "
                f"'{state.template_name}' ({state.template_source}), and the template given now is "
                "not the same file (its SHA-256 differs). Resume with the template it started with"
            )
        keys = self.ports.keys
        if state.backend != keys.kind:
            raise CeremonyError(
                f"{self.out_dir} holds ceremony {state.ceremony_id}, which runs with the "
                f"{state.backend} back end; resume it with the same back end"
            )
        self.state = state
        state.runs += 1
        self.backend = keys.open()
        path = self.transcript_path
        content = path.read_bytes() if path.exists() else b""
        lines, _torn = split_lines(content)
        if not lines:  # stopped while opening: nothing was recorded yet
            path.unlink(missing_ok=True)
            first = keys.find_signer(self.backend, state.ceremony_id) or keys.new_signer(
                self.backend, state.ceremony_id
            )
            state.fingerprint = key_fingerprint(first.public_key).hex()
            state.later_fingerprints = []
            state.rehearsal = self.options.rehearsal.declared  # opened now, with these answers
            save_state(self.out_dir, state)
            self._create(first)
            return
        verified = verify_transcript(b"".join(lines), require_sealed=False, name=str(path))
        if verified.ceremony_id != state.ceremony_id or verified.fingerprint.hex() != state.fingerprint:
            raise CeremonyError(
                f"{path} is not the transcript of ceremony {state.ceremony_id} recorded in "
                f"{STATE_FILE} (another ceremony's id or key); keep both files as evidence"
            )
        changes = [c.fingerprint.hex() for c in verified.key_changes]
        unknown = [c for c in changes if c not in state.later_fingerprints]
        if unknown:
            raise CeremonyError(
                f"{path} changes to a ceremony key this program never made "
                f"({format_fingerprint(bytes.fromhex(unknown[0]))}); the transcript was altered. "
                "Keep it as evidence and report it"
            )
        state.later_fingerprints = changes
        if verified.sealed:
            leftover = keys.find_signer(self.backend, state.ceremony_id)
            if leftover is not None:  # stopped between the seal and the key's destruction
                leftover.destroy()
                self._say("info", "The transcript was sealed; the ceremony key left in the token is destroyed now.")
            save_state(self.out_dir, state)
            self._finish()
            return
        self._refuse_new_relaxations(state, verified)
        current_key = verified.segments[-1].public_key
        signer: Signer | None = keys.find_signer(self.backend, state.ceremony_id)
        if signer is not None and signer.public_key != current_key:
            raise CeremonyError(
                f"the token's ceremony key for {state.ceremony_id} is not the key that signs "
                f"{path}; keep both as evidence"
            )
        new_key = signer is None
        current = _current_step(t, verified.entries)
        data: dict[str, Any] = {
            "reason": "the ceremony program started again after it stopped (crash, power loss, error or kill)",
            "resume_at": current.id if current else "seal",
            "run": state.runs,
        }
        if state.last_error:
            data["previous_error"] = state.last_error[:1000]
        if self.options.answers_sha256 and self.options.answers_sha256 != state.answers_sha256:
            data["answers_changed"] = True
            state.answers_sha256 = self.options.answers_sha256
        if new_key:
            signer = keys.new_signer(self.backend, state.ceremony_id)
            fp = key_fingerprint(signer.public_key)
            state.later_fingerprints.append(fp.hex())
            save_state(self.out_dir, state)
            self._say(
                "fingerprint",
                f"The ceremony key was lost when the program stopped (it lived only in memory). "
                f"A NEW ceremony key signs from here on: {format_fingerprint(fp)}. Read it aloud "
                f"as words: {fingerprint_words(fp)}. Write it in the paper log next to the first one.",
                what="new ceremony key",
                hex=format_fingerprint(fp),
                words=fingerprint_words(fp),
                new=True,
            )
            question = "The NEW ceremony key fingerprint was read aloud and written in the paper log"
            if self.ports.prompter.confirm(ConfirmRequest(None, NEW_KEY_CONFIRMATION, question)) is not True:
                raise CeremonyError(f"not confirmed: {question}; the ceremony cannot go on without it")
            data["new_key_fingerprint_read_aloud"] = True
        assert signer is not None  # found in the token, or made just above
        self._signer = signer
        self.writer = TranscriptWriter.resume(
            path, signer, data=data, clock=self.ports.clock, truncate_torn=True, allow_new_key=new_key
        )
        self.ports.on_entry("ceremony", self.writer.last_entry)
        state.last_error = None
        save_state(self.out_dir, state)
        self.participants = _participants(self.writer.entries)
        self._say("info", f"Resumed ceremony {state.ceremony_id} at step '{data['resume_at']}'.")

    def _refuse_new_relaxations(self, state: CeremonyState, verified: VerifiedTranscript) -> None:
        """A rehearsal is decided at the opening (docs/ceremony-guide.md §6.2): refuse answers that
        relax more than the opening entry recorded. Relaxing less (going stricter) is allowed."""
        opened = verified.meta.get("rehearsal")
        opened_warn: set[str] = set()
        opened_keep = False
        if isinstance(opened, dict):
            checks = opened.get("checks_relaxed_to_warn")
            opened_warn = {str(c) for c in checks} if isinstance(checks, list) else set()
            opened_keep = opened.get("card_files_kept") is True
        now = self.options.rehearsal
        added = [f"the preflight check '{c}' relaxed to warn" for c in now.warn if c not in opened_warn]
        if now.keep_card_files and not opened_keep:
            added.append("the card PDF files kept")
        if not added:
            return
        if isinstance(opened, dict):
            relaxed = ", ".join(sorted(opened_warn)) or "none"
            was = (f"as a rehearsal relaxing only this (checks relaxed to warn: {relaxed}; card PDF files "
                   f"{'kept' if opened_keep else 'not kept'})")  # fmt: skip
            undo = "put back the [rehearsal] section it was opened with"
        else:
            was = "for real, not as a rehearsal"
            undo = "remove the [rehearsal] section from the answers"
        raise CeremonyError(
            f"ceremony {state.ceremony_id} in {self.out_dir} was opened {was}, and the answers now "
            f"declare {' and '.join(added)}. Whether a ceremony is a rehearsal, and what it relaxes, is "
            f"decided when it is opened. Finish it as it was opened ({undo}), or start a new rehearsal "
            "in a new folder (another --out). Nothing was written"
        )

    # -- running steps

    def run(self) -> CeremonyResult:
        """Start (or resume) and run every remaining step; close the key store in any case."""
        try:
            if self.writer is None and not self.finished:
                self.start()
            while not self.finished:
                self.step()
        finally:
            self.close()
        assert self.result is not None
        return self.result

    def step(self) -> Step | None:
        """Run the current step to its end and return it (None once finished).

        Raises KeyCeremonyError to stop (the reason is also kept in the state file, and the
        resumed entry records it); ValueError for a programming error.
        """
        self._on_driver_thread()
        if self.finished:
            return None
        assert self.writer is not None and self.state is not None
        step = self.current_step()
        if step is None:
            self._finish()
            return None
        try:
            self.checkpoint()
            step = self._run_step(step)
        except KeyCeremonyError as err:
            self.state.last_error = f"step '{step.id}': {err}"
            save_state(self.out_dir, self.state)
            raise
        self.made_in_this_run.add(step.kind)
        self.state.completed_steps = [s.id for s in self.template.steps if self._is_done(s)]
        save_state(self.out_dir, self.state)
        if self.writer.sealed:
            self._finish()
        return step

    def _run_step(self, step: Step) -> Step:
        assert self.writer is not None
        index = self.template.index(step.id)
        info = StepInfo(
            step.id, StepKind(step.kind), step.title, index + 1, len(self.template.steps), step.instructions
        )
        handler = HANDLERS[step.kind]
        everything = [e for e in self.writer.entries if e.step == step.id]
        if not everything:
            reason = handler.rewind_reason(StepContext(self, step, info, ()))
            if reason:
                previous = self.template.steps[index - 1]
                self._say("warning", f"Step '{previous.id}' runs again: {reason}.")
                self.append(previous.id, RESTARTED, (), {"reason": reason, "lost_in_interruption": True})
                return self._run_step(previous)
        self._say("step", f"Step {info.number} of {info.total}: {step.title}", info)
        present: tuple[Actor, ...] = (
            () if step.kind == "roll-call" else ask_attendance(self.ports.prompter, self.participants, step, info)
        )
        ctx = StepContext(self, step, info, present)
        last_restart = max((i for i, e in enumerate(everything) if e.event == RESTARTED), default=-1)
        prior = everything[last_restart + 1 :]
        if prior and handler.resume(ctx, prior):
            return step
        if prior:
            self.append(
                step.id, RESTARTED, present,
                {"reason": "the step was cut short before it completed (the program stopped, or an "
                           "error); it starts over"},
            )  # fmt: skip
        handler.run(ctx)
        return step

    def _is_done(self, step: Step) -> bool:
        assert self.writer is not None
        if step.kind == "seal":
            return self.writer.sealed
        return _step_done(step, self.writer.entries)

    # -- the transcript (what step handlers write through their StepContext)

    @property
    def entries(self) -> Sequence[Entry]:
        """Every entry of the transcript so far, in order."""
        assert self.writer is not None
        return self.writer.entries

    def append(self, step_id: str, event: str, actors: Sequence[Actor], data: Mapping[str, Any]) -> Entry:
        assert self.writer is not None
        entry = self.writer.append(step_id, event, actors=actors, data=data)
        self.ports.on_entry(step_id, entry)
        return entry

    def seal(self, step: Step, actors: Sequence[Actor], data: Mapping[str, Any]) -> Entry:
        """The transcript's last entry; the writer destroys the ceremony key right after it."""
        assert self.writer is not None
        entry = self.writer.seal(actors=actors, data=data)
        self._signer = None
        self.ports.on_entry(step.id, entry)
        return entry

    def abort(self, reason: str) -> CeremonyResult:
        """Give the ceremony up for good: seal its transcript as aborted at the current step,
        with the reason (docs/transcript.md §6.4); shred the card files it printed (they hold
        shares of a backup that was never handed over); write the report. A ceremony not yet
        started in this run is resumed first (a new soft ceremony key is announced as usual).
        The key store is closed in any case; what it holds (a key made in an HSM) stays, and
        the report names the step it was aborted at."""
        from keyceremony.ceremony.template import ADMINISTRATOR

        self._on_driver_thread()
        reason = " ".join(reason.split())
        if not reason:
            raise CeremonyError("say why the ceremony is aborted: the reason goes into the transcript")
        try:
            if self.writer is None and not self.finished:
                self.start()
            if self.finished or self.writer is None or self.writer.sealed:
                raise CeremonyError("the ceremony is sealed already; there is nothing to abort")
            step = self.current_step()
            printer = self.ports.printer
            printed = list(printer.printed_files())
            printer.shred(printed)
            at = step or self.template.steps[-1]
            admins = [a for a in self.participants if a.role == ADMINISTRATOR]
            self.seal(at, admins, {"aborted": True, "reason": reason, "at_step": at.id,
                                   "card_files_removed": sorted(p.name for p in printed)})  # fmt: skip
            self._say("warning", f"The ceremony was ABORTED at step '{at.id}' and its transcript sealed: {reason}")
            self._finish()
        finally:
            self.close()
        assert self.result is not None
        return self.result

    def record_participants(self, people: tuple[Actor, ...]) -> None:
        """The people of the roll call: the only ones who may take part in later steps."""
        self.participants = people

    def _say(self, kind: str, text: str, step: StepInfo | None = None, **data: str | int | bool) -> None:
        payload: AnnouncementData = data
        self.ports.prompter.announce(Announcement(AnnouncementKind(kind), text, step, payload))

    # -- the end

    def _finish(self) -> None:
        from keyceremony.ceremony.report import REQUIREMENTS_FILE, render_report, requirements_json

        assert self.state is not None
        later = tuple(bytes.fromhex(h) for h in self.state.later_fingerprints)
        verified = verify_transcript(
            self.transcript_path,
            expected_fingerprint=self.fingerprint,
            later_fingerprints=list(later),
            template_requirements=self.template.requirements(),
        )
        from keyceremony.atomic_file import write_atomically

        print_report = getattr(self.ports.printer, "print_report", None)
        report_pdf = None
        if print_report is not None:
            content = self.transcript_path.read_bytes()
            report_pdf = print_report(verified, content, source_name=self.transcript_path.name)
        report = render_report(self.template, verified, self.state, self.out_dir, report_pdf)
        report_path = self.out_dir / REPORT_FILE
        write_atomically(report_path, report.encode("utf-8"), mode=0o644)
        write_atomically(self.out_dir / REQUIREMENTS_FILE, requirements_json(self.template).encode("utf-8"), mode=0o644)
        if verified.aborted is None:
            self.state.status = "sealed"
            self.state.completed_steps = [s.id for s in self.template.steps]
        else:
            self.state.status = "aborted"
        save_state(self.out_dir, self.state)
        self.result = CeremonyResult(
            verified, report, report_path, self.transcript_path, self.fingerprint, later, report_pdf
        )
        self.finished = True
        self.close()

    def close(self) -> None:
        """Wipe the material held in memory and close the key store. Idempotent.

        The transcript stays as it is: a ceremony that is not sealed can be resumed.
        """
        self._on_driver_thread()
        for name in ("inputs",):
            item = self.material.pop(name, None)
            if item is not None:
                item.close()
        self.material.clear()
        if self.writer is not None:
            self.writer.close()
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()  # destroys session objects, wipes in-memory keys

    def __enter__(self) -> CeremonyEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- reading progress from the transcript -----------------------------------------------------------


def _step_done(step: Step, entries: Sequence[Entry]) -> bool:
    mine = [e for e in entries if e.step == step.id]
    last_restart = max((i for i, e in enumerate(mine) if e.event == RESTARTED), default=-1)
    return any(e.event == COMPLETED for e in mine[last_restart + 1 :])


def _current_step(template: Template, entries: Sequence[Entry]) -> Step | None:
    sealed = any(e.step == "ceremony" and e.event == "sealed" for e in entries)
    for step in template.steps:
        if step.kind == "seal":
            return None if sealed else step
        if not _step_done(step, entries):
            return step
    return None


def _participants(entries: Sequence[Entry]) -> tuple[Actor, ...]:
    for entry in reversed(entries):
        if entry.event == "participants-recorded":
            return entry.actors
    return ()


def _public_parameters(template: Template) -> dict[str, Any]:
    p = template.parameters
    if isinstance(p, KeyGenerationParameters):
        return {"key_label": p.key_label, "algorithm": p.algorithm, "threshold": p.threshold,
                "count": p.shares, "paper": p.paper}  # fmt: skip
    return {"key_label": p.key_label, "extractable": p.extractable}
