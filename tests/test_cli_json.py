"""``--json`` on every command (docs/cli.md §3), run for real as subprocesses: standard output is
exactly one JSON object that the shipped JSON Schema accepts, its values are the right ones (the
fingerprints of the files written, ok false on a tampered transcript, exit_code the process's
exit status), on success and on failure alike, and no secret is ever in it. Also: the exit
status table of docs/cli.md §2 is the one the error classes give.

backup and recover run against the real SoftHSM2 tokens of tests/keys/conftest.py.
"""

from __future__ import annotations

import base64
import importlib.resources
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from keyceremony import errors
from keyceremony.keys.backup_package import BackupPackage
from keyceremony.recipes.sources import read_payloads

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "ceremony"
_spec = importlib.util.spec_from_file_location("_keys_conftest_for_cli_json", ROOT / "tests" / "keys" / "conftest.py")
assert _spec is not None and _spec.loader is not None
keys_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keys_conftest)
softhsm = keys_conftest.softhsm  # the SoftHSM2 fixture of tests/keys (tokens "root" and "recovery")
label = keys_conftest.label
MODULE, USER_PIN = keys_conftest.MODULE, keys_conftest.USER_PIN

SECRET = bytes(range(0xC0, 0xE0))  # a KNOWN secret, to look for in every answer
TEST_KEY = b"keyceremony test key: NOT REAL!!"  # the key `run` imports with the test hook (32 bytes)
KNOWN_KEY = bytes(range(0x50, 0x70))  # an AES-256 key backed up from a file, to look for too
SCHEMA = json.loads((importlib.resources.files("keyceremony.cli") / "schema" / "cli-output-v1.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
ANSWERS: list[str] = []  # every JSON answer of this module, searched for secrets at the end


def kc(*args: object, cwd: Path, softhsm=None, pin: str | None = None, env: dict[str, str] | None = None,
       stdin: bytes | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run ``python -m keyceremony ... --json`` (no terminal); the process and its JSON answer,
    checked against the schema and the process."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("KEYCEREMONY_PIN", "PKCS11_MODULE") and not k.startswith("KEYCEREMONY_TEST_")}
    if softhsm is not None:
        full["SOFTHSM2_CONF"] = str(softhsm.conf)
    if pin is not None:
        full["KEYCEREMONY_PIN"] = pin
    full.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "keyceremony", *map(str, args), "--json"], cwd=cwd, env=full, capture_output=True,
        input=None if stdin is None else stdin.decode(), text=True, timeout=180,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )  # fmt: skip
    return result, answer(result)


def answer(result: subprocess.CompletedProcess[str]) -> dict:
    out = result.stdout
    ANSWERS.append(out + result.stderr)
    assert out.endswith("\n") and out.count("\n") == 1, (out, result.stderr)  # one line: the object, nothing else
    obj = json.loads(out)
    errors_found = sorted(VALIDATOR.iter_errors(obj), key=str)
    assert not errors_found, (errors_found[0].message, list(errors_found[0].absolute_path), obj)
    declared = set(SCHEMA["properties"]) | set(SCHEMA["$defs"].get(obj["command"] or "", {}).get("properties", {}))
    assert set(obj) <= declared, f"fields the schema does not declare: {set(obj) - declared}"
    assert obj["exit_code"] == result.returncode, (obj, result.stderr)
    assert "Traceback" not in result.stderr
    if obj["ok"]:
        assert result.returncode == 0 and obj["error"] is None
    else:
        assert result.returncode != 0 and obj["error"]["exit_code"] == result.returncode
        assert obj["error"]["message"] in result.stderr  # the usual message, on stderr as without --json
    return obj


def refused(obj: dict, kind: str, code: int) -> dict:
    assert not obj["ok"] and obj["exit_code"] == code and obj["error"]["kind"] == kind, obj
    return obj["error"]


def fp_hex(share: Path) -> str:
    return read_payloads(str(share)).shares[0][1].fingerprint().hex()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-of-3 split of SECRET in shares/, and a split of another secret in other/."""
    work = tmp_path_factory.mktemp("json")
    (work / "secret.bin").write_bytes(SECRET)
    (work / "other.bin").write_bytes(os.urandom(16))
    for secret, out in (("secret.bin", "shares"), ("other.bin", "other")):
        result, obj = kc("split", "-k", 2, "-n", 3, "--in", secret, "--out", out, "--label", "json test", cwd=work)
        assert obj["ok"], result.stderr
    return work


# --- split, verify-share, combine -------------------------------------------------------------------


def test_split(work: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(SECRET)
    result, obj = kc("split", "-k", 2, "-n", 3, "--in", "secret.bin", "--out", "s", "--label", "payroll", cwd=tmp_path)
    assert obj["command"] == "split" and obj["ok"] and obj["out"] == "s"
    assert obj["files"] == [f"s/share-{i}.txt" for i in (1, 2, 3)] and obj["cards"] == []
    assert all((tmp_path / f).exists() for f in obj["files"])
    payload = read_payloads(str(tmp_path / "s" / "share-2.txt")).shares[0][1]
    assert obj["set"]["fingerprint"]["hex"] == payload.fingerprint().hex()
    assert obj["set"] | {"fingerprint": None} == {"id": f"{payload.set_id.hex()[:8]}-{payload.set_id.hex()[8:]}",
                                                  "label": "payroll", "threshold": 2, "count": 3,
                                                  "secret_bytes": 32, "fingerprint": None}  # fmt: skip
    assert "Wrote 3 shares" not in result.stdout  # the human text is not on stdout
    _, obj = kc("split", "-k", 4, "-n", 3, "--in", "secret.bin", "--out", "t", cwd=tmp_path)
    assert "threshold" in refused(obj, "UsageError", 2)["message"] and not (tmp_path / "t").exists()
    _, obj = kc("split", "-k", 2, "-n", 3, "--in", "secret.bin", "--out", "s", cwd=tmp_path)  # files are there
    assert "already exists" in refused(obj, "UsageError", 2)["message"]


def test_verify_share(work: Path) -> None:
    share = work / "shares" / "share-1.txt"
    _, obj = kc("verify-share", "shares/share-1.txt", "--fingerprint", fp_hex(share), cwd=work)
    assert obj["ok"] and obj["fingerprint_given"] and (obj["verified"], obj["refused"]) == (1, 0)
    [entry] = obj["sources"]
    assert entry["file"] == "shares/share-1.txt" and entry["share"] == 1 and entry["anchor"] == "ANCHORED"
    assert entry["set"]["fingerprint"]["hex"] == fp_hex(share) and entry["set"]["label"] == "json test"
    _, obj = kc("verify-share", "shares/share-2.txt", cwd=work)
    assert obj["ok"] and obj["sources"][0]["anchor"] == "UNANCHORED" and obj["sources"][0]["share"] == 2

    # another set's fingerprint: refused, and said to be a mismatch
    _, obj = kc("verify-share", "shares/share-1.txt", "--fingerprint", fp_hex(work / "other" / "share-1.txt"), cwd=work)
    refused(obj, "ForeignShare", 1)
    assert obj["sources"][0]["anchor"] == "MISMATCH" and not obj["sources"][0]["ok"]

    # a share whose text was altered, beside a good one and a missing file: each answered
    lines = (work / "shares" / "share-3.txt").read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("02 "))
    lines[n] = lines[n][:4] + ("B" if lines[n][4] == "A" else "A") + lines[n][5:]
    (work / "typo.txt").write_text("\n".join(lines) + "\n")
    _, obj = kc("verify-share", "shares/share-1.txt", "typo.txt", "missing.txt", cwd=work)
    assert (obj["verified"], obj["refused"]) == (1, 2) and obj["exit_code"] == 2  # the worst: a missing file
    good, typo, missing = obj["sources"]
    assert good["ok"] and good["error"] is None
    assert not typo["ok"] and typo["error"]["kind"] == "ShareFormatError" and typo["error"]["exit_code"] == 1
    assert missing["error"]["kind"] == "UsageError" and "missing.txt" in missing["error"]["message"]
    assert obj["error"]["kind"] == "UsageError"


def test_combine(work: Path) -> None:
    share = work / "shares" / "share-1.txt"
    _, obj = kc("combine", "shares/share-1.txt", "shares/share-3.txt", "other/share-1.txt", "--out", "out.bin",
                "--fingerprint", fp_hex(share), cwd=work)  # fmt: skip
    assert obj["ok"] and (work / "out.bin").read_bytes() == SECRET
    assert obj["out"] == "out.bin" and obj["anchor"] == "ANCHORED"
    assert obj["set"]["fingerprint"]["hex"] == fp_hex(share) and obj["set"]["secret_bytes"] == len(SECRET)
    assert sorted(obj["shares_used"]) == ["shares/share-1.txt", "shares/share-3.txt"]
    assert [a["source"] for a in obj["set_aside"]] == ["other/share-1.txt"]
    _, obj = kc("combine", "shares/share-2.txt", "shares/share-3.txt", "--out", "out2.bin", cwd=work)
    assert obj["ok"] and obj["anchor"] == "UNANCHORED" and obj["set_aside"] == []

    _, obj = kc("combine", "shares/share-2.txt", "--out", "out3.bin", cwd=work)
    error = refused(obj, "ThresholdNotMet", 1)
    assert (error["have"], error["need"]) == (1, 2) and not (work / "out3.bin").exists()
    _, obj = kc("combine", "shares/share-1.txt", "shares/share-2.txt", "--out", "out4.bin", "--fingerprint",
                fp_hex(work / "other" / "share-1.txt"), cwd=work)  # fmt: skip
    assert obj["anchor"] == "MISMATCH" and not obj["ok"] and not (work / "out4.bin").exists()
    # the secret would be mixed with the answer on stdout: refused before anything is read
    result, obj = kc("combine", "shares/share-1.txt", "shares/share-2.txt", "--out", "-", cwd=work)
    assert "--out -" in refused(obj, "UsageError", 2)["message"]


def test_a_command_line_argparse_refuses_is_answered_too(work: Path) -> None:
    result, obj = kc("split", "--shares", "3", cwd=work)
    assert obj["command"] == "split" and "--threshold" in refused(obj, "UsageError", 2)["message"]
    assert "usage:" in result.stderr
    _, obj = kc("transcript", "verify", "t.jsonl", "--no-such-flag", cwd=work)
    assert obj["command"] == "transcript verify" and refused(obj, "UsageError", 2)
    _, obj = kc("no-such-command", cwd=work)
    assert obj["command"] is None and refused(obj, "UsageError", 2)
    _, obj = kc("transcript", "no-such-action", cwd=work)  # refused by the group: no command of the schema
    assert obj["command"] is None and "no-such-action" in refused(obj, "UsageError", 2)["message"]
    secret_pin = "31415926"
    result, obj = kc("recover", "shares/share-1.txt", "--pin", secret_pin, cwd=work)
    assert obj["command"] == "recover" and "never taken on the command line" in refused(obj, "UsageError", 2)["message"]
    assert secret_pin not in result.stdout + result.stderr


def test_standard_output_closed(work: Path) -> None:
    """Nowhere to print the answer: said on stderr before any work, exit 4, nothing written."""
    result = subprocess.run(
        f"{sys.executable} -m keyceremony combine shares/share-1.txt shares/share-2.txt --out x.bin --json >&-",
        shell=True, cwd=work, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 4 and "standard output is closed" in result.stderr, result.stderr
    assert result.stderr.count("keyceremony: error:") == 1  # said once
    assert not (work / "x.bin").exists()
    result = subprocess.run(f"{sys.executable} -m keyceremony no-such-command --json >&-", shell=True, cwd=work,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "invalid choice" in result.stderr and "Traceback" not in result.stderr


# --- backup and recover, on SoftHSM2 ----------------------------------------------------------------


def test_backup_and_recover(softhsm, label, tmp_path: Path) -> None:
    hsm = ("--module", MODULE)
    _, obj = kc("backup", "--backend", "pkcs11", *hsm, "--token", "root", "--label", label, "-k", 2, "-n", 3,
                "--no-cards", "--out", "b", cwd=tmp_path, softhsm=softhsm, pin=USER_PIN)  # fmt: skip
    package = BackupPackage.from_bytes((tmp_path / "b" / "package.kcb").read_bytes())
    assert obj["ok"] and obj["backend"] == "pkcs11" and obj["token"] == "root" and obj["cards"] == []
    assert obj["key"] == {"label": label, "algorithm": "aes256", "kcv": package.key_check_value,
                          "origin": "generated in token 'root' (sensitive; extractable only wrapped)"}  # fmt: skip
    assert obj["package"]["path"] == "b/package.kcb"
    assert obj["package"]["fingerprint"]["hex"] == package.fingerprint().hex()
    assert obj["set"]["fingerprint"]["hex"] == fp_hex(tmp_path / "b" / "share-1.txt")
    assert sorted(obj["files"]) == ["b/package.kcb"] + [f"b/share-{i}.txt" for i in (1, 2, 3)]
    _, obj = kc("backup", "--backend", "pkcs11", *hsm, "--token", "no-such-token", "--label", label + "x", "-k", 2,
                "-n", 3, "--no-cards", "--out", "c", cwd=tmp_path, softhsm=softhsm, pin=USER_PIN)  # fmt: skip
    assert "no-such-token" in refused(obj, "TokenNotFound", 3)["message"]

    shares = ["b/share-1.txt", "b/share-3.txt"]
    into = ("--backend", "pkcs11", *hsm, "--token", "recovery")
    _, obj = kc("recover", *shares, *into, cwd=tmp_path, softhsm=softhsm, pin=USER_PIN)
    assert obj["ok"] and not obj["drill"] and obj["reveal"] is None
    assert (obj["backend"], obj["token"], obj["target"]) == ("pkcs11", "recovery", "token 'recovery'")
    assert obj["key"] == {"label": label, "algorithm": "aes256", "kcv": package.key_check_value}
    assert obj["canary"]["ok"] and obj["anchor"] == "UNANCHORED" and obj["anchors_checked"] == []
    assert obj["package"]["fingerprint"]["hex"] == package.fingerprint().hex()
    assert obj["package"]["source"].startswith("b/share-")  # the package block of a share file
    assert sorted(obj["shares_used"]) == ["b/share-1.txt (share 1)", "b/share-3.txt (share 3)"]
    with softhsm.backend("recovery") as token:
        assert token.count_objects(label) == 1

    _, obj = kc("recover", *shares, "--drill", *hsm, "--token", "recovery", "--kcv", package.key_check_value.upper(),
                cwd=tmp_path, softhsm=softhsm, pin=USER_PIN)  # fmt: skip
    assert obj["ok"] and obj["drill"] and obj["anchor"] == "ANCHORED" and obj["anchors_checked"] == ["key check value"]
    assert "nothing was kept" in obj["outcome"]
    _, obj = kc("recover", *shares, "--drill", "--kcv", "000000", cwd=tmp_path)
    assert refused(obj, "AnchorMismatch", 1) and obj["anchor"] == "MISMATCH"
    _, obj = kc("recover", *shares, *into, "--label", label + "-2", cwd=tmp_path, softhsm=softhsm, pin="0000")
    assert "PIN" in refused(obj, "WrongPin", 3)["message"]
    _, obj = kc("recover", shares[0], "--drill", cwd=tmp_path)
    assert refused(obj, "ThresholdNotMet", 1)["need"] == 2
    _, obj = kc("recover", *shares, "--reveal", "-", cwd=tmp_path)  # the key would be mixed with the answer
    assert "--reveal -" in refused(obj, "UsageError", 2)["message"]
    _, obj = kc("recover", *shares, "--reveal", "key.bin", cwd=tmp_path)
    assert obj["ok"] and obj["reveal"] == "key.bin" and obj["canary"]["ok"] and (tmp_path / "key.bin").exists()


# --- run, transcript verify, transcript report ---------------------------------------------------------


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """`run key-generation` with the soft back end and the known test key; its folder and answer."""
    work = tmp_path_factory.mktemp("run")
    _, obj = kc("run", "key-generation", "--answers", EXAMPLES / "key-generation.toml", "--out", "c", cwd=work,
                env={"KEYCEREMONY_TEST_SOFT_KEY": TEST_KEY.hex()})  # fmt: skip
    assert obj["ok"], obj
    return work, obj


def test_run(ceremony: tuple[Path, dict], tmp_path: Path) -> None:
    from keyceremony.transcript import verify_transcript

    work, obj = ceremony
    verified = verify_transcript(work / "c" / "transcript.jsonl")
    assert obj["folder"] == "c" and obj["template"] == "key-generation" and obj["status"] == "sealed"
    assert obj["transcript"] == "c/transcript.jsonl" and (work / obj["report"]).exists()
    assert obj["signer"]["hex"] == verified.fingerprint.hex() and obj["entries"] == len(verified.entries)
    assert obj["steps"] == list(verified.steps) and obj["ceremony_id"] == verified.ceremony_id
    _, obj = kc("run", "no-such-template", "--answers", "x.toml", "--out", "d", cwd=tmp_path)
    assert "key-generation" in refused(obj, "TemplateError", 1)["message"] and obj["template"] == "no-such-template"


def test_transcript_verify(ceremony: tuple[Path, dict], tmp_path: Path) -> None:
    work, ran = ceremony
    signer = ran["signer"]
    _, obj = kc("transcript", "verify", "c/transcript.jsonl", "--fingerprint", signer["words"], cwd=work)
    assert obj["ok"] and obj["command"] == "transcript verify" and obj["status"] == "sealed"
    assert obj["anchor"] == "ANCHORED" and obj["signer"] == signer and obj["entries"] == ran["entries"]
    assert obj["keys"] == [{"line": 1, "fingerprint": signer, "anchored": True}] and obj["requirements"] is None
    assert obj["steps"] == ran["steps"] and obj["people"]
    _, obj = kc("transcript", "verify", "c/transcript.jsonl", cwd=work)
    assert obj["ok"] and obj["anchor"] == "UNANCHORED" and obj["keys"][0]["anchored"] is False
    _, obj = kc("transcript", "verify", "c/transcript.jsonl", "--requirements", "c/requirements.json", cwd=work)
    required = json.loads((work / "c" / "requirements.json").read_text())["steps"]
    assert obj["ok"] and obj["requirements"] == {"file": "c/requirements.json", "met": True, "steps": len(required)}

    # one character of line 3 changed: not ok, and the line is named
    lines = (work / "c" / "transcript.jsonl").read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"time":"2', '"time":"1', 1)
    (tmp_path / "t.jsonl").write_text("".join(lines))
    _, obj = kc("transcript", "verify", "t.jsonl", cwd=tmp_path)
    error = refused(obj, "TranscriptTampered", 1)
    assert error["line"] == 3 and error["reason"] and obj["file"] == "t.jsonl"
    _, obj = kc("transcript", "verify", "c/transcript.jsonl", "--fingerprint", "00" * 16, cwd=work)
    assert refused(obj, "TranscriptTampered", 1)["reason"] == "wrong-key" and obj["anchor"] == "MISMATCH"


def test_transcript_report(ceremony: tuple[Path, dict], tmp_path: Path) -> None:
    import pypdfium2

    work, ran = ceremony
    _, obj = kc("transcript", "report", work / "c" / "transcript.jsonl", "--out", "r.pdf", cwd=tmp_path)
    assert obj["ok"] and obj["out"] == "r.pdf" and obj["signer"] == ran["signer"] and obj["anchor"] == "UNANCHORED"
    assert obj["pages"] == len(pypdfium2.PdfDocument(tmp_path / "r.pdf")) and obj["pages"] >= 2
    (tmp_path / "cut.jsonl").write_bytes((work / "c" / "transcript.jsonl").read_bytes()[:-30])
    _, obj = kc("transcript", "report", "cut.jsonl", "--out", "s.pdf", cwd=tmp_path)
    assert refused(obj, "TornTranscript", 1)["line"] == ran["entries"] and obj["file"] == "cut.jsonl"
    assert not (tmp_path / "s.pdf").exists()


# --- no secret in any answer, and the exit status table ---------------------------------------------------


def forms(secret: bytes) -> list[str]:
    """The secret in hex (both cases) and base32/base64 at every alignment."""
    found = [secret.hex(), secret.hex().upper()]
    for pad in range(5):
        found.append(base64.b32encode(bytes(pad) + secret + bytes(5)).decode()[8:-16])
    for pad in range(3):
        found.append(base64.b64encode(bytes(pad) + secret + bytes(3)).decode()[4:-8])
    return found


def test_no_secret_in_any_answer(work: Path, ceremony: tuple[Path, dict], tmp_path: Path) -> None:
    """Every answer of this module so far (the tests above run first) and of the commands run here,
    searched for the secrets in every form, and for the data of every share line (its 24
    characters, with or without their spaces)."""
    (tmp_path / "known.key").write_bytes(KNOWN_KEY)
    for command in (("combine", "shares/share-1.txt", "shares/share-2.txt", "--out", tmp_path / "s.bin"),
                    ("verify-share", "shares/share-1.txt", "shares/share-2.txt", "shares/share-3.txt"),
                    ("backup", "--backend", "soft", "--label", "known", "--key-file", tmp_path / "known.key",
                     "-k", 2, "-n", 3, "--no-cards", "--out", tmp_path / "k"),
                    ("recover", tmp_path / "k" / "share-1.txt", tmp_path / "k" / "share-2.txt", "--drill"),
                    ("recover", tmp_path / "k" / "share-1.txt", tmp_path / "k" / "share-3.txt", "--reveal",
                     tmp_path / "known.out")):  # fmt: skip
        assert kc(*command, cwd=work)[1]["ok"]
    assert (tmp_path / "known.out").read_bytes() == KNOWN_KEY
    text = "\n".join(ANSWERS)
    secrets = {"the split secret": SECRET, "the ceremony's key": TEST_KEY, "the backed-up key": KNOWN_KEY}
    for folder in (work / "shares", tmp_path / "k"):  # every share's value (its y bytes)
        for share in sorted(folder.glob("share-*.txt")):
            secrets[f"the value of {share}"] = read_payloads(str(share)).shares[0][1].y
    for name, secret in secrets.items():
        for form in forms(secret):
            assert form not in text, name
    data = re.compile(r"^\d\d  ((?:[A-Z2-7]{4} ){5}[A-Z2-7]{4})  ", re.M)
    share_lines = [m.group(1) for f in [*(work / "shares").glob("*.txt"), *(tmp_path / "k").glob("*.txt")]
                   for m in data.finditer(f.read_text())]  # fmt: skip
    assert len(share_lines) >= 20
    for line in share_lines:
        assert line not in text and line.replace(" ", "") not in text
    assert '"pin"' not in text.lower()


def doc_exit_table() -> dict[int, set[str]]:
    """docs/cli.md §2's table: each exit status and the error kinds (in backticks) it names."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## 2. Exit status", 1)[1].split("\n## ", 1)[0]
    table = {}
    for row in re.findall(r"^\| *(\d+) *\|(.*)\|$", section, re.M):
        table[int(row[0])] = set(re.findall(r"`([A-Za-z]+)`", row[1]))
    return table


def error_classes() -> list[type[errors.KeyCeremonyError]]:
    found, todo = [], [errors.KeyCeremonyError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_the_exit_status_table_is_the_one_the_code_gives() -> None:
    table = doc_exit_table()
    constants = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    assert set(table) == constants == set(SCHEMA["$defs"]["exit_code"]["enum"])
    classes = {cls.__name__: cls for cls in error_classes() if cls.__module__ == "keyceremony.errors"}
    assert len(classes) > 40
    for cls in classes.values():  # every status an error class can give is documented
        assert cls.exit_code in table, cls
    for code, kinds in table.items():  # and each class the table names gives that status
        for kind in kinds & set(classes):
            assert classes[kind].exit_code == code, (kind, code)
    named = set().union(*table.values())
    assert {"UsageError", "KeyBackendError", "StreamError", "OSError", "Interrupted"} <= named
    assert {"UsageError": 2, "WrongPin": 3, "TokenNotFound": 3, "StreamError": 4, "ShareSignatureError": 1,
            "TranscriptTampered": 1, "AnchorMismatch": 1} == {k: classes[k].exit_code for k in (
                "UsageError", "WrongPin", "TokenNotFound", "StreamError", "ShareSignatureError",
                "TranscriptTampered", "AnchorMismatch")}  # fmt: skip


def test_the_documented_examples_are_valid_answers() -> None:
    """Each example of docs/cli.md §3 is an object the schema accepts, with declared fields only."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split("## 3. JSON output", 1)[1]
    blocks = re.findall(r"^```json\n(.*?)^```$", text, re.M | re.S)
    assert len(blocks) >= 9
    commands = set()
    for block in blocks:
        obj = json.loads(block)
        found = sorted(VALIDATOR.iter_errors(obj), key=str)
        assert not found, (found[0].message, obj)
        declared = set(SCHEMA["properties"]) | set(SCHEMA["$defs"].get(obj["command"], {}).get("properties", {}))
        assert set(obj) <= declared, set(obj) - declared
        commands.add(obj["command"])
    assert commands == {"split", "verify-share", "combine", "backup", "recover", "transcript verify",
                        "transcript report", "run"}
