"""Reading share QR codes from renders, degraded "scans" and "photos", and bad files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as plain_zbar

from card_samples import make_card, perspective
from keyceremony.cards.pdf import render_card_pdf
from keyceremony.cards.qrscan import decode_qr
from keyceremony.cards.raster import render_pdf
from keyceremony.cards.scan_sources import read_qr_texts
from keyceremony.errors import ScanError

VECTORS = Path(__file__).parent / "vectors"

CARD = make_card("a4")
PAYLOAD = CARD.qr_text


@pytest.fixture(scope="module")
def card_pdf() -> bytes:
    return render_card_pdf(CARD)


@pytest.fixture(scope="module")
def page_200(card_pdf: bytes) -> Image.Image:
    return render_pdf(card_pdf, dpi=200)[0]


@pytest.fixture(scope="module")
def page_150(card_pdf: bytes) -> Image.Image:
    return render_pdf(card_pdf, dpi=150)[0]


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def low_contrast(image: Image.Image, ink: int, paper: int, noise: float) -> Image.Image:
    """Grey ink on grey paper with sensor noise, like a dim photo (fixed seed)."""
    rng = np.random.default_rng(3)
    a = np.asarray(image, dtype=float) / 255
    a = ink + (paper - ink) * a + rng.normal(0, noise, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


DEGRADATIONS = {
    "rotated 7 degrees": lambda p200, p150: p200.rotate(7, expand=True, fillcolor=255),
    "rotated 90 degrees": lambda p200, p150: p200.rotate(90, expand=True),
    "rotated 180 degrees, RGB": lambda p200, p150: p200.rotate(180).convert("RGB"),
    "gaussian blur 2 px": lambda p200, p150: p200.filter(ImageFilter.GaussianBlur(2)),
    "rendered at 150 dpi": lambda p200, p150: p150,
    "150 dpi, blur 1.5 px": lambda p200, p150: p150.filter(ImageFilter.GaussianBlur(1.5)),
    "JPEG quality 30": lambda p200, p150: jpeg(p200, 30),
    "downscaled to 25 %": lambda p200, p150: p200.reduce(4),
    "photographed at an angle": lambda p200, p150: perspective(
        p200, [(0.10, 0.04), (0.93, 0.0), (1.0, 1.0), (0.02, 0.95)]),
    "angle + rotation + blur + JPEG": lambda p200, p150: jpeg(perspective(
        p200.rotate(3, expand=True, fillcolor=255),
        [(0.06, 0.02), (0.96, 0.05), (0.92, 0.98), (0.0, 0.93)]).filter(
            ImageFilter.GaussianBlur(1)), 50),
}


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_degraded_renders_decode_to_the_exact_payload(name: str, page_200: Image.Image,
                                                      page_150: Image.Image) -> None:
    image = DEGRADATIONS[name](page_200, page_150)
    assert decode_qr(image) == [PAYLOAD]


# Scans where zbar alone finds nothing and decode_qr's clean-ups are what make it work.
HARD = {
    "dim photo, grey on grey": lambda p200, p150: low_contrast(p200, 110, 150, 12),
    "dim noisy photo": lambda p200, p150: low_contrast(p200, 120, 150, 20),
    "150 dpi, blur 3 px": lambda p200, p150: p150.filter(ImageFilter.GaussianBlur(3)),
}


@pytest.mark.parametrize("name", HARD)
def test_clean_ups_rescue_scans_that_zbar_alone_cannot_read(
        name: str, page_200: Image.Image, page_150: Image.Image) -> None:
    image = HARD[name](page_200, page_150)
    assert plain_zbar(image, symbols=[ZBarSymbol.QRCODE]) == []
    assert decode_qr(image) == [PAYLOAD]


def test_photo_file_round_trips_through_read_qr_texts(page_200: Image.Image, tmp_path) -> None:
    photo = perspective(page_200.convert("RGB"), [(0.08, 0.03), (0.95, 0.0), (1.0, 1.0),
                                                   (0.0, 0.97)])
    path = tmp_path / "card-2.jpg"
    photo.save(path, "JPEG", quality=30)
    assert read_qr_texts(path) == [PAYLOAD]


def test_sideways_phone_photo_is_turned_upright_by_exif(page_200: Image.Image, tmp_path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to view (EXIF 2.32 §4.6.4)
    path = tmp_path / "IMG_0001.jpg"
    page_200.rotate(90, expand=True).convert("RGB").save(path, "JPEG", quality=80, exif=exif)
    assert read_qr_texts(path) == [PAYLOAD]


def test_transparent_png_reads_as_white_paper(page_200: Image.Image, tmp_path) -> None:
    rgba = Image.new("RGBA", page_200.size, (0, 0, 0, 0))  # transparent black
    rgba.putalpha(Image.eval(page_200, lambda v: 255 - v))  # ink is opaque black
    path = tmp_path / "card.png"
    rgba.save(path)
    assert read_qr_texts(path) == [PAYLOAD]


def test_every_frame_of_a_multipage_tiff_is_read(page_150: Image.Image, tmp_path) -> None:
    other = make_card("a4", seed=2, share_index=3)
    second = render_pdf(render_card_pdf(other), dpi=150)[0]
    path = tmp_path / "scans.tif"
    page_150.save(path, save_all=True, append_images=[second], compression="tiff_deflate")
    assert read_qr_texts(path) == [PAYLOAD, other.qr_text]


def test_sixteen_bit_scan_is_read(page_150: Image.Image, tmp_path) -> None:
    wide = Image.fromarray(np.asarray(page_150, dtype=np.uint16) * 257)  # mode I;16
    path = tmp_path / "scan16.tif"
    wide.save(path)
    assert read_qr_texts(path) == [PAYLOAD]


# --- nothing to read --------------------------------------------------------------------------


def _assert_helpful(err: ScanError, name: str) -> None:
    message = str(err)
    assert f"no QR code found in {name}" in message
    assert "photograph the whole card flat" in message
    assert "keyceremony combine --type" in message


def test_blank_page_raises_a_helpful_scan_error(tmp_path) -> None:
    path = tmp_path / "card-3.png"
    Image.new("L", (1654, 2339), 255).save(path)  # A4 at 200 dpi
    with pytest.raises(ScanError) as caught:
        read_qr_texts(path)
    _assert_helpful(caught.value, str(path))


def test_random_noise_raises_a_helpful_scan_error(tmp_path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "card-3.jpg"
    Image.fromarray(rng.integers(0, 256, (1200, 900, 3), dtype=np.uint8)).save(path)
    with pytest.raises(ScanError) as caught:
        read_qr_texts(path)
    _assert_helpful(caught.value, str(path))
    assert decode_qr(Image.open(path)) == []


def test_page_with_text_but_no_qr_code(tmp_path) -> None:
    page = Image.new("L", (1240, 1754), 255)
    ImageDraw.Draw(page).text((100, 100), "KC1 01 ABCD EFGH IJKL", fill=0)
    path = tmp_path / "notes.png"
    page.save(path)
    with pytest.raises(ScanError, match="no QR code found in"):
        read_qr_texts(path)


def test_pdf_without_qr_code_names_the_file(tmp_path) -> None:
    blank = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
             b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")
    path = tmp_path / "empty-card.pdf"
    path.write_bytes(blank)
    with pytest.raises(ScanError) as caught:
        read_qr_texts(path)
    _assert_helpful(caught.value, str(path))


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"these are my notes, not a card\n", "neither a PDF nor an image"),
    (b"%PDF-1.7\n this is not really a PDF", "not a readable PDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "could not be read as an image"),
])
def test_unreadable_files_raise_scan_errors_naming_the_file(content: bytes, message: str,
                                                            tmp_path) -> None:
    path = tmp_path / "share-4.dat"
    path.write_bytes(content)
    with pytest.raises(ScanError, match=message) as caught:
        read_qr_texts(path)
    assert str(path) in str(caught.value)


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(ScanError, match="file not found"):
        read_qr_texts(tmp_path / "card-9.png")
    with pytest.raises(ScanError, match="is a folder"):
        read_qr_texts(tmp_path)


def test_misuse_raises_value_error(card_pdf: bytes) -> None:
    with pytest.raises(ValueError, match="PIL image"):
        decode_qr(b"not an image")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dpi"):
        render_pdf(card_pdf, dpi=5)


def test_second_look_reads_the_package_code_that_every_ordinary_attempt_missed() -> None:
    """A stored stress-run failure (tests/vectors/README.md, scans/): both codes must be read,
    and the share and package they hold must belong together."""
    from keyceremony.cards.qrscan import _attempts, _zbar
    from keyceremony.recipes.sources import read_payloads

    path = VECTORS / "scans" / "backup-card-150dpi-turned-2deg.png"
    image = Image.open(path)
    ordinary = {found.text for attempt in _attempts(image) for found in _zbar(attempt)}
    assert len(ordinary) == 1  # what the vector is kept for: the package's code is missed here
    texts = decode_qr(image, min_codes=2)
    assert len(texts) == 2 and set(texts) > ordinary
    read = read_payloads(str(path))
    assert not read.problems
    [(_, share)], [(_, package)] = read.shares, read.packages
    assert share.x == 2 and package.set_id == share.set_id
    package.verify(source=str(path))
    package.check_shares(share, source=str(path))
