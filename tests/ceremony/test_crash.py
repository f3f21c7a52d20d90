"""Crash safety: `keyceremony run` killed with SIGKILL at every step, restarted, and finished.

The test-only hook ``KEYCEREMONY_TEST_KILL_AT=<step>[/<event>]`` makes the process SIGKILL
itself right after that entry is fsynced (by default the step's ``completed`` entry, or the
seal). After each kill every file in the ceremony folder is searched for the key and the backup
wrapping key, raw and in hex, base64 and base32 (``KEYCEREMONY_TEST_SOFT_KEY`` makes the key
known; the wrapping key is rebuilt from the cards at the end); then ``run`` is started again
with the same ``--out``, must finish, and its transcript must verify with the template's
requirements and the new ceremony key recorded in the state file.

Scenarios run two at a time (each is a pair of processes of about a second).
"""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ceremony_helpers import EXAMPLES, TEST_KEY, assert_no_secret, run_cli, snapshot, wrapping_key_of

from keyceremony.ceremony.template import load_template
from keyceremony.transcript import verify_transcript

KEYGEN_POINTS = [
    "roll-call", "preflight", "generate-key", "split-and-print", "scan-back", "hand-over", "destroy", "seal",
    "generate-key/generating", "split-and-print/shares-made", "split-and-print/card-printed",
    "scan-back/card-scanned", "hand-over/card-received", "seal/sealing",
]  # fmt: skip
DRILL_POINTS = [
    "roll-call", "preflight", "present-cards", "recover", "test-decrypt", "report", "destroy", "seal",
    "present-cards/card-presented", "recover/key-recovered",
]  # fmt: skip


def kill_and_resume(template: str, answers: Path, out: Path, point: str, env: dict[str, str]) -> dict:
    args = ("run", template, "--answers", str(answers), "--out", str(out), "--quiet")
    killed = run_cli(*args, env={**env, "KEYCEREMONY_TEST_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL, f"{point}: not killed ({killed.returncode}): {killed.stderr}"
    at_kill = snapshot(out)
    finished = run_cli(*args, env=env)
    assert finished.returncode == 0, f"{point}: the restart failed: {finished.stderr}"
    return {"point": point, "at_kill": at_kill, "stdout": finished.stdout}


def check(template_name: str, out: Path, scenario: dict, secrets: dict[str, bytes]) -> None:
    point = scenario["point"]
    template = load_template(template_name)
    state = json.loads((out / "state.json").read_text())
    verified = verify_transcript(
        out / "transcript.jsonl",
        expected_fingerprint=state["fingerprint"],
        later_fingerprints=state["later_fingerprints"],
        template_requirements=template.requirements(),
    )
    assert verified.sealed and state["status"] == "sealed", point
    assert "intact and sealed" in (out / "report.txt").read_text()
    step, _, event = point.partition("/")
    resumed = [e for e in verified.entries if e.event == "resumed"]
    if point == "seal":  # killed after the seal: nothing to resume, only the report to write
        assert not resumed and not state["later_fingerprints"], point
    else:
        assert len(resumed) == 1, point
        assert resumed[0].data["key_changed"] is True and len(state["later_fingerprints"]) == 1, point
        ids = [s.id for s in template.steps]
        expected = step if event else ids[ids.index(step) + 1]
        assert resumed[0].data["resume_at"] == expected, point
    scanned = assert_no_secret(scenario["at_kill"], secrets)
    scanned += assert_no_secret(out, secrets)
    assert scanned >= 4, point


def run_all(template: str, answers: Path, base: Path, points: list[str], env: dict[str, str]) -> dict[str, dict]:
    def one(point: str) -> dict:
        return kill_and_resume(template, answers, base / point.replace("/", "--"), point, env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {s["point"]: s for s in pool.map(one, points)}


def test_key_generation_survives_sigkill_at_every_step(tmp_path):
    env = {"KEYCEREMONY_TEST_SOFT_KEY": TEST_KEY.hex()}
    scenarios = run_all("key-generation", EXAMPLES / "key-generation.toml", tmp_path, KEYGEN_POINTS, env)
    for point, scenario in scenarios.items():
        out = tmp_path / point.replace("/", "--")
        cards = out / "cards"
        secrets = {"key": TEST_KEY, "wrapping key": wrapping_key_of([cards / f"card-{x}.pdf" for x in (2, 4, 5)])}
        check("key-generation", out, scenario, secrets)
        later = json.loads((out / "state.json").read_text())["later_fingerprints"]
        entries = verify_transcript(out / "transcript.jsonl", later_fingerprints=later).entries
        by_step = [(e.step, e.event) for e in entries]
        if point in ("generate-key", "generate-key/generating"):
            # the software key died with the process: generate-key ran again, and says why
            assert ("generate-key", "restarted") in by_step, point
            assert sum(1 for e in by_step if e == ("generate-key", "key-generated")) == 1 + (point == "generate-key")
        if point.startswith("split-and-print/"):
            # cards were printed before the records: the rest is recorded from the files
            assert by_step.count(("split-and-print", "shares-made")) == 1, point
            assert by_step.count(("split-and-print", "card-printed")) == 5, point
        if point == "hand-over/card-received":
            assert by_step.count(("hand-over", "card-received")) == 5, point  # nobody got two cards


def test_dr_drill_survives_sigkill_at_every_step(tmp_path, keygen):
    env = {"KEYGEN_DIR": str(keygen.out)}
    scenarios = run_all("dr-drill", EXAMPLES / "dr-drill.toml", tmp_path, DRILL_POINTS, env)
    for point, scenario in scenarios.items():
        out = tmp_path / point.replace("/", "--")
        check("dr-drill", out, scenario, {"key": keygen.key, "wrapping key": keygen.wrapping_key})
        later = json.loads((out / "state.json").read_text())["later_fingerprints"]
        events = [(e.step, e.event)
                  for e in verify_transcript(out / "transcript.jsonl", later_fingerprints=later).entries]
        if point in ("recover", "recover/key-recovered"):
            # the throwaway copy was lost with the process: test-decrypt rebuilt it from the cards
            assert ("test-decrypt", "cards-read-again") in events, point
            assert ("test-decrypt", "recovered-again") in events, point
        if point == "present-cards":
            assert ("recover", "cards-read-again") in events, point
        report = [e for e in events if e[1] == "drill-report"]
        assert len(report) == 1, point


def test_the_secret_scan_finds_every_form(tmp_path):
    """The scan above is not vacuous: each encoding of the key, at any offset, is found."""
    import base64
    import zlib

    import pytest

    forms = {
        "raw": TEST_KEY, "hex": TEST_KEY.hex().encode(), "HEX": TEST_KEY.hex().upper().encode(),
        "b64-0": base64.b64encode(TEST_KEY), "b64-1": base64.b64encode(b"x" + TEST_KEY),
        "b64-2": base64.urlsafe_b64encode(b"xy" + TEST_KEY), "b32-3": base64.b32encode(b"abc" + TEST_KEY),
        "b32-lower": base64.b32encode(b"a" + TEST_KEY).lower(),
        "pdf-stream": b"%PDF-1.4\nstream\n" + zlib.compress(b"q " + TEST_KEY.hex().encode()) + b"\nendstream\n",
    }  # fmt: skip
    for name, blob in forms.items():
        path = tmp_path / name
        path.write_bytes(b"prefix " + blob + b" suffix")
        with pytest.raises(AssertionError, match="holds the key"):
            assert_no_secret({path: path.read_bytes()}, {"key": TEST_KEY})
    assert_no_secret({tmp_path / "clean": b"nothing here"}, {"key": TEST_KEY})
