"""What cards and reports share on the page: paper sizes, the margin and the colours."""

from __future__ import annotations

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm as reportlab_mm

__all__ = ["BAND", "BAND_TEXT_MUTED", "INK", "MARGIN", "MUTED", "PAGE_SIZES", "PANEL", "RULE", "mm"]

mm: float = reportlab_mm  # points per millimetre, typed (reportlab ships no types)

#: Page sizes in points by the name a card or report is asked for.
PAGE_SIZES = {"a4": A4, "letter": LETTER}

MARGIN = 13 * mm  # inside which any printer can print

INK = HexColor("#111827")
MUTED = HexColor("#4B5563")
RULE = HexColor("#9CA3AF")
BAND = HexColor("#1F2937")
BAND_TEXT_MUTED = HexColor("#D1D5DB")
PANEL = HexColor("#F3F4F6")
