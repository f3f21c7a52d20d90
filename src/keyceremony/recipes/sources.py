"""Read shares from whatever a custodian brings: text files, card PDFs, scans and photos.

Text files are parsed here; PDFs and images are decoded by the scanning layer (scan_sources),
imported only when one is given, so reading text shares stays light.

A key backup's cards and share files also carry its backup package (docs/backup-package.md):
a second QR code on the card, a ``keyceremony backup package v1`` block after the share's lines
in the share file, or the binary ``package.kcb``. ``read_shares`` skips the package;
``read_payloads`` returns both kinds, told apart by their magic ("KCS" share, "KCB" package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from keyceremony.errors import KeyCeremonyError, ScanError, ShareFormatError, UsageError
from keyceremony.keys import backup_package
from keyceremony.keys.backup_package import BackupPackage
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.text import from_qr_text, from_text

T = TypeVar("T")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


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

        texts = [t for t in read_qr_texts(p) if not backup_package.is_package_qr_text(t)]
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
    return [(name, from_text(_share_block(p.read_bytes()), source=name))]


# --- shares and backup packages together ------------------------------------------------------


@dataclass
class SourceContents:
    """What one file holds: shares, backup packages, and what could not be read in it."""

    shares: list[tuple[str, SharePayload]] = field(default_factory=list)
    packages: list[tuple[str, BackupPackage]] = field(default_factory=list)
    problems: list[KeyCeremonyError] = field(default_factory=list)


def read_payloads(path: str) -> SourceContents:
    """Shares and backup packages in one source: a share or package text file (a share file may
    carry a package block after its lines), the binary ``package.kcb``, a card PDF or an image.

    A package that cannot be read beside a good share is reported in ``problems`` (the share is
    still usable, and other cards carry the package); a source with nothing usable raises.
    """
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
        head = p.read_bytes()[:3]
        if backup_package.is_package_bytes(head):
            out.packages.append((path, BackupPackage.from_bytes(p.read_bytes(), source=path)))
            return out
        raw = p.read_bytes()
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
