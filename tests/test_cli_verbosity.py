"""--quiet and --verbose on every command, and verify-share --type (issue 11), run as the real
command in a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from keyceremony.codec.pgp_words import to_words
from keyceremony.shares.text import from_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TRANSCRIPT = ROOT / "samples" / "ceremony" / "transcript.jsonl"


def run(*args: object, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keyceremony", *map(str, args)], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def shares(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("verbosity")
    (folder / "secret.bin").write_bytes(bytes(range(32)))
    done = run("split", "-k", "2", "-n", "3", "--in", "secret.bin", "--out", "shares", "--label", "v-test", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def words_of(share: Path) -> str:
    return " ".join(to_words(from_text(share.read_text()).fingerprint()))


def test_quiet_verify_share_keeps_the_verdict_the_fingerprint_and_unanchored(shares: Path) -> None:
    normal = run("verify-share", "shares/share-1.txt", cwd=shares)
    quiet = run("verify-share", "shares/share-1.txt", "--quiet", cwd=shares)
    assert normal.returncode == quiet.returncode == 0
    kept = quiet.stdout.splitlines()
    left_out = ("in words", "share 1 of 3")
    assert kept == [line for line in normal.stdout.splitlines() if not any(w in line for w in left_out)]
    assert any(line.startswith("shares/share-1.txt: consistent") for line in kept)
    assert any("set fingerprint" in line for line in kept)
    assert any("UNANCHORED" in line for line in kept)
    assert words_of(shares / "shares" / "share-1.txt") in normal.stdout
    assert words_of(shares / "shares" / "share-1.txt") not in quiet.stdout


def test_the_flags_work_before_and_after_the_command(shares: Path) -> None:
    before = run("-q", "verify-share", "shares/share-2.txt", cwd=shares)
    after = run("verify-share", "shares/share-2.txt", "-q", cwd=shares)
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout
    assert "in words" not in before.stdout


def test_quiet_and_verbose_together_are_refused(shares: Path) -> None:
    done = run("verify-share", "shares/share-1.txt", "-q", "-v", cwd=shares)
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def test_quiet_split_prints_the_fingerprint_to_record_and_nothing_to_explain(shares: Path) -> None:
    done = run("split", "-k", "2", "-n", "2", "--in", "secret.bin", "--out", "quiet-shares", "-q", cwd=shares)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Wrote 2 shares")
    assert lines[1].startswith("Set fingerprint: ")
    assert len(lines) == 2
    assert done.stderr == ""


def test_verbose_prints_each_stage_with_its_time_even_into_a_pipe(shares: Path) -> None:
    quiet_err = run("combine", "shares/share-1.txt", "shares/share-3.txt", "--out", "r1.bin", cwd=shares).stderr
    assert "reading" not in quiet_err  # without --verbose, progress is for a terminal only
    done = run("combine", "shares/share-1.txt", "shares/share-3.txt", "--out", "r2.bin", "-v", cwd=shares)
    assert done.returncode == 0, done.stderr
    assert re.search(r"keyceremony: \[ +\d+\.\d\d s\] reading 2 share source", done.stderr)
    assert (shares / "r2.bin").read_bytes() == bytes(range(32))


def test_verbose_names_the_causes_behind_an_error(shares: Path) -> None:
    (shares / "junk.txt").write_text("not a share\n")
    args = ("combine", "shares/share-1.txt", "junk.txt", "--out", "r3.bin")
    plain = run(*args, cwd=shares)
    loud = run(*args, "--verbose", cwd=shares)
    assert plain.returncode == loud.returncode == 1
    assert "cause:" not in plain.stderr
    assert re.search(r"keyceremony: cause: \w+: .*junk\.txt", loud.stderr)
    assert not (shares / "r3.bin").exists()


def test_verbose_transcript_verify_lists_every_entry() -> None:
    entries = [json.loads(line) for line in SAMPLE_TRANSCRIPT.read_text().splitlines()]
    done = run("transcript", "verify", SAMPLE_TRANSCRIPT, "--verbose", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^ +(\d+)  \S+  (\S+) / (\S+)$", done.stdout, re.MULTILINE)
    assert [(int(seq), step, event) for seq, step, event in listed] == [
        (e["seq"], e["step"], e["event"]) for e in entries]
    quiet = run("transcript", "verify", SAMPLE_TRANSCRIPT, "--quiet", cwd=ROOT)
    assert quiet.returncode == 0
    assert "people:" not in quiet.stdout and "entries:" not in quiet.stdout
    assert "intact and sealed" in quiet.stdout


def test_quiet_run_prints_the_final_report_only(tmp_path: Path) -> None:
    answers = ROOT / "examples" / "ceremony" / "key-generation.toml"
    done = run("run", "key-generation", "--answers", answers, "--out", tmp_path / "c", "--backend", "soft", "-q",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    loud_lines = [line for line in done.stdout.splitlines() if line.startswith("== Step ")]
    assert loud_lines == []  # no step-by-step lines
    assert "Report:" in done.stdout


# --- verify-share --type -----------------------------------------------------------------------


def test_verify_share_type_checks_a_typed_share_on_its_own(shares: Path) -> None:
    text = (shares / "shares" / "share-2.txt").read_text()
    done = run("verify-share", "--type", cwd=shares, stdin=text + "\n")
    assert done.returncode == 0, done.stderr
    assert "typed share #1: consistent" in done.stdout
    assert "1 of 1 source(s) verified" in done.stdout
    assert words_of(shares / "shares" / "share-2.txt") in done.stdout


def test_verify_share_type_with_the_paper_log_fingerprint_refuses_another_set(shares: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"another secret")
    assert run("split", "-k", "2", "-n", "2", "--in", "secret.bin", "--out", "other", cwd=tmp_path).returncode == 0
    fp = from_text((shares / "shares" / "share-1.txt").read_text()).fingerprint().hex()
    typed = (tmp_path / "other" / "share-1.txt").read_text() + "\n" + (shares / "shares" / "share-3.txt").read_text()
    done = run("verify-share", "--type", "--fingerprint", fp, cwd=shares, stdin=typed + "\n")
    assert done.returncode == 1
    assert "1 of 2 source(s) verified; 1 refused" in done.stdout
    assert "typed share #2: OK, a genuine share" in done.stdout


def test_verify_share_needs_a_source_or_type(shares: Path) -> None:
    done = run("verify-share", cwd=shares)
    assert done.returncode == 2
    assert "--type" in done.stderr
