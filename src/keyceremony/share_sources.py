"""Read shares from whatever a custodian brings: text files, card PDFs, scans and photos.

Text files are parsed here; PDFs and images are decoded by the scanning layer (scan_sources),
imported only when one is given, so reading text shares stays light.
"""

from __future__ import annotations

from pathlib import Path

from keyceremony.errors import ScanError, ShareFormatError, UsageError
from keyceremony.share_payload import SharePayload
from keyceremony.share_text import from_qr_text, from_text

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
        from keyceremony.scan_sources import read_qr_texts

        texts = read_qr_texts(p)
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
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ShareFormatError(
            "this file is not text; give a share .txt file, a card .pdf or a photo of a card",
            source=name,
        ) from None
    return [(name, from_text(text, source=name))]
