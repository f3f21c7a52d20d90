"""Pilot tests of the set-up forms at 80x24 (docs/tui.md §2): from home to the ceremony's launch.

Every key but the characters of typed text (names, numbers, paths) is counted and printed; the
issue's budget is about 20 for a key-generation set-up and 12 for a DR drill. The ceremony screen
is replaced by a capture of the :class:`~keyceremony.tui.launch.CeremonyLaunch` it would get.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Static
from tui_helpers import EXAMPLES, MODULE, REPO, SIZE, USER_PIN, FakeHost, Keys, paste

from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys
from keyceremony.ceremony.answers import load_answers
from keyceremony.ceremony.template import KeyGenerationParameters, load_template
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.tui.app import KeyceremonyApp
from keyceremony.tui.launch import CeremonyLaunch
from keyceremony.tui.screens.setup import SetupScreen
from keyceremony.tui.screens.setup_template import TemplateChoiceScreen

PIN = "1234-SECRET"


class Keyboard(Keys):
    """Presses keys, counting each one except the characters of typed text (tui_helpers.Keys).
    ``paste``: typed text arrives as one paste into the focused field (quicker to test; the
    key-generation test types every character, so the form is checked at every partial value)."""

    def __init__(self, pilot: Pilot[None], *, paste: bool = False) -> None:
        super().__init__(pilot)
        self.paste = paste

    async def type(self, text: str) -> None:
        if self.paste:
            await paste(self.pilot, text)
        else:
            await self.pilot.press(*text)


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[CeremonyLaunch]:
    """The launches the set-up screen hands over, instead of starting a ceremony screen."""
    got: list[CeremonyLaunch] = []
    monkeypatch.delenv("PKCS11_MODULE", raising=False)  # the soft key store is the default then
    monkeypatch.setattr(SetupScreen, "start_ceremony", lambda self, launch: got.append(launch))
    return got


def status(screen: object) -> str:
    return str(screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


def error_under(screen: object, field: str) -> str:
    widget = screen.query_one(f"#error-{field}", Static)  # type: ignore[attr-defined]
    return str(widget.render()) if widget.display else ""


def set_up(app: KeyceremonyApp) -> SetupScreen:
    screen = app.screen
    assert isinstance(screen, SetupScreen)
    return screen


async def fill(screen: SetupScreen, pilot: object, **values: str) -> None:
    """Set fields directly (for tests of one field, where the keys to get there do not matter)."""
    for field, value in values.items():
        screen.query_one(f"#{field}", Input).value = value
    await pilot.pause()  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_a_3_of_5_key_generation_rehearsal_is_set_up_in_a_few_keys(tmp_path, launches):
    folder = tmp_path / "rehearsal"
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        keys = Keyboard(pilot)
        await keys.press("n")
        assert isinstance(app.screen, TemplateChoiceScreen)
        await keys.press("enter")  # the first template: key generation
        screen = set_up(app)
        await keys.type(str(folder))
        await keys.press("tab", "space", "tab")  # the rehearsal box
        assert str(screen.query_one("#rehearsal", Checkbox).label) == "YES: network/swap only warn; card files kept"
        await keys.type("Payments KEK: generate and split 3-of-5 (rehearsal)")
        await keys.press("tab")
        await keys.type("Room 4.12")
        await keys.press("tab")
        await keys.type("Dana Ruiz")
        await keys.press("tab")
        await keys.type("Alice Ng, Bob Li, Chen Wei, Dora Szabó, Emeka Obi")
        await keys.press("tab")
        await keys.type("Eve Park, Jürgen Weiß")
        assert status(screen).startswith("Ready."), status(screen)
        await keys.press("ctrl+r")
        print(f"key-generation set-up: {keys.count} keystrokes besides typed text")
        assert keys.count <= 20
    assert len(launches) == 1, status(screen)
    launch = launches[0]
    assert launch.template == load_template("key-generation") and launch.interactive
    assert launch.out == folder and not folder.exists()  # the ceremony makes it
    assert isinstance(launch.keys, SoftKeys)
    assert launch.answers_path == tmp_path / "rehearsal-answers.toml"
    answers = load_answers(launch.answers_path, launch.template)
    assert answers == launch.answers and answers.location == "Room 4.12"
    assert answers.rehearsal.warn == ("network", "swap") and answers.rehearsal.keep_card_files
    assert [a.name for a in answers.participants] == ["Dana Ruiz", "Alice Ng", "Bob Li", "Chen Wei", "Dora Szabó",
                                                      "Emeka Obi", "Eve Park", "Jürgen Weiß"]  # fmt: skip


@pytest.mark.asyncio
async def test_a_dr_drill_with_its_set_fingerprint_is_set_up_in_at_most_12_keys(tmp_path, launches):
    fingerprint = format_fingerprint(bytes(range(16)))
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        keys = Keyboard(pilot, paste=True)
        await keys.press("n", "d")
        screen = set_up(app)
        await keys.type(str(tmp_path / "drill"))
        await keys.press("tab", "space", "tab", "tab", "tab")  # rehearsal; title and location left empty
        await keys.type("Dana Ruiz")
        await keys.press("tab")
        await keys.type("Alice Ng, Chen Wei, Emeka Obi")
        await keys.press("tab")
        await keys.type("Eve Park")
        await keys.press("tab", "tab")  # no auditor
        await keys.type(fingerprint)
        await keys.press("ctrl+r")
        print(f"DR drill set-up: {keys.count} keystrokes besides typed text")
        assert keys.count <= 12, keys.count
    assert len(launches) == 1, status(screen)
    answers = launches[0].answers
    assert launches[0].template.kind == "dr-drill" and answers.anchors.set_fingerprint == bytes(range(16))
    assert answers.rehearsal.warn == ("network", "swap") and answers.title is None


@pytest.mark.asyncio
async def test_new_parameters_run_a_derived_template_saved_beside_the_answers(tmp_path, launches):
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "k")
        screen = set_up(app)
        await fill(screen, pilot, folder=str(tmp_path / "c"), **{"people-ceremony-administrator": "Dana",
                   "people-custodian": "A, B, C", "people-witness": "W1, W2"}, threshold="2", shares="3")  # fmt: skip
        assert "derived template c-template.toml" in status(screen)
        await pilot.press("ctrl+r")
    launch = launches[0]
    assert launch.template.parameters == KeyGenerationParameters(threshold=2, shares=3)
    assert launch.template.source == str(tmp_path / "c-template.toml")
    assert load_template(str(tmp_path / "c-template.toml")) == launch.template


@pytest.mark.asyncio
async def test_a_bad_field_shows_its_message_under_it_and_nothing_starts(tmp_path, launches):
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        screen = set_up(app)
        await fill(screen, pilot, folder=str(tmp_path / "c"), **{"people-ceremony-administrator": "Dana",
                   "people-custodian": "A, B, C, D, E", "people-witness": "Eve Park"})  # fmt: skip
        screen.query_one("#threshold", Input).focus()
        await pilot.press("backspace", "6", "tab")  # 6 of 5
        message = "need 1 <= threshold <= shares <= 255, not 6 of 5"
        assert error_under(screen, "threshold") == message
        assert status(screen) == f"Threshold (cards needed): {message}"
        await pilot.press("shift+tab", "backspace", "3")
        assert error_under(screen, "threshold") == "" and "Ready" not in status(screen)  # one witness is missing
        assert status(screen) == "Witness (2 or more): 1 named; the roll call needs at least 2"
        screen.query_one("#people-witness", Input).focus()
        await pilot.press("end", *", Eve Park", "tab")  # the answers parser refuses a name listed twice
        assert error_under(screen, "people-witness") == "Eve Park (witness) is listed twice"
        await pilot.press("ctrl+r")
        assert not launches and screen.focused is screen.query_one("#people-witness", Input)
        assert not (tmp_path / "c-answers.toml").exists()
        await fill(screen, pilot, **{"people-witness": "Eve Park, Jürgen Weiß"})
        await pilot.press("ctrl+r")
    assert len(launches) == 1


@pytest.mark.asyncio
async def test_pkcs11_needs_a_pin_which_is_never_written_nor_shown(tmp_path, launches):
    module = tmp_path / "libfake-pkcs11.so"
    module.write_bytes(b"\x7fELF not really")
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        screen = set_up(app)
        await fill(screen, pilot, folder=str(tmp_path / "c"), **{"people-ceremony-administrator": "Dana",
                   "people-custodian": "A, B, C, D, E", "people-witness": "W1, W2"})  # fmt: skip
        assert not screen.query_one("#row-pin").display
        screen.query_one("#backend").focus()
        await pilot.press("enter", "down", "enter")  # the list opens; pkcs11
        assert screen.query_one("#row-pin").display
        await pilot.press("tab")
        screen.query_one("#module", Input).value = ""
        await paste(pilot, str(module))
        await pilot.press("tab", *"root", "ctrl+r")
        assert not launches and screen.focused is screen.query_one("#pin", Input)
        assert error_under(screen, "pin").startswith("type the token's user PIN")
        await pilot.press(*PIN)
        shown = app.export_screenshot()
        assert PIN not in shown and "•" * len(PIN) in shown.replace("&#160;", " ")
        await pilot.press("ctrl+s")
        assert "Saved" in status(screen)
        await pilot.press("ctrl+r")
        assert len(launches) == 1
        assert screen.query_one("#pin", Input).value == ""  # cleared once handed to the key store
        shown = app.export_screenshot()
        texts = [str(w.render()) for w in screen.query(Static)]
    keys = launches[0].keys
    assert isinstance(keys, Pkcs11Keys) and (keys.module, keys.token) == (str(module), "root")
    assert PIN not in shown and not [t for t in texts if PIN in t] and PIN not in repr(launches[0].answers)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} == {module.name, "c-answers.toml"}
    assert not [p for p in written if PIN.encode() in p.read_bytes()]
    assert load_answers(tmp_path / "c-answers.toml", launches[0].template).hsm.token == "root"


@pytest.mark.asyncio
async def test_a_pkcs11_set_up_opens_a_softhsm2_token(tmp_path, launches, softhsm):
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "r")  # a recovery: into the token "recovery"
        screen = set_up(app)
        await fill(screen, pilot, folder=str(tmp_path / "c"), **{"people-ceremony-administrator": "Dana",
                   "people-custodian": "A, B, C", "people-witness": "W1, W2"})  # fmt: skip
        screen.query_one("#backend").focus()
        await pilot.press("enter", "down", "enter")
        await fill(screen, pilot, module=MODULE, token="recovery", pin=USER_PIN)
        await pilot.press("ctrl+r")
    assert len(launches) == 1, status(screen)
    keys = launches[0].keys
    assert isinstance(keys, Pkcs11Keys)
    backend = keys.open()
    try:
        assert backend.token_label == "recovery"
        assert "answers" in keys.check(backend)
    finally:
        backend.close()
    with pytest.raises(ValueError, match="the PIN is not kept"):
        keys.open()


@pytest.mark.asyncio
async def test_load_answers_prefills_the_form_and_keeps_the_step_answers(tmp_path, launches):
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter", "ctrl+o")
        screen = set_up(app)
        await paste(pilot, str(tmp_path / "missing.toml"))
        await pilot.press("enter")
        assert "no such file" in status(screen)
        screen.query_one("#load", Input).value = str(EXAMPLES / "key-generation.toml")
        await pilot.press("enter")
        assert screen.query_one("#people-witness", Input).value == "Eve Park, Jürgen Weiß"
        assert screen.query_one("#title", Input).value.startswith("Payments KEK")
        assert screen.focused is screen.query_one("#folder", Input)
        await paste(pilot, str(tmp_path / "c"))
        await pilot.press("ctrl+s")
        assert status(screen).startswith(f"Saved {tmp_path / 'c-answers.toml'}")
    template = load_template("key-generation")
    saved = load_answers(tmp_path / "c-answers.toml", template)
    example = load_answers(EXAMPLES / "key-generation.toml", template)
    assert saved.steps == example.steps and saved.confirm == example.confirm and saved.rehearsal == example.rehearsal


@pytest.mark.asyncio
async def test_saving_over_a_different_file_takes_a_second_ctrl_s(tmp_path, launches):
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        screen = set_up(app)
        await fill(screen, pilot, folder=str(tmp_path / "c"), title="First", **{"people-ceremony-administrator": "D"})
        await pilot.press("ctrl+s")
        saved = tmp_path / "c-answers.toml"
        assert saved.is_file()
        await fill(screen, pilot, title="Second")
        await pilot.press("ctrl+s")
        assert "exists already and differs from this set-up: save again to replace it" in status(screen)
        assert 'title = "First"' in saved.read_text("utf-8")
        await pilot.press("ctrl+s")
        assert 'title = "Second"' in saved.read_text("utf-8") and status(screen).startswith("Saved")


@pytest.mark.asyncio
async def test_a_template_file_can_be_chosen_by_its_path(tmp_path, launches):
    broken = tmp_path / "broken.toml"
    broken.write_text('format = "keyceremony template v1"\n[template]\nname = "x"\n', encoding="utf-8")
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "f")
        await paste(pilot, str(broken))
        await pilot.press("enter")
        message = str(app.screen.query_one("#message", Static).render())
        assert isinstance(app.screen, TemplateChoiceScreen) and "broken.toml, line 2: [template] version" in message
        app.screen.query_one("#path", Input).value = str(REPO / "ceremony_templates" / "dr-drill.toml")
        await pilot.press("enter")
        screen = set_up(app)
        assert screen.template_ref == str(REPO / "ceremony_templates" / "dr-drill.toml")
        assert screen.query("#set-fingerprint") and not screen.query("#threshold")
        await pilot.press("escape", "n", "f", *"dr-drill", "enter")  # letters typed in the field stay there
        screen = set_up(app)
        assert screen.template_ref == "dr-drill" and screen.template == load_template("dr-drill")
        await pilot.press("escape")
        assert type(app.screen).__name__ == "HomeScreen"



class StubCeremonyScreen(Screen[None]):
    """Stands in for the ceremony screen: takes the launch, and Escape comes back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, *, launch: CeremonyLaunch) -> None:
        super().__init__()
        self.launch = launch

    def compose(self) -> ComposeResult:
        yield Static("ceremony")


@pytest.mark.asyncio
async def test_the_ceremony_screen_gets_the_launch_and_escape_comes_back_to_the_form(tmp_path, monkeypatch):
    monkeypatch.setattr("keyceremony.tui.screens.ceremony.CeremonyScreen", StubCeremonyScreen)
    app = KeyceremonyApp(host=FakeHost())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        screen = set_up(app)
        await fill(screen, pilot, folder=str(tmp_path / "c"), **{"people-ceremony-administrator": "Dana",
                   "people-custodian": "A, B, C, D, E", "people-witness": "W1, W2"})  # fmt: skip
        await pilot.press("ctrl+r")
        ceremony = app.screen
        assert isinstance(ceremony, StubCeremonyScreen) and ceremony.launch.out == tmp_path / "c"
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / "state.json").write_text("{}", encoding="utf-8")  # as the ceremony leaves it
        await pilot.press("escape")
        assert app.screen is screen and screen.query_one("#people-witness", Input).value == "W1, W2"
        assert "holds a ceremony already" in status(screen)
