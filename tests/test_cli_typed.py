"""Typed share entry on the command line (``combine --type``, ``recover --type``), run for real:
from a pipe as a subprocess, and on a real pseudo-terminal (``pty.fork``) for ``--no-echo``,
Ctrl+D and Ctrl+C. Pasted share files (header, comments, a backup's package block) are taken
as they are; one empty line ends; lines from two cards are named as such."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

KEYCEREMONY = [sys.executable, "-m", "keyceremony"]
SECRET = bytes(range(32))
PROMPT = re.compile(rb"share #\d+, line \d\d: ")


def run(*args: object, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KEYCEREMONY, *map(str, args)], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def data_lines(share: Path) -> list[str]:
    """A share file's data lines (a backup's share file: the share's only, not the package's)."""
    lines = []
    for line in share.read_text().splitlines()[1:]:
        if not line.strip():
            break
        if not line.startswith("#"):
            lines.append(line)
    return lines


@pytest.fixture(scope="module")
def shares(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("typed")
    (folder / "secret.bin").write_bytes(SECRET)
    ok(run("split", "-k", 3, "-n", 5, "--in", "secret.bin", "--out", "shares", "--label", "typed-entry", cwd=folder))
    return folder / "shares"


@pytest.fixture(scope="module")
def backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("typed-backup")
    ok(run("backup", "--backend", "soft", "--label", "typed-key", "-k", 3, "-n", 5, "--no-cards", "--out", "b",
           cwd=folder))
    return folder / "b"


# --- from a pipe -----------------------------------------------------------------------------------------


def test_pasted_share_files_with_header_and_comments_are_taken_silently(shares, tmp_path):
    pasted = "".join((shares / f"share-{x}.txt").read_text() for x in (1, 2, 4)) + "\n"
    result = ok(run("combine", "--type", "--out", "s.bin", cwd=tmp_path, stdin=pasted))
    assert (tmp_path / "s.bin").read_bytes() == SECRET
    assert "type the line again" not in result.stderr and "should start with its line number" not in result.stderr
    assert result.stderr.count("is complete") == 3 and "3 of 3 shares: enough" in result.stderr


def test_one_empty_line_ends_typing(shares, tmp_path):
    typed = [line for x in (2, 3, 5) for line in data_lines(shares / f"share-{x}.txt")]
    # after the empty line, nothing is read as shares: not even a fourth share's lines
    result = ok(run("combine", "--type", "--out", "-", cwd=tmp_path,
                    stdin="\n".join([*typed, "", *data_lines(shares / "share-1.txt")]) + "\n"))
    assert "An empty line ends typing" in result.stderr and "share #4, line 02" not in result.stderr
    assert "Enough shares: an empty line finishes" in result.stderr
    # two shares, one empty line: typing ends, and the count says what is missing
    short = run("combine", "--type", "--out", "-", cwd=tmp_path, stdin="\n".join([*typed[: 2 * len(typed) // 3], ""]))
    assert short.returncode == 1 and "3 are needed, bring 1 more" in short.stderr and short.stdout == ""


def test_a_line_from_another_card_is_named_as_such(shares, tmp_path):
    first, second = data_lines(shares / "share-1.txt"), data_lines(shares / "share-2.txt")
    # line 04 holds share values (after the 38-byte header): it differs between the cards, and
    # it passes its own check on either card
    assert first[3] != second[3]
    mixed = [*first[:3], second[3], *first[4:]]
    result = run("combine", "--type", "--out", "-", cwd=tmp_path, stdin="\n".join([*mixed, ""]))
    assert result.returncode == 1 and result.stdout == ""
    assert "type the line again" not in result.stderr  # every line passed its own check
    assert (f"typed share #1: each of lines 01-{len(first):02d} passed its own check, but together they are not "
            "one share; its first lines are those of share 1 of set") in result.stderr
    assert "A line seems to have been typed from another card" in result.stderr
    assert "Type this share again, every line from the same card" in result.stderr
    assert "checksum" not in result.stderr and "Traceback" not in result.stderr


def test_a_card_of_another_number_already_taken_is_noted_from_its_first_lines(shares, tmp_path):
    lines = data_lines(shares / "share-3.txt")
    result = run("combine", shares / "share-3.txt", "--type", "--out", "-", cwd=tmp_path,
                 stdin="\n".join([*lines[:3], "", ""]) + "\n")
    assert "note: share #1 is share 3, accepted already from" in result.stderr
    assert "share #1 is not complete: line 04 is next" in result.stderr  # an empty line mid-share asks first
    assert "share #1 was not complete (3 line(s)) and was not used" in result.stderr  # a second one ends


def test_input_ending_in_the_middle_of_a_share_says_so(shares, tmp_path):
    lines = data_lines(shares / "share-1.txt")[:3]
    result = run("combine", "--type", "--out", "x.bin", cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 1 and not (tmp_path / "x.bin").exists()
    assert "input ended in the middle of share #1 (3 line(s) typed); that share was not used" in result.stderr
    assert "no share was typed in" in result.stderr and "Traceback" not in result.stderr


def test_no_echo_needs_type(shares, tmp_path):
    result = run("combine", shares / "share-1.txt", "--no-echo", "--out", "x.bin", cwd=tmp_path)
    assert result.returncode == 2 and "--no-echo hides shares typed in: use it with --type" in result.stderr


# --- recover --type ----------------------------------------------------------------------------------------


def test_recover_type_with_three_typed_shares_of_a_backup(backup, tmp_path):
    pasted = "\n".join((backup / f"share-{x}.txt").read_text() for x in (4, 1, 5)) + "\n"  # package blocks too
    result = ok(run("recover", "--type", "--package", backup / "package.kcb", "--drill", cwd=tmp_path,
                    stdin=pasted))
    assert "Recovery drill: PASSED" in result.stdout
    assert "typed share #1 (share 4), typed share #2 (share 1), typed share #3 (share 5)" in result.stdout
    # the package from a share file given as SOURCE (its share counts too), two shares typed
    typed = [line for x in (2, 3) for line in data_lines(backup / f"share-{x}.txt")]
    result = ok(run("recover", backup / "share-5.txt", "--type", "--drill", cwd=tmp_path,
                    stdin="\n".join([*typed, ""])))
    assert "Recovery drill: PASSED" in result.stdout and "typed share #2 (share 3)" in result.stdout


def package_lines(backup: Path) -> list[str]:
    """The package's numbered lines, as page 2 of every card prints them."""
    from keyceremony.keys.backup_package import BackupPackage

    text = BackupPackage.from_bytes((backup / "package.kcb").read_bytes()).to_text(comments=[])
    return text.splitlines()[1:]


def test_recover_type_asks_for_the_package_after_the_shares(backup, tmp_path):
    shares = [line for x in (1, 3, 4) for line in data_lines(backup / f"share-{x}.txt")]
    package = package_lines(backup)
    result = ok(run("recover", "--type", "--drill", cwd=tmp_path, stdin="\n".join([*shares, *package, ""]) + "\n"))
    assert "Enough shares. Now type the backup package from page 2 of any card" in result.stderr
    assert f"package, line {len(package):02d}: " in result.stderr
    assert f"the backup package is complete ({len(package)} lines): key 'typed-key'" in result.stderr
    assert "Recovery drill: PASSED" in result.stdout and "backup package   the typed package" in result.stdout
    # the package first, then the shares: its first line says it is a package's
    result = ok(run("recover", "--type", "--drill", cwd=tmp_path, stdin="\n".join([*package, *shares, ""]) + "\n"))
    assert "Recovery drill: PASSED" in result.stdout
    # pasted share files: the package block of the first is taken, the others' are skipped
    pasted = "\n".join((backup / f"share-{x}.txt").read_text() for x in (2, 5, 1)) + "\n"
    result = ok(run("recover", "--type", "--drill", cwd=tmp_path, stdin=pasted))
    assert result.stderr.count("the backup package is complete") == 1 and "type the line again" not in result.stderr
    assert "Recovery drill: PASSED" in result.stdout


def test_a_mistyped_package_line_is_refused_at_once_and_typed_again(backup, tmp_path):
    shares = [line for x in (2, 3, 5) for line in data_lines(backup / f"share-{x}.txt")]
    package = package_lines(backup)
    fourth = package[3]
    wrong = fourth[:5] + ("A" if fourth[5] != "A" else "B") + fourth[6:]  # one character misread
    typed = [*shares, *package[:3], wrong, fourth, *package[4:], ""]
    result = ok(run("recover", "--type", "--drill", cwd=tmp_path, stdin="\n".join(typed) + "\n"))
    assert ("package line 04: data line 4 does not match its check" in result.stderr
            and "type the line again" in result.stderr)
    assert result.stderr.count("package, line 04: ") == 2  # asked again, then taken
    assert "Recovery drill: PASSED" in result.stdout


def test_recover_type_without_the_package_asks_for_it_then_says_what_to_bring(backup, tmp_path):
    shares = [line for x in (1, 2, 3) for line in data_lines(backup / f"share-{x}.txt")]
    result = run("recover", "--type", "--drill", cwd=tmp_path, stdin="\n".join([*shares, "", ""]) + "\n")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the backup package is still needed: type its lines from page 2 of any card" in result.stderr
    assert "the backup package is needed too and none was typed" in result.stderr
    assert "give --package package.kcb" in result.stderr and "nothing was recovered" in result.stderr
    # half a package, then empty lines: named, and not used
    result = run("recover", "--type", "--drill", cwd=tmp_path,
                 stdin="\n".join([*shares, *package_lines(backup)[:4], "", ""]) + "\n")
    assert "the backup package is not complete: line 05 is next" in result.stderr
    assert "the backup package was not complete (4 line(s)) and was not used" in result.stderr
    nothing = run("recover", "--drill", cwd=tmp_path)
    assert nothing.returncode == 2 and "or add --type to type shares in" in nothing.stderr


def test_recover_type_with_nothing_accepted_says_so(backup, tmp_path):
    result = run("recover", "--type", "--package", backup / "package.kcb", "--drill", cwd=tmp_path, stdin="\n")
    assert result.returncode == 1 and "no typed share was accepted" in result.stderr


# --- on a terminal -----------------------------------------------------------------------------------------


def on_a_terminal(args: list[object], cwd: Path, keys: list[bytes], timeout: float = 60) -> tuple[int, bytes]:
    """Run keyceremony on a new pseudo-terminal (its controlling terminal), send each of ``keys``
    after the next prompt appears, and return its exit code and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: keyceremony on the terminal
        try:
            os.chdir(cwd)
            os.execv(sys.executable, [*KEYCEREMONY, *map(str, args)])
        finally:
            os._exit(127)
    shown = bytearray()
    deadline = time.monotonic() + timeout

    def read(until_prompts: int | None) -> bool:
        while time.monotonic() < deadline:
            if until_prompts is not None and len(PROMPT.findall(shown)) >= until_prompts:
                return True
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child has ended
                    return False
                if not chunk:
                    return False
                shown.extend(chunk)
        raise AssertionError(f"timed out; the terminal showed: {bytes(shown)!r}")

    try:
        for key in keys:
            if not read(len(PROMPT.findall(shown)) + 1):
                break
            time.sleep(0.1)  # the prompt is shown just before the line is read
            os.write(fd, key)
        read(None)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), bytes(shown)


def test_no_echo_does_not_show_the_typed_characters(shares, tmp_path):
    lines = [line for x in (1, 3, 4) for line in data_lines(shares / f"share-{x}.txt")]
    keys = [f"{line}\n".encode() for line in lines] + [b"\n"]
    code, shown = on_a_terminal(["combine", "--type", "--no-echo", "--out", "s.bin"], tmp_path, keys)
    assert code == 0, shown
    assert (tmp_path / "s.bin").read_bytes() == SECRET
    assert b"What you type is not shown (--no-echo)." in shown and b"3 of 3 shares: enough" in shown
    for line in lines:
        assert line.split()[1].encode() not in shown  # no group of characters of any line
    # the same without --no-echo: the terminal shows what is typed (so the check above can fail)
    code, shown = on_a_terminal(["combine", "--type", "--out", "t.bin"], tmp_path, keys)
    assert code == 0 and lines[0].split()[1].encode() in shown


def test_ctrl_d_in_the_middle_of_a_share_ends_cleanly(shares, tmp_path):
    lines = data_lines(shares / "share-2.txt")[:2]
    keys = [f"{line}\n".encode() for line in lines] + [b"\x04"]
    code, shown = on_a_terminal(["combine", "--type", "--no-echo", "--out", "s.bin"], tmp_path, keys)
    assert code == 1, shown
    assert b"input ended in the middle of share #1 (2 line(s) typed); that share was not used" in shown
    assert b"Traceback" not in shown and not (tmp_path / "s.bin").exists()


def test_ctrl_c_ends_cleanly_and_restores_the_echo(shares, tmp_path):
    lines = data_lines(shares / "share-2.txt")[:1]
    code, shown = on_a_terminal(["combine", "--type", "--no-echo", "--out", "s.bin"], tmp_path,
                                [f"{lines[0]}\n".encode(), b"\x03"])
    assert code == 130, shown
    assert b"typing stopped (Ctrl+C); nothing was recovered or written" in shown and b"Traceback" not in shown


def test_a_pasted_backup_share_file_with_its_blank_line_and_package_block_on_a_terminal(backup, tmp_path):
    # One paste: the whole share-2.txt (header, comments, the share, an empty line, the package
    # block); the empty line inside it does not end typing, the package block is not a share.
    paste = (backup / "share-2.txt").read_text().encode()
    assert b"\n\nkeyceremony backup package v1\n" in paste
    keys = [paste] + [f"{line}\n".encode() for x in (3, 5) for line in data_lines(backup / f"share-{x}.txt")]
    code, shown = on_a_terminal(["recover", "--type", "--package", backup / "package.kcb", "--drill"], tmp_path,
                                [*keys, b"\n"])
    assert code == 0, shown
    assert b"Recovery drill: PASSED" in shown and b"typed share #1 (share 2)" in shown
    assert b"type the line again" not in shown and b"not complete" not in shown


def test_an_endless_pipe_of_comment_lines_ends(tmp_path):
    result = run("combine", "--type", "--out", "x.bin", cwd=tmp_path, stdin="# a comment\n" * 5000)
    assert result.returncode == 2 and "100 lines in a row are not share lines" in result.stderr
