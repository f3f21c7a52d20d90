"""A second driver of the ceremony engine, shaped like the terminal UI will be.

The engine runs in one worker thread (as a Textual ``@work(thread=True)`` worker would). Its
prompter posts each request to a queue and blocks until the driver puts the answer back; the
driver, on the test's thread, plays the screen: it answers from the example answers file (what
people would type), watches the transcript grow (``on_entry``) and the progress of long steps
(``on_progress``), and may cancel. Everything runs on a real SoftHSM2 token (docs/architecture.md
§5: one thread per ceremony; cancelling stops between units of work and resumes like a crash).
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ceremony_helpers import EXAMPLES, MODULE, USER_PIN, FakeHost

from keyceremony.ceremony.adapters import FileCardScanner, PdfCardPrinter, Pkcs11Keys, SoftKeys
from keyceremony.ceremony.answers import AnswersPrompter, load_answers
from keyceremony.ceremony.engine import CeremonyEngine, CeremonyOptions, CeremonyResult
from keyceremony.ceremony.ports import (
    Announcement,
    AttendanceRequest,
    CardHoldersRequest,
    ConfirmRequest,
    HandOver,
    HandOverRequest,
    Ports,
    PresentCardsRequest,
    PresentedCard,
    Progress,
    ProgressTask,
    RollCallRequest,
    ScanBackRequest,
)
from keyceremony.ceremony.state import CARDS_DIR, load_state
from keyceremony.ceremony.template import bundled_directory, load_template
from keyceremony.errors import CeremonyCancelled, CeremonyError, KeyCeremonyError
from keyceremony.transcript import Actor, Entry, verify_transcript

WAIT = 120  # seconds any one queue wait may take before the test calls it a hang


class QueuePrompter:
    """The engine's side: runs on the worker thread, asks the driver through a queue."""

    def __init__(self, outbox: queue.Queue[tuple[Any, ...]]) -> None:
        self.outbox = outbox
        self.threads: set[str] = set()

    def _ask(self, method: str, request: object) -> Any:
        self.threads.add(threading.current_thread().name)
        reply: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self.outbox.put(("ask", method, request, reply))
        kind, value = reply.get(timeout=WAIT)
        if kind == "error":
            raise value
        return value

    def announce(self, announcement: Announcement) -> None:
        self.outbox.put(("announce", announcement))

    def roll_call(self, request: RollCallRequest) -> Sequence[Actor]:
        return self._ask("roll_call", request)  # type: ignore[no-any-return]

    def attendance(self, request: AttendanceRequest) -> Sequence[Actor]:
        return self._ask("attendance", request)  # type: ignore[no-any-return]

    def confirm(self, request: ConfirmRequest) -> bool:
        return self._ask("confirm", request)  # type: ignore[no-any-return]

    def card_holders(self, request: CardHoldersRequest) -> Sequence[str]:
        return self._ask("card_holders", request)  # type: ignore[no-any-return]

    def hand_over(self, request: HandOverRequest) -> HandOver:
        return self._ask("hand_over", request)  # type: ignore[no-any-return]

    def scan_back(self, request: ScanBackRequest) -> Path | None:
        return self._ask("scan_back", request)  # type: ignore[no-any-return]

    def present_cards(self, request: PresentCardsRequest) -> Sequence[PresentedCard]:
        return self._ask("present_cards", request)  # type: ignore[no-any-return]


@dataclass
class Session:
    """What the driver saw of one run of the engine."""

    outcome: CeremonyResult | BaseException | None = None
    asked: list[str] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    entries: list[tuple[str, Entry]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    prompter_threads: set[str] = field(default_factory=set)


class ThreadedDriver:
    """The screen's side: owns the queue, answers requests, may cancel the running ceremony."""

    def __init__(self, template_name: str, answers_path: Path, out: Path, keys: Pkcs11Keys | SoftKeys) -> None:
        self.template = load_template(template_name)
        answers = load_answers(answers_path, self.template)
        self.session = Session()
        self.person = AnswersPrompter(answers, self.template, say=self.session.said.append)
        self.outbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.prompter = QueuePrompter(self.outbox)
        ports = Ports(
            prompter=self.prompter,
            keys=keys,
            host=FakeHost(),
            printer=PdfCardPrinter(out / CARDS_DIR),
            scanner=FileCardScanner(),
            on_entry=lambda step_id, entry: self.outbox.put(("entry", step_id, entry)),
            on_progress=lambda progress: self.outbox.put(("progress", progress)),
        )
        options = CeremonyOptions(answers.title, answers.location, answers.rehearsal, answers.sha256, answers.anchors)
        self.engine = CeremonyEngine(self.template, out, ports, options)

    def _work(self) -> None:
        try:
            self.outbox.put(("done", self.engine.run()))
        except BaseException as err:  # noqa: BLE001 - handed to the driver's thread, which asserts on it
            self.outbox.put(("done", err))

    def run(self, cancel_when: Callable[[Progress], bool] = lambda p: False, cancel_at: str | None = None) -> Session:
        worker = threading.Thread(target=self._work, name="ceremony-worker")
        worker.start()
        while True:
            item = self.outbox.get(timeout=WAIT)
            if item[0] == "done":
                self.session.outcome = item[1]
                break
            if item[0] == "ask":
                _, method, request, reply = item
                self.session.asked.append(method)
                if method == cancel_at:  # the operator cancels while the screen waits for a person
                    self.engine.cancel()
                    reply.put(("error", CeremonyCancelled("cancelled while waiting for the custodians")))
                    continue
                try:
                    reply.put(("answer", getattr(self.person, method)(request)))
                except KeyCeremonyError as err:
                    reply.put(("error", err))
            elif item[0] == "announce":
                self.person.announce(item[1])
            elif item[0] == "progress":
                self.session.progress.append(item[1])
                if cancel_when(item[1]):
                    self.engine.cancel()
            elif item[0] == "entry":
                self.session.entries.append((item[1], item[2]))
        worker.join(timeout=WAIT)
        assert not worker.is_alive(), "the engine's worker did not end"
        self.session.prompter_threads = set(self.prompter.threads)
        return self.session


def template_with_label(tmp_path: Path, label: str) -> str:
    path = tmp_path / "key-generation-hsm.toml"
    text = (bundled_directory() / "key-generation.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('key_label = "root-kek"', f'key_label = "{label}"'), encoding="utf-8")
    return str(path)


def second_card_printed(progress: Progress) -> bool:
    return progress.task is ProgressTask.PRINT_CARD and progress.done == 2


@pytest.fixture(scope="module")
def cancelled_then_resumed(softhsm, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A key generation on token 'root', cancelled after card 2 of 5, then resumed to its seal."""
    tmp = tmp_path_factory.mktemp("threaded-keygen")
    label = f"kek-{uuid.uuid4().hex[:8]}"
    template = template_with_label(tmp, label)
    out = tmp / "ceremony"
    answers = EXAMPLES / "key-generation.toml"
    first = ThreadedDriver(template, answers, out, Pkcs11Keys(MODULE, "root", USER_PIN))
    stopped = first.run(cancel_when=second_card_printed)
    files_after_cancel = sorted(p.name for p in (out / CARDS_DIR).glob("card-*.pdf"))
    state_after_cancel = load_state(out)
    transcript_after_cancel = (out / "transcript.jsonl").read_bytes()
    confined = None
    try:
        first.engine.step()  # from the test's thread, not the worker's
    except CeremonyError as err:
        confined = err
    second = ThreadedDriver(template, answers, out, Pkcs11Keys(MODULE, "root", USER_PIN))
    resumed = second.run()
    after_cancel = (files_after_cancel, state_after_cancel, transcript_after_cancel)
    return label, out, first, stopped, after_cancel, confined, second, resumed


def test_cancel_stops_between_cards_and_records_why(cancelled_then_resumed):
    _, out, first, stopped, (files, state, transcript), _, _, _ = cancelled_then_resumed
    assert isinstance(stopped.outcome, CeremonyCancelled), stopped.outcome
    # The request reaches the worker while it draws a later card (the screen answers
    # asynchronously); it stops at the next card boundary: whole cards 1..m, none begun after.
    printed = [(p.done, p.total) for p in stopped.progress if p.task is ProgressTask.PRINT_CARD]
    m = len(printed)
    assert 2 <= m <= 5 and printed == [(x, 5) for x in range(1, m + 1)]
    assert files == [f"card-{x}.pdf" for x in range(1, m + 1)]
    assert state is not None and state.status != "sealed" and "stopped on request" in (state.last_error or "")
    # The transcript is intact, not sealed, and records nothing of the unfinished split.
    verified = verify_transcript(transcript, require_sealed=False)
    assert not verified.sealed
    assert not [e for e in verified.entries if e.step == "split-and-print"]
    assert [step for step, _ in stopped.entries][-1] == "generate-key"


def test_the_engine_runs_on_one_thread_only(cancelled_then_resumed):
    _, _, first, stopped, _, confined, _, resumed = cancelled_then_resumed
    assert stopped.prompter_threads == {"ceremony-worker"} and resumed.prompter_threads == {"ceremony-worker"}
    assert isinstance(confined, CeremonyError) and "another thread" in str(confined)


def test_the_cancelled_ceremony_resumes_like_after_a_crash_and_seals(cancelled_then_resumed):
    label, out, first, _, _, _, second, resumed = cancelled_then_resumed
    result = resumed.outcome
    assert isinstance(result, CeremonyResult), result
    verified = verify_transcript(
        out / "transcript.jsonl",
        expected_fingerprint=result.fingerprint,
        template_requirements=second.template.requirements(),
    )
    assert verified.sealed and not result.later_fingerprints  # the token kept the ceremony key
    resumed_entry = next(e for e in verified.entries if e.event == "resumed")
    assert "stopped on request" in resumed_entry.data["previous_error"]
    assert resumed_entry.data["resume_at"] == "split-and-print"
    printed = [p.done for p in resumed.progress if p.task is ProgressTask.PRINT_CARD]
    assert printed == [1, 2, 3, 4, 5]
    scanned = [p.done for p in resumed.progress if p.task is ProgressTask.SCAN_CARD]
    assert scanned == [1, 2, 3, 4, 5]
    key_store = [p for p in resumed.progress if p.task is ProgressTask.KEY_STORE]
    assert [p.finished for p in key_store] == [False, True]  # the wrap, before and after
    # The screen saw every entry as it became durable, in the transcript's order.
    seen = [entry for _, entry in first.session.entries + resumed.entries]
    assert [e.seq for e in seen] == [e.seq for e in verified.entries]
    # One set of five cards, from the resumed run; the key is in the token with its check value.
    assert sorted(p.name for p in (out / CARDS_DIR).glob("card-*.pdf")) == [f"card-{x}.pdf" for x in range(1, 6)]
    kcv = next(e.data["kcv"] for e in verified.entries if e.event == "key-generated")
    made = next(e.data for e in verified.entries if e.event == "shares-made")
    assert made["kcv"] == kcv and made["key_label"] == label
    assert "roll_call" in first.session.asked and "card_holders" in resumed.asked


def test_a_dr_drill_driven_from_a_worker_thread_passes(cancelled_then_resumed, tmp_path, monkeypatch):
    label, keygen_out, _, _, _, _, _, keygen = cancelled_then_resumed
    assert isinstance(keygen.outcome, CeremonyResult)
    monkeypatch.setenv("KEYGEN_DIR", str(keygen_out))
    driver = ThreadedDriver("dr-drill", EXAMPLES / "dr-drill.toml", tmp_path / "drill",
                            Pkcs11Keys(MODULE, "recovery", USER_PIN))  # fmt: skip
    session = driver.run()
    result = session.outcome
    assert isinstance(result, CeremonyResult), result
    verified = verify_transcript(
        result.transcript_path, expected_fingerprint=result.fingerprint,
        template_requirements=driver.template.requirements(),
    )  # fmt: skip
    report = next(e.data for e in verified.entries if e.event == "drill-report")
    kcv = next(e.data["kcv"] for e in keygen.outcome.verified.entries if e.event == "key-generated")
    assert report["outcome"] == "PASSED" and report["kcv"] == kcv and report["key_label"] == label
    assert report["store"] == "token 'recovery'"
    assert "present_cards" in session.asked and session.prompter_threads == {"ceremony-worker"}


def test_cancel_while_waiting_for_a_person_resumes_like_a_crash(tmp_path):
    """Soft key store: the cancel comes while the screen asks who holds which card. The key and
    the ceremony key lived in memory, so the resumed ceremony makes both again and says so."""
    out = tmp_path / "ceremony"
    answers = EXAMPLES / "key-generation.toml"
    first = ThreadedDriver("key-generation", answers, out, SoftKeys())
    stopped = first.run(cancel_at="card_holders")
    assert isinstance(stopped.outcome, CeremonyCancelled), stopped.outcome
    assert not list((out / CARDS_DIR).glob("card-*.pdf"))  # nothing printed
    resumed = ThreadedDriver("key-generation", answers, out, SoftKeys()).run()
    result = resumed.outcome
    assert isinstance(result, CeremonyResult), result
    assert len(result.later_fingerprints) == 1  # a new ceremony key, read aloud and confirmed
    verified = verify_transcript(
        out / "transcript.jsonl", expected_fingerprint=result.fingerprint, later_fingerprints=result.later_fingerprints
    )
    assert verified.sealed
    restarted = [e for e in verified.entries if e.event == "restarted" and e.step == "generate-key"]
    assert restarted and "lost" in restarted[0].data["reason"]  # the in-memory key is made again
    resumed_entry = next(e for e in verified.entries if e.event == "resumed")
    assert "cancelled while waiting for the custodians" in resumed_entry.data["previous_error"]
