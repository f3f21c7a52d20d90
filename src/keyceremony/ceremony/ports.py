"""The ports of the ceremony engine: everything it needs from the world, as small interfaces.

The engine (:mod:`.engine`) is headless: it talks to people only through a :class:`Prompter`,
to the machine only through :class:`HostFacts`, to key stores only through a
:class:`KeyBackendFactory`, to paper only through a :class:`CardPrinter` and
:class:`CardScanner`, and to time only through a clock. Two drivers implement the prompter:

- the answers file (:class:`~keyceremony.ceremony.answers.AnswersPrompter`), for
  ``keyceremony run``, scheduled drills and tests;
- the terminal UI (a later issue). A Textual app runs ``engine.start()`` and each
  ``engine.step()`` in one ``@work(thread=True)`` worker; its prompter posts a typed message for
  each request below to the app and blocks on a ``queue.Queue`` until the screen puts the
  answer back. Every request is a frozen dataclass that carries the step it belongs to
  (:class:`StepInfo`), so a screen can show where the ceremony is. ``tests/ceremony/
  test_threaded_driver.py`` is that shape without a screen.

Long steps report :class:`Progress` through ``Ports.on_progress`` (per card drawn, written and
read back; before and after each key-store operation), and a driver may call
``engine.cancel()`` from any thread: the engine stops at the next unit boundary (docs/
architecture.md §5).

Prompter methods may raise :class:`~keyceremony.errors.KeyCeremonyError` (for example
``AnswersError`` when the answers file lacks an answer): the engine stops, the transcript stays
open, and the ceremony resumes at the same step when it is started again.

Nothing a prompter is given or returns is secret, with one exception: a share typed in from its
card (``PresentedCard.text``), which the engine reads in memory like a card file. PINs go to the
key back end factory, never through the prompter, and card contents stay inside the engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from keyceremony.transcript import Actor, utc_now

if TYPE_CHECKING:
    from keyceremony.keys.backend import KeyBackend, KeyHandle
    from keyceremony.keys.model import KeyAlgorithm
    from keyceremony.recipes.backup import Backup
    from keyceremony.recipes.sources import SourceContents
    from keyceremony.transcript import Entry, VerifiedTranscript
    from keyceremony.transcript.signer import Signer

Clock = Callable[[], datetime]
RandomBytes = Callable[[int], bytes]

# The [confirm] key of the question asked when a resumed ceremony needs a new ceremony key.
NEW_KEY_CONFIRMATION = "new-fingerprint-recorded"


class StepKind(StrEnum):
    """The kinds of template step (docs/ceremony-guide.md §8.4); equal to their names as str."""

    ROLL_CALL = "roll-call"
    PREFLIGHT = "preflight"
    CONFIRM = "confirm"
    GENERATE_KEY = "generate-key"
    SPLIT_AND_PRINT = "split-and-print"
    SCAN_BACK = "scan-back"
    HAND_OVER = "hand-over"
    PRESENT_CARDS = "present-cards"
    RECOVER = "recover"
    TEST_DECRYPT = "test-decrypt"
    REPORT = "report"
    DESTROY = "destroy"
    SEAL = "seal"


class AnnouncementKind(StrEnum):
    STEP = "step"  # a step begins
    FINGERPRINT = "fingerprint"  # read a fingerprint aloud: data has ``what``, ``hex`` and ``words``
    CARD = "card"  # one card's answer: data has ``accepted``, ``outcome``, ``have``, ``needed``
    INFO = "info"
    WARNING = "warning"
    DONE = "done"


class StepState(StrEnum):
    """A step's place in :meth:`CeremonyEngine.plan`."""

    DONE = "done"
    CURRENT = "current"
    PENDING = "pending"


class ProgressTask(StrEnum):
    """What a :class:`Progress` report counts."""

    PRINT_CARD = "print-card"  # a card drawn, written and read back from its file
    SCAN_CARD = "scan-card"  # a printed card (or its scan) read back and checked
    READ_CARD = "read-card"  # a card presented at a recovery read and checked
    KEY_STORE = "key-store"  # an operation in the key store (HSM or memory)


@dataclass(frozen=True)
class Rehearsal:
    """What an answers file relaxes for a rehearsal; only what the template allows."""

    warn: tuple[str, ...] = ()
    keep_card_files: bool = False

    @property
    def declared(self) -> bool:
        return bool(self.warn or self.keep_card_files)


# --- what the engine tells and asks -----------------------------------------------------------


@dataclass(frozen=True)
class StepInfo:
    """Where the ceremony is: the step's id, kind and title, and its place in the template."""

    id: str
    kind: StepKind
    title: str
    number: int  # 1-based
    total: int
    instructions: str = ""


AnnouncementData = Mapping[str, str | int | bool]


@dataclass(frozen=True)
class Announcement:
    """Something to show or read aloud (see :class:`AnnouncementKind`)."""

    kind: AnnouncementKind
    text: str
    step: StepInfo | None = None
    data: AnnouncementData = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    """Unit ``done`` of ``total`` of a long step (``total`` 0: not counted, e.g. one HSM call).

    ``finished`` is False just before a unit starts and True once it is complete; ``text`` says
    what it is ("card 2 of 5 written and read back"). Nothing secret."""

    step: StepInfo | None
    task: ProgressTask
    done: int
    total: int
    text: str
    finished: bool = True


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
    just printed), or the path of a scan or photo of the printed card to decode instead.

    ``attempt`` counts the reads of this card; from the second on, ``problem`` says why the
    last one was refused (the same card is asked for again, the others are not)."""

    step: StepInfo
    share_number: int
    card: Path
    attempt: int = 1
    problem: str | None = None


@dataclass(frozen=True)
class PresentCardsRequest:
    """Custodians present their cards (at least ``threshold`` of them, if known).

    Each card is answered at once (an announcement of kind ``card``). While too few are
    accepted the request comes again with the next ``attempt``, ``status`` saying how many are
    still needed ("2 of 3 shares, 1 more needed") and ``accepted`` the share numbers so far."""

    step: StepInfo
    custodians: tuple[str, ...]
    attempt: int = 1
    status: str = ""
    accepted: tuple[int, ...] = ()


@dataclass(frozen=True)
class PresentedCard:
    """A card presented at a recovery read: a file to read, or (``text`` given) the share's
    text form typed in from the card, held in memory only and never written anywhere;
    ``path`` then only names it ("typed share #2")."""

    path: Path  # a card PDF, a scan or photo, or a share text file
    custodian: str | None = None
    bag: str | None = None
    text: str | None = field(default=None, repr=False)


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

    def open(self) -> KeyBackend: ...

    def describe(self, backend: KeyBackend) -> Mapping[str, str]: ...

    def check(self, backend: KeyBackend) -> str: ...

    def new_signer(self, backend: KeyBackend, ceremony_id: str) -> Signer: ...

    def find_signer(self, backend: KeyBackend, ceremony_id: str) -> Signer | None: ...

    def generate_key(self, backend: KeyBackend, label: str, algorithm: KeyAlgorithm) -> KeyHandle: ...


@dataclass(frozen=True)
class PrintedCard:
    share_number: int
    path: Path
    custodian: str | None
    readback: str  # how it was checked right after printing


@runtime_checkable
class CardPrinter(Protocol):
    """Prints a backup's cards (and its package), can find or shred what it printed, and prints
    the transcript report at the end.

    ``print_backup`` calls ``on_card(done, total)`` after each card is written and read back;
    the engine uses it to report progress and to stop between cards when asked to (it may
    raise, and then no further card is begun)."""

    directory: Path

    def print_backup(
        self,
        backup: Backup,
        *,
        custodians: Sequence[str],
        paper: str,
        ceremony_fingerprint: str,
        on_card: Callable[[int, int], None] = ...,
        owner: str | None = None,
        contact: str | None = None,
    ) -> Sequence[PrintedCard]: ...

    def card_path(self, share_number: int) -> Path: ...

    def unprintable_name(self, what: str, name: str) -> str | None:
        """Why *name* (the key label, a custodian) cannot go on a card, or None if it can."""

    def printed_files(self) -> Sequence[Path]: ...

    def shred(self, paths: Sequence[Path]) -> None: ...

    def print_report(self, verified: VerifiedTranscript, transcript: bytes, *, source_name: str) -> Path | None:
        """The printable report of the verified, sealed transcript (None: this printer has none)."""
        ...


@runtime_checkable
class CardScanner(Protocol):
    """Reads what is on a card PDF, a scan or photo, or a share file: shares and packages."""

    def read(self, path: Path) -> SourceContents: ...


# --- all of them together ---------------------------------------------------------------------


def _no_hook(step_id: str, entry: Entry) -> None:
    pass


def _no_progress(progress: Progress) -> None:
    pass


@dataclass
class Ports:
    """Everything the engine uses from outside.

    ``on_entry(step_id, entry)`` is called after each entry is durable on disk (``step_id`` is
    the template step, or ``ceremony`` for the writer's own entries): drivers show the
    transcript growing with it, and the crash tests use it to kill the process at a chosen
    point. ``on_progress`` gets the :class:`Progress` of long steps. Both are called
    on the engine's thread; a driver with a screen posts them to it.
    """

    prompter: Prompter
    keys: KeyBackendFactory
    host: HostFacts
    printer: CardPrinter
    scanner: CardScanner
    clock: Clock = utc_now
    randbytes: RandomBytes = os.urandom
    on_entry: Callable[[str, Entry], None] = _no_hook
    on_progress: Callable[[Progress], None] = _no_progress
