"""Hostile file systems against every write: links and special files planted where keyceremony
writes, an old temporary file with loose permissions, and two writers of the same file at once.

``write_atomically`` (src/keyceremony/atomic_file.py) makes a temporary file of its own with
``mkstemp`` (O_EXCL, O_NOFOLLOW, a random name), sets its mode before the first byte, and refuses
a target that is a link or not an ordinary file; the command line refuses such ``--out`` and
``--reveal`` targets before any work is done. Each test below fails against the old writer (a
fixed ``.NAME.tmp`` opened with O_CREAT|O_TRUNC) or the old plain ``write_bytes`` writers.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import keyceremony
from keyceremony.atomic_file import UnsafeOutputPath, write_atomically
from keyceremony.shares.text import from_text

KEYCEREMONY = [sys.executable, "-m", "keyceremony"]
# The command runs the code this test imported, whatever the working folder and PYTHONPATH.
SRC = str(Path(keyceremony.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
SECRET_A = bytes(range(32))
SECRET_B = bytes(range(100, 132))
VICTIM = b"the file the link points at\n"


def run(*args: object, cwd: Path, stdin: bytes = b"", timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*KEYCEREMONY, *map(str, args)], cwd=cwd, input=stdin, capture_output=True,
                          timeout=timeout, env=ENV)


def refused(result: subprocess.CompletedProcess[bytes], *words: str) -> str:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.startswith("keyceremony: error: ") and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """Umask 0: the permissions a file gets are only what the writer asked for."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def shares(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """share-1.txt, share-2.txt of SECRET_A (2 of 2) and b-1.txt, b-2.txt of SECRET_B."""
    folder = tmp_path_factory.mktemp("shares")
    for name, secret in (("a", SECRET_A), ("b", SECRET_B)):
        result = run("split", "-k", 2, "-n", 2, "--in", "-", "--out", name, cwd=folder, stdin=secret)
        assert result.returncode == 0, result.stderr.decode()
    return folder


# --- write_atomically ----------------------------------------------------------------------------


def test_a_link_at_the_target_is_refused_and_its_target_gets_no_byte(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    (tmp_path / "share.txt").symlink_to(victim)
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "made-through-the-link.txt")
    for name in ("share.txt", "dangling.txt"):
        with pytest.raises(UnsafeOutputPath) as caught:
            write_atomically(tmp_path / name, b"SECRET SHARE")
        assert caught.value.filename == str(tmp_path / name)
        assert "is a symbolic link" in str(caught.value)
        assert (tmp_path / name).is_symlink()
    assert victim.read_bytes() == VICTIM
    assert not (tmp_path / "made-through-the-link.txt").exists()
    assert temporaries(tmp_path) == []


def test_a_link_planted_at_the_old_temporary_name_gets_no_byte(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    (tmp_path / ".share.txt.tmp").symlink_to(victim)  # the name the old writer always used
    write_atomically(tmp_path / "share.txt", b"SECRET SHARE")
    assert (tmp_path / "share.txt").read_bytes() == b"SECRET SHARE"
    assert victim.read_bytes() == VICTIM
    assert (tmp_path / ".share.txt.tmp").is_symlink()  # not ours: left alone


def test_links_planted_at_the_next_temporary_names_get_no_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone who could guess the random names plants links at them: O_EXCL|O_NOFOLLOW refuse
    to open them and mkstemp goes on to a name that is free."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    names = iter(["guess1", "guess2", "free"])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: names)
    for guess in ("guess1", "guess2"):
        (tmp_path / f".share.txt.{guess}.tmp").symlink_to(victim)
    write_atomically(tmp_path / "share.txt", b"SECRET SHARE")
    assert (tmp_path / "share.txt").read_bytes() == b"SECRET SHARE"
    assert victim.read_bytes() == VICTIM
    assert sorted(p.name for p in temporaries(tmp_path)) == [".share.txt.guess1.tmp", ".share.txt.guess2.tmp"]


@pytest.mark.usefixtures("umask_zero")
def test_an_old_world_writable_temporary_file_does_not_make_a_world_readable_share(tmp_path: Path) -> None:
    old = tmp_path / ".share.txt.tmp"
    old.write_bytes(b"left over")
    os.chmod(old, 0o666)
    write_atomically(tmp_path / "share.txt", b"SECRET SHARE")
    assert mode(tmp_path / "share.txt") == 0o600
    assert old.read_bytes() == b"left over"  # not opened, not renamed


@pytest.mark.usefixtures("umask_zero")
def test_the_mode_is_set_before_the_first_byte_is_written(tmp_path: Path) -> None:
    seen: list[int] = []

    def pieces() -> Iterator[bytes]:
        yield b"first piece, "
        (tmp,) = temporaries(tmp_path)
        seen.append(mode(tmp))
        yield b"second piece"

    write_atomically(tmp_path / "share.txt", pieces())
    write_atomically(tmp_path / "report.pdf", b"not secret", mode=0o644)
    assert seen == [0o600]
    assert mode(tmp_path / "share.txt") == 0o600 and mode(tmp_path / "report.pdf") == 0o644
    assert (tmp_path / "share.txt").read_bytes() == b"first piece, second piece"


def test_the_umask_still_narrows_the_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomically(tmp_path / "report.pdf", b"not secret", mode=0o644)
    finally:
        os.umask(old)
    assert mode(tmp_path / "report.pdf") == 0o600


def test_special_files_at_the_target_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        for name, what in (("fifo", "named pipe"), ("folder", "is a folder"), ("sock", "socket")):
            with pytest.raises(UnsafeOutputPath, match=what):
                write_atomically(tmp_path / name, b"SECRET SHARE")
        assert stat.S_ISFIFO((tmp_path / "fifo").lstat().st_mode)
        assert stat.S_ISSOCK((tmp_path / "sock").lstat().st_mode)
    assert list((tmp_path / "folder").iterdir()) == []
    assert temporaries(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "share.txt"
    target.write_bytes(b"old share")

    def pieces() -> Iterator[bytes]:
        yield b"half a share"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, pieces())
    assert target.read_bytes() == b"old share"
    assert temporaries(tmp_path) == []
    with pytest.raises(FileNotFoundError) as caught:
        write_atomically(tmp_path / "no" / "share.txt", b"x")
    assert caught.value.filename == str(tmp_path / "no" / "share.txt")  # the file asked for, not a temporary


def test_two_writers_interleaved_never_mix_their_bytes(tmp_path: Path) -> None:
    """Two threads write the same target piece by piece, in lock step: each has its own
    temporary file, so the target ends as exactly one of the two whole outputs."""
    target = tmp_path / "secret.bin"
    step = threading.Barrier(2, timeout=10)
    outputs = {name: [name.encode() * 1000 for _ in range(4)] for name in ("A", "B")}

    def pieces(name: str) -> Iterator[bytes]:
        for piece in outputs[name]:
            step.wait()
            yield piece
        step.wait()

    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            write_atomically(target, pieces(name))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(name,)) for name in outputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert target.read_bytes() in {b"".join(p) for p in outputs.values()}
    assert temporaries(tmp_path) == []


# --- every writer of a secret-bearing file --------------------------------------------------------


@pytest.mark.slow
def test_cards_are_written_atomically_by_default(tmp_path: Path) -> None:
    from keyceremony.cards.share_cards import write_cards
    from keyceremony.shares.shareset import create_share_set

    payloads = create_share_set(SECRET_A, 1, 1)
    victim = tmp_path / "victim.pdf"
    victim.write_bytes(VICTIM)
    (tmp_path / "card-1.pdf").symlink_to(victim)
    with pytest.raises(UnsafeOutputPath):
        write_cards(payloads, tmp_path)
    assert victim.read_bytes() == VICTIM
    (tmp_path / "card-1.pdf").unlink()
    with_umask = os.umask(0)
    try:
        write_cards(payloads, tmp_path)
    finally:
        os.umask(with_umask)
    assert mode(tmp_path / "card-1.pdf") == 0o600  # the plain write gave 0644 under umask 0


def test_split_refuses_a_link_among_its_share_files_before_writing_any(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    (out / "share-2.txt").symlink_to(victim)
    for extra in ((), ("--force",)):
        err = refused(run("split", "-k", 2, "-n", 3, "--in", "-", "--out", out, *extra, cwd=tmp_path,
                          stdin=SECRET_A), "share-2.txt", "symbolic link", "nothing was written")
        assert "SECRET" not in err
    assert victim.read_bytes() == VICTIM
    assert sorted(p.name for p in out.iterdir()) == ["share-2.txt"]


def test_combine_refuses_special_and_linked_outputs(shares: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    victim = tmp_path / "victim.bin"
    victim.write_bytes(VICTIM)
    (tmp_path / "link.bin").symlink_to(victim)
    (tmp_path / "dangling.bin").symlink_to(tmp_path / "made-through-the-link.bin")
    a = [shares / "a" / "share-1.txt", shares / "a" / "share-2.txt"]
    cases = [("/dev/null", "is a device"), ("fifo", "named pipe (FIFO)"), ("folder", "is a folder"),
             ("link.bin", "symbolic link"), ("dangling.bin", "symbolic link")]
    for out, words in cases:
        forces = ((),) if out == "/dev/null" else ((), ("--force",))  # never risk /dev/null itself
        for extra in forces:
            refused(run("combine", *a, "--out", out, *extra, cwd=tmp_path, timeout=20), f"--out {out}: ", words,
                    "or - for standard output")
    assert victim.read_bytes() == VICTIM
    assert not (tmp_path / "made-through-the-link.bin").exists()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert temporaries(tmp_path) == []


def test_recover_reveal_and_the_transcript_report_refuse_special_outputs(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    victim = tmp_path / "victim"
    victim.write_bytes(VICTIM)
    (tmp_path / "link").symlink_to(victim)
    for out in ("fifo", "link"):
        # refused before the shares (here missing) or the transcript are even read
        refused(run("recover", "missing.txt", "--reveal", out, "--force", cwd=tmp_path, timeout=20),
                f"--reveal {out}: ")
        refused(run("transcript", "report", "missing.jsonl", "--out", out, cwd=tmp_path, timeout=20),
                f"--out {out}: ")
    refused(run("transcript", "report", "missing.jsonl", "--out", "-", cwd=tmp_path), "--out -: give a file name")
    assert victim.read_bytes() == VICTIM


# --- two processes at once ------------------------------------------------------------------------


@pytest.mark.slow
def test_two_combines_into_the_same_file_at_once(tmp_path: Path) -> None:
    """20 rounds of two ``combine --out same.bin --force`` started together: both succeed and the
    file is one whole secret. (With the old fixed temporary name one process renamed the other's
    bytes as its own and reported success, and the other failed: seen in about 1 round of 5
    with 256 KiB secrets.)"""
    secrets = {name: os.urandom(256 * 1024) for name in ("a", "b")}
    for name, secret in secrets.items():
        result = run("split", "-k", 2, "-n", 2, "--in", "-", "--out", name, cwd=tmp_path, stdin=secret)
        assert result.returncode == 0, result.stderr.decode()
    target = tmp_path / "same.bin"
    for _ in range(20):
        target.unlink(missing_ok=True)
        command = [*KEYCEREMONY, "combine", "--out", "same.bin", "--force"]
        procs = [
            subprocess.Popen([*command, f"{name}/share-1.txt", f"{name}/share-2.txt"], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
            for name in secrets
        ]
        errors = [p.communicate(timeout=120)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        assert "Traceback" not in "".join(errors)
        assert target.read_bytes() in secrets.values()  # one whole secret, never a mix
        assert mode(target) == 0o600
        assert temporaries(tmp_path) == []


@pytest.mark.slow
def test_two_splits_into_the_same_folder_at_once(tmp_path: Path) -> None:
    """Every share file two concurrent ``split --force`` runs leave is whole, one run's share."""
    (tmp_path / "a.bin").write_bytes(SECRET_A)
    (tmp_path / "b.bin").write_bytes(SECRET_B)
    for _ in range(10):
        command = [*KEYCEREMONY, "split", "-k", "2", "-n", "5", "--out", "out", "--force", "--in"]
        procs = [subprocess.Popen([*command, name], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=ENV)
                 for name in ("a.bin", "b.bin")]
        errors = [p.communicate(timeout=120)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        assert "Traceback" not in "".join(errors)
        for x in range(1, 6):
            share = from_text((tmp_path / "out" / f"share-{x}.txt").read_text("ascii"))  # whole, or it fails
            assert share.x == x and len(share.y) == 32
        assert temporaries(tmp_path / "out") == []


def test_shredding_card_files_never_follows_a_planted_link(tmp_path: Path) -> None:
    from keyceremony.ceremony.adapters import PdfCardPrinter

    cards = tmp_path / "cards"
    cards.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"not a card: must survive the shredding")
    (cards / "card-1.pdf").symlink_to(victim)
    (cards / "card-2.pdf").write_bytes(b"%PDF- a card")
    printer = PdfCardPrinter(cards)
    printer.shred(list(printer.printed_files()))
    assert victim.read_bytes() == b"not a card: must survive the shredding"
    assert not list(cards.iterdir())
