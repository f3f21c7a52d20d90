"""Draw the auditors' report of a ceremony transcript as PDF (docs/ceremony-guide.md §7).

A flowing, multi-page document: a box at the top of the first page saying whether the
transcript was anchored to the paper log (every key, with its fingerprint) and whether it is a
rehearsal, then summary, people, every entry, and signature lines for the witnesses and
auditors, in the fonts and colours of the cards. Reproducible like them:
reportlab's invariant mode fixes the creation date and document id.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Protocol
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from keyceremony.cards.pdf.fonts import MONO, SANS, SANS_BOLD, fit_one_line, printable
from keyceremony.cards.pdf.style import INK, MARGIN, MUTED, PAGE_SIZES, PANEL, RULE, mm

__all__ = ["ReportContent", "render_report_pdf"]


class ReportContent(Protocol):
    """What ``render_report_pdf`` draws; ``transcript.report.Report`` has this shape (cards/
    may not import transcript/: the layers contract in pyproject.toml)."""

    @property
    def title(self) -> str: ...
    @property
    def facts(self) -> Sequence[tuple[str, str]]: ...  # (label, value)
    @property
    def people(self) -> Sequence[tuple[str, str]]: ...  # (name, role)
    @property
    def entries(self) -> Sequence[tuple[str, str, str, str, str, str]]: ...  # seq, time, step, event, who, data
    @property
    def signers(self) -> Sequence[tuple[str, str]]: ...  # (name, role)
    @property
    def source_name(self) -> str: ...
    @property
    def anchor(self) -> str: ...  # ANCHORED, PARTLY ANCHORED or UNANCHORED; "": no box
    @property
    def anchor_summary(self) -> str: ...
    @property
    def keys(self) -> Sequence[tuple[str, str, str]]: ...  # which key, fingerprint, anchored or not
    @property
    def notices(self) -> Sequence[str]: ...  # REHEARSAL, answers changed at resume, ...


def render_report_pdf(report: ReportContent, *, paper: str = "a4") -> bytes:
    """A flowing, multi-page PDF of a ``transcript.report.Report``: summary, people, every entry,
    and signature lines for the witnesses and auditors. Reproducible like the cards."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=SANS, fontSize=8.5, leading=10.5)
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=8.6)
    mono = ParagraphStyle("mono", parent=small, fontName=MONO, fontSize=6.8, leading=8.2)
    heading = ParagraphStyle("h", parent=styles["Heading2"], fontName=SANS_BOLD, fontSize=11,
                             textColor=INK, spaceBefore=8, spaceAfter=4)
    title = ParagraphStyle("t", parent=styles["Title"], fontName=SANS_BOLD, fontSize=15,
                           textColor=INK, alignment=0, spaceAfter=6)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(printable(text)), style)

    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), SANS, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ])
    header = TableStyle([("BACKGROUND", (0, 0), (-1, 0), PANEL), ("FONT", (0, 0), (-1, 0), SANS_BOLD, 7.5)])
    page_w, page_h = PAGE_SIZES[paper]
    width = page_w - 2 * MARGIN
    story = [p(report.title, title), *_anchor_box(report, body, small, mono, width),
             p(f"From {report.source_name}. Every line was verified before this report "
                                         "was made; check the file's SHA-256 below against the file itself.", small)]
    story += [Spacer(1, 4), Table([[p(k, small), p(v)] for k, v in report.facts],
                                  colWidths=[38 * mm, width - 38 * mm], style=grid)]
    story += [p("People", heading), Table([[p(n), p(r)] for n, r in report.people] or [[p("(none)"), p("")]],
                                          colWidths=[width / 2, width / 2], style=grid)]
    cols = [10 * mm, 22 * mm, 28 * mm, 28 * mm, 40 * mm]
    cols.append(width - sum(cols))
    rows = [[p(h, small) for h in ("seq", "time (UTC)", "step", "event", "who", "data")]]
    rows += [[p(a, small), p(b, small), p(c, small), p(d, small), p(e, small), p(f, mono)]
             for a, b, c, d, e, f in report.entries]
    table = LongTable(rows, colWidths=cols, repeatRows=1)
    table.setStyle(grid)
    table.setStyle(header)
    story += [p("Entries", heading), table]
    # no one recorded (a ceremony aborted before its roll call): blank lines for who was there
    signers = report.signers or [("name: __________________", "role: ________")] * 3
    sign_rows = [[p(f"{n} ({r})"), p("signature: ______________________"), p("date: __________")]
                 for n, r in signers]
    story += [KeepTogether([p("Signatures", heading),
                            p("We were present and this report matches what we saw.", small), Spacer(1, 6),
                            Table(sign_rows, colWidths=[width * 0.4, width * 0.38, width * 0.22],
                                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                                                    ("TOPPADDING", (0, 0), (-1, -1), 14)]))])]

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN / 2, fit_one_line(printable(report.title), SANS, 7, width * 0.7))
        canvas.drawRightString(page_w - MARGIN, MARGIN / 2, f"page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=(page_w, page_h), leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN, title=report.title,
                            author="keyceremony", creator="keyceremony", invariant=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _anchor_box(
    report: ReportContent, body: ParagraphStyle, small: ParagraphStyle, mono: ParagraphStyle, width: float
) -> list[Table | Spacer]:
    """The box at the top of page 1: anchored or not, every key, and the notices."""
    if not report.anchor:
        return []
    strong = ParagraphStyle("strong", parent=body, fontName=SANS_BOLD, fontSize=9.5, leading=12)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(printable(text)), style)

    summary = report.anchor_summary
    rest = summary[len(report.anchor):].lstrip(" :") if summary.startswith(report.anchor) else summary
    rows: list[list[Paragraph | str]] = [[p(report.anchor, strong), "", ""], [p(rest), "", ""]]
    rows += [[p(which, small), p(fp, mono), p(status, small)] for which, fp, status in report.keys]
    rows += [[p(notice, strong), "", ""] for notice in report.notices]
    style = [
        ("BOX", (0, 0), (-1, -1), 1.5, INK),
        ("BACKGROUND", (0, 0), (-1, -1), PANEL),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("SPAN", (0, 0), (-1, 0)),
        ("SPAN", (0, 1), (-1, 1)),
    ]
    first_notice = 2 + len(report.keys)
    style += [("SPAN", (0, r), (-1, r)) for r in range(first_notice, len(rows))]
    if report.keys:
        style.append(("LINEABOVE", (0, 2), (-1, 2), 0.25, RULE))
    if report.notices:
        style.append(("LINEABOVE", (0, first_notice), (-1, first_notice), 0.25, RULE))
    return [Spacer(1, 2), Table(rows, colWidths=[42 * mm, 62 * mm, width - 104 * mm], style=TableStyle(style)),
            Spacer(1, 4)]
