"""Snapshots of the terminal UI at 80x24 (pytest-textual-snapshot): the home screen, and the
verify-cards screen after two cards of one set and one of another. Fixed inputs only: the share
sets are made from fixed randomness and a fixed time, and the cards are named relative to the
test's folder. No share value may appear on screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import SIZE, FakeHost, share_set, wait_until, write_shares

from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.shares.text import to_text
from keyceremony.tui.app import KeyceremonyApp
from keyceremony.tui.screens.verify_shares import VerifySharesScreen

DATA_LINE = re.compile(r"^\d\d  ([A-Z2-7 ]+?)  [A-Z2-7]+$")


def share_lines(texts: list[str]) -> list[str]:
    """The base32 groups of every data line of the shares' text form."""
    lines = [m.group(1).strip() for text in texts for line in text.splitlines() if (m := DATA_LINE.match(line))]
    assert len(lines) > 10
    return lines


def test_home_screen(snap_compare):
    assert snap_compare(KeyceremonyApp(host=FakeHost()), terminal_size=SIZE)


def test_verify_cards_with_a_refusal(snap_compare, tmp_path, monkeypatch):
    ours, theirs = share_set(1), share_set(2)
    write_shares(tmp_path, ours, "card")
    write_shares(tmp_path, theirs, "other")
    monkeypatch.chdir(tmp_path)
    app = KeyceremonyApp(host=FakeHost())

    async def read_three(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, VerifySharesScreen)
        screen.query_one("#fingerprint", Input).value = format_fingerprint(ours[0].fingerprint())
        for name in ("card-1.txt", "other-2.txt", "card-3.txt"):
            wanted = len(screen.answers) + 1
            screen.query_one("#path", Input).value = name
            screen.query_one("#path", Input).focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda n=wanted: len(screen.answers) >= n)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=read_three)
    svg = next(Path(__file__).parent.glob("__snapshots__/**/test_verify_cards_with_a_refusal.svg"))
    shown = svg.read_text(encoding="utf-8").replace("&#160;", " ")
    for line in share_lines([to_text(p) for p in ours + theirs]):
        assert line not in shown and line.replace(" ", "") not in shown


@pytest.mark.parametrize("name", ["test_home_screen", "test_verify_cards_with_a_refusal",
                                  "test_a_step_with_the_fingerprint_to_read_aloud",
                                  "test_share_entry_after_a_refused_card", "test_the_set_up_form"])
def test_snapshots_hold_no_share_text(name):
    svg = next(Path(__file__).parent.glob(f"__snapshots__/**/{name}.svg"))
    assert "keyceremony share v1" not in svg.read_text(encoding="utf-8").replace("&#160;", " ")


def test_a_step_with_the_fingerprint_to_read_aloud(snap_compare):
    from scenes import roll_call_fingerprint

    app = KeyceremonyApp(host=FakeHost())
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: roll_call_fingerprint(app, pilot))


def test_share_entry_after_a_refused_card(snap_compare):
    from scenes import share_entry_refusal

    app = KeyceremonyApp(host=FakeHost())
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: share_entry_refusal(app, pilot))
    svg = next(Path(__file__).parent.glob("__snapshots__/**/test_share_entry_after_a_refused_card.svg"))
    shown = svg.read_text(encoding="utf-8").replace("&#160;", " ")
    assert "REFUSED" in shown
    for line in share_lines([to_text(p) for p in share_set(1, 3, 5) + share_set(2, 3, 5)]):
        assert line not in shown and line.replace(" ", "") not in shown


def test_the_set_up_form(snap_compare, tmp_path, monkeypatch):
    """A key-generation set-up, part filled in: the rehearsal ticked, people by role, and a
    message under a field (an administrator missing)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PKCS11_MODULE", raising=False)
    app = KeyceremonyApp(host=FakeHost())

    async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("n", "enter")
        await pilot.press(*"ceremony", "tab", "space", "tab")
        await pilot.press(*"Payments KEK", "tab", "tab")  # no location
        await pilot.press("tab")  # the administrator left out: its field says so
        await pilot.press(*"Alice Ng, Bob Li, Chen Wei, Dora Szabo, Emeka Obi", "tab")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=fill)
