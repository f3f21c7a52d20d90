"""The ports of the ceremony engine: everything it needs from the world, as small interfaces.

The engine (:mod:`.engine`) is headless: it talks to people only through a :class:`Prompter`,
to the machine only through :class:`HostFacts`, to key stores only through a
:class:`KeyBackendFactory`, to paper only through a :class:`CardPrinter` and
:class:`CardScanner`, and to time only through a clock. Two drivers implement the prompter:

- the answers file (:class:`~keyceremony.ceremony.answers.AnswersPrompter`), for
  ``keyceremony run``, scheduled drills and tests;
- the terminal UI (a later issue). A Textual app runs ``engine.start()`` and each
  ``engine.step()`` in a ``@work(thread=True)`` worker; its prompter posts a typed message for
  each request below to the app and blocks on a ``queue.Queue`` until the screen puts the
  answer back. Every request is a frozen dataclass that carries the step it belongs to
  (:class:`StepInfo`), so a screen can show where the ceremony is.

Prompter methods may raise :class:`~keyceremony.errors.KeyCeremonyError` (for example
``AnswersError`` when the answers file lacks an answer): the engine stops, the transcript stays
open, and the ceremony resumes at the same step when it is started again.

Nothing a prompter is given or returns is secret: PINs go to the key back end factory, never
through the prompter, and card contents stay inside the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from keyceremony.transcript import Actor

Clock = Callable[[], datetime]
RandomBytes = Callable[[int], bytes]


# --- what the engine tells and asks -----------------------------------------------------------


@dataclass(frozen=True)
class StepInfo:
    """Where the ceremony is: the step's id, kind and title, and its place in the template."""

    id: str
    kind: str
    title: str
    number: int  # 1-based
    total: int
    instructions: str = ""


@dataclass(frozen=True)
class Announcement:
    """Something to show or read aloud. ``kind``: ``step`` (a step begins), ``fingerprint``
    (read the ceremony key's fingerprint aloud: ``data`` has ``hex`` and ``words``), ``info``,
    ``warning``, ``done``."""

    kind: str
    text: str
    step: StepInfo | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RollCallRequest:
    """Who is here, in which roles. ``roles``: (role name, title, min, max) of the template."""

    step: StepInfo
    roles: tuple[tuple[str, str, int, int | None], ...]


@dataclass(frozen=True)
class AttendanceRequest:
    """Who of ``participants`` is present for ``step``; ``quorum`` is what the step needs."""

    step: StepInfo
    participants: tuple[Actor, ...]
    quorum: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ConfirmRequest:
    """A yes/no the ceremony administrator gives; ``key`` names it (an answers file's
    ``[confirm]`` key): a step id for a template's ``confirm``, or ``new-fingerprint-recorded``."""

    step: StepInfo | None
    key: str
    question: str


@dataclass(frozen=True)
class CardHoldersRequest:
    """Before printing: which custodian will hold each card (printed on it)."""

    step: StepInfo
    shares: int
    custodians: tuple[str, ...]  # the custodians at the roll call, in order


@dataclass(frozen=True)
class HandOverRequest:
    """Card ``share_number`` is handed over; ``planned`` is the name printed on it."""

    step: StepInfo
    share_number: int
    planned: str | None
    card: str  # the card's file name, e.g. "card-2.pdf"


@dataclass(frozen=True)
class HandOver:
    custodian: str
    bag: str | None = None  # the tamper-evident bag's number


@dataclass(frozen=True)
class ScanBackRequest:
    """Card ``share_number`` is read back: answer None to render and decode ``card`` (the PDF
    just printed), or the path of a scan or photo of the printed card to decode instead."""

    step: StepInfo
    share_number: int
    card: Path


@dataclass(frozen=True)
class PresentCardsRequest:
    """Custodians present their cards (at least ``threshold`` of them, if known)."""

    step: StepInfo
    custodians: tuple[str, ...]


@dataclass(frozen=True)
class PresentedCard:
    path: Path  # a card PDF, a scan or photo, or a share text file
    custodian: str | None = None
    bag: str | None = None


@runtime_checkable
class Prompter(Protocol):
    """The people in the room, as the engine sees them. Every method blocks until answered."""

    def announce(self, announcement: Announcement) -> None: ...

    def roll_call(self, request: RollCallRequest) -> Sequence[Actor]: ...

    def attendance(self, request: AttendanceRequest) -> Sequence[Actor]: ...

    def confirm(self, request: ConfirmRequest) -> bool: ...

    def card_holders(self, request: CardHoldersRequest) -> Sequence[str]: ...

    def hand_over(self, request: HandOverRequest) -> HandOver: ...

    def scan_back(self, request: ScanBackRequest) -> Path | None: ...

    def present_cards(self, request: PresentCardsRequest) -> Sequence[PresentedCard]: ...


# --- the machine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwapArea:
    """One line of ``/proc/swaps``. ``encrypted``: True (dm-crypt), False, or None (unknown)."""

    name: str
    kind: str  # "partition", "file"
    encrypted: bool | None
    in_memory: bool = False  # zram: compressed RAM, never reaches a disk


@runtime_checkable
class HostFacts(Protocol):
    """Facts about the ceremony machine, for the preflight step (tests inject fakes)."""

    def system(self) -> Mapping[str, str]: ...

    def software_versions(self) -> Mapping[str, str]: ...

    def network_interfaces_up(self) -> Sequence[str]:
        """Names of the network interfaces that are up, loopback excluded."""
        ...

    def swap_areas(self) -> Sequence[SwapArea]: ...


# --- key stores, cards ----------------------------------------------------------------------------


@runtime_checkable
class KeyBackendFactory(Protocol):
    """Opens the ceremony's key store and makes its ceremony (transcript) key.

    ``kind`` is ``soft`` or ``pkcs11``. ``open()`` returns a
    :class:`~keyceremony.keys.backend.KeyBackend` the engine keeps open for the whole run (the
    PIN, if any, is the factory's business and is not kept after ``open``). ``persistent``:
    keys generated or recovered there survive the program (a token), so the engine finds them
    again after a crash instead of starting over. ``new_signer`` / ``find_signer`` make or find
    the ceremony key (``find_signer`` returns None for a key that cannot survive, as a software
    key). ``generate_key`` makes the ceremony's target key. ``describe`` gives public facts
    about the store for the preflight record; ``check`` raises if the store is not usable.
    """

    kind: str
    persistent: bool

    def open(self) -> Any: ...

    def describe(self, backend: Any) -> Mapping[str, str]: ...

    def check(self, backend: Any) -> str: ...

    def new_signer(self, backend: Any, ceremony_id: str) -> Any: ...

    def find_signer(self, backend: Any, ceremony_id: str) -> Any | None: ...

    def generate_key(self, backend: Any, label: str, algorithm: Any) -> Any: ...


@dataclass(frozen=True)
class PrintedCard:
    share_number: int
    path: Path
    custodian: str | None
    readback: str  # how it was checked right after printing


@runtime_checkable
class CardPrinter(Protocol):
    """Prints a backup's cards (and its package), can find or shred what it printed, and prints
    the transcript report at the end."""

    directory: Path

    def print_backup(
        self, backup: Any, *, custodians: Sequence[str], paper: str, ceremony_fingerprint: str
    ) -> Sequence[PrintedCard]: ...

    def card_path(self, share_number: int) -> Path: ...

    def unprintable_name(self, what: str, name: str) -> str | None:
        """Why *name* (the key label, a custodian) cannot go on a card, or None if it can."""

    def printed_files(self) -> Sequence[Path]: ...

    def shred(self, paths: Sequence[Path]) -> None: ...

    def print_report(self, verified: Any, transcript: bytes, *, source_name: str) -> Path | None:
        """The printable report of the verified, sealed transcript (None: this printer has none)."""
        ...


@runtime_checkable
class CardScanner(Protocol):
    """Reads what is on a card PDF, a scan or photo, or a share file: shares and packages."""

    def read(self, path: Path) -> Any: ...  # share_sources.SourceContents
