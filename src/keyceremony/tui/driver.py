"""The terminal UI's prompter: the answers file answers, the screen shows (docs/architecture.md §5).

:class:`ScreenPrompter` runs on the engine's worker thread. It hands every announcement, and
every request with the answer the answers file gave, to callbacks that the screen makes
thread-safe (``app.call_from_thread``). Interactive answers (forms the custodians fill in) are a
later slice (docs/tui.md §6); this module imports no Textual, so it is tested headless too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

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
