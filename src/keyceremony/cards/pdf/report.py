"""Draw the auditors' report of a ceremony transcript as PDF (docs/ceremony-guide.md §7).

A flowing, multi-page document: a box at the top of the first page saying whether the
transcript was anchored to the paper log (every key, with its fingerprint) and whether it is a
rehearsal, then summary, people, every entry (under a row per step saying who was present, so
names are not repeated on every entry; every value whole: docs/auditor-guide.md §5), and
signature lines for the witnesses and auditors, in the fonts and colours of the cards. Reproducible like them:
reportlab's invariant mode fixes the creation date and document id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Protocol
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfbase.pdfmetrics import stringWidth
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
    and signature lines for the witnesses and auditors. Reproducible like the cards. No value is
    ever cut: text wraps at spaces (a line break in a value starts a new line), and a word wider
    than its column breaks only after a hyphen or between groups of 8 characters (``_whole``)."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=SANS, fontSize=8.5, leading=10.5,
                          spaceBefore=0, splitLongWords=0)  # words are made to fit by _whole, never split by reportlab
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=8.6)
    bold = ParagraphStyle("bold", parent=small, fontName=SANS_BOLD, fontSize=7.5, leading=9)
    mono = ParagraphStyle("mono", parent=small, fontName=MONO, fontSize=6.8, leading=8.2)
    heading = ParagraphStyle("h", parent=styles["Heading2"], fontName=SANS_BOLD, fontSize=11,
                             textColor=INK, spaceBefore=8, spaceAfter=4, splitLongWords=0)
    title = ParagraphStyle("t", parent=styles["Title"], fontName=SANS_BOLD, fontSize=15,
                           textColor=INK, alignment=0, spaceAfter=6, splitLongWords=0)
    page_w, page_h = PAGE_SIZES[paper]
    width = page_w - 2 * MARGIN

    def p(text: str, style: ParagraphStyle = body, column: float = width) -> Paragraph:
        return Paragraph(_whole(text, style.fontName, style.fontSize, column - 2 * _PAD), style)

    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), SANS, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
    ])
    header = TableStyle([("BACKGROUND", (0, 0), (-1, 0), PANEL), ("FONT", (0, 0), (-1, 0), SANS_BOLD, 7.5)])
    story = [p(report.title, title), *_anchor_box(report, body, small, mono, width),
             p(f"From {report.source_name}. Every line was verified before this report "
                                         "was made; check the file's SHA-256 below against the file itself.", small)]
    label_w = 38 * mm
    story += [Spacer(1, 4), Table([[p(k, small, label_w), p(v, body, width - label_w)] for k, v in report.facts],
                                  colWidths=[label_w, width - label_w], style=grid)]
    half = width / 2
    story += [p("People", heading),
              Table([[p(n, body, half), p(r, body, half)] for n, r in report.people] or [[p("(none)"), p("")]],
                    colWidths=[half, half], style=grid)]
    cols = [9 * mm, 20 * mm, 32 * mm]
    cols.append(width - sum(cols))
    rows: list[list[Paragraph | list[Paragraph] | str]] = [
        [p(h, small, c) for h, c in zip(("seq", "time (UTC)", "event", "data"), cols, strict=True)]]
    steps: list[int] = []  # rows that open a step (or a change of who is present): span the table
    shown: tuple[str, str] | None = None
    for seq, time, step, event, who, data in report.entries:
        if (step, who) != shown:
            again = " (continued)" if shown is not None and shown[0] == step else ""
            present = f"Present from here: {who}" if who else "No one recorded as present."
            steps.append(len(rows))
            mark = _whole(f"{step}{again}", SANS_BOLD, bold.fontSize, width - 2 * _PAD)
            rows.append([Paragraph(f'<font face="{SANS_BOLD}" size="{bold.fontSize}">{mark}</font> \u00b7 '
                                   + _whole(present, SANS, small.fontSize, width - 2 * _PAD), small), "", "", ""])
            shown = (step, who)
        rows.append([p(seq, small, cols[0]), p(time, small, cols[1]), p(event, small, cols[2]),
                     p(data, mono, cols[3])])
    table = LongTable(rows, colWidths=cols, repeatRows=1)
    table.setStyle(grid)
    table.setStyle(header)
    table.setStyle(TableStyle([cmd for r in steps for cmd in (("SPAN", (0, r), (-1, r)),
                                                                ("BACKGROUND", (0, r), (-1, r), PANEL),
                                                                ("NOSPLIT", (0, r), (-1, r + 1)))]))  # with its entry
    story += [p("Entries", heading),
              p("Attendance is listed once at each step (and again where it changes), not on every entry.", small),
              table]
    # no one recorded (a ceremony aborted before its roll call): blank lines for who was there
    signers = report.signers or [("name: __________________", "role: ________")] * 3
    sign_w = [width * 0.4, width * 0.38, width * 0.22]
    sign_rows = [[p(f"{n} ({r})", body, sign_w[0]), p("signature: ______________________", body, sign_w[1]),
                  p("date: __________", body, sign_w[2])] for n, r in signers]
    story += [KeepTogether([p("Signatures", heading),
                            p("We were present and this report matches what we saw.", small), Spacer(1, 6),
                            Table(sign_rows, colWidths=sign_w,
                                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                                                    ("TOPPADDING", (0, 0), (-1, -1), 14),
                                                    ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
                                                    ("RIGHTPADDING", (0, 0), (-1, -1), _PAD)]))])]

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
    cols = [42 * mm, 62 * mm, width - 104 * mm]

    def p(text: str, style: ParagraphStyle = body, column: float = width) -> Paragraph:
        return Paragraph(_whole(text, style.fontName, style.fontSize, column - 2 * _PAD), style)

    summary = report.anchor_summary
    rest = summary[len(report.anchor):].lstrip(" :") if summary.startswith(report.anchor) else summary
    rows: list[list[Paragraph | str]] = [[p(report.anchor, strong), "", ""], [p(rest), "", ""]]
    rows += [[p(which, small, cols[0]), p(fp, mono, cols[1]), p(status, small, cols[2])]
             for which, fp, status in report.keys]
    rows += [[p(notice, strong), "", ""] for notice in report.notices]
    style = [
        ("BOX", (0, 0), (-1, -1), 1.5, INK),
        ("BACKGROUND", (0, 0), (-1, -1), PANEL),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("SPAN", (0, 0), (-1, 0)),
        ("SPAN", (0, 1), (-1, 1)),
    ]
    first_notice = 2 + len(report.keys)
    style += [("SPAN", (0, r), (-1, r)) for r in range(first_notice, len(rows))]
    if report.keys:
        style.append(("LINEABOVE", (0, 2), (-1, 2), 0.25, RULE))
    if report.notices:
        style.append(("LINEABOVE", (0, first_notice), (-1, first_notice), 0.25, RULE))
    return [Spacer(1, 2), Table(rows, colWidths=cols, style=TableStyle(style)),
            Spacer(1, 4)]


_PAD = 4  # points of padding left and right in every table cell
_GROUP = 8  # a word wider than its column breaks between groups of this many characters (hex, base32)


def _whole(text: str, font: str, size: float, width: float) -> str:
    """Paragraph markup of *text* in which nothing is cut and no word is split at random: lines
    of *text* stay lines, reportlab wraps at spaces, and a word wider than *width* (a hash, a
    path) is set on lines of its own, broken after a hyphen or between groups of ``_GROUP``
    characters, counted from its start or its last hyphen."""
    out: list[str] = []
    for line in text.split("\n"):
        words = printable(line).split(" ")
        parts: list[str] = []
        for i, word in enumerate(words):
            if stringWidth(word, font, size) <= width:
                parts.append(escape(word) + (" " if i < len(words) - 1 else ""))
                continue
            pieces = "<br/>".join(escape(piece) for piece in _pieces(word, font, size, width))
            before = "<br/>" if parts else ""
            parts.append(before + pieces + ("<br/>" if i < len(words) - 1 else ""))
        out.append("".join(parts))
    return "<br/>".join(out)


def _pieces(word: str, font: str, size: float, width: float) -> list[str]:
    """*word* as lines no wider than *width* (as far as a group of ``_GROUP`` characters allows),
    broken after hyphens and then between groups."""
    atoms: list[str] = []
    for part in re.findall(r"[^-]*-|[^-]+", word):
        if stringWidth(part, font, size) <= width:
            atoms.append(part)
        else:
            atoms += [part[i : i + _GROUP] for i in range(0, len(part), _GROUP)]
    lines = [""]
    for atom in atoms:
        if lines[-1] and stringWidth(lines[-1] + atom, font, size) > width:
            lines.append(atom)
        else:
            lines[-1] += atom
    return lines
