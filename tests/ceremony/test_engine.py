"""The engine, headless, with the sample answers and the software back end: all three templates."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from ceremony_helpers import EXAMPLES, TEST_KEY, RecordingPrompter, assert_no_secret, make_engine

from keyceremony.ceremony.adapters import SoftKeys
from keyceremony.ceremony.template import load_template
from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint
from keyceremony.errors import AnswersError, CeremonyError, KeyCeremonyError, QuorumNotMet
from keyceremony.transcript import verify_transcript


def pdf_text(path: Path) -> str:
    document = pdfium.PdfDocument(path)
    try:
        return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def events(result, step=None):  # type: ignore[no-untyped-def]
    return [e.event for e in result.verified.entries if step is None or e.step == step]


def test_key_generation_runs_to_a_verified_seal(tmp_path):
    out = tmp_path / "keygen"
    engine = make_engine("key-generation", EXAMPLES / "key-generation.toml", out, keys=SoftKeys(test_key=TEST_KEY))
    engine.start()
    assert [s.status for s in engine.plan()][:2] == ["current", "pending"]
    result = engine.run()
    template = load_template("key-generation")
    verified = verify_transcript(
        out / "transcript.jsonl", expected_fingerprint=result.fingerprint, later_fingerprints=[],
        template_requirements=template.requirements(),
    )  # fmt: skip
    assert verified.sealed and verified.steps == tuple(s.id for s in template.steps)
    assert result.verified.meta["test_hooks"] == ["soft-key-import"]
    holders = {e.data["share_number"]: (e.data["holder"], e.data["bag_number"])
               for e in verified.entries if e.event == "card-received"}  # fmt: skip
    assert holders[3] == ("Chen Wei", "TEB-100203") and len(holders) == 5
    made = next(e.data for e in verified.entries if e.event == "shares-made")
    assert (made["threshold"], made["count"]) == (3, 5)
    fingerprint = format_fingerprint(result.fingerprint)
    for x in range(1, 6):  # the ceremony key's fingerprint is on every card
        text = pdf_text(out / "cards" / f"card-{x}.pdf")
        assert fingerprint in text and made["set_id"] in text
    assert fingerprint in result.report and fingerprint_words(result.fingerprint) in result.report
    assert result.report_pdf == out / "transcript-report.pdf" and fingerprint in pdf_text(result.report_pdf)
    assert json.loads((out / "requirements.json").read_text())["steps"][5]["roles"] == {"custodian": 5, "witness": 2}
    said = "\n".join(engine.ports.prompter.said)
    assert fingerprint_words(result.fingerprint) in said  # read aloud at the roll call
    assert_no_secret(out, {"key": TEST_KEY})
    state = json.loads((out / "state.json").read_text())
    assert state["status"] == "sealed" and state["fingerprint"] == result.fingerprint.hex()


def test_dr_drill_from_a_pdf_a_photo_and_a_share_file(tmp_path, keygen, monkeypatch):
    from keyceremony.cards.raster import render_pdf
    from keyceremony.recipes.sources import read_payloads
    from keyceremony.shares.text import to_text

    render_pdf(keygen.cards / "card-3.pdf", dpi=150)[0].save(tmp_path / "card-3.png")
    contents = read_payloads(str(keygen.cards / "card-5.pdf"))
    (tmp_path / "share-5.txt").write_text(to_text(contents.shares[0][1]) + "\n" + contents.packages[0][1].to_text())
    answers = (EXAMPLES / "dr-drill.toml").read_text(encoding="utf-8")
    answers = answers.replace("${KEYGEN_DIR}/cards/card-3.pdf", "card-3.png")
    answers = answers.replace("${KEYGEN_DIR}/cards/card-5.pdf", "share-5.txt")
    (tmp_path / "answers.toml").write_text(answers, encoding="utf-8")
    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    out = tmp_path / "drill"
    result = make_engine("dr-drill", tmp_path / "answers.toml", out).run()
    report = next(e.data for e in result.verified.entries if e.event == "drill-report")
    assert report["outcome"] == "PASSED" and report["cards_used"] == [1, 3, 5]
    assert report["presented_by"] == {"1": "Alice Ng", "3": "Chen Wei", "5": "Emeka Obi"}
    kcv = next(e.data["kcv"] for e in result.verified.entries if e.event == "key-tested")
    assert kcv == report["kcv"]
    destroyed = [e.data["what"] for e in result.verified.entries if e.event == "destroyed"]
    assert destroyed[0] == "wrapping key rebuilt from the cards" and destroyed[1].startswith("drill copy")
    assert_no_secret(out, {"key": TEST_KEY, "wrapping key": keygen.wrapping_key})


def test_recovery_runs_and_keeps_the_key(tmp_path, keygen, monkeypatch):
    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    out = tmp_path / "recovery"
    engine = make_engine("recovery", EXAMPLES / "recovery.toml", out)
    result = engine.run()
    assert events(result, "recover") == ["recovering", "key-recovered", "completed"]
    recovered = next(e.data for e in result.verified.entries if e.event == "key-recovered")
    assert recovered["key_label"] == "root-kek" and recovered["persistent"] and not recovered["extractable"]
    assert "RECOVERED" in json.dumps(next(e.data for e in result.verified.entries if e.event == "recovery-report"))
    assert_no_secret(out, {"key": TEST_KEY, "wrapping key": keygen.wrapping_key})


def test_scan_back_decodes_photos_of_the_printed_cards(tmp_path):
    from keyceremony.cards.raster import render_pdf

    class Photographer(RecordingPrompter):
        def scan_back(self, request):  # type: ignore[no-untyped-def]
            photo = tmp_path / f"photo-{request.share_number}.png"
            render_pdf(request.card, dpi=120)[0].rotate(3, expand=True, fillcolor=255).save(photo)
            return photo

    # A template of our own, which also asks for a confirmation at the hand-over.
    bundled = Path(__file__).resolve().parents[2] / "ceremony_templates" / "key-generation.toml"
    template = tmp_path / "keygen-confirm.toml"
    template.write_text(bundled.read_text(encoding="utf-8").replace(
        'instructions = "Each custodian checks',
        'confirm = "Every card is sealed in its bag"\ninstructions = "Each custodian checks'), encoding="utf-8")
    answers = tmp_path / "answers.toml"
    shipped = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    bare = "".join(line for line in shipped.splitlines(keepends=True) if not line.startswith(("owner =", "contact =")))
    answers.write_text(bare.replace(
        "seal = true", "seal = true\nhand-over = true"), encoding="utf-8")
    out = tmp_path / "keygen"
    result = make_engine(str(template), answers, out, prompter_class=Photographer).run()
    scans = [e.data for e in result.verified.entries if e.event == "card-scanned"]
    assert [s["source"] for s in scans] == [f"photo-{x}.png" for x in range(1, 6)]
    assert all(s["how"].startswith("a scan or photo") for s in scans)
    completed = [e.data for e in result.verified.entries if e.step == "hand-over" and e.event == "completed"]
    assert completed[0]["confirmed"] == "Every card is sealed in its bag"


def test_scan_back_of_a_card_whose_package_code_does_not_read_stops_the_hand_over(tmp_path):
    """The package's code painted out of the scan of card 2: the ceremony stops at scan-back,
    names the card and the code to look for, and the card is not recorded as scanned."""
    from PIL import ImageDraw
    from pyzbar.pyzbar import decode as zbar

    from keyceremony.cards.raster import render_pdf
    from keyceremony.keys.backup_package import is_package_qr_text

    class SmudgedPhotographer(RecordingPrompter):
        def scan_back(self, request):  # type: ignore[no-untyped-def]
            page = render_pdf(request.card, dpi=150)[0]
            if request.share_number == 2:
                [package] = [c for c in zbar(page) if is_package_qr_text(c.data.decode())]
                box = package.rect
                ImageDraw.Draw(page).rectangle(
                    (box.left - 8, box.top - 8, box.left + box.width + 8, box.top + box.height + 8), fill=255)
            photo = tmp_path / f"photo-{request.share_number}.png"
            page.save(photo)
            return photo

    out = tmp_path / "keygen"
    engine = make_engine("key-generation", EXAMPLES / "key-generation.toml", out, prompter_class=SmudgedPhotographer)
    with pytest.raises(CeremonyError, match=r"photo-2.png: the backup package code .*'Backup package'.* was not read "
                                            r"from card 2; scan or photograph the card again"):
        engine.run()
    scanned = [json.loads(line)["data"]["share_number"] for line in (out / "transcript.jsonl").read_text().splitlines()
               if json.loads(line)["event"] == "card-scanned"]
    assert scanned == [1]


def test_missing_quorum_stops_before_the_step_and_the_ceremony_resumes(tmp_path):
    text = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    answers = tmp_path / "answers.toml"
    answers.write_text(text.replace('absent = ["Farah Haddad"]', 'absent = ["Farah Haddad", "Jürgen Weiß"]'),
                       encoding="utf-8")
    out = tmp_path / "keygen"
    engine = make_engine("key-generation", answers, out).start()
    engine.step()
    with pytest.raises(QuorumNotMet, match=r"needs 2 witness\(s\) present; 1 \(Eve Park\) present"):
        engine.step()
    assert not [e for e in engine.writer.entries if e.step == "preflight"]  # nothing recorded
    engine.close()
    answers.write_text(text, encoding="utf-8")
    result = make_engine("key-generation", answers, out).run()
    resumed = next(e for e in result.verified.entries if e.event == "resumed")
    assert resumed.data["resume_at"] == "preflight" and resumed.data["answers_changed"] is True
    assert "restarted" not in events(result, "preflight")


def test_an_unconfirmed_step_stops_and_says_what_to_add(tmp_path):
    text = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8").replace("roll-call = true", "")
    (tmp_path / "answers.toml").write_text(text, encoding="utf-8")
    engine = make_engine("key-generation", tmp_path / "answers.toml", tmp_path / "keygen").start()
    with pytest.raises(AnswersError, match=r"Add `roll-call = true` under \[confirm\]"):
        engine.step()
    engine.close()


def test_a_lost_soft_key_makes_generate_key_run_again(tmp_path):
    """In-process version of a crash right after generate-key: the next program has no key."""
    out = tmp_path / "keygen"
    first = make_engine("key-generation", EXAMPLES / "key-generation.toml", out).start()
    for _ in range(3):
        first.step()
    first_kcv = next(e.data["kcv"] for e in first.writer.entries if e.event == "key-generated")
    first.writer.close()  # the process "dies": its memory (the key, the ceremony key) is gone
    second = make_engine("key-generation", EXAMPLES / "key-generation.toml", out)
    result = second.run()
    steps = [(e.step, e.event) for e in result.verified.entries]
    at = steps.index(("generate-key", "restarted"))
    assert steps[at - 1] == ("ceremony", "resumed") and steps[at + 1] == ("generate-key", "generating")
    restarted = result.verified.entries[at]
    assert restarted.data["lost_in_interruption"] and "never written anywhere" in restarted.data["reason"]
    kcvs = [e.data["kcv"] for e in result.verified.entries if e.event == "key-generated"]
    assert kcvs[0] == first_kcv and kcvs[1] != first_kcv  # a new key; the lost one had no backup
    assert len(result.later_fingerprints) == 1 and result.verified.resumes == 1


def test_resume_refuses_another_template_and_a_foreign_folder(tmp_path):
    out = tmp_path / "keygen"
    engine = make_engine("key-generation", EXAMPLES / "key-generation.toml", out).start()
    engine.step()
    engine.close()
    custom = tmp_path / "custom.toml"
    bundled = Path(__file__).resolve().parents[2] / "ceremony_templates" / "key-generation.toml"
    custom.write_text(bundled.read_text(encoding="utf-8").replace("threshold = 3", "threshold = 2"), encoding="utf-8")
    with pytest.raises(CeremonyError, match="not the same file"):
        make_engine(str(custom), EXAMPLES / "key-generation.toml", out).start()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(CeremonyError, match="not empty and holds no ceremony"):
        make_engine("key-generation", EXAMPLES / "key-generation.toml", tmp_path / "other").start()


HEADLESS = [
    "keyceremony.ceremony.template", "keyceremony.ceremony.ports", "keyceremony.ceremony.state",
    "keyceremony.ceremony.engine", "keyceremony.ceremony.steps", "keyceremony.ceremony.answers",
    "keyceremony.ceremony.preflight", "keyceremony.ceremony.adapters", "keyceremony.ceremony.report",
    "keyceremony.cli.ceremony",
]  # fmt: skip
FORBIDDEN = ("textual", "reportlab", "qrcode", "pkcs11", "pyzbar", "pypdfium2")


def test_the_engine_is_headless():
    """docs/architecture.md §3: importing the engine loads no UI, card, scan or HSM library."""
    probe = (
        "import importlib, json, sys\n"
        f"for name in {HEADLESS!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def test_a_custodian_name_the_cards_cannot_print_stops_the_roll_call(tmp_path):
    """Chen Wei written in Chinese characters: refused at the roll call, before any key is made;
    the same ceremony with the names in Latin and Cyrillic letters prints them on the cards."""
    answers = tmp_path / "answers.toml"
    shipped = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    bare = "".join(line for line in shipped.splitlines(keepends=True) if not line.startswith(("owner =", "contact =")))
    answers.write_text(bare.replace("Chen Wei", "陈伟"),
                       encoding="utf-8")  # fmt: skip
    out = tmp_path / "keygen"
    with pytest.raises(CeremonyError, match=r"the roll call: custodian '陈伟' contains '陈' \(U\+9648\), which DejaVu"):
        make_engine("key-generation", answers, out).run()
    assert not [line for line in (out / "transcript.jsonl").read_text().splitlines() if "key-generated" in line]
    shipped = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    bare = "".join(line for line in shipped.splitlines(keepends=True) if not line.startswith(("owner =", "contact =")))
    answers.write_text(bare.replace("Chen Wei", "Чэнь Вэй"),
                       encoding="utf-8")  # fmt: skip
    make_engine("key-generation", answers, tmp_path / "keygen2").run()
    assert "Чэнь Вэй" in pdf_text(tmp_path / "keygen2" / "cards" / "card-3.pdf")


def test_the_cards_name_the_key_owner_of_the_answers(tmp_path):
    """[ceremony] owner and contact: printed on every card as whom to tell, and recorded in the
    transcript; without them the card names the ceremony's record instead (never a blank)."""
    answers = tmp_path / "answers.toml"
    shipped = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    bare = "".join(line for line in shipped.splitlines(keepends=True) if not line.startswith(("owner =", "contact =")))
    answers.write_text(bare.replace(
        'location = "Room 4.12, rehearsal"',
        'location = "Room 4.12, rehearsal"\nowner = "Dana Ruiz"\ncontact = "+44 20 7946 0000 (security desk)"'),
        encoding="utf-8")  # fmt: skip
    result = make_engine("key-generation", answers, tmp_path / "keygen").run()
    text = " ".join(pdf_text(tmp_path / "keygen" / "cards" / "card-2.pdf").split())
    assert "tell the key owner at once (Dana Ruiz, +44 20 7946 0000 (security desk))" in text
    assert "keyceremony backup package v1" in text and "page 2 of 2" in text
    assert result.verified.meta["key_owner"] == "Dana Ruiz"
    assert result.verified.meta["key_owner_contact"] == "+44 20 7946 0000 (security desk)"


def test_a_key_label_the_cards_cannot_print_stops_before_anything_starts(tmp_path):
    bundled = Path(__file__).resolve().parents[2] / "ceremony_templates" / "key-generation.toml"
    template = tmp_path / "keygen.toml"
    template.write_text(bundled.read_text(encoding="utf-8").replace('key_label = "root-kek"', 'key_label = "根密钥"'),
                        encoding="utf-8")  # fmt: skip
    out = tmp_path / "keygen"
    with pytest.raises(CeremonyError, match=r"the template's key_label '根密钥' contains '根' .*Nothing was started"):
        make_engine(str(template), EXAMPLES / "key-generation.toml", out).run()
    assert not out.exists()


# --- one card at a time: answered at once, only the bad one asked for again ------------------------


def test_scan_back_asks_again_for_the_card_that_did_not_read(tmp_path):
    asked: list[tuple[int, int, str | None]] = []

    class Photographer(RecordingPrompter):
        def scan_back(self, request):  # type: ignore[no-untyped-def]
            asked.append((request.share_number, request.attempt, request.problem))
            if request.share_number == 2 and request.attempt == 1:  # the wrong card under the camera
                return request.card.with_name("card-3.pdf")
            return None  # the printed PDF itself

    out = tmp_path / "keygen"
    engine = make_engine("key-generation", EXAMPLES / "key-generation.toml", out, prompter_class=Photographer)
    result = engine.run()
    assert [(x, attempt) for x, attempt, _ in asked] == [(1, 1), (2, 1), (2, 2), (3, 1), (4, 1), (5, 1)]
    assert asked[2][2] is not None and "is share 3, not share 2" in asked[2][2]
    refused = [e.data for e in result.verified.entries if e.event == "card-refused"]
    assert len(refused) == 1 and refused[0]["share_number"] == 2 and refused[0]["source"] == "card-3.pdf"
    scanned = [e.data["share_number"] for e in result.verified.entries if e.event == "card-scanned"]
    assert scanned == [1, 2, 3, 4, 5]
    said = "\n".join(engine.ports.prompter.said)  # type: ignore[attr-defined]
    assert "REFUSED: card 2: " in said and "Bring it again" in said


def test_present_cards_answers_each_card_and_asks_for_more(tmp_path, keygen, monkeypatch):
    from keyceremony.ceremony.ports import PresentedCard
    from keyceremony.shares.shareset import create_share_set
    from keyceremony.shares.text import to_text

    stranger = tmp_path / "stranger.txt"  # a genuine share of another set
    stranger.write_text(to_text(create_share_set(bytes(32), 3, 5, label="root-kek")[0]), encoding="utf-8")
    cards = keygen.cards
    requests = []

    class Custodians(RecordingPrompter):
        def present_cards(self, request):  # type: ignore[no-untyped-def]
            requests.append(request)
            if request.attempt == 1:
                first = PresentedCard(cards / "card-1.pdf", "Alice Ng")
                third = PresentedCard(cards / "card-3.pdf", "Chen Wei")
                return [first, first, PresentedCard(stranger, "Chen Wei"), third]
            return [PresentedCard(cards / "card-5.pdf", "Emeka Obi")]

    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    # Unanchored, a stranger among the cards stops the step: which set is ours cannot be told.
    unanchored = make_engine("dr-drill", EXAMPLES / "dr-drill.toml", tmp_path / "drill-0", prompter_class=Custodians)
    with pytest.raises(CeremonyError, match="cards of 2 different sets .* Give \\[anchors\\] set_fingerprint"):
        unanchored.run()
    requests.clear()
    engine = make_engine("dr-drill", anchored_answers(tmp_path, keygen), tmp_path / "drill", prompter_class=Custodians)
    result = engine.run()
    assert [r.attempt for r in requests] == [1, 2]
    assert requests[1].status == "2 of 3 shares, 1 more needed" and requests[1].accepted == (1, 3)
    said = "\n".join(engine.ports.prompter.said)  # type: ignore[attr-defined]
    assert "accepted as share 1 of set" in said and "(custodian Alice Ng); 1 of 3 shares, 2 more needed" in said
    assert re.search(r"REFUSED: \S*card-1.pdf is the same share as \S*card-1.pdf \(share 1 of 5\)", said)
    assert re.search(r"REFUSED: \S*stranger.txt is share 1 of set .*it is not a card of this set", said)
    assert "ANCHORED: the cards match the paper log's set fingerprint" in said
    assert "3 of 3 shares: enough" in said
    accepted = next(e.data for e in result.verified.entries if e.event == "cards-accepted")
    assert accepted["cards_used"] == [1, 3, 5] and accepted["anchored_by"] == ["set fingerprint"]
    reasons = next(e.data["reasons"] for e in result.verified.entries if e.event == "cards-set-aside")
    assert len(reasons) == 2 and "same share" in reasons[0] and "not a card of this set" in reasons[1]
    report = next(e.data for e in result.verified.entries if e.event == "drill-report")
    assert report["outcome"] == "PASSED"


def test_too_few_cards_from_an_answers_file_stop_with_the_count(tmp_path, keygen, monkeypatch):
    answers = (EXAMPLES / "dr-drill.toml").read_text(encoding="utf-8")
    card_5 = '  { file = "${KEYGEN_DIR}/cards/card-5.pdf", custodian = "Emeka Obi", bag = "TEB-100205" },\n'
    assert card_5 in answers
    answers = answers.replace(card_5, "")
    (tmp_path / "answers.toml").write_text(answers, encoding="utf-8")
    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    engine = make_engine("dr-drill", tmp_path / "answers.toml", tmp_path / "drill")
    with pytest.raises(AnswersError, match=r"are not enough: 2 of 3 shares, 1 more needed"):
        engine.run()


def keygen_facts(keygen) -> dict:  # type: ignore[no-untyped-def]
    verified = verify_transcript(keygen.out / "transcript.jsonl")
    return next(dict(e.data) for e in verified.entries if e.event == "shares-made")


def anchored_answers(tmp_path: Path, keygen, **anchors: str) -> Path:  # type: ignore[no-untyped-def]
    """The example drill answers with an [anchors] table (default: the keygen's set fingerprint)."""
    anchors = anchors or {"set_fingerprint": keygen_facts(keygen)["set_fingerprint"]}
    text = (EXAMPLES / "dr-drill.toml").read_text(encoding="utf-8")
    text += "\n[anchors]\n" + "".join(f'{key} = "{value}"\n' for key, value in anchors.items())
    path = tmp_path / "anchored-answers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_drill_without_anchors_records_and_says_unanchored(tmp_path, keygen, monkeypatch):
    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    engine = make_engine("dr-drill", EXAMPLES / "dr-drill.toml", tmp_path / "drill")
    result = engine.run()
    accepted = next(e.data for e in result.verified.entries if e.event == "cards-accepted")
    assert accepted["anchored_by"] == []
    said = "\n".join(engine.ports.prompter.said)  # type: ignore[attr-defined]
    assert "WARNING: UNANCHORED: nothing from the paper log was given" in said
    assert keygen_facts(keygen)["set_fingerprint"] in said


def test_a_drill_anchored_by_check_value_passes_and_a_wrong_one_is_refused(tmp_path, keygen, monkeypatch):
    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    facts = keygen_facts(keygen)
    good = anchored_answers(
        tmp_path, keygen, kcv=facts["kcv"].upper(), package_fingerprint=facts["package_fingerprint"]
    )
    result = make_engine("dr-drill", good, tmp_path / "drill").run()
    accepted = next(e.data for e in result.verified.entries if e.event == "cards-accepted")
    assert accepted["anchored_by"] == ["package fingerprint", "key check value"]
    wrong = anchored_answers(tmp_path, keygen, kcv="ABCDEF" if facts["kcv"] != "abcdef" else "123456")
    with pytest.raises(KeyCeremonyError, match="is not the one recorded in the paper log"):
        make_engine("dr-drill", wrong, tmp_path / "drill-2").run()


def test_a_template_can_require_an_anchor(tmp_path, keygen, monkeypatch):
    monkeypatch.setenv("KEYGEN_DIR", str(keygen.out))
    bundled = Path(__file__).resolve().parents[2] / "ceremony_templates" / "dr-drill.toml"
    template = tmp_path / "strict-drill.toml"
    text = bundled.read_text(encoding="utf-8")
    assert "[parameters]" not in text
    template.write_text(text.replace("[rehearsal]", '[parameters]\nanchor = "required"\n\n[rehearsal]', 1),
                        encoding="utf-8")
    with pytest.raises(AnswersError, match="requires an anchor"):
        make_engine(str(template), EXAMPLES / "dr-drill.toml", tmp_path / "drill")
    result = make_engine(str(template), anchored_answers(tmp_path, keygen), tmp_path / "drill").run()
    assert result.verified.sealed
