"""Closed, full, endless and special standard streams and inputs: every command ends with
``keyceremony: error: ...`` and a non-zero exit (or does the right thing), never a traceback and
never a hang.

The commands run under ``sh -c 'exec "$@" <&-'`` (and ``>&-``, ``</dev/zero``, ``>/dev/full``), so
they start with the stream really closed or redirected. Every run has a timeout: a command that
would wait on a named pipe or read an endless stream for ever fails the test instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import keyceremony
from keyceremony.cli import common

KEYCEREMONY = [sys.executable, "-m", "keyceremony"]
SRC = str(Path(keyceremony.__file__).resolve().parents[1])  # the subprocess runs the code imported here
ENV = {k: v for k, v in os.environ.items() if k != "KEYCEREMONY_PIN"}
ENV["PYTHONPATH"] = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])
SECRET = bytes(range(32))
KEY = bytes(range(200, 232))  # the AES key backed up and revealed again


def sh(redirect: str, *args: object, cwd: Path, timeout: float = 30, env: dict[str, str] | None = None,
       stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``keyceremony ARGS`` with its own standard streams redirected by ``redirect`` (``<&-``)."""
    command = ["sh", "-c", f'exec "$@" {redirect}', "sh", *KEYCEREMONY, *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, timeout=timeout, env=env or ENV,
                          **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}))


def failed_cleanly(result: subprocess.CompletedProcess[bytes], *words: str, code: int | None = None) -> str:
    err = result.stderr.decode(errors="replace")
    assert result.returncode != 0, err
    if code is not None:
        assert result.returncode == code, err
    assert "keyceremony: error: " in err, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    for word in words:
        assert word in err, err
    return err


def data_lines(share: Path) -> list[str]:
    lines = share.read_text("ascii").splitlines()
    return [line for line in lines[1:] if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shares/share-{1,2}.txt of SECRET (2 of 2) and backup/ (package, share-{1,2}.txt) of KEY."""
    folder = tmp_path_factory.mktemp("streams")
    (folder / "secret.bin").write_bytes(SECRET)
    (folder / "key.bin").write_bytes(KEY)
    for args in (("split", "-k", 2, "-n", 2, "--in", "secret.bin", "--out", "shares"),
                 ("backup", "--backend", "soft", "--label", "k", "--key-file", "key.bin", "-k", 2, "-n", 2,
                  "--out", "backup", "--no-cards")):
        result = sh("", *args, cwd=folder, timeout=120)
        assert result.returncode == 0, result.stderr.decode()
    return folder


@pytest.fixture
def endless_pipe() -> Iterator[tuple[int, threading.Event]]:
    """The read end of a pipe a thread fills with share-like junk lines until told to stop."""
    read_end, write_end = os.pipe()
    stop = threading.Event()

    def fill() -> None:
        chunk = b"y\n" * 4096
        try:
            while not stop.is_set():
                os.write(write_end, chunk)
        except OSError:  # the reader went away
            pass
        finally:
            os.close(write_end)

    thread = threading.Thread(target=fill, daemon=True)
    thread.start()
    try:
        yield read_end, stop
    finally:
        stop.set()
        os.close(read_end)
        thread.join(10)


# --- split: where the secret comes from -----------------------------------------------------------


@pytest.mark.parametrize("redirect, words", [
    ("<&-", "standard input is closed"),
    ("</dev/zero", "standard input is a device"),
    ("</dev/null", "standard input is a device"),
])
def test_split_of_a_closed_or_device_standard_input(tmp_path: Path, redirect: str, words: str) -> None:
    err = failed_cleanly(sh(redirect, "split", "-k", 2, "-n", 2, "--in", "-", "--out", "out", cwd=tmp_path), words)
    assert "empty" not in err
    assert not (tmp_path / "out").exists()


def test_split_with_a_folder_as_standard_input_stops(tmp_path: Path) -> None:
    """Python itself refuses to start with a folder as standard input ("Fatal Python error:
    init_sys_streams: <stdin> is a directory"): no keyceremony code runs, nothing is written,
    nothing hangs."""
    result = sh("<.", "split", "-k", 2, "-n", 2, "--in", "-", "--out", "out", cwd=tmp_path)
    assert result.returncode != 0
    assert b"Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_split_of_special_files_by_name_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # no writer: opening it for reading would wait for ever
    (tmp_path / "folder").mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        for name, words in (("fifo", "is a named pipe (FIFO), not an ordinary file"),
                            ("/dev/zero", "is a device, not an ordinary file"), ("folder", "is a folder"),
                            ("sock", "sock: cannot be read")):
            err = failed_cleanly(sh("", "split", "-k", 2, "-n", 2, "--in", name, "--out", "out", cwd=tmp_path,
                                    timeout=20), f"{name}: ", words, code=2)
            assert "empty" not in err
    assert not (tmp_path / "out").exists()


def test_split_reads_an_endless_standard_input_only_up_to_the_limit(
    tmp_path: Path, endless_pipe: tuple[int, threading.Event]
) -> None:
    assert common.SECRET_LIMIT == 256 << 20  # the stated limit; lowered below so the test is quick
    read_end, _ = endless_pipe
    script = ("import sys; import keyceremony.cli.common as c; c.SECRET_LIMIT = 65536; "
              "from keyceremony.cli.main import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", script, "split", "-k", "2", "-n", "2", "--in", "-", "--out", "out"],
                            cwd=tmp_path, stdin=read_end, capture_output=True, timeout=30, env=ENV)
    failed_cleanly(result, "standard input: more than the 65,536 bytes a secret may have", code=2)
    assert not (tmp_path / "out").exists()


def test_split_of_a_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(common.SECRET_LIMIT + 1)  # sparse: nothing to read, only its size is looked at
    failed_cleanly(sh("", "split", "-k", 2, "-n", 2, "--in", "big.bin", "--out", "out", cwd=tmp_path),
                   "big.bin: 268,435,457 bytes is more than the 268,435,456 bytes", code=2)
    assert not (tmp_path / "out").exists()


# --- split: where the report goes -----------------------------------------------------------------


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_split_with_standard_output_closed_or_full(work: Path, tmp_path: Path, unbuffered: str) -> None:
    env = {**ENV, "PYTHONUNBUFFERED": unbuffered}
    (tmp_path / "secret.bin").write_bytes(SECRET)
    failed_cleanly(sh(">&-", "split", "-k", 2, "-n", 2, "--in", "secret.bin", "--out", "a", cwd=tmp_path, env=env),
                   "standard output is closed", code=4)
    err = failed_cleanly(sh(">/dev/full", "split", "-k", 2, "-n", 2, "--in", "secret.bin", "--out", "b",
                            cwd=tmp_path, env=env), "No space left on device", code=4)
    assert err.count("keyceremony: error:") == 1


# --- combine --out - and combine --type ----------------------------------------------------------


def test_combine_to_a_closed_or_full_standard_output(work: Path) -> None:
    shares = ["shares/share-1.txt", "shares/share-2.txt"]
    failed_cleanly(sh(">&-", "combine", *shares, "--out", "-", cwd=work), "standard output is closed", code=4)
    err = failed_cleanly(sh(">/dev/full", "combine", *shares, "--out", "-", cwd=work),
                         "standard output cannot be written (No space left on device)", code=4)
    assert "Recovered" not in err  # no success is reported
    result = sh("", "combine", *shares, "--out", "-", cwd=work)
    assert result.returncode == 0 and result.stdout == SECRET


def test_verify_share_of_several_files_to_a_closed_standard_output_stops_at_once(work: Path) -> None:
    shares = ["shares/share-1.txt", "shares/share-2.txt", "shares/share-3.txt"]
    err = failed_cleanly(sh(">&-", "verify-share", *shares, cwd=work), "standard output is closed", code=4)
    assert err.count("keyceremony: error:") == 1  # said once, not once per file


def test_combine_type_with_standard_input_closed(work: Path) -> None:
    failed_cleanly(sh("<&-", "combine", "shares/share-1.txt", "--type", "--out", "x.bin", cwd=work),
                   "standard input is closed", code=4)
    assert not (work / "x.bin").exists()


def test_combine_type_from_dev_zero_is_refused_not_gathered(work: Path) -> None:
    failed_cleanly(sh("</dev/zero", "combine", "shares/share-1.txt", "--type", "--out", "x.bin", cwd=work),
                   "a line longer than 4096 characters")
    assert not (work / "x.bin").exists()


def test_combine_type_from_an_endless_pipe_of_junk_ends(work: Path, endless_pipe: tuple[int, threading.Event]) -> None:
    read_end, _ = endless_pipe
    result = subprocess.run([*KEYCEREMONY, "combine", "shares/share-1.txt", "--type", "--out", "x.bin"], cwd=work,
                            stdin=read_end, capture_output=True, timeout=60, env=ENV)
    failed_cleanly(result, f"{common.TYPED_REFUSALS_LIMIT} lines in a row are not share lines", code=2)
    assert not (work / "x.bin").exists()


def test_combine_type_from_dev_null_types_nothing(work: Path) -> None:
    failed_cleanly(sh("</dev/null", "combine", "shares/share-1.txt", "--type", "--out", "x.bin", cwd=work),
                   "2 are needed, bring 1 more")


def test_combine_type_with_standard_output_closed_still_recovers(work: Path, tmp_path: Path) -> None:
    typed = "\n".join(data_lines(work / "shares" / "share-2.txt")) + "\n\n"
    result = sh(">&-", "combine", work / "shares" / "share-1.txt", "--type", "--out", "x.bin", cwd=tmp_path,
                stdin=typed.encode())
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "x.bin").read_bytes() == SECRET


# --- the PIN prompt -------------------------------------------------------------------------------


def pkcs11(command: str) -> list[object]:
    if command == "backup":
        return ["backup", "--label", "k2", "-k", 2, "-n", 2, "--out", "never", "--no-cards",
                "--module", "/nonexistent/libpkcs11.so", "--token", "t"]
    return ["recover", "backup/share-1.txt", "backup/share-2.txt", "--module", "/nonexistent/libpkcs11.so",
            "--token", "t"]


@pytest.mark.parametrize("command", ["backup", "recover"])
def test_the_pin_prompt_with_standard_input_closed(work: Path, command: str) -> None:
    failed_cleanly(sh("<&-", *pkcs11(command), cwd=work), "token 't' needs its user PIN", code=2)
    assert not (work / "never").exists()


@pytest.mark.parametrize("command", ["backup", "recover"])
def test_the_pin_prompt_with_a_pipe_that_never_ends(work: Path, command: str) -> None:
    """Standard input a pipe whose writer never writes and never closes: no prompt waits on it."""
    read_end, write_end = os.pipe()
    try:
        result = subprocess.run([*KEYCEREMONY, *map(str, pkcs11(command))], cwd=work, stdin=read_end,
                                capture_output=True, timeout=30, env=ENV)
    finally:
        os.close(read_end)
        os.close(write_end)
    failed_cleanly(result, "token 't' needs its user PIN", code=2)


# --- recover --reveal - ---------------------------------------------------------------------------


def test_recover_reveal_dash_is_standard_output(work: Path, tmp_path: Path) -> None:
    shares = [work / "backup" / "share-1.txt", work / "backup" / "share-2.txt"]
    result = sh("", "recover", *shares, "--reveal", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == KEY  # the key and nothing else
    assert "Wrote it to standard output" in result.stderr.decode()
    assert not (tmp_path / "-").exists()
    assert list(tmp_path.iterdir()) == []


def test_recover_reveal_dash_to_a_closed_or_full_standard_output(work: Path, tmp_path: Path) -> None:
    shares = [work / "backup" / "share-1.txt", work / "backup" / "share-2.txt"]
    failed_cleanly(sh(">&-", "recover", *shares, "--reveal", "-", cwd=tmp_path), "standard output is closed",
                   code=4)
    err = failed_cleanly(sh(">/dev/full", "recover", *shares, "--reveal", "-", cwd=tmp_path),
                         "standard output cannot be written (No space left on device)", code=4)
    assert "Recovered key" not in err
    assert list(tmp_path.iterdir()) == []
