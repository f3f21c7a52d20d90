"""A ceremony given up for good: sealed as aborted, with the reason, at the step it stopped in
(docs/transcript.md §6.4); its printed card files removed; the report and `transcript verify`
say ABORTED, and the template check holds for the steps that ran."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ceremony_helpers import EXAMPLES, make_engine, run_cli

from keyceremony.ceremony.state import CARDS_DIR, load_state
from keyceremony.ceremony.template import load_template
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.errors import AnswersError, CeremonyError
from keyceremony.transcript import verify_transcript

REASON = "a custodian was taken ill; the ceremony is given up and will be held again"


@pytest.fixture
def stopped_at_the_seal(tmp_path: Path) -> tuple[Path, Path]:
    """A key generation whose answers do not confirm the seal: it stops there, cards printed."""
    text = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8").replace("seal = true", "")
    answers = tmp_path / "answers.toml"
    answers.write_text(text, encoding="utf-8")
    out = tmp_path / "ceremony"
    with pytest.raises(AnswersError, match="seal"):
        make_engine("key-generation", answers, out).run()
    return answers, out


def test_an_aborted_ceremony_is_sealed_with_its_reason_and_verifies(stopped_at_the_seal):
    answers, out = stopped_at_the_seal
    printed = sorted(p.name for p in (out / CARDS_DIR).glob("card-*.pdf"))
    assert printed  # the rehearsal keeps card files: they are there until the abort
    result = make_engine("key-generation", answers, out).abort(f"  {REASON}\n")
    verified = result.verified
    assert verified.sealed and verified.aborted == REASON
    seal = verified.entries[-1]
    assert seal.data["at_step"] == "seal" and seal.data["card_files_removed"] == printed
    assert [a.role for a in seal.actors] == ["ceremony-administrator"]
    assert not list((out / CARDS_DIR).glob("card-*.pdf"))
    assert load_state(out).status == "aborted"  # type: ignore[union-attr]
    assert "ABORTED" in result.report.splitlines()[0] and REASON in result.report
    again = verify_transcript(
        out / "transcript.jsonl",
        expected_fingerprint=result.fingerprint,
        later_fingerprints=list(result.later_fingerprints),
        template_requirements=load_template("key-generation").requirements(),
    )
    assert again.aborted == REASON
    fingerprints = ["--fingerprint", format_fingerprint(result.fingerprint)]
    for later in result.later_fingerprints:
        fingerprints += ["--later-fingerprint", format_fingerprint(later)]
    done = run_cli("transcript", "verify", str(out / "transcript.jsonl"), *fingerprints,
                   "--requirements", str(out / "requirements.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"ABORTED:   the ceremony was given up and sealed unfinished: {REASON}" in done.stdout
    assert "the steps that ran before the abort ran in order" in done.stdout


def test_an_aborted_ceremony_cannot_be_aborted_or_run_again(stopped_at_the_seal):
    answers, out = stopped_at_the_seal
    make_engine("key-generation", answers, out).abort(REASON)
    with pytest.raises(CeremonyError, match="sealed already"):
        make_engine("key-generation", answers, out).abort(REASON)
    result = make_engine("key-generation", answers, out).run()  # only reports, as for a sealed one
    assert result.verified.aborted == REASON


def test_an_abort_needs_a_reason(stopped_at_the_seal):
    answers, out = stopped_at_the_seal
    before = (out / "transcript.jsonl").read_bytes()
    with pytest.raises(CeremonyError, match="say why"):
        make_engine("key-generation", answers, out).abort("   ")
    assert (out / "transcript.jsonl").read_bytes() == before


def test_a_normal_seal_is_not_an_abort_and_missing_steps_still_fail(tmp_path, stopped_at_the_seal):
    answers, out = stopped_at_the_seal
    result = make_engine("key-generation", answers, out).abort(REASON)
    # the same transcript checked against a template with one more required step at the end:
    # an aborted ceremony is not held to steps after the abort, but to the order of those that ran
    requirements = json.loads((out / "requirements.json").read_text(encoding="utf-8"))
    requirements["steps"].insert(0, {"step": "never-ran"})
    path = tmp_path / "stricter.json"
    path.write_text(json.dumps(requirements), encoding="utf-8")
    fingerprints = ["--fingerprint", format_fingerprint(result.fingerprint)]
    for later in result.later_fingerprints:
        fingerprints += ["--later-fingerprint", format_fingerprint(later)]
    done = run_cli("transcript", "verify", str(out / "transcript.jsonl"), *fingerprints, "--requirements", str(path))
    assert done.returncode != 0 and "never-ran" in done.stderr
    assert isinstance(done, subprocess.CompletedProcess)
