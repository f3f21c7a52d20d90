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
    from keyceremony.share_sources import read_shares
    from keyceremony.shareset import recover_secret

    items = read_shares(str(SAMPLES / "sample-card.png"))
    assert [p.x for _, p in items] == [2]
    items += read_shares(str(SAMPLES / "sample-share-4.txt"))
    items += read_shares(str(SAMPLES / "sample-share-5.txt"))
    assert recover_secret(items).secret == (SAMPLES / "secret.bin").read_bytes()


def test_sample_card_pdf_holds_share_two():
    from keyceremony.share_sources import read_shares
    from keyceremony.share_text import from_text

    (_, from_pdf), = read_shares(str(SAMPLES / "sample-card.pdf"))
    from_txt = from_text((SAMPLES / "sample-share-2.txt").read_text())
    assert from_pdf.to_bytes() == from_txt.to_bytes()
