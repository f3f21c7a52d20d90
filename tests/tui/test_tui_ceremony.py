"""The ceremony screen drives the engine from one worker thread: a soft key-generation rehearsal
to its seal, and a pause while the cards print, resumed to the seal (docs/architecture.md §5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import EXAMPLES, SIZE, FakeHost, Keys, answer_with_defaults, next_question

from keyceremony.ceremony.ports import Progress, ProgressTask
from keyceremony.ceremony.state import CARDS_DIR, load_state
from keyceremony.ceremony.template import load_template
from keyceremony.transcript import verify_transcript
from keyceremony.tui.app import KeyceremonyApp
from keyceremony.tui.screens.ceremony import CeremonyScreen

ANSWERS = EXAMPLES / "key-generation.toml"


async def run_ceremony(app: KeyceremonyApp, pilot: object, out: Path, key: str = "r") -> CeremonyScreen:
    await pilot.press(key)  # type: ignore[attr-defined]
    screen = app.screen
    assert isinstance(screen, CeremonyScreen)
    screen.query_one("#out", Input).value = str(out)
    await pilot.pause()  # type: ignore[attr-defined]
    if not screen.query_one("#template", Input).value:
        screen.query_one("#template", Input).value = "key-generation"
    screen.query_one("#answers", Input).value = str(ANSWERS)
    screen.query_one("#answers", Input).focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    # Run (r) takes every answer from the file; Resume (s) asks on the screen, the file's answers
    # filled in: agree with each
    keys = Keys(pilot)
    while (panel := await next_question(pilot, screen)) is not None:
        await answer_with_defaults(keys, panel)
    return screen


@pytest.mark.asyncio
async def test_a_soft_key_generation_rehearsal_runs_to_the_seal(tmp_path):
    out = tmp_path / "ceremony"
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_ceremony(app, pilot, out)
        assert screen.outcome == "sealed", screen.message
        assert "REHEARSAL" in str(screen.query_one("#rehearsal").render())
        box = screen.query_one("#fingerprint")
        assert box.display and "fingerprint (read aloud)" in str(box.render())
        assert [what for what, _ in screen.read_aloud] == ["ceremony key", "share set"]
        template = load_template("key-generation")
        assert str(screen.query_one("#step").render()) == f"Step {len(template.steps)} of {len(template.steps)}: " \
                                                           f"{template.steps[-1].title}"  # fmt: skip
        await pilot.press("e")  # the entries panel hides and shows
        assert not screen.query_one("#entries").display
        await pilot.press("e")
        assert screen.query_one("#entries").display
        assert screen.result is not None
    verified = verify_transcript(
        out / "transcript.jsonl",
        expected_fingerprint=screen.result.fingerprint,
        template_requirements=template.requirements(),
    )
    assert verified.sealed and verified.anchored
    assert [e.seq for e in screen.entries] == [e.seq for e in verified.entries]  # every entry, as it came
    assert any(line.startswith("Card holders: card 1 Alice Ng") for line in screen.said)
    assert not [line for line in screen.said if "Traceback" in line]


@pytest.mark.asyncio
async def test_pause_while_the_cards_print_then_resume_to_the_seal(tmp_path, monkeypatch):
    out = tmp_path / "ceremony"
    shown = CeremonyScreen._progress

    def pause_after_card_two(self: CeremonyScreen, progress: Progress) -> None:
        shown(self, progress)
        if progress.task is ProgressTask.PRINT_CARD and progress.done == 2 and not getattr(self, "paused_once", 0):
            self.paused_once = 1  # type: ignore[attr-defined]
            self.action_pause()  # as the p key does; the worker waits for this call to finish

    monkeypatch.setattr(CeremonyScreen, "_progress", pause_after_card_two)
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_ceremony(app, pilot, out)
        assert screen.outcome == "paused", screen.message
        assert "PAUSED" in str(screen.query_one("#status").render()) and "Resume" in screen.message
        assert sorted(p.name for p in (out / CARDS_DIR).glob("card-*.pdf")) == ["card-1.pdf", "card-2.pdf"]
        state = load_state(out)
        assert state is not None and state.status != "sealed" and "stopped on request" in (state.last_error or "")
        await pilot.press("escape")
        monkeypatch.setattr(CeremonyScreen, "_progress", shown)
        resumed = await run_ceremony(app, pilot, out, key="s")  # resume: the folder names its template
        assert resumed.outcome == "sealed", resumed.message
        assert resumed.query_one("#template", Input).value == load_state(out).template_source  # type: ignore[union-attr]
        result = resumed.result
        assert result is not None and len(result.later_fingerprints) == 1  # soft: a new ceremony key
        assert not screen.asked and "confirm" in resumed.asked  # the resumed one asked on the screen
    verified = verify_transcript(
        out / "transcript.jsonl",
        expected_fingerprint=result.fingerprint,
        later_fingerprints=result.later_fingerprints,
        template_requirements=load_template("key-generation").requirements(),
    )
    assert verified.sealed
    resumed_entry = next(e for e in verified.entries if e.event == "resumed")
    assert "stopped on request" in resumed_entry.data["previous_error"]
    assert sorted(p.name for p in (out / CARDS_DIR).glob("card-*.pdf")) == [f"card-{x}.pdf" for x in range(1, 6)]


@pytest.mark.asyncio
async def test_an_answers_file_that_cannot_be_read_is_said_plainly(tmp_path):
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, CeremonyScreen)
        screen.query_one("#out", Input).value = str(tmp_path / "ceremony")
        screen.query_one("#template", Input).value = "key-generation"
        screen.query_one("#answers", Input).value = str(tmp_path / "missing.toml")
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = str(screen.query_one("#status").render())
        assert "no such file" in status and "missing.toml" in status and "Traceback" not in status
        assert screen.outcome is None and not screen.running and screen.query_one("#form").display
        assert not (tmp_path / "ceremony").exists()  # nothing was started
