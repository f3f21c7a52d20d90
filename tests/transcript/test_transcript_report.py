"""`keyceremony transcript report`: a verified transcript rendered for auditors to sign."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from keyceremony.cards.pdf import render_report_pdf
from keyceremony.cards.raster import pdf_text, render_pdf
from keyceremony.transcript import verify_transcript
from keyceremony.transcript.report import build_report

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "transcript"
VALID = VECTORS / "valid.jsonl"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "keyceremony", *args], capture_output=True, text=True)


def test_report_says_what_was_verified_and_who_signs(tmp_path):
    out = tmp_path / "report.pdf"
    done = _run("transcript", "report", str(VALID), "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = " ".join(" ".join(pdf_text(out)).split())
    result = verify_transcript(VALID)
    fingerprint = result.fingerprint.hex().upper()
    assert " ".join(fingerprint[i : i + 4] for i in range(0, 32, 4)) in text
    assert hashlib.sha256(VALID.read_bytes()).hexdigest() in text
    for entry in result.entries:
        assert entry.event in text
    for actor in result.actors:
        assert actor.name in text
    assert text.count("signature:") == len([a for a in result.actors if a.role != "operator"])
    assert len(render_pdf(out, dpi=40)) >= 1


def test_report_is_reproducible():
    content = VALID.read_bytes()
    report = build_report(verify_transcript(content), content, source_name="valid.jsonl")
    assert render_report_pdf(report) == render_report_pdf(report)
    assert render_report_pdf(report, paper="letter") != render_report_pdf(report)


@pytest.mark.parametrize("vector", ["flipped-byte.jsonl", "deleted-entry.jsonl", "torn.jsonl"])
def test_no_report_of_a_tampered_transcript(tmp_path, vector):
    out = tmp_path / "report.pdf"
    done = _run("transcript", "report", str(VECTORS / vector), "--out", str(out))
    assert done.returncode != 0
    assert "line" in done.stderr
    assert not out.exists()


def test_report_refuses_the_wrong_fingerprint(tmp_path):
    out = tmp_path / "report.pdf"
    done = _run("transcript", "report", str(VALID), "--out", str(out), "--fingerprint", "00" * 16)
    assert done.returncode != 0 and not out.exists()


def test_text_the_fonts_cannot_print_is_shown_as_code_points_not_dropped():
    """A transcript may hold any text (a token label, a name); the report shows each character
    its fonts lack as [U+XXXX] instead of failing at the seal or printing a blank."""
    import dataclasses

    content = VALID.read_bytes()
    report = build_report(verify_transcript(content), content, source_name="valid.jsonl")
    odd = dataclasses.replace(report, title="根 KEK — Ольга\ttab", people=report.people + (("王伟", "witness"),))
    text = " ".join(pdf_text(render_report_pdf(odd)))
    assert "[U+6839] KEK — Ольга tab" in text and "[U+738B][U+4F1F]" in text
