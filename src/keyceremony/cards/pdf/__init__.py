"""PDF drawing: share cards and the auditors' transcript report. The only package that imports
``reportlab`` (docs/architecture.md §3); importing it loads reportlab and registers the fonts.

- :mod:`.style` — paper sizes, the margin and the colours cards and reports share;
- :mod:`.fonts` — DejaVu (or the standard PDF fonts) and which characters they can print;
- :mod:`.card_page` — one share card as one page (``render_card_pdf``);
- :mod:`.report` — the auditors' report of a transcript (``render_report_pdf``).
"""

from keyceremony.cards.pdf.card_page import render_card_pdf
from keyceremony.cards.pdf.fonts import FONT_DESCRIPTION, FONT_DIRS, printable, unprintable
from keyceremony.cards.pdf.report import ReportContent, render_report_pdf

__all__ = ["FONT_DESCRIPTION", "FONT_DIRS", "ReportContent", "printable", "render_card_pdf", "render_report_pdf",
           "unprintable"]
