"""Render PDF pages to pixels. The only module that imports ``pypdfium2`` (docs/architecture.md §3).

pypdfium2 bundles PDFium, so no system poppler is needed, and it is about 15 times faster than
running ``pdftoppm``.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]  # pypdfium2 ships no py.typed
from PIL import Image

from keyceremony.errors import InputTooLarge, ScanError

__all__ = ["pdf_text", "render_pdf", "MAX_PDF_PAGES", "MAX_PAGE_POINTS", "MAX_PAGE_PIXELS"]

MIN_DPI = 30
MAX_DPI = 1200

# Limits on a PDF handed in (docs/share-cards.md §5), checked before any page is rendered.
#: Most pages: a card is one page; a scanner may put the cards of a few custodians in one file.
MAX_PDF_PAGES = 16
#: Longest side of a page, in points (1/72 in): US tabloid's 17 in, a little more than A3's 1191.
MAX_PAGE_POINTS = 1224
#: Most pixels of one rendered page: A4 at 600 dpi is 35 million, A3 at 400 dpi 31 million.
MAX_PAGE_PIXELS = 50_000_000


def render_pdf(pdf: bytes | str | Path, dpi: int = 200) -> list[Image.Image]:
    """Every page of *pdf* (its bytes, or a file path) as a grayscale (mode ``"L"``) image.

    Raises ``ValueError`` for a *dpi* outside 30..1200, ``ScanError`` if *pdf* is not a
    readable PDF (naming the file when a path was given), and ``InputTooLarge``, before
    anything is rendered, for more than ``MAX_PDF_PAGES`` pages, a page with a side longer than
    ``MAX_PAGE_POINTS`` or a page of more than ``MAX_PAGE_PIXELS`` pixels at *dpi*.

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
        _check_limits(document, name, dpi)
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


def _check_limits(document: pdfium.PdfDocument, name: str, dpi: int) -> None:
    count = len(document)
    if count > MAX_PDF_PAGES:
        raise InputTooLarge(
            f"the PDF has {count:,} pages, more than the {MAX_PDF_PAGES} keyceremony reads from one "
            "file (page count limit); give each card's own PDF (a card is one page)",
            limit="page count", found=count, allowed=MAX_PDF_PAGES, source=name,
        )
    for index in range(count):
        width, height = document.get_page_size(index)
        longest = round(max(width, height))
        if longest > MAX_PAGE_POINTS:
            raise InputTooLarge(
                f"page {index + 1} of the PDF measures {width:,.0f} × {height:,.0f} points "
                f"({width / 72 * 2.54:,.1f} × {height / 72 * 2.54:,.1f} cm), larger than the "
                f"{MAX_PAGE_POINTS} points a side keyceremony reads (page size limit: A3 or US "
                "tabloid); a card is printed on A4 or US Letter: give the card's own PDF or a scan of it",
                limit="page size", found=longest, allowed=MAX_PAGE_POINTS, source=name,
            )
        pixels = round(width * dpi / 72) * round(height * dpi / 72)
        if pixels > MAX_PAGE_PIXELS:
            raise InputTooLarge(
                f"page {index + 1} of the PDF would be {pixels:,} pixels at {dpi} dpi, more than the "
                f"{MAX_PAGE_PIXELS:,} keyceremony renders (pixel count limit); read it at a lower "
                "resolution",
                limit="pixel count", found=pixels, allowed=MAX_PAGE_PIXELS, source=name,
            )


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
