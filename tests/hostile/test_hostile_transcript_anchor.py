"""An unanchored audit must not read as a verified one, and a rehearsal is decided at the opening.

- A transcript cut before its seal, resumed with a new ceremony key (a soft key lost in a
  crash), extended and sealed is internally consistent: ``transcript verify`` and ``transcript
  report`` must say in their first lines (the PDF: in a box on page 1) that it is UNANCHORED
  unless the fingerprints from the paper log are given, and list the key change with whether it
  was anchored (docs/auditor-guide.md §1, docs/transcript.md §8.2).
- A ceremony opened for real cannot become a rehearsal at a resume (docs/ceremony-guide.md §6.2).
- The ceremony's report says only what its transcript records: a drill makes no card files.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from keyceremony.ceremony.engine import CeremonyEngine
from keyceremony.cli.main import main
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.errors import CeremonyError, PreflightFailed
from keyceremony.transcript import Actor, CeremonyMeta, TranscriptWriter, split_lines, verify_transcript
from keyceremony.transcript.signer import SoftSigner
from keyceremony.transcript.verify import Anchor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ceremony"
ADMIN = Actor("Dana Ruiz", "ceremony-administrator")
WITNESS = Actor("Eve Park", "witness")


# --- the cut, resumed-with-a-new-key, resealed transcript ------------------------------------------


@pytest.fixture
def resumed(tmp_path: Path) -> tuple[Path, bytes, bytes]:
    """(path, first key's fingerprint, new key's fingerprint) of a transcript cut before its seal
    (a torn last line), resumed with a new key, extended and sealed."""
    path = tmp_path / "ceremony.jsonl"
    first = SoftSigner.generate()
    meta = CeremonyMeta("anchor-test-01", "Anchor test", {"template": "kek-split"})
    w = TranscriptWriter.create(path, first, meta, actors=[ADMIN, WITNESS])
    w.append("generate-key", "key-generated", actors=[ADMIN, WITNESS], data={"key_label": "kek", "kcv": "3b4f2a"})
    w.append("split", "shares-made", actors=[ADMIN, WITNESS], data={"threshold": 2, "count": 3})
    w.close()
    lines, _ = split_lines(path.read_bytes())
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])  # cut mid-line: a crash
    first_fp = first.fingerprint
    first.destroy()  # the soft key died with the process
    replacement = SoftSigner.generate()
    w = TranscriptWriter.resume(path, replacement, actors=[ADMIN, WITNESS], truncate_torn=True, allow_new_key=True)
    w.append("split", "shares-made", actors=[ADMIN, WITNESS], data={"threshold": 2, "count": 3})
    w.seal(actors=[ADMIN, WITNESS])
    return path, first_fp, replacement.fingerprint


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _page_one(pdf: Path) -> str:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return " ".join(doc[0].get_textpage().get_text_range().split())
    finally:
        doc.close()


def test_the_model_says_whether_each_key_was_anchored(resumed):
    path, first, later = resumed
    bare = verify_transcript(path)
    assert bare.anchor is Anchor.UNANCHORED and not bare.anchored
    assert [(k.line, k.fingerprint, k.anchored) for k in bare.keys] == [(1, first, False), (3, later, False)]
    assert bare.anchor_summary.startswith("UNANCHORED: no fingerprint was given")
    partly = verify_transcript(path, later_fingerprints=[later])
    assert partly.anchor is Anchor.PARTLY and [k.line for k in partly.unanchored_keys] == [1]
    full = verify_transcript(path, expected_fingerprint=first, later_fingerprints=[later])
    assert full.anchor is Anchor.ANCHORED and full.anchored and not full.unanchored_keys
    expected = f"ANCHORED to the fingerprint read at the roll call {format_fingerprint(first)}"
    assert full.anchor_summary.startswith(expected)


def test_verify_without_fingerprints_says_unanchored_first(resumed):
    path, first, later = resumed
    code, out, err = _cli("transcript", "verify", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{path}: UNANCHORED: no fingerprint was given; this proves the file is internally "
                               "consistent, not that it is the ceremony's record")
    assert "--fingerprint" in lines[0] and "--later-fingerprint" in lines[0]
    assert format_fingerprint(first) in lines[1] and "NOT ANCHORED" in lines[1]
    assert "line 3" in lines[2] and format_fingerprint(later) in lines[2] and "NOT ANCHORED" in lines[2]
    assert "intact and sealed" in lines[3]


def test_verify_with_fingerprints_says_anchored_first(resumed):
    path, first, later = resumed
    code, out, err = _cli("transcript", "verify", str(path), "--fingerprint", format_fingerprint(first),
                          "--later-fingerprint", format_fingerprint(later))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"{path}: ANCHORED to the fingerprint read at the roll call {format_fingerprint(first)}, "
                        "and its 1 later key(s) to the fingerprints in the paper log")
    assert "anchored (--fingerprint)" in lines[1] and "anchored (--later-fingerprint)" in lines[2]
    assert "UNANCHORED" not in out and "NOT ANCHORED" not in out


def test_only_the_later_fingerprint_is_partly_anchored(resumed):
    path, _, later = resumed
    code, out, err = _cli("transcript", "verify", str(path), "--later-fingerprint", format_fingerprint(later))
    assert code == 0, err
    first_line, first_key, new_key = out.splitlines()[:3]
    assert first_line.startswith(f"{path}: PARTLY ANCHORED: no fingerprint was given for the key(s) introduced "
                                 "on line(s) 1")
    assert "NOT ANCHORED" in first_key and "anchored (--later-fingerprint)" in new_key


def test_report_without_fingerprints_says_unanchored_on_page_one(resumed, tmp_path):
    path, first, later = resumed
    pdf = tmp_path / "report.pdf"
    code, out, err = _cli("transcript", "report", str(path), "--out", str(pdf))
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"{path}: UNANCHORED: no fingerprint was given")
    page = _page_one(pdf)
    assert "UNANCHORED" in page and "not that it is the ceremony's record" in page
    assert "Ceremony key (line 1)" in page and "New key from line 3 (resumed)" in page
    assert format_fingerprint(first) in page and format_fingerprint(later) in page
    assert page.count("NOT ANCHORED") == 2
    # the box comes before the summary: the first thing after the title
    assert page.index("UNANCHORED") < page.index("Every line was verified")


def test_report_with_fingerprints_says_anchored_on_page_one(resumed, tmp_path):
    path, first, later = resumed
    pdf = tmp_path / "report.pdf"
    code, out, err = _cli("transcript", "report", str(path), "--out", str(pdf), "--fingerprint",
                          format_fingerprint(first), "--later-fingerprint", format_fingerprint(later))
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"{path}: ANCHORED to the fingerprint read at the roll call")
    page = _page_one(pdf)
    assert f"ANCHORED to the fingerprint read at the roll call {format_fingerprint(first)}" in page
    assert "UNANCHORED" not in page and "NOT ANCHORED" not in page
    assert "New key from line 3 (resumed)" in page and "matches the fingerprint given (--later-fingerprint)" in page


# --- the ceremony engine: rehearsal decided at the opening -----------------------------------------


# The ceremony tests' fake host and engine factory (tests/ceremony/ceremony_helpers.py; test folders
# are not packages, so it is loaded from its file).
_spec = importlib.util.spec_from_file_location(
    "_ceremony_helpers_for_hostile", Path(__file__).resolve().parents[1] / "ceremony" / "ceremony_helpers.py"
)
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
_Host = _helpers.FakeHost


def _engine(template_name: str, answers_path: Path, out: Path, host: object = None) -> CeremonyEngine:
    return _helpers.make_engine(template_name, answers_path, out, host=host)  # type: ignore[no-any-return]


def _answers(tmp_path: Path, name: str, *, rehearsal: str) -> Path:
    text = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    old = 'warn = ["network", "swap"]\nkeep_card_files = true\n'
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, rehearsal), encoding="utf-8")
    return path


def _stopped_by_preflight(tmp_path: Path, answers: Path) -> Path:
    out = tmp_path / "ceremony"
    engine = _engine("key-generation", answers, out, host=_Host(["eth0"])).start()
    engine.step()  # roll call
    with pytest.raises(PreflightFailed):
        engine.step()
    engine.close()  # the soft ceremony key is gone with it
    return out


def test_a_rehearsal_added_at_resume_is_refused_and_the_ceremony_resumes_as_opened(tmp_path):
    real = _answers(tmp_path, "real.toml", rehearsal="")
    out = _stopped_by_preflight(tmp_path, real)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    relaxed = _answers(tmp_path, "relaxed.toml", rehearsal='warn = ["network"]\n')
    engine = _engine("key-generation", relaxed, out, host=_Host(["eth0"]))
    with pytest.raises(CeremonyError) as info:
        engine.run()
    message = str(info.value)
    ceremony_id = verify_transcript(out / "transcript.jsonl", require_sealed=False).ceremony_id
    assert f"ceremony {ceremony_id}" in message and "was opened for real, not as a rehearsal" in message
    assert "the preflight check 'network' relaxed to warn" in message
    assert "Finish it as it was opened (remove the [rehearsal] section from the answers)" in message
    assert "start a new rehearsal in a new folder" in message
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # nothing written

    result = _engine("key-generation", real, out).run()  # as opened; the cable is out now
    assert result.verified.sealed and "rehearsal" not in result.verified.meta
    report = result.report
    assert report.splitlines()[0] == "keyceremony ceremony report" and "REHEARSAL" not in report
    assert not [e for e in result.verified.entries if e.event == "check-warned"]


def test_a_rehearsal_may_not_relax_more_at_resume_but_may_relax_less(tmp_path):
    network = _answers(tmp_path, "network.toml", rehearsal='warn = ["network"]\n')
    out = tmp_path / "ceremony"
    engine = _engine("key-generation", network, out).start()
    engine.step()  # roll call
    engine.close()
    more = _answers(tmp_path, "more.toml", rehearsal='warn = ["network", "swap"]\nkeep_card_files = true\n')
    with pytest.raises(CeremonyError, match=r"was opened as a rehearsal relaxing only this \(checks relaxed to "
                                            r"warn: network; card PDF files not kept\), and the answers now declare "
                                            r"the preflight check 'swap' relaxed to warn and the card PDF files kept"):
        _engine("key-generation", more, out).run()

    stricter = _answers(tmp_path, "stricter.toml", rehearsal="")
    result = _engine("key-generation", stricter, out).run()
    lines = result.report.splitlines()
    assert lines[0] == "keyceremony ceremony report: REHEARSAL" and lines[1] == "=" * len(lines[0])
    rehearsal_row = next(line for line in lines if line.startswith("REHEARSAL"))
    assert "card PDF files shredded" in rehearsal_row
    assert any(line.startswith("ANSWERS") and "answers changed at resume (line" in line for line in lines)
    assert "ANCHORED to the ceremony key this program made and read out at the roll call" in result.report
    assert result.report_pdf is not None
    page = _page_one(result.report_pdf)
    assert "REHEARSAL: the ceremony was opened as a rehearsal" in page
    assert "ANSWERS CHANGED AT RESUME (line" in page
    assert f"ANCHORED to the fingerprint read at the roll call {format_fingerprint(result.fingerprint)}" in page
    assert "UNANCHORED" not in page and "NOT ANCHORED" not in page


# --- a drill's report claims no card files -------------------------------------------------------


def test_a_drill_report_claims_no_cards_printed_or_shredded(tmp_path, monkeypatch):
    keygen = tmp_path / "keygen"
    _engine("key-generation", EXAMPLES / "key-generation.toml", keygen).run()
    monkeypatch.setenv("KEYGEN_DIR", str(keygen))
    result = _engine("dr-drill", EXAMPLES / "dr-drill.toml", tmp_path / "drill").run()
    report = result.report
    assert "REHEARSAL" in report.splitlines()[0]
    assert "shredded" not in report and "printed on every card" not in report
    assert "no card files were made" in report
    assert "Ceremony key (read aloud at the roll call)" in report
    keygen_report = (keygen / "report.txt").read_text()
    assert "Ceremony key (read aloud at the roll call, printed on every card)" in keygen_report
    assert "card PDF files kept" in keygen_report
