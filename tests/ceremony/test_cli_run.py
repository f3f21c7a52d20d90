"""`keyceremony run` as a command: errors, a sealed folder, and the PKCS#11 back end."""

from __future__ import annotations

import shutil

from ceremony_helpers import EXAMPLES, MODULE, USER_PIN, run_cli

from keyceremony.transcript import verify_transcript


def test_help_lists_run():
    result = run_cli("--help")
    assert result.returncode == 0 and " run " in result.stdout
    result = run_cli("run", "--help")
    assert "--answers" in result.stdout and "resumes an interrupted ceremony" in " ".join(result.stdout.split())


def test_a_bad_template_is_reported_with_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (EXAMPLES.parents[1] / "ceremony_templates" / "key-generation.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace('kind = "hand-over"', 'kind = "handover"'), encoding="utf-8")
    line = next(n for n, s in enumerate(bad.read_text().splitlines(), 1) if 'kind = "handover"' in s)
    result = run_cli("run", str(bad), "--answers", str(EXAMPLES / "key-generation.toml"), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    assert (
        f"bad.toml, line {line}: step 'hand-over' has the unknown kind 'handover'; did you mean 'hand-over'?"
        in result.stderr
    )
    assert not (tmp_path / "o").exists()
    result = run_cli("run", "no-such-template", "--answers", "x.toml", "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "dr-drill, key-generation, recovery" in result.stderr


def test_running_a_sealed_ceremony_again_only_reports(tmp_path, keygen):
    out = tmp_path / "copy"
    shutil.copytree(keygen.out, out)
    before = (out / "transcript.jsonl").read_bytes()
    result = run_cli(
        "run", "key-generation", "--answers", str(EXAMPLES / "key-generation.toml"), "--out", str(out), "--quiet"
    )
    assert result.returncode == 0, result.stderr
    assert "intact and sealed" in result.stdout and (out / "transcript.jsonl").read_bytes() == before


def test_key_generation_with_pkcs11_from_the_command_line(tmp_path, softhsm):
    out = tmp_path / "ceremony"
    pin = tmp_path / "pin"
    pin.write_text(USER_PIN + "\n")
    pin.chmod(0o600)
    result = run_cli(
        "run", "key-generation", "--answers", str(EXAMPLES / "key-generation.toml"), "--out", str(out),
        "--backend", "pkcs11", "--module", MODULE, "--token", "root", "--pin-file", str(pin), "--quiet",
        env={"SOFTHSM2_CONF": str(softhsm.conf)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "PKCS#11 token 'root'" in result.stdout
    verified = verify_transcript(out / "transcript.jsonl")
    assert next(e.data for e in verified.entries if e.event == "key-generated")["store"] == "token 'root'"
