"""Render PDF pages to pixels. The only module that imports ``pypdfium2`` (docs/architecture.md §3).

pypdfium2 bundles PDFium, so no system poppler is needed, and it is about 15 times faster than
running ``pdftoppm``.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]  # pypdfium2 ships no py.typed
from PIL import Image

from keyceremony.errors import ScanError

__all__ = ["pdf_text", "render_pdf"]

MIN_DPI = 30
MAX_DPI = 1200


def render_pdf(pdf: bytes | str | Path, dpi: int = 200) -> list[Image.Image]:
    """Every page of *pdf* (its bytes, or a file path) as a grayscale (mode ``"L"``) image.

    Raises ``ValueError`` for a *dpi* outside 30..1200 and ``ScanError`` if *pdf* is not a
    readable PDF (naming the file when a path was given).

    >>> [page.size for page in render_pdf(render_card_pdf(card), dpi=72)]   # doctest: +SKIP
    [(595, 842)]
    """
    if not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi must be an int in {MIN_DPI}..{MAX_DPI}, got {dpi!r}")
    source = pdf if isinstance(pdf, bytes) else Path(pdf)
    name = "the PDF" if isinstance(pdf, bytes) else str(pdf)
    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as err:
        raise ScanError(f"{name} is not a readable PDF ({err}); export or scan it again") from None
    except OSError as err:
        raise ScanError(f"cannot open {name}: {err.strerror or err}") from None
    try:
        pages: list[Image.Image] = []
        for index in range(len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                image = bitmap.to_pil().convert("L")  # copy out of PDFium's buffer
                bitmap.close()
            finally:
                page.close()
            pages.append(image)
        return pages
    finally:
        document.close()


def pdf_text(pdf: bytes | str | Path) -> list[str]:
    """The text PDFium extracts from every page, for checking what a rendered document says."""
    document = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else Path(pdf))
    try:
        texts: list[str] = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()
