"""The transcript report PDF never loses data: every value whole, attendance once per step, words
broken only at spaces or hyphens (a word wider than its column: between groups of 8 characters)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from keyceremony.cards.pdf import render_report_pdf
from keyceremony.cards.raster import pdf_text
from keyceremony.codec.canonical_json import encode
from keyceremony.transcript import verify_transcript
from keyceremony.transcript.report import build_report

CEREMONY = Path(__file__).resolve().parents[2] / "samples" / "ceremony"


def _text(pdf: bytes | Path) -> str:
    """The PDF's text with a line broken after a hyphen joined up and all other white space as one
    space: a value broken anywhere else no longer matches. (PDFium gives a hyphen that ends a line
    as U+FFFE.)"""
    joined = re.sub(r"-[ \t]*\r?\n\s*", "-", "\n".join(pdf_text(pdf)).replace("\ufffe", "-"))
    return " ".join(joined.split())


def _leaves(value: object) -> list[str]:
    """Every plain value in *value* (lists and objects flattened), as the report prints it."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [" ".join(value.split())] if isinstance(value, str) else [encode(value).decode()]


@pytest.fixture(scope="module")
def sample():
    content = (CEREMONY / "transcript.jsonl").read_bytes()
    return verify_transcript(content), content


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_sample_report_shows_every_value_whole(sample, paper):
    result, content = sample
    pdf = (CEREMONY / "transcript-report.pdf").read_bytes() if paper == "a4" else render_report_pdf(
        build_report(result, content, source_name="transcript.jsonl"), paper=paper)
    text = _text(pdf)
    assert "\u2026" not in text  # nothing cut with an ellipsis
    words = [e.data[k] for e in result.entries for k in e.data if k.endswith("_words")]
    assert any("set_fingerprint_words" in e.data for e in result.entries) and words
    for listed in words:
        assert " ".join(listed.split()) in text
    checked = 0
    for entry in result.entries:
        assert entry.step in text and entry.event in text
        for leaf in _leaves(entry.data):
            assert leaf in text, f"entry {entry.seq}: {leaf!r} is not whole in the report"
            checked += 1
        for actor in entry.actors:
            assert f"{actor.name} ({actor.role})" in text
    for leaf in _leaves({k: v for k, v in result.meta.items() if k != "title"}):
        assert leaf in text
    assert checked > 100


def test_sample_report_lists_attendance_once_per_step(sample):
    result, _ = sample
    text = _text(CEREMONY / "transcript-report.pdf")
    changes = len({(e.step, e.actors) for e in result.entries if e.actors})
    assert text.count("Present from here:") == changes < len(result.entries) / 3
    # each custodian: the people list, each step they attended, their signature line
    assert text.count("Alice Ng (custodian)") <= changes + 1
    assert len(pdf_text(CEREMONY / "transcript-report.pdf")) <= 5  # was 6 with a row of names per entry


def test_a_word_wider_than_its_column_breaks_only_at_a_hyphen_or_a_group_of_8(sample):
    result, content = sample
    report = build_report(result, content, source_name="transcript.jsonl")
    blob = "".join(f"{i:02x}" for i in range(150))  # 300 characters, no space
    hyphens = "-".join(["dashed"] * 40)
    seq, time, step, event, who, _ = report.entries[0]
    odd = dataclasses.replace(report, entries=((seq, time, step, event, who, f"blob: {blob}\nname: {hyphens}"),))
    raw = "\n".join(pdf_text(render_report_pdf(odd))).replace("\ufffe", "-\n")  # PDFium: a hyphen ending a line
    pieces = [line.strip() for line in raw.splitlines() if line.strip() and line.strip() in blob]
    assert len(pieces) > 1 and "".join(pieces) == blob
    assert all(len(piece) % 8 == 0 for piece in pieces[:-1])
    dashed = [line.strip() for line in raw.splitlines() if "dashed" in line]
    assert len(dashed) > 1 and all(line.endswith("-") for line in dashed[:-1])
    assert all(re.fullmatch(r"(name: )?(dashed-)*dashed-?", line) for line in dashed)
    assert f"blob: {blob}" in "".join(raw.split()).replace("blob:", "blob: ")
