"""The share card from content to PDF to pixels and back (real rendering, no mocks)."""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from card_samples import make_card, matrix_image, synthetic_payload
from keyceremony.cards import model as card_model
from keyceremony.cards.model import QR_ALPHANUMERIC, CardContent
from keyceremony.cards.pdf import render_card_pdf
from keyceremony.cards.qr import qr_matrix
from keyceremony.cards.qrscan import decode_qr
from keyceremony.cards.raster import render_pdf
from keyceremony.cards.scan_sources import read_qr_texts

PAPERS = ("a4", "letter")
PAGE_POINTS = {"a4": (595.3, 841.9), "letter": (612, 792)}


@pytest.fixture(scope="module", params=PAPERS)
def card_pdf(request: pytest.FixtureRequest) -> tuple[CardContent, bytes]:
    card = make_card(request.param)
    return card, render_card_pdf(card)


# --- CardContent ------------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    ({"qr_text": "KC1:abc"}, "'a'"),
    ({"qr_text": "KC1:MFRGG==="}, "'='"),
    ({"qr_text": ""}, "qr_text"),
    ({"threshold": 6}, "threshold"),
    ({"threshold": 0}, "threshold"),
    ({"share_index": 0}, "share_index"),
    ({"share_count": True}, "share_count"),
    ({"created": "14/03/2025"}, "ISO date"),
    ({"paper": "a5"}, "paper"),
    ({"text_lines": ()}, "text_lines"),
    ({"text_lines": ["01 ABCD"]}, "tuple"),
    ({"text_lines": ("01 ABCD \u00c9FGH",)}, "ASCII"),
    ({"text_lines": ("X" * 49,)}, "at most 48"),
    ({"fingerprint": "3F2A 9C0G"}, "hex"),
    ({"fingerprint_words": ("apple",) * 7}, "8..16"),
    ({"fingerprint_words": ("apple pie",) * 8}, "one plain word"),
    ({"key_label": "  "}, "empty"),
    ({"custodian": "Alice\nBob"}, "control character"),
    ({"instructions": ("x" * 300,) * 6}, "in all"),
])
def test_card_content_rejects_what_cannot_be_printed(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_card(**change)


def test_card_content_is_frozen_and_words_the_share_rule() -> None:
    card = make_card()
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.threshold = 1  # type: ignore[misc]
    assert card.share_line == "Share 2 of 5 \u2014 any 3 recover the key"
    assert make_card(threshold=5).share_line.endswith("all 5 are needed to recover the key")


# --- qr_matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, bad", [("KC1:abc", "'a'"), ("KC1:MFRGG===", "'='"),
                                       ("KC1:\u00c4", "'\u00c4'"), ("line\nbreak", "'l'")])
def test_qr_matrix_rejects_characters_outside_alphanumeric_mode(text: str, bad: str) -> None:
    with pytest.raises(ValueError, match=f"character .* \\({bad}\\)"):
        qr_matrix(text)


def test_qr_matrix_rejects_empty_and_oversized_text() -> None:
    with pytest.raises(ValueError, match="empty"):
        qr_matrix("")
    with pytest.raises(ValueError, match="too long"):
        qr_matrix("A" * 2421)


def test_qr_matrix_is_a_borderless_level_q_symbol() -> None:
    matrix = qr_matrix(synthetic_payload())
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    assert size == 17 + 4 * 13  # version 13 for a 200-byte share at level Q, alphanumeric mode
    # No quiet zone: the top-left finder pattern starts in the very first module.
    assert matrix[0][:7] == [True] * 7 and matrix[6][:7] == [True] * 7
    assert matrix[1][1:6] == [False] * 5


# --- PDF --------------------------------------------------------------------------------------


def test_card_pdf_is_one_page_of_the_chosen_paper(card_pdf: tuple[CardContent, bytes]) -> None:
    card, pdf = card_pdf
    assert pdf.startswith(b"%PDF-")
    pages = render_pdf(pdf, dpi=72)
    assert len(pages) == 1
    for pixels, points in zip(pages[0].size, PAGE_POINTS[card.paper], strict=True):
        assert abs(pixels - points) < 1  # 72 dpi: one pixel per point, rounded up
    assert pages[0].mode == "L"


def test_card_pdf_bytes_are_deterministic() -> None:
    card = make_card()
    first = render_card_pdf(card)
    assert render_card_pdf(make_card()) == first
    assert render_card_pdf(dataclasses.replace(card, custodian="Bob Example")) != first


@pytest.mark.parametrize("dpi", [150, 200])
def test_card_round_trips_through_pixels(card_pdf: tuple[CardContent, bytes], dpi: int) -> None:
    card, pdf = card_pdf
    [page] = render_pdf(pdf, dpi=dpi)
    assert decode_qr(page) == [card.qr_text]


def test_card_pdf_file_round_trips(card_pdf: tuple[CardContent, bytes], tmp_path) -> None:
    card, pdf = card_pdf
    path = tmp_path / f"card-{card.paper}.pdf"
    path.write_bytes(pdf)
    assert read_qr_texts(path) == [card.qr_text]


def test_independent_decoder_zbarimg_reads_the_card(card_pdf: tuple[CardContent, bytes],
                                                    tmp_path) -> None:
    card, pdf = card_pdf
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.fail("zbarimg is missing: apt-get install zbar-tools")
    png = tmp_path / "card.png"
    render_pdf(pdf, dpi=200)[0].save(png)
    result = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip("\n") == card.qr_text


@pytest.mark.parametrize("paper", PAPERS)
def test_largest_allowed_card_fits_inside_the_margins(paper: str) -> None:
    """Every limit of CardContent at once, in the widest glyphs, still fits on one page."""
    rng = random.Random(5)
    alnum = string.digits + string.ascii_uppercase
    width = card_model.MAX_TEXT_LINE_CHARS
    lines = tuple(f"{i:02d} " + "".join(rng.choice(alnum) for _ in range(width - 3))
                  for i in range(1, card_model.MAX_TEXT_LINES + 1))
    each = card_model.MAX_INSTRUCTIONS_TOTAL_CHARS // card_model.MAX_INSTRUCTIONS
    card = make_card(
        paper, title="W" * 64, key_label="W" * 64, custodian="W" * 64, key_check_value="W" * 32,
        set_id="W" * card_model.MAX_SET_ID_CHARS, fingerprint=" ".join(["ABCD"] * 19),
        fingerprint_words=("W" * card_model.MAX_WORD_CHARS,) * 16, text_lines=lines,
        instructions=(("Wide " * 100)[:each - 1] + ".",) * card_model.MAX_INSTRUCTIONS,
        qr_text="".join(rng.choices(sorted(QR_ALPHANUMERIC), k=card_model.MAX_QR_CHARS)),
        share_index=255, share_count=255, threshold=254)
    [page] = render_pdf(render_card_pdf(card), dpi=100)
    margin = round(10 / 25.4 * 100)  # 10 mm; the card keeps 13 mm margins
    w, h = page.size
    strips = ((0, 0, w, margin), (0, h - margin, w, h), (0, 0, margin, h), (w - margin, 0, w, h))
    for box in strips:
        assert page.crop(box).getextrema() == (255, 255), f"ink in the margin {box}"
    assert decode_qr(page) == [card.qr_text]


def test_names_in_latin_greek_and_cyrillic_print_and_others_are_refused_by_name() -> None:
    """DejaVu (docs/share-cards.md §2.1): the names print and read back from the page's text;
    a script the fonts lack, or a control character, is refused naming the field and the
    character, before any PDF is made."""
    from keyceremony.cards.pdf import unprintable
    from keyceremony.cards.raster import pdf_text

    names = ("Tomáš Dvořák", "Paweł Nowak", "Ольга Петрова", "Νίκος Παππάς", "Şule Yılmaz")
    for name in names:
        assert unprintable(name) is None
        pdf = render_card_pdf(make_card(custodian=name, key_label=f"KEK of {name}"))
        assert name in pdf_text(pdf)[0]
    assert unprintable("王伟") == "王" and unprintable("ok\tno") == "\t"
    with pytest.raises(ValueError, match=r"custodian contains '王' \(U\+738B\), "
                                         r"which DejaVu Sans and DejaVu Sans Mono cannot print"):
        render_card_pdf(make_card(custodian="王伟"))


def test_without_dejavu_the_standard_fonts_print_windows_1252_only(tmp_path) -> None:
    """KEYCEREMONY_FONT_DIR names the only place fonts are looked for; an empty one leaves the
    standard PDF fonts, which print Windows-1252 and say what to install for more."""
    probe = (
        "from card_samples import make_card\n"
        "from keyceremony.cards.pdf import render_card_pdf, unprintable\n"
        "assert unprintable('Zoë François') is None and unprintable('Paweł') == 'ł'\n"
        "assert b'/Helvetica' in render_card_pdf(make_card(custodian='Zoë François'))\n"
        "try:\n"
        "    render_card_pdf(make_card(custodian='Paweł'))\n"
        "except ValueError as err:\n"
        "    print(err)\n"
    )
    env = {**os.environ, "KEYCEREMONY_FONT_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("custodian contains 'ł' (U+0142), which the standard PDF fonts "
            "(Windows-1252 only; install fonts-dejavu-core") in done.stdout


# --- property: any alphanumeric text survives QR encoding and zbar --------------------------


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=sorted(QR_ALPHANUMERIC), min_size=1, max_size=700))
@example("0")
@example(" $%*+-./:" * 70)  # 630 symbol characters, version 18
def test_qr_round_trip_for_any_alphanumeric_text(text: str) -> None:
    assert decode_qr(matrix_image(qr_matrix(text))) == [text]


# --- layering (docs/architecture.md §2, §3) ----------------------------------------------------

# The one module importing each library, or for reportlab the one package (a path ending in /).
BOUNDARIES = {"qrcode": "cards/qr.py", "reportlab": "cards/pdf/", "pyzbar": "cards/qrscan.py",
              "pypdfium2": "cards/raster.py"}


def test_each_outside_library_is_imported_by_exactly_one_module_or_package() -> None:
    import pathlib
    import re

    import keyceremony

    package = pathlib.Path(keyceremony.__file__).parent
    for library, owner in BOUNDARIES.items():
        pattern = re.compile(rf"^\s*(import|from)\s+{library}\b", re.MULTILINE)
        importers = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")
                           if pattern.search(p.read_text(encoding="utf-8")))
        if owner.endswith("/"):
            assert importers, f"nothing in {owner} imports {library}"
            assert all(p.startswith(owner) for p in importers), f"{library} is imported by {importers}"
        else:
            assert importers == [owner], f"{library} is imported by {importers}"


def test_card_model_imports_no_outside_library() -> None:
    code = ("import sys, keyceremony.cards.model; "
            f"print(sorted(set({sorted(BOUNDARIES)!r}) & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
