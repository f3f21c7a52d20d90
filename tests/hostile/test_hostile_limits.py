"""Every input a custodian hands in is bounded (docs/share-cards.md §5): an oversized share file,
PDF, image, transcript, template or answers file ends quickly in a clean error that names the
file, the limit and what was found, never in a traceback, minutes of work or exhausted memory.

The oversized inputs are cheap: sparse files (``truncate``) for file sizes, PNG headers that
claim a huge size, PDFs of blank pages, a few tiny frames.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from keyceremony.cards import raster, scan_sources
from keyceremony.cards.raster import render_pdf
from keyceremony.cards.scan_sources import read_qr_texts
from keyceremony.ceremony import answers as answers_module
from keyceremony.ceremony import template as template_module
from keyceremony.errors import InputTooLarge, TranscriptTampered, TranscriptTooLarge
from keyceremony.recipes import sources
from keyceremony.recipes.sources import read_payloads, read_shares
from keyceremony.transcript import verify as transcript_verify
from keyceremony.transcript.signer import SoftSigner
from keyceremony.transcript.values import MAX_LINE_BYTES
from keyceremony.transcript.verify import verify_transcript
from keyceremony.transcript.writer import TranscriptWriter

SRC = Path(__file__).resolve().parents[2] / "src"
QUICK = 5.0  # seconds: every limit is checked before the work it bounds
CLI_QUICK = 20.0  # a whole command, with the interpreter's start and its imports, on a loaded machine


@contextmanager
def quickly(limit: float = QUICK) -> Iterator[None]:
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    assert elapsed < limit, f"took {elapsed:.1f} s"


def refused(call: Callable[[], Any], limit: str, error: type[InputTooLarge] = InputTooLarge) -> InputTooLarge:
    """``call()`` raises ``error`` for ``limit`` within QUICK seconds; the error is returned."""
    with quickly(), pytest.raises(error) as caught:
        call()
    err = caught.value
    assert err.limit == limit and err.found > err.allowed, (err.limit, err.found, err.allowed)
    assert f"({limit} limit" in str(err)
    return err


def cli(*args: object, cwd: Path) -> str:
    """Run keyceremony; it must fail with exit 1 and a one-line error, no traceback. Its stderr."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "keyceremony", *map(str, args)], cwd=cwd, env=env, capture_output=True,
        input=b"", timeout=120,
    )
    assert time.monotonic() - start < CLI_QUICK
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "Traceback" not in err and "keyceremony: error:" in err, err
    return err


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    path.write_bytes(head)
    os.truncate(path, size)
    return path


def png(width: int, height: int) -> bytes:
    """A small PNG file whose header claims ``width`` x ``height`` grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def blank_pdf(path: Path, pages: int = 1, size: tuple[float, float] = A4) -> Path:
    c = canvas.Canvas(str(path), pagesize=size)
    for _ in range(pages):
        c.drawString(72, 72, "not a card")
        c.showPage()
    c.save()
    return path


# --- share and package files (recipes/sources.py) -------------------------------------------------


def test_a_share_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    big = sparse(tmp_path / "share-1.txt", sources.MAX_SOURCE_BYTES + 1, b"keyceremony share v1\n")
    err = refused(lambda: read_shares(str(big)), "file size")
    assert str(err).startswith(f"{big}: the file is 1,073,741,825 bytes (1.00 GiB), more than the 1 GiB")
    refused(lambda: read_payloads(str(big)), "file size")


def test_the_cli_refuses_an_oversized_share_file_with_one_line(tmp_path):
    sparse(tmp_path / "big.txt", sources.MAX_SOURCE_BYTES + 1)
    err = cli("combine", "big.txt", "--out", "x", cwd=tmp_path)
    assert "big.txt: the file is" in err and "file size limit" in err and "1 GiB" in err
    assert not (tmp_path / "x").exists()


def test_a_share_file_of_too_many_lines_is_refused(tmp_path):
    path = tmp_path / "share.txt"
    path.write_bytes(b"keyceremony share v1\n" + b"\n" * sources.MAX_SOURCE_LINES)
    err = refused(lambda: read_shares(str(path)), "line count")
    assert f"{sources.MAX_SOURCE_LINES + 1:,} lines" in str(err)
    path.write_bytes(b"\n" * (sources.MAX_SOURCE_LINES + 1))  # not even a share's first line
    refused(lambda: read_payloads(str(path)), "line count")


def test_a_line_over_the_length_limit_is_named(tmp_path):
    long = b"A" * (sources.MAX_SOURCE_LINE_BYTES + 1)
    path = tmp_path / "share.txt"
    path.write_bytes(b"keyceremony share v1\n# a comment\n01  " + long + b"\n02  ABCD\n")
    err = refused(lambda: read_shares(str(path)), "line length")
    assert err.line == 3 and str(err).startswith(f"{path}, line 3: the line is 4,101 bytes")
    path.write_bytes(b"keyceremony backup package v1\n" + long)  # the last line, without its line end
    err = refused(lambda: read_payloads(str(path)), "line length")
    assert err.line == 2


@pytest.mark.parametrize("shift", [0, 1, 2047, 2048, 2049, 4095])
@pytest.mark.parametrize("end", [b"\n", b""])
def test_a_long_line_is_found_wherever_it_starts_and_ends(tmp_path, shift, end):
    # the file is looked at in blocks of half the limit: a line just over the limit, at any
    # offset from a block's start, with or without its line end, is still found and measured
    path = tmp_path / "share.txt"
    path.write_bytes(b"keyceremony share v1\n" + b"#" * shift + b"\n" + b"01 ABC\n" * 500 + b"B" * 4097 + end)
    err = refused(lambda: read_shares(str(path)), "line length")
    assert err.line == 503 and err.found == 4097


def test_lines_at_the_limit_and_other_files_are_not_refused_for_their_lines(tmp_path):
    path = tmp_path / "share.txt"
    path.write_bytes(b"keyceremony share v1\n" + b"#" * sources.MAX_SOURCE_LINE_BYTES + b"\n")
    with pytest.raises(Exception) as caught:
        read_shares(str(path))
    assert not isinstance(caught.value, InputTooLarge)  # refused for what it is: no data lines
    path.write_bytes(os.urandom(3) + b"\xff" * 10_000)  # a secret given by mistake: its first line says so
    with pytest.raises(Exception) as caught:
        read_shares(str(path))
    assert "the first line should read 'keyceremony share v1'" in str(caught.value)


# --- PDFs (cards/raster.py, cards/scan_sources.py) ---------------------------------------------------


def test_a_pdf_of_too_many_pages_is_refused_before_any_is_rendered(tmp_path):
    pdf = blank_pdf(tmp_path / "cards.pdf", pages=raster.MAX_PDF_PAGES + 1)
    err = refused(lambda: read_qr_texts(pdf), "page count")
    assert str(err).startswith(f"{pdf}: the PDF has 17 pages, more than the 16")
    err_text = cli("combine", "cards.pdf", "--out", "x", cwd=tmp_path)
    assert "page count limit" in err_text


def test_a_pdf_of_sixteen_pages_is_read(tmp_path):
    pdf = blank_pdf(tmp_path / "cards.pdf", pages=raster.MAX_PDF_PAGES)
    assert len(render_pdf(pdf, dpi=30)) == raster.MAX_PDF_PAGES


def test_a_pdf_page_larger_than_a3_is_refused(tmp_path):
    pdf = blank_pdf(tmp_path / "poster.pdf", size=(14400, 14400))  # 5 m square: 200 dpi would be 1.6 Gpx
    err = refused(lambda: read_qr_texts(pdf), "page size")
    assert "page 1 of the PDF measures 14,400 × 14,400 points" in str(err)
    a3_landscape = blank_pdf(tmp_path / "a3.pdf", size=(1191, 842))
    assert len(render_pdf(a3_landscape, dpi=30)) == 1


def test_a_pdf_page_rendered_past_the_pixel_limit_is_refused(tmp_path):
    pdf = blank_pdf(tmp_path / "card.pdf")
    err = refused(lambda: render_pdf(pdf, dpi=1200), "pixel count")  # A4 at 1200 dpi: 139 million pixels
    assert "at 1200 dpi" in str(err)
    refused(lambda: render_pdf(pdf.read_bytes(), dpi=1200), "pixel count")


# --- images (cards/scan_sources.py) ---------------------------------------------------------------


def test_a_png_claiming_ten_billion_pixels_is_refused(tmp_path):
    bomb = tmp_path / "scan.png"
    bomb.write_bytes(png(100_000, 100_000))
    err = refused(lambda: read_qr_texts(bomb), "pixel count")
    assert "10,000,000,000 pixels" in str(err) and "100,000,000" in str(err)
    assert "pixel count limit" in cli("combine", "scan.png", "--out", "x", cwd=tmp_path)


def test_an_image_past_our_limit_but_below_pillows_is_refused_without_a_warning(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(png(12_000, 9_000))  # 108 million: Pillow warns, and would decode it
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        err = refused(lambda: read_qr_texts(photo), "pixel count")
    assert "(12,000 × 9,000)" in str(err)
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.parametrize("suffix", [".gif", ".tiff"])
def test_a_multi_frame_image_of_too_many_frames_is_refused(tmp_path, suffix):
    frames = [Image.new("L", (8, 8), 10 * i) for i in range(scan_sources.MAX_IMAGE_FRAMES + 4)]
    path = tmp_path / f"scans{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    err = refused(lambda: read_qr_texts(path), "frame count")
    assert "more than 16 frames" in str(err)


def test_the_pixels_of_all_frames_count_together(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_sources, "MAX_IMAGE_PIXELS", 1000)
    path = tmp_path / "scans.tiff"
    frames = [Image.new("L", (30, 30), 255), Image.new("L", (30, 30), 0)]  # 900 pixels each
    frames[0].save(path, save_all=True, append_images=frames[1:])
    err = refused(lambda: read_qr_texts(path), "pixel count")
    assert err.found == 1800 and "all its frames together" in str(err)


def test_an_image_file_over_the_size_limit_is_refused_before_it_is_opened(tmp_path):
    big = sparse(tmp_path / "scan.png", scan_sources.MAX_SCAN_BYTES + 1, png(100, 100))
    err = refused(lambda: read_qr_texts(big), "file size")
    assert "more than the 256 MiB a card's PDF or image may be" in str(err)
    pdf = sparse(tmp_path / "scan.pdf", scan_sources.MAX_SCAN_BYTES + 1, b"%PDF-1.4\n")
    refused(lambda: read_payloads(str(pdf)), "file size")


# --- transcripts (transcript/verify.py, transcript/writer.py) ---------------------------------------


def test_a_transcript_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    big = sparse(tmp_path / "transcript.jsonl", transcript_verify.MAX_TRANSCRIPT_BYTES + 1)
    err = refused(lambda: verify_transcript(big), "file size", TranscriptTooLarge)
    assert str(err).startswith(f"{big}: the file is 16,777,217 bytes (16.00 MiB), more than the 16 MiB")
    refused(lambda: verify_transcript(big.read_bytes(), name="t.jsonl"), "file size", TranscriptTooLarge)
    refused(lambda: verify_transcript(iter([b"\0" * (1 << 20)] * 17)), "file size", TranscriptTooLarge)
    assert "file size limit" in cli("transcript", "verify", "transcript.jsonl", cwd=tmp_path)


def test_a_transcript_of_too_many_entries_is_refused_before_any_is_verified(tmp_path):
    path = tmp_path / "transcript.jsonl"
    path.write_bytes(b"{}\n" * (transcript_verify.MAX_TRANSCRIPT_ENTRIES + 1))
    err = refused(lambda: verify_transcript(path), "entry count", TranscriptTooLarge)
    assert "10,001 lines, more than the 10,000 entries" in str(err)


def test_a_transcript_line_over_the_entry_limit_is_refused(tmp_path):
    path = tmp_path / "transcript.jsonl"
    path.write_bytes(b"x" * (MAX_LINE_BYTES + 1) + b"\n")
    with quickly(), pytest.raises(TranscriptTampered) as caught:
        verify_transcript(path)
    assert caught.value.reason == "malformed" and "an entry is at most 1048576" in str(caught.value)


def test_resuming_an_oversized_transcript_is_refused(tmp_path):
    big = sparse(tmp_path / "transcript.jsonl", transcript_verify.MAX_TRANSCRIPT_BYTES + 1)
    refused(lambda: TranscriptWriter.resume(big, SoftSigner.generate()), "file size", TranscriptTooLarge)
    assert big.stat().st_size == transcript_verify.MAX_TRANSCRIPT_BYTES + 1  # untouched


# --- ceremony templates and answers files (ceremony/template.py, ceremony/answers.py) --------------


def test_an_oversized_template_is_refused(tmp_path):
    big = sparse(tmp_path / "big.toml", template_module.MAX_TEMPLATE_BYTES + 1, b"[ceremony]\n")
    err = refused(lambda: template_module.load_template(str(big)), "file size")
    assert "a ceremony template may be" in str(err)
    (tmp_path / "answers.toml").write_text("")
    assert "file size limit" in cli("run", "big.toml", "--answers", "answers.toml", "--out", "out", cwd=tmp_path)


def test_an_oversized_answers_file_is_refused(tmp_path):
    template = template_module.load_template("key-generation")
    big = sparse(tmp_path / "answers.toml", answers_module.MAX_ANSWERS_BYTES + 1)
    err = refused(lambda: answers_module.load_answers(big, template), "file size")
    assert "an answers file may be" in str(err)
