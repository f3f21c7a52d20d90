"""Files that are written whole or not at all (share files, cards, packages, state, reports).

The data goes to a new temporary file of its own beside the target, is fsynced, renamed over
the target, and the directory is fsynced: after a crash or power loss the file is either the old
one or the new one, never half of either, and never a file with another writer's bytes
(docs/architecture.md §1).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path


class UnsafeOutputPath(OSError):
    """The target of a write is a symbolic link, a folder, a device, a named pipe or a socket.

    An ``OSError`` (``filename`` is the path, ``strerror`` says what it is and what to do), as
    every other failure of a write is: this module imports only the standard library
    (docs/architecture.md §2). The command line checks its outputs first and raises
    ``errors.UnsafeOutput`` naming the option.
    """


def write_atomically(path: Path, data: bytes | Iterable[bytes], *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` (bytes, or pieces of it written as they come, so a large
    share never needs to be whole in memory); the file gets ``mode`` less the process umask
    (0600 by default: shares are private).

    What it guarantees, on POSIX systems and local file systems:

    * **Whole or not at all.** The bytes go to a temporary file in the target's own folder,
      which is fsynced, then renamed over ``path`` with ``os.replace`` (POSIX rename(2): the
      name points at the old file or at the new one, never at neither or half of one), and the
      folder is fsynced so the rename survives a power loss. On any failure (a full disk, an
      exception from ``data``, Ctrl-C) the temporary file is removed and ``path`` is untouched.
    * **A temporary file of its own.** It is made by ``tempfile.mkstemp`` (Python's tempfile
      documentation: created with ``O_CREAT | O_EXCL``, and ``O_NOFOLLOW`` where the platform
      has it, under a random name, readable and writable only by its owner): it never opens a
      file or a symbolic link someone planted beforehand, and two writers of the same target
      (two processes, or two threads) each have their own, so the target ends as exactly one
      writer's whole output.
    * **The mode before the bytes.** ``os.fchmod`` sets the mode on the open temporary file
      before the first byte is written; no earlier file's permissions are inherited.
    * **Never through a link, never onto a special file.** When ``path`` is a symbolic link, a
      folder, a device, a named pipe or a socket, ``UnsafeOutputPath`` is raised and nothing is
      written (checked with ``lstat``, which does not follow links). A link planted at ``path``
      after that check is replaced, not followed: rename(2) replaces the name itself.

    Errors of the file system come out as ``OSError`` naming ``path``, not the temporary file.
    """
    import tempfile  # here: the command line imports this module at start-up, and --help stays fast

    path = Path(path)
    check_output_path(path)
    directory = path.parent
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as err:  # report the file asked for, not the temporary one
        raise type(err)(err.errno, err.strerror, str(path)) from None
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, mode & ~_umask())
            for piece in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        check_output_path(path)  # again, for what appeared while the bytes were written
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.filename == name:
            raise type(err)(err.errno, err.strerror, str(path)) from None
        raise
    fsync_directory(directory)


def check_output_path(path: Path) -> bool:
    """True if an ordinary file is at ``path`` (it would be replaced), False if nothing is.

    Raises ``UnsafeOutputPath`` when ``path`` is a symbolic link (even one to an ordinary file),
    a folder, a device, a named pipe or a socket: output is written only to new or ordinary files.
    Other errors of the file system (a missing folder, no permission) are left for the write.
    """
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISREG(st.st_mode):
        return True
    if stat.S_ISLNK(st.st_mode):
        code, problem = errno.ELOOP, (
            "is a symbolic link; output is never written through a link (it could point anywhere): "
            "remove the link, or give the path of a new or ordinary file"
        )
    elif stat.S_ISDIR(st.st_mode):
        code, problem = errno.EISDIR, "is a folder; give the path of a file to write"
    else:
        kind = "named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "device"
        code, problem = errno.EINVAL, (
            f"is a {kind}, not an ordinary file; output is written only to new or ordinary files: "
            "give another path"
        )
    raise UnsafeOutputPath(code, problem, str(path))


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` sets it, which would race with
    other threads creating files); 0 where it cannot be read (then ``mode`` is used as given)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0
