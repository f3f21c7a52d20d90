"""Pilot tests of the terminal UI at 80x24: home, verify share cards, verify a transcript."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static
from tui_helpers import REPO, SIZE, FakeHost, share_set, wait_until, write_shares

from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint
from keyceremony.shares.collector import Outcome
from keyceremony.shares.text import to_text
from keyceremony.transcript import verify_transcript
from keyceremony.tui.app import KeyceremonyApp
from keyceremony.tui.screens.ceremony import CeremonyScreen
from keyceremony.tui.screens.home import HomeScreen
from keyceremony.tui.screens.setup_template import TemplateChoiceScreen
from keyceremony.tui.screens.verify_shares import VerifySharesScreen
from keyceremony.tui.screens.verify_transcript import VerifyTranscriptScreen

SAMPLE_TRANSCRIPT = REPO / "samples" / "ceremony" / "transcript.jsonl"


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_home_leads_to_every_screen_and_back():
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        for key, screen_class in (("n", TemplateChoiceScreen), ("c", VerifySharesScreen), ("t", VerifyTranscriptScreen),
                                  ("r", CeremonyScreen), ("s", CeremonyScreen)):  # fmt: skip
            await pilot.press(key)
            assert isinstance(app.screen, screen_class)
            await pilot.press("escape")
            assert isinstance(app.screen, HomeScreen)
        await pilot.press("down", "down", "down", "enter")  # the fourth choice, by arrows: verify share cards
        assert isinstance(app.screen, VerifySharesScreen)
        await pilot.press("escape", "q")
    assert app.return_code == 0


async def read_card(pilot: object, screen: VerifySharesScreen, path: Path | str) -> None:
    before = len(screen.answers)
    screen.query_one("#path", Input).value = str(path)
    screen.query_one("#path", Input).focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: len(screen.answers) > before)


@pytest.mark.asyncio
async def test_verify_cards_accepts_two_and_refuses_a_card_of_another_set(tmp_path):
    ours = write_shares(tmp_path / "ours", share_set(1), "card")
    theirs = write_shares(tmp_path / "theirs", share_set(2), "other")
    expected = ours and share_set(1)[0].fingerprint()
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, VerifySharesScreen)
        screen.query_one("#fingerprint", Input).value = fingerprint_words(expected)
        await pilot.pause()
        assert "ANCHORED" in text_of(screen, "#anchor") and format_fingerprint(expected) in text_of(screen, "#anchor")
        await read_card(pilot, screen, ours[0])
        assert text_of(screen, "#count") == "1 of 2 shares, 1 more needed"
        await read_card(pilot, screen, theirs[0])
        refused = screen.answers[-1]
        assert refused.outcome is Outcome.OTHER_SET and "set it aside" in refused.reason
        assert text_of(screen, "#count") == "1 of 2 shares, 1 more needed"
        await read_card(pilot, screen, ours[1])
        assert text_of(screen, "#count") == "2 of 2 shares: enough"
        assert [a.accepted for a in screen.answers] == [True, False, True]
        shown = "\n".join(str(w.render()) for w in screen.query("#answers Static"))
        assert shown.count("ACCEPTED") == 2 and shown.count("REFUSED") == 1
        assert format_fingerprint(share_set(2)[0].fingerprint()) in shown  # the fingerprint read, beside
        await read_card(pilot, screen, tmp_path / "missing.pdf")
        assert screen.answers[-1].outcome is Outcome.UNREADABLE and "no such file" in screen.answers[-1].reason


@pytest.mark.asyncio
async def test_verify_cards_without_a_fingerprint_says_unanchored(tmp_path):
    ours = write_shares(tmp_path, share_set(1), "card")
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, VerifySharesScreen)
        await read_card(pilot, screen, ours[2])
        assert text_of(screen, "#anchor").startswith("UNANCHORED")
        assert screen.answers[-1].accepted and text_of(screen, "#count") == "1 of 2 shares, 1 more needed"
        await pilot.press("ctrl+n")
        assert text_of(screen, "#count") == "no share yet" and not screen.query("#answers Static")


async def verify(pilot: object, app: KeyceremonyApp, path: Path, fingerprint: str,
                 later: str = "") -> VerifyTranscriptScreen:  # fmt: skip
    await pilot.press("t")  # type: ignore[attr-defined]
    screen = app.screen
    assert isinstance(screen, VerifyTranscriptScreen)
    screen.query_one("#path", Input).value = str(path)
    screen.query_one("#fingerprint", Input).value = fingerprint
    screen.query_one("#later", Input).value = later
    screen.query_one("#fingerprint", Input).focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: screen.done)
    return screen


@pytest.mark.asyncio
async def test_verify_a_transcript_anchored_unanchored_and_refused(tmp_path):
    fp = verify_transcript(SAMPLE_TRANSCRIPT).fingerprint
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        screen = await verify(pilot, app, SAMPLE_TRANSCRIPT, format_fingerprint(fp))
        assert text_of(screen, "#anchor").startswith("ANCHORED")
        assert "intact and sealed" in text_of(screen, "#summary")
        await pilot.press("escape")
        screen = await verify(pilot, app, SAMPLE_TRANSCRIPT, "")
        assert text_of(screen, "#anchor").startswith("UNANCHORED")
        await pilot.press("escape")
        screen = await verify(pilot, app, SAMPLE_TRANSCRIPT, fingerprint_words(bytes(16)))
        assert text_of(screen, "#anchor") == "NOT VERIFIED" and screen.error and "fingerprint" in screen.error
        await pilot.press("escape")
        cut = tmp_path / "cut.jsonl"
        cut.write_bytes(SAMPLE_TRANSCRIPT.read_bytes()[:-40])
        screen = await verify(pilot, app, cut, "")
        assert screen.error and "Traceback" not in screen.error


def resumed_with_a_new_key(out: Path) -> tuple[bytes, bytes]:
    """A soft key generation stopped before its seal, then resumed: a second ceremony key signs
    from the resume on. Returns both fingerprints."""
    from tui_helpers import EXAMPLES

    from keyceremony.ceremony.adapters import FileCardScanner, PdfCardPrinter, SoftKeys
    from keyceremony.ceremony.answers import AnswersPrompter, parse_answers
    from keyceremony.ceremony.engine import CeremonyEngine, CeremonyOptions, Ports
    from keyceremony.ceremony.template import load_template
    from keyceremony.errors import AnswersError

    template = load_template("key-generation")
    text = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    results = []
    for answers_text in (text.replace("seal = true", ""), text):
        answers = parse_answers(answers_text, template, base=EXAMPLES)
        ports = Ports(AnswersPrompter(answers, template, say=lambda t: None), SoftKeys(), FakeHost(),
                      PdfCardPrinter(out / "cards"), FileCardScanner())  # fmt: skip
        engine = CeremonyEngine(template, out, ports, CeremonyOptions(answers.title, answers.location,
                                                                      answers.rehearsal, answers.sha256))
        try:
            results.append(engine.run())
        except AnswersError:
            pass
    (result,) = results
    (later,) = result.later_fingerprints
    return result.fingerprint, later


@pytest.mark.asyncio
async def test_a_resumed_ceremony_with_a_new_key_is_partly_anchored_until_that_key_is_given(tmp_path):
    first, later = resumed_with_a_new_key(tmp_path / "ceremony")
    path = tmp_path / "ceremony" / "transcript.jsonl"
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        screen = await verify(pilot, app, path, format_fingerprint(first))  # the new key not confirmed
        assert text_of(screen, "#anchor") == "NOT VERIFIED" and "third field" in (screen.error or "")
        await pilot.press("escape")
        screen = await verify(pilot, app, path, "", format_fingerprint(later))  # the first key not given
        assert text_of(screen, "#anchor").startswith("PARTLY ANCHORED"), text_of(screen, "#anchor")
        await pilot.press("escape")
        screen = await verify(pilot, app, path, format_fingerprint(first), fingerprint_words(later))
        assert text_of(screen, "#anchor").startswith("ANCHORED"), text_of(screen, "#anchor")
        await pilot.press("escape")
        screen = await verify(pilot, app, path, format_fingerprint(first), format_fingerprint(first))
        assert text_of(screen, "#anchor") == "NOT VERIFIED" and screen.error  # not the new key
        await pilot.press("escape")
        screen = await verify(pilot, app, path, format_fingerprint(first), "not a fingerprint")
        assert text_of(screen, "#anchor") == "NOT VERIFIED" and "new key" in (screen.error or "")


@pytest.mark.asyncio
async def test_verify_cards_takes_a_card_typed_line_by_line_and_never_shows_it(tmp_path):
    ours = share_set(1)
    write_shares(tmp_path, ours, "card")
    lines = [line for line in to_text(ours[1]).splitlines() if line[:2].isdigit()]
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, VerifySharesScreen)
        screen.query_one("#path", Input).value = str(tmp_path / "card-1.txt")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.answers) == 1)
        await pilot.press("ctrl+t")
        line = screen.query_one("#line", Input)
        assert line.has_focus and line.password
        shots = []
        line.value = lines[0][:-1] + ("A" if lines[0][-1] != "A" else "B")  # a typo on line 1
        await pilot.press("enter")
        assert str(screen.query_one("#what").render()).startswith("line 01:") and not screen.answers[1:]
        for text in lines:
            line.value = text
            shots.append(app.export_screenshot())
            await pilot.press("enter")
        assert len(screen.answers) == 2 and screen.answers[1].accepted, screen.answers[-1].message
        assert screen.answers[1].source == "typed share #1" and text_of(screen, "#count").startswith("2 of 2")
        shots.append(app.export_screenshot())
    for shot in shots:
        for text in lines:
            assert text.split(" ", 1)[1][:12] not in shot.replace("&#160;", " ")
