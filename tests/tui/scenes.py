"""Fixed scenes of the ceremony screen, for snapshots and README screenshots.

A scene feeds the real :class:`CeremonyScreen` the same calls its worker would post (the step,
the fingerprint to read aloud, transcript entries, progress, a question) with fixed names,
fingerprints and times, without running the engine, so the picture is the same on every run.
The pilot tests in test_tui_interactive.py run the real engine on the same screen.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

from tui_helpers import EXAMPLES, share_set

from keyceremony.ceremony.answers import load_answers, parse_answers
from keyceremony.ceremony.ports import (
    Announcement,
    AnnouncementKind,
    ConfirmRequest,
    PresentCardsRequest,
    Progress,
    ProgressTask,
    StepInfo,
    StepKind,
)
from keyceremony.ceremony.template import load_template
from keyceremony.recipes.anchors import Anchors
from keyceremony.shares.collector import ShareCollector
from keyceremony.tui.app import KeyceremonyApp
from keyceremony.tui.launch import CeremonyLaunch
from keyceremony.tui.screens.ceremony import CeremonyScreen

FINGERPRINT = "69C2 4D1E 0B7A 9F33 C815 2E60 D4A1 77B9"
WORDS = ("gazelle repellent scorecard sociable aimless Galveston breakup recipe "
         "slowdown hydraulic bison Atlantic tissue letterhead inverse surrender")  # fmt: skip


def _noop(answer: object) -> None:
    pass


def _screen(app: KeyceremonyApp, launch: CeremonyLaunch) -> CeremonyScreen:
    """The ceremony screen as it looks once its worker has started (no worker runs)."""
    screen = app.screen
    assert isinstance(screen, CeremonyScreen)
    screen.launch, screen.running = launch, True
    screen.query_one("#form").display = False
    screen.query_one("#run").display = True
    screen._opened(launch.template, launch.answers)
    screen.refresh_bindings()
    return screen


def _entries(screen: CeremonyScreen, rows: list[tuple[str, str]]) -> None:
    for seq, (step, event) in enumerate(rows, 1):
        screen._entry(SimpleNamespace(seq=seq, step=step, event=event))  # type: ignore[arg-type]


async def roll_call_fingerprint(app: KeyceremonyApp, pilot: object) -> None:
    """Key generation, step 1 of 8: the ceremony key's fingerprint to read aloud, and its confirmation."""
    template = load_template("key-generation")
    answers = load_answers(EXAMPLES / "key-generation.toml", template)
    await app.push_screen(CeremonyScreen())
    screen = _screen(app, CeremonyLaunch(template, answers, Path("ceremony"), SimpleNamespace(kind="soft")))  # type: ignore[arg-type]
    step = template.steps[0]
    info = StepInfo(step.id, StepKind(step.kind), step.title, 1, len(template.steps), step.instructions)
    screen._announce(Announcement(AnnouncementKind.STEP, f"Step 1 of {info.total}: {step.title}", info))
    _entries(screen, [("ceremony", "opened"), ("roll-call", "started")])
    screen._announce(Announcement(
        AnnouncementKind.FINGERPRINT,
        f"Ceremony key fingerprint: {FINGERPRINT}. Read it aloud as words: {WORDS}.",
        info, {"what": "ceremony key", "hex": FINGERPRINT, "words": WORDS},
    ))  # fmt: skip
    screen._ask("confirm", ConfirmRequest(info, step.id, step.confirm or ""), None, _noop)
    await pilot.pause()  # type: ignore[attr-defined]


async def share_entry_refusal(app: KeyceremonyApp, pilot: object) -> None:
    """DR drill, step 3 of 8: a card of another set was refused (the collector's own answer);
    the next card is asked for, with the set fingerprint from the paper log shown."""
    ours, theirs = share_set(1, 3, 5), share_set(2, 3, 5)
    collector = ShareCollector(expected_fingerprint=ours[0].fingerprint())
    refused = collector.add("other-2.txt", theirs[1], holder="Alice Ng")
    template = load_template("dr-drill")
    text = (EXAMPLES / "dr-drill.toml").read_text(encoding="utf-8")
    answers = parse_answers(text[: text.index("[steps.present-cards]")], template, source="drill.toml")
    answers = dataclasses.replace(answers, anchors=Anchors(set_fingerprint=ours[0].fingerprint()))
    await app.push_screen(CeremonyScreen())
    screen = _screen(app, CeremonyLaunch(template, answers, Path("drill"), SimpleNamespace(kind="soft")))  # type: ignore[arg-type]
    step = template.step("present-cards")
    info = StepInfo(step.id, StepKind(step.kind), step.title, 3, len(template.steps))
    screen._announce(Announcement(AnnouncementKind.STEP, f"Step 3 of {info.total}: {step.title}", info))
    _entries(screen, [("ceremony", "opened"), ("roll-call", "started"), ("roll-call", "participants-recorded"),
                      ("roll-call", "completed"), ("preflight", "started"), ("preflight", "completed"),
                      ("present-cards", "started")])  # fmt: skip
    screen._progress(Progress(info, ProgressTask.READ_CARD, 0, 3, collector.status()))
    screen._announce(Announcement(AnnouncementKind.CARD, refused.message, info,
                                  {"accepted": False, "outcome": refused.outcome.value, "have": 0, "needed": 3}))
    request = PresentCardsRequest(info, ("Alice Ng", "Chen Wei", "Emeka Obi"), 2, collector.status())
    screen._ask("present_cards", request, None, _noop)
    await pilot.pause()  # type: ignore[attr-defined]
