"""The keyceremony command line, run for real as a subprocess in temporary folders.

split -> combine over every threshold subset; stdin/stdout; tiny and large secrets; every bad
input a custodian can bring gives a short message naming the file, a non-zero exit and no output
file; no secret on disk or in any output except the file asked for; cards printed to PDF are
combined from the PDFs and from PNG renders of them (the real PDF -> pixels -> QR path).
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from keyceremony.codec.pgp_words import to_words
from keyceremony.shares.shareset import format_fingerprint, format_set_id
from keyceremony.shares.text import from_text, to_text

KEYCEREMONY = [sys.executable, "-m", "keyceremony"]
SECRET = bytes.fromhex("c0ffee00" + "11" * 12 + "5a" * 16)  # 32 bytes


def run(*args: object, cwd: Path, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*KEYCEREMONY, *map(str, args)],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
    )


def err_text(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode()


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, err_text(result)
    return result


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass
class Ceremony:
    folder: Path
    secret: bytes
    stdout: str
    stderr: str = ""

    def share(self, x: int) -> Path:
        return self.folder / f"share-{x}.txt"

    @property
    def fingerprint(self) -> str:
        return next(line.split(": ", 1)[1] for line in self.stdout.splitlines() if line.startswith("Set fingerprint"))


def split(folder: Path, secret: bytes, k: int = 3, n: int = 5, *extra: object) -> Ceremony:
    folder.mkdir(parents=True, exist_ok=True)
    result = ok(run("split", "-k", k, "-n", n, "--in", "-", "--out", "shares", *extra, cwd=folder, stdin=secret))
    return Ceremony(folder / "shares", secret, result.stdout.decode(), result.stderr.decode())


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory) -> Ceremony:
    return split(tmp_path_factory.mktemp("ceremony"), SECRET, 3, 5, "--label", "payments-root-2025")


@pytest.fixture(scope="module")
def other_set(tmp_path_factory) -> Ceremony:
    return split(tmp_path_factory.mktemp("other"), SECRET, 3, 5, "--label", "payments-root-2025")


# --- the basics ---------------------------------------------------------------------------------------


def test_help(tmp_path):
    result = ok(run("--help", cwd=tmp_path))
    text = result.stdout.decode()
    for command in ("split", "combine", "verify-share"):
        assert command in text
    for command in ("split", "combine", "verify-share"):
        ok(run(command, "--help", cwd=tmp_path))
    assert ok(run("--version", cwd=tmp_path)).stdout.decode().startswith("keyceremony ")
    assert run(cwd=tmp_path).returncode == 2


def test_split_writes_private_share_files(ceremony):
    files = sorted(p.name for p in ceremony.folder.iterdir())
    assert files == [f"share-{x}.txt" for x in range(1, 6)]  # no temporary files left behind
    for x in range(1, 6):
        path = ceremony.share(x)
        assert mode(path) == 0o600
        text = path.read_text()
        assert text.startswith("keyceremony share v1\n")
        assert f"share {x} of 5; any 3 recover the secret" in text
        assert ceremony.fingerprint in text
    assert "Wrote 5 shares" in ceremony.stdout and "'payments-root-2025', any 3 of 5, 32-byte secret" in ceremony.stdout


@pytest.mark.parametrize("subset", list(itertools.combinations(range(1, 6), 3)))
def test_combine_every_threshold_subset(ceremony, subset, tmp_path):
    result = ok(run("combine", *[ceremony.share(x) for x in subset], "--out", tmp_path / "secret.bin", cwd=tmp_path))
    out = tmp_path / "secret.bin"
    assert out.read_bytes() == SECRET
    assert mode(out) == 0o600
    assert result.stdout == b""
    assert "Recovered the 32-byte secret" in err_text(result)


def test_combine_all_five(ceremony, tmp_path):
    ok(run("combine", *[ceremony.share(x) for x in range(1, 6)], "--out", "s.bin", cwd=tmp_path))
    assert (tmp_path / "s.bin").read_bytes() == SECRET


def test_stdin_to_stdout(tmp_path):
    c = split(tmp_path, SECRET, 2, 3)
    result = ok(run("combine", c.share(3), c.share(1), "--out", "-", cwd=tmp_path))
    assert result.stdout == SECRET  # nothing else on stdout
    assert "wrote it to standard output" in err_text(result)


def test_secret_from_a_file(tmp_path):
    (tmp_path / "key.bin").write_bytes(SECRET)
    ok(run("split", "-k", 2, "-n", 2, "--in", "key.bin", "--out", "out", cwd=tmp_path))
    ok(run("combine", "out/share-1.txt", "out/share-2.txt", "--out", "back.bin", cwd=tmp_path))
    assert (tmp_path / "back.bin").read_bytes() == SECRET


def test_one_byte_secret(tmp_path):
    c = split(tmp_path, b"\x07", 2, 2)
    assert ok(run("combine", c.share(1), c.share(2), "--out", "-", cwd=tmp_path)).stdout == b"\x07"


@pytest.mark.slow
def test_five_megabyte_secret(tmp_path):
    secret = os.urandom(5 * 1024 * 1024 + 3)
    c = split(tmp_path, secret, 2, 3)
    ok(run("combine", c.share(3), c.share(2), "--out", "big.bin", cwd=tmp_path))
    assert (tmp_path / "big.bin").read_bytes() == secret


def test_unicode_label(tmp_path):
    label = "clé de paiement ✓"
    c = split(tmp_path, SECRET, 2, 2, "--label", label)
    assert label in c.share(1).read_text(encoding="utf-8")
    result = ok(run("combine", c.share(1), c.share(2), "--out", "-", cwd=tmp_path))
    assert result.stdout == SECRET and label in err_text(result)


@pytest.mark.parametrize(
    "args, words",
    [
        (("-k", 4, "-n", 3), "need 1 <= threshold <= shares <= 255"),
        (("-k", 2, "-n", 256), "need 1 <= threshold <= shares <= 255"),
        (("-k", 2, "-n", 3, "--label", "x" * 65), "--label"),
        (("-k", 2, "-n", 3, "--custodian", "Alice"), "add --cards"),
        (("-k", 2, "-n", 3, "--owner", "Dana Ruiz"), "--custodian, --owner and --contact go on the cards; add --cards"),
        (("-k", 2, "-n", 3, "--cards", "--owner", "x" * 65), "--owner 'xxx"),
        (("-k", 2, "-n", 3, "--cards", "--contact", "王伟 +86 10 0000"), "--contact '王伟 +86 10 0000' contains '王'"),
    ],
)
def test_split_usage_errors(tmp_path, args, words):
    result = run("split", *args, "--in", "-", "--out", "out", cwd=tmp_path, stdin=SECRET)
    assert result.returncode == 2
    assert words in err_text(result)
    assert not (tmp_path / "out").exists()


def test_split_of_an_empty_or_missing_secret(tmp_path):
    result = run("split", "-k", 2, "-n", 2, "--in", "-", "--out", "out", cwd=tmp_path, stdin=b"")
    assert result.returncode == 2 and "the secret is empty" in err_text(result)
    result = run("split", "-k", 2, "-n", 2, "--in", "nope.bin", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2 and "nope.bin: no such file" in err_text(result)
    assert not (tmp_path / "out").exists()


# --- bad inputs: a short message naming the file, non-zero exit, nothing written ------------------------


def data_line_index(lines: list[str], number: int) -> int:
    """Index in ``lines`` of data line ``number`` (after the header and comment lines)."""
    data = [i for i, line in enumerate(lines) if i > 0 and line.strip() and not line.startswith("#")]
    return data[number - 1]


def typo_copy(share: Path, target: Path, number: int = 4) -> int:
    lines = share.read_text().splitlines()
    i = data_line_index(lines, number)
    col = lines[i].index("  ") + 2
    new = "Q" if lines[i][col] != "Q" else "R"
    lines[i] = lines[i][:col] + new + lines[i][col + 1 :]
    target.write_text("\n".join(lines) + "\n")
    return i + 1  # the file line


def forged_copy(share: Path, target: Path) -> None:
    payload = from_text(share.read_text())
    y = bytearray(payload.y)
    y[5] ^= 0x40
    target.write_text(to_text(replace(payload, y=bytes(y)), ["looks fine, doesn't it"]))


def truncated_copy(share: Path, target: Path) -> None:
    target.write_text("\n".join(share.read_text().splitlines()[:-3]) + "\n")


def v2_copy(share: Path, target: Path) -> None:
    target.write_text(share.read_text().replace("keyceremony share v1", "keyceremony share v2", 1))


def has(text: str, words: str | tuple[str, ...]) -> bool:
    """``words`` is in ``text``; a tuple gives equally good alternatives."""
    return any(w in text for w in ((words,) if isinstance(words, str) else words))


def bad_case(name: str, ceremony: Ceremony, other: Ceremony, work: Path) -> tuple[list[str], list[str]]:
    """Sources to combine, and words the error must contain."""
    s1, s2, s3 = (str(ceremony.share(x)) for x in (1, 2, 3))
    if name == "too few":
        return [s1, s2], ["bring 1 more", "2 usable share(s)", "3 are needed"]
    if name == "same share twice":
        return [s1, s1, s2], [f"{s1} was given twice", "bring 1 more"]
    if name == "same share in two files":
        shutil.copy(s1, work / "copy.txt")
        return [s1, "copy.txt", s2], [f"copy.txt is the same share as {s1}"]
    if name == "share of another set":
        foreign = from_text(other.share(3).read_text())
        return [s1, s2, str(other.share(3))], [
            f"{other.share(3)} belongs to set {format_set_id(foreign.set_id)}",
            "bring a share of the right set",
        ]
    if name == "typo":
        line = typo_copy(ceremony.share(3), work / "typo-3.txt")
        return [s1, s2, "typo-3.txt"], [f"typo-3.txt, line {line}: data line 4 does not match its check"]
    if name == "forged share":
        forged_copy(ceremony.share(3), work / "forged-3.txt")
        return [s1, s2, "forged-3.txt"], ["forged-3.txt: the share's signature does not verify"]
    if name == "truncated file":
        truncated_copy(ceremony.share(3), work / "short-3.txt")
        return [s1, s2, "short-3.txt"], ["short-3.txt:", "truncated"]
    if name == "unknown version":
        v2_copy(ceremony.share(3), work / "v2-3.txt")
        return [s1, s2, "v2-3.txt"], ["v2-3.txt, line 1: share text version 2 is not supported", "newer keyceremony"]
    if name == "missing file":
        return [s1, s2, "nope-3.txt"], ["nope-3.txt: no such file"]
    if name == "a directory":
        (work / "shares-dir").mkdir()
        return [s1, s2, "shares-dir"], ["shares-dir: is a folder"]
    if name == "binary junk":
        (work / "junk.txt").write_bytes(b"\x00\xff\xfe" * 50)
        return [s1, s2, "junk.txt"], [
            ("junk.txt: this file is not text", "junk.txt, line 1: the first line should read")
        ]
    if name == "empty file":
        (work / "empty.txt").write_bytes(b"")
        return [s1, s2, "empty.txt"], ["empty.txt: the file is empty"]
    raise AssertionError(name)


BAD = [
    "too few", "same share twice", "same share in two files", "share of another set", "typo",
    "forged share", "truncated file", "unknown version", "missing file", "a directory",
    "binary junk", "empty file",
]


def anchor_for(name: str, ceremony: Ceremony) -> list[str]:
    """A share of another set is set aside only against the paper log's fingerprint (unanchored,
    a mix of sets is refused: tests/hostile/test_hostile_forgeries.py)."""
    return ["--fingerprint", ceremony.fingerprint] if name == "share of another set" else []


@pytest.mark.parametrize("name", BAD)
def test_bad_input(name, ceremony, other_set, tmp_path):
    sources, words = bad_case(name, ceremony, other_set, tmp_path)
    result = run("combine", *sources, "--out", "secret.bin", *anchor_for(name, ceremony), cwd=tmp_path)
    stderr = err_text(result)
    assert result.returncode != 0, stderr
    assert result.stdout == b""
    assert not (tmp_path / "secret.bin").exists()
    assert not list(tmp_path.glob(".*.tmp"))
    for word in words:
        assert has(stderr, word), stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 4, stderr
    if name != "too few":
        assert "bring 1 more" in stderr  # the two good shares are still short of three


@pytest.mark.parametrize("name", ["typo", "forged share", "truncated file", "unknown version", "missing file",
                                  "a directory", "binary junk", "empty file"])
def test_bad_input_alone(name, ceremony, other_set, tmp_path):
    sources, words = bad_case(name, ceremony, other_set, tmp_path)
    result = run("combine", sources[-1], "--out", "-", cwd=tmp_path)
    stderr = err_text(result)
    assert result.returncode != 0 and result.stdout == b""
    assert has(stderr, words[0]) and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 3, stderr


@pytest.mark.parametrize("name", ["typo", "forged share", "share of another set", "same share twice"])
def test_bad_input_beside_enough_good_shares(name, ceremony, other_set, tmp_path):
    sources, words = bad_case(name, ceremony, other_set, tmp_path)
    extra = str(ceremony.share(4)) if name != "same share twice" else str(ceremony.share(5))
    anchor = anchor_for(name, ceremony)
    result = ok(run("combine", *sources, extra, "--out", "secret.bin", *anchor, cwd=tmp_path))
    stderr = err_text(result)
    assert (tmp_path / "secret.bin").read_bytes() == SECRET
    assert "set aside" in stderr and words[0] in stderr
    assert ("ANCHORED: the set fingerprint" if anchor else "UNANCHORED: this proves the shares agree") in stderr
    # --strict refuses and writes nothing
    (tmp_path / "secret.bin").unlink()
    result = run("combine", *sources, extra, "--out", "secret.bin", "--strict", *anchor, cwd=tmp_path)
    assert result.returncode != 0
    assert "--strict" in err_text(result) and words[0] in err_text(result)
    assert not (tmp_path / "secret.bin").exists()


def test_combine_with_no_sources(tmp_path):
    result = run("combine", "--out", "x.bin", cwd=tmp_path)
    assert result.returncode == 2 and "--type" in err_text(result)


# --- refusing to overwrite -----------------------------------------------------------------------------


def test_split_refuses_to_overwrite_share_files(tmp_path):
    c = split(tmp_path, SECRET, 2, 3)
    before = {p.name: p.read_bytes() for p in c.folder.iterdir()}
    result = run("split", "-k", 2, "-n", 3, "--in", "-", "--out", "shares", cwd=tmp_path, stdin=b"another")
    assert result.returncode == 2
    assert "share-1.txt already exists" in err_text(result) and "--force" in err_text(result)
    assert {p.name: p.read_bytes() for p in c.folder.iterdir()} == before
    # Only one of the files in the way is enough to refuse.
    for name in ("share-1.txt", "share-2.txt"):
        (c.folder / name).unlink()
    result = run("split", "-k", 2, "-n", 3, "--in", "-", "--out", "shares", cwd=tmp_path, stdin=b"another")
    assert result.returncode == 2 and "share-3.txt already exists" in err_text(result)
    assert (c.folder / "share-3.txt").read_bytes() == before["share-3.txt"]
    assert not (c.folder / "share-1.txt").exists()
    # --force overwrites, and the new set recovers the new secret.
    ok(run("split", "-k", 2, "-n", 3, "--in", "-", "--out", "shares", "--force", cwd=tmp_path, stdin=b"another"))
    assert (c.folder / "share-3.txt").read_bytes() != before["share-3.txt"]
    assert mode(c.folder / "share-3.txt") == 0o600
    assert ok(run("combine", c.share(1), c.share(3), "--out", "-", cwd=tmp_path)).stdout == b"another"


def test_combine_refuses_to_overwrite_the_output(ceremony, tmp_path):
    out = tmp_path / "secret.bin"
    out.write_bytes(b"precious")
    shares = [ceremony.share(x) for x in (1, 2, 3)]
    result = run("combine", *shares, "--out", out, cwd=tmp_path)
    assert result.returncode == 2 and "already exists" in err_text(result) and "--force" in err_text(result)
    assert out.read_bytes() == b"precious"
    ok(run("combine", *shares, "--out", out, "--force", cwd=tmp_path))
    assert out.read_bytes() == SECRET


# --- verify-share -----------------------------------------------------------------------------------------


def test_verify_share(ceremony, tmp_path):
    payload = from_text(ceremony.share(2).read_text())
    fingerprint = format_fingerprint(payload.fingerprint())
    assert fingerprint == ceremony.fingerprint
    result = ok(run("verify-share", ceremony.share(2), cwd=tmp_path))
    out = result.stdout.decode()
    assert f"{ceremony.share(2)}: consistent: its signature verifies under the set key it carries" in out
    assert "UNANCHORED: compare the fingerprint with the one in the ceremony's paper log" in out
    assert "genuine share" not in out  # only an anchor says genuine
    assert "share 2 of 5" in out
    assert f"set fingerprint: {fingerprint}" in out
    assert "in words: " + " ".join(to_words(payload.fingerprint())) in out
    assert "in words: " + " ".join(to_words(payload.fingerprint())) in ceremony.stdout


def test_verify_share_with_the_fingerprint(ceremony, other_set, tmp_path):
    for written in (ceremony.fingerprint, ceremony.fingerprint.replace(" ", "").lower()):
        result = ok(run("verify-share", ceremony.share(4), "--fingerprint", written, cwd=tmp_path))
        assert "matches the fingerprint given" in result.stdout.decode()
    result = run("verify-share", other_set.share(4), "--fingerprint", ceremony.fingerprint, cwd=tmp_path)
    assert result.returncode != 0
    assert f"{other_set.share(4)}: its set fingerprint" in err_text(result)
    assert "not the one recorded at the ceremony" in err_text(result)
    assert b"OK" not in result.stdout


def test_verify_share_answers_several_files_in_turn_and_fails_if_any_is_refused(ceremony, other_set, tmp_path):
    forged_copy(ceremony.share(1), tmp_path / "forged.txt")
    result = run("verify-share", ceremony.share(2), "forged.txt", ceremony.share(3), cwd=tmp_path)
    out, err = result.stdout.decode(), err_text(result)
    assert result.returncode == 1, err
    assert f"{ceremony.share(2)}: consistent" in out and f"{ceremony.share(3)}: consistent" in out
    assert "forged.txt: the share's signature does not verify" in err and "forged.txt: consistent" not in out
    assert out.rstrip().endswith("2 of 3 source(s) verified; 1 refused (above)")
    # anchored, every file is held to the paper log's fingerprint; one of another set is refused
    result = run("verify-share", ceremony.share(2), other_set.share(2), "--fingerprint", ceremony.fingerprint,
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode != 0 and "not the one recorded at the ceremony" in err_text(result)
    assert "1 of 2 source(s) verified" in result.stdout.decode()
    # unanchored, shares of two sets are each consistent, and the note says they are not one set
    result = ok(run("verify-share", ceremony.share(2), other_set.share(2), cwd=tmp_path))
    assert "NOTE: these shares are of 2 different sets" in err_text(result)
    assert result.stdout.decode().rstrip().endswith("2 of 2 source(s) verified")


def test_verify_share_of_a_forged_or_damaged_share(ceremony, tmp_path):
    forged_copy(ceremony.share(1), tmp_path / "forged.txt")
    result = run("verify-share", "forged.txt", cwd=tmp_path)
    assert result.returncode != 0 and "forged.txt: the share's signature does not verify" in err_text(result)
    line = typo_copy(ceremony.share(1), tmp_path / "typo.txt", 2)
    result = run("verify-share", "typo.txt", cwd=tmp_path)
    assert result.returncode != 0 and f"typo.txt, line {line}: data line 2" in err_text(result)


# --- typing shares in --------------------------------------------------------------------------------------


def data_lines(share: Path) -> list[str]:
    return [line for line in share.read_text().splitlines()[1:] if line.strip() and not line.startswith("#")]


def test_combine_type_from_stdin(ceremony, tmp_path):
    typed: list[str] = []
    for x in (1, 3, 5):
        lines = data_lines(ceremony.share(x))
        if x == 3:  # a mistyped line, noticed at once and typed again
            bad = lines[2]
            col = bad.index("  ") + 3
            bad = bad[:col] + ("Q" if bad[col] != "Q" else "R") + bad[col + 1 :]
            lines = lines[:2] + [bad] + lines[2:]
        typed += [line.lower() if x == 5 else line for line in lines]
    typed.append("")  # one empty line ends typing
    result = ok(run("combine", "--type", "--out", "-", cwd=tmp_path, stdin="\n".join(typed).encode()))
    assert result.stdout == SECRET  # prompts go to stderr, never into the secret
    stderr = err_text(result)
    assert "type the line again" in stderr and "does not match its check" in stderr
    assert "typed share #1, typed share #2, typed share #3" in stderr


def test_combine_type_ends_each_share_by_itself(ceremony, tmp_path):
    # No empty line between shares: each share is complete once its last line is typed (its
    # header says how long it is); one empty line at the end finishes.
    typed = [line for x in (2, 3, 4) for line in data_lines(ceremony.share(x))] + [""]
    result = ok(run("combine", "--type", "--out", "-", cwd=tmp_path, stdin="\n".join(typed).encode()))
    assert result.stdout == SECRET
    assert err_text(result).count("is complete") == 3


def test_combine_type_answers_each_share_at_once(ceremony, other_set, tmp_path):
    # Share 1, share 1 again, a share of another set, then shares 3 and 4: each is answered as
    # soon as it is typed, and the duplicate and the stranger do not count.
    order = [ceremony.share(1), ceremony.share(1), other_set.share(2), ceremony.share(3), ceremony.share(4)]
    typed = [line for path in order for line in data_lines(path)] + [""]
    unanchored = run("combine", "--type", "--out", "-", cwd=tmp_path, stdin="\n".join(typed).encode())
    assert unanchored.returncode == 1 and unanchored.stdout == b""
    assert "which set is yours cannot be told" in err_text(unanchored)
    assert "belong to 2 different sets" in err_text(unanchored)  # recovery refuses the unanchored mix
    result = ok(run("combine", "--type", "--out", "-", "--fingerprint", ceremony.fingerprint, cwd=tmp_path,
                    stdin="\n".join(typed).encode()))
    assert result.stdout == SECRET
    stderr = err_text(result)
    assert "typed share #1: accepted as share 1 of set" in stderr and "1 of 3 shares, 2 more needed" in stderr
    assert "typed share #2 is the same share as typed share #1" in stderr
    assert "refused; 1 of 3 shares, 2 more needed" in stderr
    assert "typed share #3 is share 2 of set" in stderr and "it is not a card of this set" in stderr
    assert other_set.fingerprint in stderr and ceremony.fingerprint in stderr  # both sets named
    assert "2 of 3 shares, 1 more needed" in stderr and "3 of 3 shares: enough" in stderr
    assert "Enough shares" in stderr


def test_combine_type_says_when_no_typed_share_was_accepted(ceremony, tmp_path):
    share = from_text(ceremony.share(2).read_text())
    altered = tmp_path / "altered.txt"  # every line check holds, the signature does not
    altered.write_text(to_text(replace(share, y=bytes(b ^ 0x55 for b in share.y))))
    typed = data_lines(altered) + [""]
    result = run("combine", "--type", "--out", "-", cwd=tmp_path, stdin="\n".join(typed).encode())
    assert result.returncode == 1 and result.stdout == b""
    stderr = err_text(result)
    assert "claims to be share 2 of set" in stderr and "[refused; no share yet]" in stderr
    assert "none of the 1 share(s) typed in was accepted" in stderr


def test_combine_type_with_files(ceremony, tmp_path):
    typed = "\n".join(data_lines(ceremony.share(2))) + "\n\n\n"
    result = ok(run("combine", ceremony.share(4), ceremony.share(5), "--type", "--out", "s.bin",
                    cwd=tmp_path, stdin=typed.encode()))
    assert (tmp_path / "s.bin").read_bytes() == SECRET
    assert "typed share #1" in err_text(result)


# --- no secret on disk or in any output except the file asked for ----------------------------------------


def secret_forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.b32encode(secret).rstrip(b"="),
        base64.b32encode(secret).lower().rstrip(b"="),
    ]


def test_no_secret_on_disk_or_in_output(tmp_path):
    secret = bytes.fromhex("d1ce" * 16)
    outputs = []
    result = ok(run("split", "-k", 3, "-n", 5, "--in", "-", "--out", "shares", "--label", "kek",
                    cwd=tmp_path, stdin=secret))
    outputs += [result.stdout, result.stderr]
    result = ok(run("combine", "shares/share-5.txt", "shares/share-2.txt", "shares/share-4.txt",
                    "--out", "recovered.bin", cwd=tmp_path))
    outputs += [result.stdout, result.stderr]
    result = ok(run("verify-share", "shares/share-1.txt", cwd=tmp_path))
    outputs += [result.stdout, result.stderr]
    result = run("combine", "shares/share-5.txt", "--out", "again.bin", cwd=tmp_path)
    outputs += [result.stdout, result.stderr]
    assert (tmp_path / "recovered.bin").read_bytes() == secret
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 6  # five shares and the output, no temporary or stray files
    for path in files:
        if path.name == "recovered.bin":
            continue
        data = path.read_bytes()
        for form in secret_forms(secret):
            assert form not in data, path
    for output in outputs:
        for form in secret_forms(secret):
            assert form not in output


# --- cards: PDF -> pixels -> QR -------------------------------------------------------------------------


def render_png(pdf: Path, png: Path) -> None:
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(png.with_suffix(""))],
                       check=True, timeout=60)
    else:  # pragma: no cover - scripts/setup.sh installs poppler-utils
        from keyceremony.cards.raster import render_pdf

        render_pdf(pdf, dpi=150)[0].save(png)


@pytest.fixture(scope="module")
def cards(tmp_path_factory) -> Ceremony:
    folder = tmp_path_factory.mktemp("cards")
    c = split(folder, SECRET, 2, 3, "--cards", "--custodian", "Alice Example", "--custodian", "Bob",
              "--paper", "letter", "--label", "payments-root-2025")
    return c


def test_split_cards(cards):
    names = sorted(p.name for p in cards.folder.iterdir())
    assert names == ["card-1.pdf", "card-2.pdf", "card-3.pdf", "share-1.txt", "share-2.txt", "share-3.txt"]
    for x in (1, 2, 3):
        assert mode(cards.folder / f"card-{x}.pdf") == 0o600
        assert f"card-{x}.pdf: printed, rendered at 150 dpi and read back to share {x}: OK" in cards.stdout
        for form in secret_forms(SECRET):
            assert form not in (cards.folder / f"card-{x}.pdf").read_bytes()

    from keyceremony.cards.raster import render_pdf

    assert render_pdf(cards.folder / "card-1.pdf", dpi=72)[0].size == (612, 792)  # US letter


def test_fewer_custodians_than_cards_is_warned_of(cards):
    assert "WARNING: 2 --custodian name(s) for 3 cards: card 3 carries no custodian's name" in cards.stderr


def test_custodians_are_printed_on_their_cards(cards):
    import pypdfium2 as pdfium

    def text(x: int) -> str:
        document = pdfium.PdfDocument(cards.folder / f"card-{x}.pdf")
        try:
            return document[0].get_textpage().get_text_range()
        finally:
            document.close()

    assert "Alice Example" in text(1) and "Bob" in text(2)
    assert "Alice" not in text(3) and "Bob" not in text(3)
    assert cards.fingerprint in text(3)


def test_combine_from_card_pdfs(cards, tmp_path):
    result = ok(run("combine", cards.folder / "card-3.pdf", cards.folder / "card-1.pdf", "--out", "-", cwd=tmp_path))
    assert result.stdout == SECRET


def test_combine_from_png_renders_of_cards(cards, tmp_path):
    for x in (1, 2):
        render_png(cards.folder / f"card-{x}.pdf", tmp_path / f"card-{x}.png")
    result = ok(run("combine", "card-2.png", "card-1.png", "--out", "secret.bin", cwd=tmp_path))
    assert (tmp_path / "secret.bin").read_bytes() == SECRET
    assert "card-2.png, card-1.png" in err_text(result)
    # A PNG and a text file of the same share count once.
    result = run("combine", "card-2.png", cards.share(2), "--out", "-", cwd=tmp_path)
    assert result.returncode != 0 and "is the same share as card-2.png" in err_text(result)


def test_verify_share_of_a_card(cards, tmp_path):
    result = ok(run("verify-share", cards.folder / "card-2.pdf", "--fingerprint", cards.fingerprint, cwd=tmp_path))
    assert "OK, a genuine share" in result.stdout.decode() and "share 2 of 3" in result.stdout.decode()


def test_split_refuses_to_overwrite_cards(cards, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(cards.folder, work / "shares")
    for x in (1, 2, 3):
        (work / "shares" / f"share-{x}.txt").unlink()
    result = run("split", "-k", 2, "-n", 3, "--in", "-", "--out", "shares", "--cards", cwd=work, stdin=SECRET)
    assert result.returncode == 2 and "card-1.pdf already exists" in err_text(result)
    assert not (work / "shares" / "share-1.txt").exists()


def test_a_name_the_card_fonts_cannot_print_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "secret.bin").write_bytes(SECRET)
    result = run("split", "-k", 2, "-n", 3, "--in", "secret.bin", "--out", "shares", "--cards",
                 "--custodian", "Tomáš Dvořák", "--custodian", "王伟", cwd=tmp_path)
    assert result.returncode == 2
    assert err_text(result) == (
        "keyceremony: error: --custodian '王伟' contains '王' (U+738B), which DejaVu Sans and DejaVu Sans "
        "Mono cannot print on the card; write it in a script the fonts have (Latin, Greek or Cyrillic; "
        "a name as the holder's passport spells it in Latin letters, say); nothing was written\n")
    assert not (tmp_path / "shares").exists()
    # the same names in Latin, Greek and Cyrillic scripts print
    ok(run("split", "-k", 2, "-n", 3, "--in", "secret.bin", "--out", "shares", "--cards", "--label", "Платежи KEK",
           "--custodian", "Tomáš Dvořák", "--custodian", "Νίκος Παππάς", cwd=tmp_path))
    from keyceremony.cards.raster import pdf_text

    assert "Νίκος Παππάς" in pdf_text(tmp_path / "shares" / "card-2.pdf")[0]
    assert "Платежи KEK" in pdf_text(tmp_path / "shares" / "card-3.pdf")[0]


def test_a_secret_too_large_for_a_card_is_refused_before_anything_is_written(tmp_path):
    """116 bytes fit on a card (16 typeable lines); 117 do not, and the error says the limit,
    what to do instead, and that nothing was written."""
    (tmp_path / "fits.bin").write_bytes(bytes(range(116)))
    ok(run("split", "-k", 2, "-n", 2, "--in", "fits.bin", "--out", "fits", "--cards", cwd=tmp_path))
    (tmp_path / "big.bin").write_bytes(bytes(range(117)))
    result = run("split", "-k", 2, "-n", 2, "--in", "big.bin", "--out", "big", "--cards", cwd=tmp_path)
    assert result.returncode == 2
    assert "a card holds the share of a secret of at most 116 bytes; this secret is 117 bytes. Split it " \
           "without --cards" in err_text(result)
    assert err_text(result).rstrip().endswith("nothing was written") and not (tmp_path / "big").exists()
    labelled = run("split", "-k", 2, "-n", 2, "--in", "big.bin", "--out", "big", "--cards", "--label", "W" * 64,
                   cwd=tmp_path)
    assert "at most 52 bytes with this label; this secret is 117 bytes" in err_text(labelled)


def test_output_paths_that_cannot_work_are_named_without_a_traceback(tmp_path):
    (tmp_path / "secret.bin").write_bytes(SECRET)
    for out in ("secret.bin", "secret.bin/sub"):
        result = run("split", "-k", 2, "-n", 3, "--in", "secret.bin", "--out", out, cwd=tmp_path)
        assert result.returncode == 2
        assert err_text(result) == (f"keyceremony: error: --out {out}: secret.bin is a file, not a folder; "
                                    "give a folder for the output\n")
    ok(run("split", "-k", 2, "-n", 3, "--in", "secret.bin", "--out", "shares", cwd=tmp_path))
    result = run("combine", "--out", "no/such/folder/key.bin", "shares/share-1.txt", "shares/share-2.txt", cwd=tmp_path)
    assert result.returncode == 4  # a file that cannot be written (docs/cli.md §2)
    assert err_text(result) == ("keyceremony: error: no/such/folder/key.bin: No such file or directory; "
                                "check that the folder exists\n")
    assert not list(tmp_path.glob("**/.key.bin.tmp"))


def test_verify_share_takes_the_fingerprint_as_hex_or_words_and_refuses_a_malformed_one(cards):
    card = cards.folder / "card-2.pdf"
    from keyceremony.codec.pgp_words import to_words
    from keyceremony.recipes.sources import read_shares

    [(_, payload)] = read_shares(str(card))
    words = " ".join(to_words(payload.fingerprint()))
    checked = ok(run("verify-share", card, "--fingerprint", words, cwd=cards.folder))
    assert "matches the fingerprint given" in checked.stdout.decode()
    assert "matches the fingerprint given" in ok(run("verify-share", card, "--fingerprint", cards.fingerprint,
                                                     cwd=cards.folder)).stdout.decode()
    result = run("verify-share", card, "--fingerprint", "00 11", cwd=cards.folder)
    assert result.returncode == 2
    assert err_text(result) == "keyceremony: error: --fingerprint '00 11': a fingerprint is 32 hex digits, not 4\n"


def test_combine_type_with_nothing_typed_says_so(tmp_path):
    result = run("combine", "--type", "--out", "key.bin", cwd=tmp_path, stdin=b"")
    assert result.returncode == 1
    assert err_text(result).endswith("share #1, line 01: \nkeyceremony: error: no share was typed in; type each "
                                     "share's lines from its card, and at least the threshold number of shares\n")
    assert not (tmp_path / "key.bin").exists()


def test_a_closed_stdout_ends_quietly(cards):
    """`keyceremony ... | head -1`: the reader went away; no traceback, no error line, exit 141."""
    proc = subprocess.Popen([*KEYCEREMONY, "verify-share", str(cards.folder / "card-1.pdf")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    proc.stdout.close()  # before the command prints anything
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err == b""


def test_a_threshold_of_one_is_made_with_a_warning(tmp_path):
    result = ok(run("split", "-k", 1, "-n", 2, "--in", "-", "--out", "k1", cwd=tmp_path, stdin=SECRET))
    assert "WARNING: --threshold 1: every share alone is the whole secret" in err_text(result)
    assert "WARNING" not in err_text(ok(run("split", "-k", 2, "-n", 2, "--in", "-", "--out", "k2", cwd=tmp_path,
                                            stdin=SECRET)))
