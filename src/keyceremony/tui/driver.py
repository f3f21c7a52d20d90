"""The terminal UI's prompters (docs/architecture.md §5). Both run on the engine's worker thread.

- :class:`ScreenPrompter`: the answers file answers, the screen shows. Every announcement, and
  every request with the answer the file gave, goes to callbacks that the screen makes
  thread-safe (``app.call_from_thread``).
- :class:`InteractivePrompter`: the people in the room answer on the screen. Each request goes to
  the screen with a default (what the answers hold, if anything), and the worker blocks until
  the screen replies; a pause (``stop`` set) or the screen going away ends the wait with
  CeremonyCancelled, which the engine treats as a stop between units of work.

This module imports no Textual, so it is tested headless too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from keyceremony.ceremony.ports import (
    Announcement,
    AttendanceRequest,
    CardHoldersRequest,
    ConfirmRequest,
    HandOver,
    HandOverRequest,
    PresentCardsRequest,
    PresentedCard,
    Prompter,
    RollCallRequest,
    ScanBackRequest,
)
from keyceremony.errors import CeremonyCancelled, KeyCeremonyError
from keyceremony.transcript import Actor

T = TypeVar("T")


def describe_answer(method: str, answer: object) -> str:
    """One line saying what the answers file answered (names and paths; nothing secret)."""
    if method in ("roll_call", "attendance") and isinstance(answer, Sequence):
        names = [a.name for a in answer if isinstance(a, Actor)]
        return f"{'Roll call' if method == 'roll_call' else 'Present'}: {', '.join(names)}"
    if method == "confirm":
        return f"Confirmed: {'yes' if answer else 'no'}"
    if method == "card_holders" and isinstance(answer, Sequence):
        return "Card holders: " + ", ".join(f"card {i} {who}" for i, who in enumerate(answer, 1))
    if method == "hand_over" and isinstance(answer, HandOver):
        return f"Handed over to {answer.custodian}" + (f", bag {answer.bag}" if answer.bag else "")
    if method == "scan_back":
        return f"Read back from {answer}" if isinstance(answer, Path) else "Read back from the card file"
    if method == "present_cards" and isinstance(answer, Sequence):
        return "Cards presented: " + ", ".join(c.path.name for c in answer if isinstance(c, PresentedCard))
    return f"{method}: answered"


class ScreenPrompter:
    """A :class:`~keyceremony.ceremony.ports.Prompter` that asks ``inner`` (the answers file)
    and tells the screen: ``announce(announcement)`` and ``answered(method, request, line)``."""

    def __init__(
        self,
        inner: Prompter,
        *,
        announce: Callable[[Announcement], None],
        answered: Callable[[str, object, str], None],
    ) -> None:
        self.inner = inner
        self._announce = announce
        self._answered = answered

    def _ask(self, method: str, request: object, ask: Callable[[], T]) -> T:
        answer = ask()
        self._answered(method, request, describe_answer(method, answer))
        return answer

    def announce(self, announcement: Announcement) -> None:
        self._announce(announcement)

    def roll_call(self, request: RollCallRequest) -> Sequence[Actor]:
        return self._ask("roll_call", request, lambda: self.inner.roll_call(request))

    def attendance(self, request: AttendanceRequest) -> Sequence[Actor]:
        return self._ask("attendance", request, lambda: self.inner.attendance(request))

    def confirm(self, request: ConfirmRequest) -> bool:
        return self._ask("confirm", request, lambda: self.inner.confirm(request))

    def card_holders(self, request: CardHoldersRequest) -> Sequence[str]:
        return self._ask("card_holders", request, lambda: self.inner.card_holders(request))

    def hand_over(self, request: HandOverRequest) -> HandOver:
        return self._ask("hand_over", request, lambda: self.inner.hand_over(request))

    def scan_back(self, request: ScanBackRequest) -> Path | None:
        return self._ask("scan_back", request, lambda: self.inner.scan_back(request))

    def present_cards(self, request: PresentCardsRequest) -> Sequence[PresentedCard]:
        return self._ask("present_cards", request, lambda: self.inner.present_cards(request))


#: What the screen replies to end a wait without an answer (Escape, the screen closed).
CANCEL = object()

Reply = Callable[[object], None]
Show = Callable[[str, object, object, Reply], None]


class InteractivePrompter:
    """A :class:`~keyceremony.ceremony.ports.Prompter` answered on the screen.

    ``show(method, request, default, reply)`` puts the question on the screen (the screen makes
    it thread-safe); the screen calls ``reply(answer)`` once, or ``reply(CANCEL)``. ``defaults``
    (an :class:`~keyceremony.ceremony.answers.AnswersPrompter` of the set-up or a loaded
    answers file) gives each question's default; its refusals (an answer it lacks) just mean
    no default. ``stop``: set by the screen's pause; a waiting question then ends in
    CeremonyCancelled."""

    def __init__(
        self,
        *,
        show: Show,
        announce: Callable[[Announcement], None],
        stop: threading.Event,
        defaults: Prompter | None = None,
    ) -> None:
        self._show = show
        self._announce = announce
        self._stop = stop
        self._defaults = defaults
        self._presented: set[Path] = set()

    def _default(self, ask: Callable[[Prompter], T]) -> T | None:
        if self._defaults is None:
            return None
        try:
            return ask(self._defaults)
        except KeyCeremonyError:
            return None

    def _ask(self, method: str, request: object, default: object) -> Any:
        box: queue.Queue[object] = queue.Queue(maxsize=1)
        self._show(method, request, default, box.put)
        while True:
            try:
                answer = box.get(timeout=0.05)
            except queue.Empty:
                if self._stop.is_set():
                    raise CeremonyCancelled(
                        "the ceremony was paused while it waited for an answer; nothing was left half done. "
                        "Start it again with the same folder to resume at this question"
                    ) from None
                continue
            if answer is CANCEL:
                raise CeremonyCancelled("the question was closed without an answer; the ceremony resumes here")
            return answer

    def announce(self, announcement: Announcement) -> None:
        self._announce(announcement)

    def roll_call(self, request: RollCallRequest) -> Sequence[Actor]:
        answer: Sequence[Actor] = self._ask("roll_call", request, self._default(lambda d: d.roll_call(request)))
        return answer

    def attendance(self, request: AttendanceRequest) -> Sequence[Actor]:
        default = self._default(lambda d: d.attendance(request))
        answer: Sequence[Actor] = self._ask("attendance", request, default)
        return answer

    def confirm(self, request: ConfirmRequest) -> bool:
        return bool(self._ask("confirm", request, self._default(lambda d: d.confirm(request))))

    def card_holders(self, request: CardHoldersRequest) -> Sequence[str]:
        default = self._default(lambda d: d.card_holders(request))
        answer: Sequence[str] = self._ask("card_holders", request, default)
        return answer

    def hand_over(self, request: HandOverRequest) -> HandOver:
        answer: HandOver = self._ask("hand_over", request, self._default(lambda d: d.hand_over(request)))
        return answer

    def scan_back(self, request: ScanBackRequest) -> Path | None:
        default = None if request.attempt > 1 else self._default(lambda d: d.scan_back(request))
        answer: Path | None = self._ask("scan_back", request, default)
        return answer

    def present_cards(self, request: PresentCardsRequest) -> Sequence[PresentedCard]:
        """One card at a time, so each is answered at once; the default is the next card the
        answers list that was not presented yet."""
        planned = self._default(lambda d: d.present_cards(PresentCardsRequest(request.step, request.custodians)))
        default = next((c for c in planned or () if c.path not in self._presented), None)
        answer: Sequence[PresentedCard] = self._ask("present_cards", request, default)
        self._presented.update(card.path for card in answer if card.text is None)
        return answer
