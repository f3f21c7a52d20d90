"""The transcript writer: ``create``, ``append``, ``seal``, and ``resume`` after a crash.

Every entry is on disk (written and fsynced) before ``append`` returns (docs/transcript.md §7).
Nothing secret ever goes in: each entry's ``data`` passes the secrets guard
(:func:`~keyceremony.transcript.guard.check_public_data`, docs/transcript.md §3.2).

>>> import tempfile, pathlib
>>> from keyceremony.transcript import Actor, CeremonyMeta, verify_transcript
>>> from keyceremony.transcript.signer import SoftSigner
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ceremony.jsonl"
>>> signer = SoftSigner.generate()
>>> w = TranscriptWriter.create(path, signer, CeremonyMeta("demo-1", "Rehearsal"))
>>> _ = w.append("generate-key", "key-generated", actors=[Actor("Alice Ng", "operator")],
...              data={"key_label": "root-kek", "kcv": "a1b2c3"})
>>> _ = w.seal()
>>> verify_transcript(path, expected_fingerprint=signer.fingerprint).sealed
True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from keyceremony.atomic_file import fsync_directory
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.errors import TranscriptDataRefused, TranscriptError, TranscriptSealed
from keyceremony.transcript.guard import check_public_data
from keyceremony.transcript.model import Actor, CeremonyMeta, Entry
from keyceremony.transcript.signer import PUBLIC_KEY_LEN, SIGNATURE_LEN, Signer, key_fingerprint
from keyceremony.transcript.values import (
    CEREMONY_STEP,
    MAX_LINE_BYTES,
    OPENED,
    RESUMED,
    SEALED,
    Clock,
    check_name,
    format_time,
    genesis_hash,
    line_hash,
    to_entry_time,
    utc_now,
)
from keyceremony.transcript.verify import MAX_TRANSCRIPT_BYTES, Chain, check_transcript_size, scan, torn_error


def _public_key_of(signer: Signer) -> bytes:
    key = signer.public_key
    if not isinstance(key, (bytes, bytearray)) or len(key) != PUBLIC_KEY_LEN:
        raise ValueError("signer.public_key must be a raw 32-byte Ed25519 public key")
    return bytes(key)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise TranscriptError(
            f"{path}: another program is writing this transcript; only one may write it at a time"
        ) from None


def _read_all(fd: int, path: Path) -> bytes:
    """The whole transcript, refused before it is read if larger than ``MAX_TRANSCRIPT_BYTES``."""
    check_transcript_size(os.fstat(fd).st_size, str(path))
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    size = 0
    while size <= MAX_TRANSCRIPT_BYTES and (chunk := os.read(fd, 1 << 20)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class TranscriptWriter:
    """Appends signed entries to a transcript file, one fsynced line at a time.

    Make one with :meth:`create` (a new ceremony) or :meth:`resume` (after a crash or restart),
    then call :meth:`append` for each event and :meth:`seal` at the end. Every method either
    completes (the entry is on disk and durable) or raises with nothing new on disk, except
    when the disk itself fails mid-write: then the writer refuses further use and the transcript
    must be resumed, which detects and removes the partial line (docs/transcript.md §7).
    Thread-safe: one entry is written at a time.

    The engine should treat the file, not its own memory, as the record: after
    :meth:`resume`, :attr:`entries` holds every entry on disk and the last one says where the
    ceremony stopped.
    """

    def __init__(self, *, path: Path, fd: int, signer: Signer, chain: Chain, clock: Clock) -> None:
        # Use create() or resume().
        self._path = path
        self._fd: int | None = fd
        self._signer = signer
        self._key = _public_key_of(signer)
        self._clock = clock
        self._entries = list(chain.entries)
        self._first_key = chain.segments[0].public_key
        self._last_hash = chain.last_hash
        self._sealed = chain.sealed_line is not None
        self._failed = False
        self._lock = threading.Lock()

    # -- making one

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        signer: Signer,
        meta: CeremonyMeta,
        *,
        actors: Iterable[Actor] = (),
        clock: Clock = utc_now,
    ) -> TranscriptWriter:
        """Start a new transcript at ``path`` with its ``opened`` entry, signed by ``signer``.

        The file must not exist. It is created, the entry written and fsynced, and the directory
        fsynced, before this returns. Raises TranscriptError (file exists, cannot write; then
        no file is left behind), SignerUnavailable, ValueError for bad arguments.
        """
        path = Path(path)
        key = _public_key_of(signer)
        entry = _sign(
            signer,
            Entry(
                ceremony=meta.ceremony_id,
                seq=1,
                time=to_entry_time(clock()),
                step=CEREMONY_STEP,
                event=OPENED,
                actors=tuple(actors),
                data=meta.opening_data(),
                prev=genesis_hash(meta.ceremony_id),
                sig=bytes(SIGNATURE_LEN),
                key=key,
            ),
            key,
        )
        line = _encode_line(entry)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileExistsError:
            raise TranscriptError(
                f"{path} already exists: resume that transcript, or choose another file name"
            ) from None
        except OSError as err:
            raise TranscriptError(f"{path}: cannot create the transcript: {err.strerror}") from None
        try:
            _lock(fd, path)
            _write_all(fd, line)
            os.fsync(fd)
            fsync_directory(path.parent.resolve())
        except BaseException as err:
            os.close(fd)
            path.unlink(missing_ok=True)  # nothing usable was created
            if isinstance(err, OSError):
                raise TranscriptError(f"{path}: cannot write the transcript: {err.strerror}") from None
            raise
        chain = Chain(str(path))
        chain.feed(line)
        return cls(path=path, fd=fd, signer=signer, chain=chain, clock=clock)

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike[str],
        signer: Signer,
        *,
        actors: Iterable[Actor] = (),
        data: Mapping[str, object] | None = None,
        clock: Clock = utc_now,
        truncate_torn: bool = False,
        allow_new_key: bool = False,
    ) -> TranscriptWriter:
        """Reopen a transcript after a crash or restart and append a ``resumed`` entry.

        The existing lines are verified first (TranscriptTampered if any is bad). A torn last
        line (a write cut short) raises TornTranscript unless ``truncate_torn`` is true; then it
        is cut away and its length recorded in the ``resumed`` entry as ``dropped_bytes``.

        ``signer`` is normally the ceremony key itself: the same :class:`SoftSigner` object the
        engine still holds, or the HSM key, which survives a crash on its token. If the key was
        lost (a soft key dies with its process), pass a *new* signer and ``allow_new_key=True``:
        the ``resumed`` entry then starts a new key segment, signed by the new key and chained to
        the last good line, and verifiers report the key change and require its fingerprint to
        be confirmed (docs/transcript.md §7). Raises TranscriptSealed for a sealed transcript,
        TranscriptError if the file cannot be read or written, has no complete entry, or the
        signer's key is not the current one and ``allow_new_key`` is false.
        """
        path = Path(path)
        key = _public_key_of(signer)
        extra = check_public_data(dict(data or {}))
        for reserved in ("dropped_bytes", "key_changed"):
            if reserved in extra:
                raise ValueError(f"data must not set '{reserved}': resume records it itself")
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            raise TranscriptError(f"{path}: cannot open the transcript to resume it: {err.strerror}") from None
        try:
            _lock(fd, path)
            content = _read_all(fd, path)
            chain, torn = scan(content, str(path))
            if not chain.entries:
                raise TranscriptError(
                    f"{path}: nothing to resume: the file has no complete entry (the crash came "
                    "while it was being created). Remove it and create the transcript again"
                )
            if chain.sealed_line is not None:
                raise TranscriptSealed(
                    f"{path}: the transcript was sealed on line {chain.sealed_line}; nothing can be "
                    "added to it. If its ceremony key still exists (a crash right after sealing), "
                    f"destroy key {format_fingerprint(key_fingerprint(chain.key or key))} now"
                )
            if torn and not truncate_torn:
                raise torn_error(chain, torn)
            current = chain.key
            assert current is not None and chain.last_hash is not None
            if key != current and not allow_new_key:
                raise TranscriptError(
                    f"{path}: the signer's key {format_fingerprint(key_fingerprint(key))} is not the "
                    f"ceremony key {format_fingerprint(key_fingerprint(current))}. Resume with the "
                    "ceremony key; if it was lost, resume with a new key (allow_new_key), read its "
                    "fingerprint aloud and record it in the paper log"
                )
            last = chain.entries[-1]
            now = _check_clock(to_entry_time(clock()), last, path)
            entry = _sign(
                signer,
                Entry(
                    ceremony=last.ceremony,
                    seq=last.seq + 1,
                    time=now,
                    step=CEREMONY_STEP,
                    event=RESUMED,
                    actors=tuple(actors),
                    data={**extra, "dropped_bytes": len(torn), "key_changed": key != current},
                    prev=chain.last_hash,
                    sig=bytes(SIGNATURE_LEN),
                    key=key,
                ),
                key,
            )
            line = _encode_line(entry)
            try:
                if torn:
                    os.ftruncate(fd, chain.length)
                    os.fsync(fd)
                _write_all(fd, line)
                os.fsync(fd)
            except OSError as err:
                raise TranscriptError(
                    f"{path}: cannot write the transcript: {err.strerror}. Fix the cause and "
                    "resume again"
                ) from None
            chain.feed(line)
        except BaseException:
            os.close(fd)
            raise
        return cls(path=path, fd=fd, signer=signer, chain=chain, clock=clock)

    # -- using it

    @property
    def path(self) -> Path:
        return self._path

    @property
    def ceremony_id(self) -> str:
        return self._entries[0].ceremony

    @property
    def public_key(self) -> bytes:
        """The key that signs the next entry (the current segment's)."""
        return self._key

    @property
    def fingerprint(self) -> bytes:
        """The ceremony key's fingerprint: the *first* key's, printed on cards and the report."""
        return key_fingerprint(self._first_key)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    @property
    def last_entry(self) -> Entry:
        return self._entries[-1]

    @property
    def sealed(self) -> bool:
        return self._sealed

    def append(
        self,
        step: str,
        event: str,
        *,
        actors: Iterable[Actor] = (),
        data: Mapping[str, object] | None = None,
    ) -> Entry:
        """Sign and write one entry; it is durable on disk when this returns.

        ``step`` is the template step (not ``ceremony``, which is reserved), ``event`` what
        happened, ``actors`` who took part, ``data`` public facts only (see
        :func:`check_public_data`). Raises TranscriptDataRefused (nothing written), ValueError
        for a bad name, TranscriptSealed, TranscriptError (clock went back, write failed),
        SignerUnavailable.
        """
        check_name("step", step)
        if step == CEREMONY_STEP:
            raise ValueError(f"step '{CEREMONY_STEP}' is reserved for the transcript's own entries")
        return self._append(step, event, tuple(actors), dict(data or {}))

    def seal(self, *, actors: Iterable[Actor] = (), data: Mapping[str, object] | None = None) -> Entry:
        """Write the ``sealed`` entry, then destroy the ceremony key and close the file.

        After this nothing can be added: the verifier requires the seal to be the last line,
        and the key that could sign another entry no longer exists. Raises like
        :meth:`append`; if the key cannot be destroyed the transcript is still sealed and
        TranscriptError says which key to destroy by hand.
        """
        entry = self._append(CEREMONY_STEP, SEALED, tuple(actors), dict(data or {}))
        try:
            self._signer.destroy()
        except Exception as err:
            raise TranscriptError(
                f"{self._path}: the transcript is sealed (line {entry.seq}), but the ceremony key "
                f"{format_fingerprint(key_fingerprint(self._key))} could not be destroyed ({err}). "
                "Destroy it by hand now and record that in the paper log"
            ) from None
        finally:
            self.close()
        return entry

    def close(self) -> None:
        """Close the file without sealing (the engine may resume later). Idempotent."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> TranscriptWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TranscriptWriter({str(self._path)!r}, ceremony={self.ceremony_id!r}, entries={len(self._entries)})"

    def _append(self, step: str, event: str, actors: tuple[Actor, ...], data: dict[str, Any]) -> Entry:
        # ``data`` is unchecked here (hence Any): Entry checks it with check_public_data.
        with self._lock:
            if self._sealed:
                raise TranscriptSealed(f"{self._path}: the transcript is sealed; nothing can be added")
            if self._failed:
                raise TranscriptError(
                    f"{self._path}: an earlier write failed, so the file may end in a partial line. "
                    "Resume the transcript (it removes a partial line) before writing more"
                )
            if self._fd is None:
                raise TranscriptError(f"{self._path}: the transcript writer is closed; resume it to write more")
            last = self._entries[-1]
            assert self._last_hash is not None
            entry = _sign(
                self._signer,
                Entry(
                    ceremony=last.ceremony,
                    seq=last.seq + 1,
                    time=_check_clock(to_entry_time(self._clock()), last, self._path),
                    step=step,
                    event=event,
                    actors=actors,
                    data=data,
                    prev=self._last_hash,
                    sig=bytes(SIGNATURE_LEN),
                ),
                self._key,
            )
            line = _encode_line(entry)
            try:
                _write_all(self._fd, line)
                os.fsync(self._fd)
            except OSError as err:
                self._failed = True
                raise TranscriptError(
                    f"{self._path}: could not write entry {entry.seq} ({err.strerror}); it may be "
                    "partly written. Fix the cause (a full disk?), then resume the transcript"
                ) from None
            self._entries.append(entry)
            self._last_hash = line_hash(line)
            if event == SEALED and step == CEREMONY_STEP:
                self._sealed = True
            return entry


def _sign(signer: Signer, draft: Entry, key: bytes) -> Entry:
    entry = draft.signed(signer)
    if len(entry.sig) != SIGNATURE_LEN or not entry.signature_verifies(key):
        raise TranscriptError(
            "the signer returned a signature that does not verify under its own public key; "
            "nothing was written. Check the HSM or signer"
        )
    return entry


def _encode_line(entry: Entry) -> bytes:
    line = entry.to_line()
    if len(line) - 1 > MAX_LINE_BYTES:
        raise TranscriptDataRefused(
            f"the entry would be {len(line) - 1} bytes; an entry is at most {MAX_LINE_BYTES}", field="data"
        )
    return line


def _check_clock(now: datetime, last: Entry, path: Path) -> datetime:
    if now < last.time:
        raise TranscriptError(
            f"{path}: the clock says {format_time(now)}, earlier than the last entry "
            f"({format_time(last.time)}); times in a transcript never go back. Set the clock "
            "right and try again (nothing was written)"
        )
    return now
