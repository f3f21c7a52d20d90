"""The UI's interactive prompter without a screen: answers come back through the reply, a pause
or a closed question ends the wait with CeremonyCancelled, and the defaults come from the
answers without their refusals (tui/driver.py). Plus the quorum lines a screen shows."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tui_helpers import EXAMPLES

from keyceremony.ceremony.answers import AnswersPrompter, load_answers
from keyceremony.ceremony.ports import (
    AttendanceRequest,
    ConfirmRequest,
    PresentCardsRequest,
    PresentedCard,
    ScanBackRequest,
    StepInfo,
    StepKind,
)
from keyceremony.ceremony.quorum import quorum_lines, roster_lines
from keyceremony.ceremony.template import load_template
from keyceremony.errors import CeremonyCancelled
from keyceremony.transcript import Actor
from keyceremony.tui.driver import CANCEL, InteractivePrompter

INFO = StepInfo("seal", StepKind.SEAL, "Seal the transcript", 8, 8)
ALICE, BOB, EVE = Actor("Alice Ng", "custodian"), Actor("Bob Li", "custodian"), Actor("Eve Park", "witness")


def prompter(answer: object, *, defaults: object = None, stop: threading.Event | None = None):  # type: ignore[no-untyped-def]
    """A prompter whose screen answers ``answer`` from another thread, recording what it was shown."""
    shown: list[tuple[str, object, object]] = []

    def show(method: str, request: object, default: object, reply) -> None:  # type: ignore[no-untyped-def]
        shown.append((method, request, default))
        if answer is not None:
            threading.Timer(0.01, reply, (answer,)).start()

    p = InteractivePrompter(show=show, announce=lambda a: None, stop=stop or threading.Event(),
                            defaults=defaults)  # type: ignore[arg-type]  # fmt: skip
    return p, shown


def test_an_answer_from_the_screen_is_returned_to_the_engine() -> None:
    p, shown = prompter(True)
    assert p.confirm(ConfirmRequest(INFO, "seal", "The entry count was read aloud")) is True
    assert shown[0][0] == "confirm" and shown[0][2] is None


def test_closing_the_question_cancels_and_a_pause_ends_a_waiting_question() -> None:
    p, _ = prompter(CANCEL)
    with pytest.raises(CeremonyCancelled, match="resumes here"):
        p.confirm(ConfirmRequest(INFO, "seal", "?"))
    stop = threading.Event()
    p, shown = prompter(None, stop=stop)  # nobody answers
    threading.Timer(0.05, stop.set).start()
    with pytest.raises(CeremonyCancelled, match="paused"):
        p.attendance(AttendanceRequest(INFO, (ALICE, EVE), (("witness", 1),)))
    assert shown and shown[0][0] == "attendance"


def test_defaults_come_from_the_answers_and_their_refusals_mean_no_default() -> None:
    template = load_template("key-generation")
    answers = load_answers(EXAMPLES / "key-generation.toml", template)
    defaults = AnswersPrompter(answers, template, say=lambda text: None)
    p, shown = prompter(False, defaults=defaults)
    p.confirm(ConfirmRequest(INFO, "seal", "?"))  # the example confirms the seal
    p.confirm(ConfirmRequest(INFO, "not-in-the-file", "?"))  # AnswersError: no default, still asked
    again = ScanBackRequest(INFO, 2, Path("card-2.pdf"), attempt=2, problem="unreadable")
    p.scan_back(again)  # a second read is never answered from the file
    assert [s[2] for s in shown] == [True, None, None]


def test_present_cards_offers_the_next_card_the_answers_list_that_was_not_presented() -> None:
    cards = (PresentedCard(Path("/c/card-1.pdf"), "Alice Ng"), PresentedCard(Path("/c/card-3.pdf"), "Bob Li"))

    class Listed:
        def present_cards(self, request: PresentCardsRequest) -> tuple[PresentedCard, ...]:
            return cards

    replies = iter([[cards[0]], [cards[1]], [PresentedCard(Path("typed share #1"), text="secret lines")]])
    shown: list[object] = []

    def show(method: str, request: object, default: object, reply) -> None:  # type: ignore[no-untyped-def]
        shown.append(default)
        reply(next(replies))

    p = InteractivePrompter(show=show, announce=lambda a: None, stop=threading.Event(), defaults=Listed())  # type: ignore[arg-type]
    request = PresentCardsRequest(INFO, ("Alice Ng", "Bob Li"))
    for _ in range(3):
        p.present_cards(request)
    assert shown == [cards[0], cards[1], None]


def test_quorum_and_roster_lines_say_what_is_missing() -> None:
    lines = quorum_lines((("custodian", 2), ("witness", 1)), (ALICE, EVE))
    assert [line.met for line in lines] == [False, True]
    assert str(lines[0]) == "custodian: 1 present, needs 2 (NOT MET)"
    roster = roster_lines((("custodian", "Custodian", 1, 1), ("witness", "Witness", 0, None)), (ALICE, BOB))
    assert [line.met for line in roster] == [False, True] and "needs 1-1" in str(roster[0])
