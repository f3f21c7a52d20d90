"""samples/ is exactly what scripts/make_samples.py makes, and it reads back."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def _script():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "scripts" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    return out, _script().make(out)


def test_samples_are_what_the_script_makes(regenerated):
    out, written = regenerated
    assert len(written) == 8
    for path in written:
        committed = SAMPLES / path.name
        assert committed.exists(), f"{path.name} missing from samples/; run `make samples`"
        assert committed.read_bytes() == path.read_bytes(), f"samples/{path.name} is stale; run `make samples`"


def test_sample_card_png_and_shares_recover_the_sample_secret():
    from keyceremony.recipes.sources import read_shares
    from keyceremony.shares.shareset import recover_secret

    items = read_shares(str(SAMPLES / "sample-card.png"))
    assert [p.x for _, p in items] == [2]
    items += read_shares(str(SAMPLES / "sample-share-4.txt"))
    items += read_shares(str(SAMPLES / "sample-share-5.txt"))
    assert recover_secret(items).secret == (SAMPLES / "secret.bin").read_bytes()


def test_sample_card_pdf_holds_share_two():
    from keyceremony.recipes.sources import read_shares
    from keyceremony.shares.text import from_text

    (_, from_pdf), = read_shares(str(SAMPLES / "sample-card.pdf"))
    from_txt = from_text((SAMPLES / "sample-share-2.txt").read_text())
    assert from_pdf.to_bytes() == from_txt.to_bytes()


# --- samples/ceremony: a real rehearsal run, verified rather than compared byte for byte -----------

CEREMONY = SAMPLES / "ceremony"


@pytest.fixture(scope="module")
def ceremony():
    import json

    from keyceremony.transcript import TemplateRequirements, verify_transcript

    state = json.loads((CEREMONY / "state.json").read_text())
    requirements = TemplateRequirements.from_json(json.loads((CEREMONY / "requirements.json").read_text()))
    result = verify_transcript(
        CEREMONY / "transcript.jsonl",
        expected_fingerprint=bytes.fromhex(state["fingerprint"]),
        later_fingerprints=[bytes.fromhex(f) for f in state["later_fingerprints"]],
        template_requirements=requirements,
    )
    return state, result


def test_sample_transcript_verifies_with_its_template(ceremony):
    state, result = ceremony
    assert result.sealed and state["status"] == "sealed"
    assert list(result.steps) == state["completed_steps"]


def test_sample_report_is_of_that_transcript(ceremony):
    import hashlib

    from keyceremony.cards.raster import pdf_text

    _, result = ceremony
    text = " ".join(" ".join(pdf_text(CEREMONY / "transcript-report.pdf")).split())
    assert hashlib.sha256((CEREMONY / "transcript.jsonl").read_bytes()).hexdigest() in text
    fp = result.fingerprint.hex().upper()
    assert " ".join(fp[i : i + 4] for i in range(0, 32, 4)) in text


def test_sample_cards_belong_to_that_ceremony(ceremony):
    from keyceremony.cards.raster import pdf_text
    from keyceremony.cards.share_cards import printed_package
    from keyceremony.recipes.sources import read_payloads
    from keyceremony.shares.shareset import format_fingerprint

    _, result = ceremony
    made = next(e.data for e in result.entries if e.event == "shares-made")
    fp = result.fingerprint.hex().upper()
    ceremony_fp = " ".join(fp[i : i + 4] for i in range(0, 32, 4))
    cards = sorted(CEREMONY.glob("cards/card-*.pdf"))
    assert len(cards) == made["count"]
    for card in cards:
        contents = read_payloads(str(card))
        (_, share), = contents.shares
        assert format_fingerprint(share.fingerprint()) == made["set_fingerprint"]
        assert len(contents.packages) == 1
        assert ceremony_fp in " ".join(" ".join(pdf_text(card)).split())
        printed = printed_package(pdf_text(card)[1], source=str(card))  # page 2: the package, typeable
        assert printed.to_bytes() == contents.packages[0][1].to_bytes()
    (_, from_png), = read_payloads(str(CEREMONY / "cards" / "card-1.png")).shares
    (_, from_pdf), = read_payloads(str(CEREMONY / "cards" / "card-1.pdf")).shares
    assert from_png.to_bytes() == from_pdf.to_bytes()
    assert (CEREMONY / "cards" / "card-1-page-2.png").exists()
