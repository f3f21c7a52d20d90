"""Read shares from whatever a custodian brings: text files, card PDFs, scans and photos.

Text files are parsed here; PDFs and images are decoded by the scanning layer (scan_sources),
imported only when one is given, and the backup package code only when packages are read, so
reading text shares stays light (``verify-share`` of one share file: docs/benchmarks.md).

A key backup's cards and share files also carry its backup package (docs/backup-package.md):
a second QR code on the card, a ``keyceremony backup package v1`` block after the share's lines
in the share file, or the binary ``package.kcb``. ``read_shares`` skips the package;
``read_payloads`` returns both kinds, told apart by their magic ("KCS" share, "KCB" package).

Every file is bounded (docs/share-cards.md §5): a text or package file by ``MAX_SOURCE_BYTES``,
``MAX_SOURCE_LINES`` and ``MAX_SOURCE_LINE_BYTES`` here, a PDF or image by scan_sources and
raster; over a limit is ``InputTooLarge``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from keyceremony.errors import InputTooLarge, KeyCeremonyError, ScanError, ShareFormatError, UsageError
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.text import from_qr_text, from_text

if TYPE_CHECKING:
    from keyceremony.keys.backup_package import BackupPackage

T = TypeVar("T")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}

# Limits on a share or package file (docs/share-cards.md §5). The share file of a 256 MiB secret
# is about 805 MB with 17.9 million lines of about 45 bytes (docs/benchmarks.md).
#: Largest share or package file read; a card's PDF or image has its own limits (scan_sources).
MAX_SOURCE_BYTES = 1 << 30
#: Most lines in a share or package file.
MAX_SOURCE_LINES = 1 << 25
#: Longest line: a data line is about 45 bytes; a comment line carries a label of 64 at most.
MAX_SOURCE_LINE_BYTES = 4096


def read_shares(path: str) -> list[tuple[str, SharePayload]]:
    """All shares in one source as (name, payload) pairs; a card PDF may hold several pages."""
    p = Path(path)
    name = path
    if not p.exists():
        raise UsageError(f"{path}: no such file; check the path")
    if p.is_dir():
        raise UsageError(f"{path}: is a folder; name the share files in it (for example {path}/share-1.txt)")
    suffix = p.suffix.lower()
    if suffix == ".pdf" or suffix in IMAGE_SUFFIXES:
        from keyceremony.cards.scan_sources import read_qr_texts
        from keyceremony.keys.backup_package import is_package_qr_text

        texts = [t for t in read_qr_texts(p) if not is_package_qr_text(t)]
        shares = []
        for i, text in enumerate(texts, 1):
            source = name if len(texts) == 1 else f"{name} (code {i})"
            try:
                shares.append((source, from_qr_text(text, source=source)))
            except ShareFormatError:
                if len(texts) == 1:
                    raise
        if not shares:
            raise ScanError(f"{name}: the QR codes found are not keyceremony shares")
        return shares
    return [(name, from_text(_share_block(_read_text_file(p, name)), source=name))]


# --- shares and backup packages together ------------------------------------------------------

#: Longest share text typed in by hand: a 32-byte key's share is 3 lines of about 45 bytes.
MAX_TYPED_BYTES = 1 << 16


@dataclass
class SourceContents:
    """What one file holds: shares, backup packages, and what could not be read in it."""

    shares: list[tuple[str, SharePayload]] = field(default_factory=list)
    packages: list[tuple[str, BackupPackage]] = field(default_factory=list)
    problems: list[KeyCeremonyError] = field(default_factory=list)


def typed_contents(text: str, name: str) -> SourceContents:
    """The share in a text form typed in from a card (kept in memory, never written); ``name``
    says who typed it ("typed share #2"). A wrong line raises ShareFormatError naming it."""
    if len(text) > MAX_TYPED_BYTES:
        raise InputTooLarge(f"{len(text)} characters typed; a typed share is a few lines of its card",
                            limit="typed characters", found=len(text), allowed=MAX_TYPED_BYTES, source=name)
    return SourceContents(shares=[(name, from_text(text, source=name))])


def read_payloads(path: str) -> SourceContents:
    """Shares and backup packages in one source: a share or package text file (a share file may
    carry a package block after its lines), the binary ``package.kcb``, a card PDF or an image.

    A package that cannot be read beside a good share is reported in ``problems`` (the share is
    still usable, and other cards carry the package); a source with nothing usable raises.
    """
    from keyceremony.keys import backup_package
    from keyceremony.keys.backup_package import BackupPackage

    p = Path(path)
    if not p.exists():
        raise UsageError(f"{path}: no such file; check the path")
    if p.is_dir():
        raise UsageError(f"{path}: is a folder; name the files in it (for example {path}/package.kcb)")
    out = SourceContents()
    suffix = p.suffix.lower()
    if suffix == ".pdf" or suffix in IMAGE_SUFFIXES:
        from keyceremony.cards.scan_sources import read_qr_texts

        texts = read_qr_texts(p, min_codes=2)  # a backup's card: the share and the package
        share_texts = [t for t in texts if not backup_package.is_package_qr_text(t)]
        for i, text in enumerate(share_texts, 1):
            source = path if len(share_texts) == 1 else f"{path} (code {i})"
            _collect(out, out.shares, source, partial(from_qr_text, text, source=source))
        for text in texts:
            if text not in share_texts:
                source = f"{path} (backup package)"
                _collect(out, out.packages, source, partial(BackupPackage.from_qr_text, text, source=source))
    else:
        raw = _read_file(p, path)
        if backup_package.is_package_bytes(raw[:3]):
            out.packages.append((path, BackupPackage.from_bytes(raw, source=path)))
            return out
        _check_lines(raw, path)  # before the package blocks are looked for
        starts = _package_starts(raw)
        if not starts or raw[: starts[0]].strip():
            _collect(out, out.shares, path, lambda: from_text(_share_block(raw), source=path))
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(raw)
            try:
                block = "\n" * raw.count(b"\n", 0, start) + raw[start:end].decode("utf-8")  # keeps line numbers
            except UnicodeDecodeError:
                out.problems.append(ShareFormatError("the backup package block is not text", source=path))
                continue
            _collect(out, out.packages, path, partial(BackupPackage.from_text, block, source=path))
    if not out.shares and not out.packages:
        if len(out.problems) == 1:
            raise out.problems[0]
        raise ScanError(f"{path}: holds no readable keyceremony share or backup package")
    return out


def _collect(out: SourceContents, into: list[tuple[str, T]], source: str, read: Callable[[], T]) -> None:
    """Append (source, read()) to ``into``, or what went wrong to ``out.problems``."""
    try:
        into.append((source, read()))
    except KeyCeremonyError as err:
        out.problems.append(err)


# --- reading a file within the limits ------------------------------------------------------------

_ADVICE = (
    "give the share's own .txt file, a card's PDF or a photo of a card (a share file of a 256 MiB "
    "secret is about 805 MB)"
)


def _read_file(p: Path, name: str) -> bytes:
    """The whole file, refused before it is read if it is larger than ``MAX_SOURCE_BYTES``.

    A regular file is read in one piece of its own size (no copy); anything else (a pipe, a
    device) is read up to the limit and refused past it.
    """
    try:
        with p.open("rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISREG(info.st_mode):
                _check_size(info.st_size, name)
                raw = f.read()
            else:
                raw = f.read(MAX_SOURCE_BYTES + 1)
    except OSError as err:
        raise UsageError(f"{name}: cannot read the file: {err.strerror or err}") from None
    _check_size(len(raw), name)
    return raw


def _check_size(size: int, name: str) -> None:
    if size > MAX_SOURCE_BYTES:
        raise InputTooLarge.file_size(size, MAX_SOURCE_BYTES, "a share or package file", _ADVICE, source=name)


def _read_text_file(p: Path, name: str) -> bytes:
    raw = _read_file(p, name)
    _check_lines(raw, name)
    return raw


def _check_lines(raw: bytes, name: str) -> None:
    """Refuse a text with more than ``MAX_SOURCE_LINES`` lines or a line longer than
    ``MAX_SOURCE_LINE_BYTES``, naming the first long line. Without copying the file, and without
    numpy (reading one share stays light): about 0.05 s for a 200 MB share file. Line lengths
    are measured only in a file that starts like a share or package text; any other file (a
    secret given by mistake) is refused by its first line, which says what the file should be."""
    lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if lines > MAX_SOURCE_LINES:
        from keyceremony.keys.backup_package import is_package_bytes  # only here: reading a share stays light

        if not is_package_bytes(raw[:3]):  # a binary package.kcb is not lines
            _check_line_count(lines, name)
    if raw[:MAX_SOURCE_LINE_BYTES].lstrip()[:11].lower() != b"keyceremony":
        return  # a binary package.kcb too
    # A line longer than the limit holds a whole block of half the limit with no line feed:
    # look for such blocks (``find`` stops at the block's first line feed, a few bytes in), then
    # measure the lines they are in.
    block = (MAX_SOURCE_LINE_BYTES + 1) // 2
    measured = 0  # the lines before this offset are measured
    for at in range(0, len(raw) // block * block, block):
        if at < measured or raw.find(b"\n", at, at + block) >= 0:
            continue
        start = raw.rfind(b"\n", 0, at) + 1
        end = raw.find(b"\n", at)
        end = len(raw) if end < 0 else end
        if end - start > MAX_SOURCE_LINE_BYTES:
            _long_line(end - start, raw.count(b"\n", 0, start) + 1, name)
        measured = end


def _check_line_count(lines: int, name: str) -> None:
    if lines > MAX_SOURCE_LINES:
        raise InputTooLarge(
            f"the file has {lines:,} lines, more than the {MAX_SOURCE_LINES:,} a share or package file "
            f"may have (line count limit); {_ADVICE}",
            limit="line count", found=lines, allowed=MAX_SOURCE_LINES, source=name,
        )


def _long_line(length: int, line: int, name: str) -> NoReturn:
    raise InputTooLarge(
        f"the line is {length:,} bytes, more than the {MAX_SOURCE_LINE_BYTES:,} a line of a share or "
        f"package file may be (line length limit); {_ADVICE}",
        limit="line length", found=length, allowed=MAX_SOURCE_LINE_BYTES, source=name, line=line,
    )


_PACKAGE_HEADER = b"keyceremony backup package v"
_SEARCH_PIECE = 1 << 24  # bytes lower-cased at a time


def _package_starts(raw: bytes) -> list[int]:
    """Byte offsets of the lines that open a backup package block, in any case and indented or
    not. A share file of a large secret has millions of lines: ``find`` over lower-cased pieces
    (a per-line regex took 1.3 s on a 64 MiB secret's 201 MB file; this takes 0.3 s)."""
    found: set[int] = set()
    step, overlap = _SEARCH_PIECE, len(_PACKAGE_HEADER) - 1
    for lo in range(0, max(len(raw), 1), step):
        piece = raw[lo : lo + step + overlap].lower()
        pos = 0
        while (at := piece.find(_PACKAGE_HEADER, pos)) >= 0:
            found.add(lo + at)
            pos = at + 1
    starts = []
    for at in sorted(found):
        line = raw.rfind(b"\n", 0, at) + 1
        if not raw[line:at].strip(b" \t"):
            starts.append(line)
    return starts


def _share_block(raw: bytes) -> bytes:
    """The share's part of a share file that also carries a backup package block after it."""
    starts = _package_starts(raw)
    if not starts or not raw[: starts[0]].strip():
        return raw
    return raw[: starts[0]]
