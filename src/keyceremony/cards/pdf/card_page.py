"""Draw a share card as PDF: one page, or two for a key backup (docs/share-cards.md §2).

A share card's layout, top to bottom, all inside 13 mm margins so any printer can print it:

1. a dark heading band: what the card is, and "Share i of n";
2. the QR code as vector rectangles, 88 mm square including its 4-module quiet zone, with the
   card's details beside it (key label, share rule, set id, date, custodian, key check value,
   fingerprint and fingerprint words);
3. the typeable form of the share in a monospaced font, and the handling and recovery
   instructions, side by side when the text lines are short enough, otherwise one under the other;
4. lines to write on by hand at sealing time (bag number, date, signatures): space is kept for
   them first, and only a plain card that would not fit otherwise goes without;
5. a footer line ("page 1 of 1", or "page 1 of 2" on a backup's card).

A card of a key backup (``card.package_qr_text`` set) also shows the backup package, which is not
secret, as a second, smaller QR code labelled as such: under the typeable form, or beside it with
the instructions below both, whichever fits at the larger type. Its share code is drawn at 76 mm
(about 1 mm per module) to make room. Its page 2 (``card.package_text_lines``) repeats the key
label, share and set, and prints the package's typeable form (header and numbered lines) in the
same monospaced style, as large as fits (down to 7 pt), for a recovery from the cards' text alone.
Every card ``keyceremony backup`` can make fits, down to 64-character labels and custodians and a
P-256 package on US Letter (tests/test_backup_cards.py); a package card whose other fields are all
near their limits may not, and then ``render_card_pdf`` raises ``ValueError``.

Font sizes of part 3 step down until the card fits, so every ``CardContent`` that validates fits
on one page of A4 or US Letter. The fonts, and which characters they print, are in
:mod:`.fonts` (docs/share-cards.md §2.1).

The output is reproducible: reportlab's invariant mode fixes the creation date and document id,
so identical input gives identical bytes (sample cards are checked byte for byte).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib.colors import white
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from keyceremony.cards.model import NO_CODE_PAGE_NOTE, CardContent
from keyceremony.cards.pdf.fonts import FONT_DESCRIPTION, MONO, MONO_BOLD, SANS, SANS_BOLD, fit_one_line, unprintable
from keyceremony.cards.pdf.style import BAND, BAND_TEXT_MUTED, INK, MARGIN, MUTED, PAGE_SIZES, PANEL, RULE, mm
from keyceremony.cards.qr import qr_matrix

__all__ = ["render_card_pdf"]

QR_BLOCK = 88 * mm  # symbol plus the 4-module quiet zone on each side
BACKUP_QR_BLOCK = 76 * mm  # the share's code on a card that also carries the backup package
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 §6.3.8
BAND_HEIGHT = 21 * mm
GAP = 6 * mm
COLUMN_GAP = 7 * mm
FOOTER_HEIGHT = 7 * mm
MIN_INSTRUCTION_COLUMN = 70 * mm
SIGN_OFF_HEIGHT = 11 * mm
SIGN_OFF_GAP = 3 * mm  # between the part above and the sealing lines
CODE_PAD = 3.5 * mm
# The backup package's QR code: as large as fits, but never under 0.4 mm per module, so it reads
# back at 150 dpi (2.4 px per module) and from a flatbed scan or a phone photo of the page.
PACKAGE_QR_SIZES = (56 * mm, 52 * mm, 48 * mm, 44 * mm, 40 * mm, 36 * mm)
PACKAGE_MIN_MODULE = 0.4 * mm
PACKAGE_TEXT_SIZE = 7.5
PACKAGE_TEXT_MIN_WIDTH = 32 * mm  # narrower than this, the text goes under the package's code

LABEL_FONT = (SANS_BOLD, 7)
LABEL_HEIGHT = 3.4 * mm
FIELD_GAP = 2.6 * mm

# Type sizes are stepped down, details first, until the card fits on its page.
_DETAILS_SCALES = (1.0, 0.9, 0.8, 0.7)
# (typeable text size, instruction text size)
_SIZE_STEPS = ((11.0, 9.0), (10.5, 8.75), (10.0, 8.5), (9.5, 8.0), (9.0, 7.5), (8.5, 7.0),
               (8.0, 6.75), (7.5, 6.5), (7.0, 6.25))


@dataclass(frozen=True)
class _Field:
    label: str
    lines: tuple[str, ...]
    font: str
    size: float
    color: object = INK

    @property
    def leading(self) -> float:
        return self.size * 1.25

    @property
    def height(self) -> float:
        return LABEL_HEIGHT + len(self.lines) * self.leading


def render_card_pdf(card: CardContent) -> bytes:
    """One page of PDF (A4 or US Letter, from ``card.paper``) showing *card*; two pages when it
    carries the package's typeable form (``card.pages``).

    Deterministic: the same *card* always gives the same bytes.

    Raises ``ValueError`` if a text field has a character the fonts cannot print (see
    ``unprintable``), or if the QR text cannot be encoded (see ``qr.qr_matrix``).

    >>> pdf = render_card_pdf(card)   # doctest: +SKIP
    >>> pdf[:5]
    b'%PDF-'
    """
    _check_printable(card)
    matrix = qr_matrix(card.qr_text)
    package = _package_matrix(card.package_qr_text) if card.package_qr_text is not None else None
    page_w, page_h = PAGE_SIZES[card.paper]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(page_w, page_h), invariant=1, pageCompression=1)
    c.setTitle(f"{card.title}: {card.key_label}, share {card.share_index} of {card.share_count}")
    c.setAuthor("keyceremony")
    c.setCreator("keyceremony")
    c.setSubject(f"Share card for set {card.set_id}")

    left, right = MARGIN, page_w - MARGIN
    width = right - left
    top = page_h - MARGIN

    bottom = MARGIN + FOOTER_HEIGHT + 3 * mm
    qr_block = QR_BLOCK if package is None else BACKUP_QR_BLOCK  # v13: still ~1 mm per module
    details_x = left + qr_block + COLUMN_GAP
    qr_top = top - BAND_HEIGHT - GAP
    caption_y = qr_top - qr_block - 3.6 * mm
    sign_off = True
    try:  # room for the sealing lines first
        details, lower_top, lower = _plan_page(card, right - details_x, width,
                                               caption_y - 1.5 * mm, qr_top, bottom + SIGN_OFF_HEIGHT + SIGN_OFF_GAP,
                                               _package_sizes(package))
    except ValueError:
        if package is not None:
            raise
        details, lower_top, lower = _plan_page(card, right - details_x, width,
                                               caption_y - 1.5 * mm, qr_top, bottom)
        sign_off = lower_top - lower.height - bottom >= SIGN_OFF_HEIGHT + SIGN_OFF_GAP

    _draw_band(c, card, left, top, width)
    _draw_qr(c, matrix, left, qr_top, qr_block)
    c.setFont(SANS, 7)
    c.setFillColor(MUTED)
    command = "keyceremony recover" if package is not None else "keyceremony combine"
    c.drawCentredString(left + qr_block / 2, caption_y,
                        f"Scan only at a recovery ceremony:  {command}")
    _draw_details(c, details, details_x, qr_top, right - details_x)
    _draw_lower(c, card, lower, left, lower_top)
    if package is not None:
        _draw_package(c, package, lower, left, lower_top)
    if sign_off:
        _draw_sign_off(c, left, bottom, width)
    _draw_footer(c, card, left, width, 1)
    c.showPage()
    if card.package_text_lines is not None:
        _draw_package_page(c, card, card.package_text_lines, left, top, width, bottom)
        _draw_footer(c, card, left, width, 2)
        c.showPage()
    c.save()
    return buf.getvalue()


def _check_printable(card: CardContent) -> None:
    texts = {
        "title": card.title, "key_label": card.key_label, "set_id": card.set_id,
        "custodian": card.custodian or "", "key_check_value": card.key_check_value or "",
    }
    texts.update({f"instructions[{i}]": s for i, s in enumerate(card.instructions)})
    for name, text in texts.items():
        bad = unprintable(text)
        if bad is not None:
            raise ValueError(f"{name} contains {bad!r} (U+{ord(bad):04X}), which {FONT_DESCRIPTION} cannot print")


# --- parts of the page ------------------------------------------------------------------------


def _draw_band(c: Canvas, card: CardContent, x: float, top: float, width: float,
               subtitle: str = "One share of a split secret key. Treat it like the key itself.") -> None:
    c.setFillColor(BAND)
    c.roundRect(x, top - BAND_HEIGHT, width, BAND_HEIGHT, 2.2 * mm, stroke=0, fill=1)
    pad = 6 * mm
    base1 = top - 9.5 * mm
    base2 = top - 15.5 * mm
    c.setFillColor(white)
    c.setFont(SANS_BOLD, 17)
    share = f"SHARE {card.share_index} OF {card.share_count}"
    c.drawRightString(x + width - pad, base1, share)
    share_w = stringWidth(share, SANS_BOLD, 17)
    title = fit_one_line(card.title, SANS_BOLD, 17, width - 2 * pad - share_w - 8 * mm)
    c.drawString(x + pad, base1, title)
    c.setFillColor(BAND_TEXT_MUTED)
    c.setFont(SANS, 8.5)
    c.drawString(x + pad, base2, subtitle)
    if card.threshold == 1:
        rule = "any one share recovers the key"
    else:
        rule = f"any {card.threshold} of {card.share_count} shares recover the key"
    c.drawRightString(x + width - pad, base2, rule)


def _draw_qr(c: Canvas, matrix: list[list[bool]], x: float, top: float, size: float) -> None:
    """The symbol with its quiet zone as one filled path of horizontal runs (no seams)."""
    n = len(matrix)
    module = size / (n + 2 * QUIET_ZONE_MODULES)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.roundRect(x, top - size, size, size, 1.5 * mm, stroke=1, fill=0)
    origin_x = x + QUIET_ZONE_MODULES * module
    origin_y = top - QUIET_ZONE_MODULES * module
    path = c.beginPath()
    for row_index, row in enumerate(matrix):
        col = 0
        while col < n:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < n and row[col]:
                col += 1
            path.rect(origin_x + start * module, origin_y - (row_index + 1) * module,
                      (col - start) * module, module)
    c.setFillColor(INK)
    c.drawPath(path, stroke=0, fill=1)


_Row = tuple[_Field, ...]  # one field across the column, or two side by side


def _details(card: CardContent, width: float, scale: float) -> list[_Row]:
    half = (width - 4 * mm) / 2

    def field(label: str, text: str, font: str, size: float, w: float = width,
              color: object = INK) -> _Field:
        return _Field(label, _wrap(text, font, size * scale, w), font, size * scale, color)

    def blank(label: str) -> _Field:
        """A line to write on by hand, as wide as the column."""
        n = int(half / stringWidth("_", SANS, 10.5 * scale))
        return field(label, "_" * n, SANS, 10.5, half, RULE)

    custodian = (field("Custodian", card.custodian, SANS, 10.5, half)
                 if card.custodian is not None else blank("Custodian"))
    kcv = (field("Key check value", card.key_check_value, MONO_BOLD, 11, half)
           if card.key_check_value is not None else blank("Key check value"))
    rows = [
        (field("Key label", card.key_label, SANS_BOLD, 13),),
        (field("Share", card.share_line, SANS, 10.5),),
        (field("Set ID", card.set_id, MONO_BOLD, 11, half),
         field("Created", card.created, SANS, 10.5, half)),
        (custodian, kcv),
        (field("Fingerprint", card.fingerprint, MONO_BOLD, 10),),
        (field("Fingerprint words", " ".join(card.fingerprint_words), SANS, 10),),
    ]
    if card.ceremony_fingerprint is not None:  # made at a ceremony: its transcript key
        rows.append((field("Ceremony key fingerprint", card.ceremony_fingerprint, MONO_BOLD, 9),))
    return rows


def _details_height(rows: list[_Row]) -> float:
    return sum(max(f.height for f in row) for row in rows) + FIELD_GAP * (len(rows) - 1)


def _draw_details(c: Canvas, rows: list[_Row], x: float, top: float, width: float) -> None:
    column = (width - 4 * mm) / 2 + 4 * mm
    y = top
    for row in rows:
        for i, f in enumerate(row):
            _draw_field(c, f, x + i * column, y)
        y -= max(f.height for f in row) + FIELD_GAP


def _draw_field(c: Canvas, f: _Field, x: float, top: float) -> None:
    c.setFillColor(MUTED)
    c.setFont(*LABEL_FONT)
    c.drawString(x, top - LABEL_FONT[1], f.label.upper())
    c.setFillColor(f.color)
    c.setFont(f.font, f.size)
    y = top - LABEL_HEIGHT - f.size
    for line in f.lines:
        c.drawString(x, y, line)
        y -= f.leading


@dataclass(frozen=True)
class _PackagePlan:
    """The backup package block: heading, QR code, and what it is, beside the code or under it."""

    size: float  # the QR code with its quiet zone
    width: float
    text: tuple[Paragraph, ...]

    @property
    def text_beside(self) -> bool:
        return self.width - self.size - 4 * mm >= PACKAGE_TEXT_MIN_WIDTH

    @property
    def text_width(self) -> float:
        return self.width - self.size - 4 * mm if self.text_beside else self.width

    @property
    def text_height(self) -> float:
        height: float = sum(p.wrap(self.text_width, 10_000)[1] + p.style.spaceAfter for p in self.text)
        return height

    @property
    def height(self) -> float:
        body = (max(self.size, self.text_height) if self.text_beside
                else self.size + 2 * mm + self.text_height)
        return _section_heading_height() + body


@dataclass(frozen=True)
class _LowerPlan:
    side_by_side: bool
    code_size: float
    code_width: float
    code_height: float  # heading included
    instructions: list[Paragraph]
    instructions_width: float
    instructions_height: float  # heading included
    package: _PackagePlan | None = None
    package_beside_code: bool = False  # else under the code (instructions beside or under both)

    @property
    def height(self) -> float:
        if self.package is None:
            if self.side_by_side:
                return max(self.code_height, self.instructions_height)
            return self.code_height + GAP + self.instructions_height
        if self.side_by_side:  # package under the code, instructions in the right column
            return max(self.code_height + GAP + self.package.height, self.instructions_height)
        if self.package_beside_code:  # instructions under both
            return max(self.code_height, self.package.height) + GAP + self.instructions_height
        return self.code_height + GAP + self.package.height + GAP + self.instructions_height

    @property
    def instructions_top(self) -> float:
        """Distance from the top of the lower part to the instructions' heading."""
        if self.side_by_side:
            return 0.0
        if self.package is None:
            return self.code_height + GAP
        if self.package_beside_code:
            return max(self.code_height, self.package.height) + GAP
        return self.code_height + GAP + self.package.height + GAP


def _plan_page(card: CardContent, details_width: float, width: float, qr_bottom: float,
               top: float, bottom: float, package_sizes: tuple[float, ...] = (0.0,),
               ) -> tuple[list[_Row], float, _LowerPlan]:
    """Choose type sizes: the typeable lines stay as large as possible, details shrink first;
    at each type size the backup package's QR code (if any) is as large as fits.

    Returns the details rows, the top of the lower part and its plan. Raises ``ValueError`` if
    nothing fits (CardContent's limits are chosen so that this does not happen).
    """
    for code_size, text_size in _SIZE_STEPS:
        for package_size in package_sizes:
            for details_scale in _DETAILS_SCALES:
                details = _details(card, details_width, details_scale)
                lower_top = min(qr_bottom, top - _details_height(details)) - GAP
                lower = _plan_lower(card, width, lower_top - bottom, code_size, text_size,
                                    package_size)
                if lower is not None:
                    return details, lower_top, lower
    raise ValueError("the card's details, text lines and instructions do not fit on one page")


@functools.lru_cache(maxsize=4)
def _package_matrix(text: str) -> list[list[bool]]:
    """The package's QR code is the same on every card of a backup: build it once (~0.1 s)."""
    return qr_matrix(text)


def _package_sizes(matrix: list[list[bool]] | None) -> tuple[float, ...]:
    """Sizes to try for the package's QR code, largest first; (0,) when there is none."""
    if matrix is None:
        return (0.0,)
    smallest = (len(matrix) + 2 * QUIET_ZONE_MODULES) * PACKAGE_MIN_MODULE
    return tuple(s for s in PACKAGE_QR_SIZES if s > smallest) + (smallest,)


def _plan_lower(card: CardContent, width: float, available: float, code_size: float,
                text_size: float, package_size: float = 0.0) -> _LowerPlan | None:
    """The typeable form and instructions (and the package block) at these sizes, if they fit
    in *available*.

    Arrangements, in order: instructions beside the typeable form (the package block under the
    form); the package block beside the form and the instructions under both; all stacked.
    """
    longest = max(len(line) for line in card.text_lines)
    heading = _section_heading_height()
    code_w = longest * stringWidth("M", MONO, code_size) + 2 * CODE_PAD  # monospaced: one advance
    if code_w > width:
        return None
    code_h = heading + _code_box_height(card, code_size)
    side_w = width - code_w - COLUMN_GAP
    text = _package_paragraphs(card) if package_size else ()
    if side_w >= MIN_INSTRUCTION_COLUMN:
        package = _PackagePlan(package_size, code_w, text) if package_size else None
        if package is None or package.width >= package.size:
            paras, instr_h = _instruction_paragraphs(card, text_size, side_w)
            plan = _LowerPlan(True, code_size, code_w, code_h, paras, side_w, heading + instr_h,
                              package)
            if plan.height <= available:
                return plan
    paras, instr_h = _instruction_paragraphs(card, text_size, width)
    if package_size and side_w >= package_size:
        plan = _LowerPlan(False, code_size, code_w, code_h, paras, width, heading + instr_h,
                          _PackagePlan(package_size, side_w, text), package_beside_code=True)
        if plan.height <= available:
            return plan
    package = _PackagePlan(package_size, width, text) if package_size else None
    plan = _LowerPlan(False, code_size, width, code_h, paras, width, heading + instr_h, package)
    if plan.height <= available:
        return plan
    return None


def _draw_lower(c: Canvas, card: CardContent, plan: _LowerPlan, x: float, top: float) -> None:
    _draw_code(c, card, x, top, plan.code_width, plan.code_size)
    if plan.side_by_side:
        _draw_instructions(c, plan.instructions, x + plan.code_width + COLUMN_GAP, top,
                           plan.instructions_width)
    else:
        _draw_instructions(c, plan.instructions, x, top - plan.instructions_top,
                           plan.instructions_width)


def _package_paragraphs(card: CardContent) -> tuple[Paragraph, ...]:
    """What the package's QR code is, beside it (the same on every card of the set)."""
    style = ParagraphStyle("package", fontName=SANS, fontSize=PACKAGE_TEXT_SIZE,
                           leading=PACKAGE_TEXT_SIZE * 1.3, textColor=INK,
                           spaceAfter=PACKAGE_TEXT_SIZE * 0.5)
    shares = "one share" if card.threshold == 1 else f"{card.threshold} shares"
    return (
        Paragraph("<b>Not secret.</b> " + _markup(
            "The wrapped key, its check value and canary, signed with this set's key. On its "
            f"own it cannot recover the key; it needs {shares}."), style),
        Paragraph(_markup(
            "`keyceremony recover` reads it from any card of the set; its typeable form is on "
            "page 2. The file package.kcb and every share file of the backup hold the same "
            "package."), style),
    )


def _draw_package(c: Canvas, matrix: list[list[bool]], plan: _LowerPlan, x: float,
                  top: float) -> None:
    """The backup package block: heading, QR code, and what it is beside or under it."""
    package = plan.package
    assert package is not None
    if plan.package_beside_code:
        x += plan.code_width + COLUMN_GAP
    else:
        top -= plan.code_height + GAP
    _draw_section_heading(c, "Backup package", x, top, package.width,
                          "not secret \u00b7 same on every card")
    y = top - _section_heading_height()
    _draw_qr(c, matrix, x, y, package.size)
    if package.text_beside:
        text_x = x + package.size + 4 * mm
    else:
        text_x, y = x, y - package.size - 2 * mm
    for p in package.text:
        _, h = p.wrap(package.text_width, 10_000)
        p.drawOn(c, text_x, y - h)
        y -= h + p.style.spaceAfter


def _section_heading_height() -> float:
    return 7 * mm


def _draw_section_heading(c: Canvas, text: str, x: float, top: float, width: float,
                          note: str = "") -> None:
    c.setFillColor(INK)
    c.setFont(SANS_BOLD, 10.5)
    c.drawString(x, top - 10.5, text)
    if note:
        c.setFillColor(MUTED)
        c.setFont(SANS, 7.5)
        room = width - stringWidth(text, SANS_BOLD, 10.5) - 4 * mm
        c.drawRightString(x + width, top - 10.5, fit_one_line(note, SANS, 7.5, room))
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    c.line(x, top - 5 * mm, x + width, top - 5 * mm)


def _code_box_height(card: CardContent, size: float) -> float:
    return len(card.text_lines) * size * 1.4 + 2 * CODE_PAD - size * 0.4


def _draw_code(c: Canvas, card: CardContent, x: float, top: float, width: float,
               size: float) -> None:
    _draw_section_heading(c, "Typeable form", x, top, width, "type exactly as printed")
    box_top = top - _section_heading_height()
    _draw_code_panel(c, card.text_lines, x, box_top, width, _code_box_height(card, size), size)


def _draw_code_panel(c: Canvas, lines: Sequence[str], x: float, top: float, width: float, height: float,
                     size: float) -> None:
    """A panel of typeable lines (the share's on page 1, the package's on page 2), in monospace."""
    c.setFillColor(PANEL)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.roundRect(x, top - height, width, height, 1.5 * mm, stroke=1, fill=1)
    c.setFillColor(INK)
    c.setFont(MONO, size)
    y = top - CODE_PAD - size * 0.8
    for line in lines:
        c.drawString(x + CODE_PAD, y, line)
        y -= size * 1.4


def _instruction_paragraphs(card: CardContent, size: float,
                            width: float) -> tuple[list[Paragraph], float]:
    style = ParagraphStyle("instruction", fontName=SANS, fontSize=size,
                           leading=size * 1.28, textColor=INK, leftIndent=size * 1.6,
                           bulletIndent=0, bulletFontName=SANS_BOLD, bulletFontSize=size,
                           spaceAfter=size * 0.45)
    paras = []
    total = 0.0
    for number, item in enumerate(card.instructions, 1):
        p = Paragraph(_markup(item), style, bulletText=f"{number}.")
        _, h = p.wrap(width, 10_000)
        paras.append(p)
        total += h + style.spaceAfter
    return paras, total - style.spaceAfter


def _draw_instructions(c: Canvas, paras: list[Paragraph], x: float, top: float,
                       width: float) -> None:
    _draw_section_heading(c, "Handling and recovery", x, top, width)
    y = top - _section_heading_height()
    for p in paras:
        _, h = p.wrap(width, 10_000)
        p.drawOn(c, x, y - h)
        y -= h + p.style.spaceAfter


def _markup(text: str) -> str:
    """Escape *text* for a Paragraph; `backticked` spans become monospaced."""
    parts = escape(text).split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 and i != len(parts) - 1:
            out.append(f'<font face="{MONO_BOLD}">{part}</font>')
        else:
            out.append(part if i % 2 == 0 else "`" + part)
    return "".join(out)


def _draw_sign_off(c: Canvas, x: float, bottom: float, width: float) -> None:
    """Lines to write on by hand when the card is sealed (only when there is room for them)."""
    labels = ("Bag number", "Sealed on", "Custodian signature", "Witness signature")
    weights = (1.0, 1.0, 1.6, 1.6)
    gap = 5 * mm
    unit = (width - gap * (len(labels) - 1)) / sum(weights)
    line_y = bottom + 1 * mm
    c.setLineWidth(0.6)
    for label, weight in zip(labels, weights, strict=True):
        w = unit * weight
        c.setStrokeColor(RULE)
        c.line(x, line_y, x + w, line_y)
        c.setFillColor(MUTED)
        c.setFont(*LABEL_FONT)
        c.drawString(x, bottom + SIGN_OFF_HEIGHT - LABEL_FONT[1], label.upper())
        x += w + gap


def _draw_footer(c: Canvas, card: CardContent, x: float, width: float, page: int) -> None:
    y = MARGIN + 1.5 * mm
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(x, MARGIN + FOOTER_HEIGHT - 1.5 * mm, x + width, MARGIN + FOOTER_HEIGHT - 1.5 * mm)
    c.setFillColor(MUTED)
    c.setFont(SANS, 7)
    right = f"Created {card.created}  \u00b7  page {page} of {card.pages}"
    if page > 1:  # scan_sources skips a card's page that says so, instead of searching it for codes
        right = f"{NO_CODE_PAGE_NOTE}  \u00b7  {right}"
    left_text = fit_one_line(
        f"{card.key_label}  \u00b7  set {card.set_id}  \u00b7  "
        f"share {card.share_index} of {card.share_count}",
        SANS, 7, width - stringWidth(right, SANS, 7) - 6 * mm)
    c.drawString(x, y, left_text)
    c.drawRightString(x + width, y, right)


# --- page 2 of a backup's card: the package's typeable form --------------------------------------

_PACKAGE_CODE_SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
MIN_PACKAGE_NOTE_COLUMN = 60 * mm  # narrower than this, the notes go under the lines


def _package_page_notes(card: CardContent, size: float) -> list[Paragraph]:
    style = ParagraphStyle("package-note", fontName=SANS, fontSize=size, leading=size * 1.3,
                           textColor=INK, spaceAfter=size * 0.6)
    shares = "one share" if card.threshold == 1 else f"{card.threshold} shares"
    notes = (
        ("When to type it.", "Only when no QR code reads and neither package.kcb nor a share file of this "
         "backup is at hand. At the recovery ceremony, `keyceremony recover --type` takes the typeable "
         "form of each card brought (page 1), then asks for these lines; an empty line ends."),
        ("Not secret.", "The wrapped key, its check value and canary, signed with this set's key: useless "
         f"without {shares}. It is the same on every card of this backup: type it from any one."),
        ("Checked as typed.", "Each line ends with a check, so a mistyped line is refused at once and asked "
         "for again. The header line may be left out."),
    )
    return [Paragraph(f"<b>{escape(head)}</b> " + _markup(body), style) for head, body in notes]


def _draw_package_page(c: Canvas, card: CardContent, lines: tuple[str, ...], left: float, top: float,
                       width: float, bottom: float) -> None:
    """Page 2: the band, what card it belongs to, and the package's typeable form with notes."""
    _draw_band(c, card, left, top, width,
               "Page 2 of this card: the backup package (not secret).")
    half = (width - 4 * mm) / 2

    def field(label: str, text: str, font: str, size: float, w: float = width) -> _Field:
        return _Field(label, _wrap(text, font, size, w), font, size)

    rows: list[_Row] = [
        (field("Key label", card.key_label, SANS_BOLD, 13),),
        (field("Share", card.share_line, SANS, 10.5, half), field("Set ID", card.set_id, MONO_BOLD, 11, half)),
    ]
    if card.key_check_value is not None:
        rows.append((field("Key check value", card.key_check_value, MONO_BOLD, 11, half),
                     field("Created", card.created, SANS, 10.5, half)))
    y = top - BAND_HEIGHT - GAP
    _draw_details(c, rows, left, y, width)
    y -= _details_height(rows) + GAP
    longest = max(len(line) for line in lines)
    for size in _PACKAGE_CODE_SIZES:
        code_w = longest * stringWidth("M", MONO, size) + 2 * CODE_PAD
        box_h = len(lines) * size * 1.4 + 2 * CODE_PAD - size * 0.4
        side_w = width - code_w - COLUMN_GAP
        beside = side_w >= MIN_PACKAGE_NOTE_COLUMN
        notes = _package_page_notes(card, 8.5)
        notes_w = side_w if beside else width
        notes_h = sum(p.wrap(notes_w, 10_000)[1] + p.style.spaceAfter for p in notes)
        heading = _section_heading_height()
        needed = heading + (max(box_h, notes_h) if beside else box_h + GAP + notes_h)
        if y - needed >= bottom or size == _PACKAGE_CODE_SIZES[-1]:
            break
    if y - needed < bottom:
        raise ValueError("the backup package's typeable form does not fit on page 2")
    _draw_section_heading(c, "Backup package \u2014 typeable form", left, y, code_w if beside else width)
    if beside:
        _draw_section_heading(c, "Not secret \u00b7 same on every card", left + code_w + COLUMN_GAP, y, side_w)
    box_top = y - heading
    _draw_code_panel(c, lines, left, box_top, code_w, box_h, size)
    notes_x, notes_top = (left + code_w + COLUMN_GAP, box_top) if beside else (left, box_top - box_h - GAP)
    for p in notes:
        _, h = p.wrap(notes_w, 10_000)
        p.drawOn(c, notes_x, notes_top - h)
        notes_top -= h + p.style.spaceAfter


def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """*text* broken into lines no wider than *width*: at spaces, or inside over-long words."""
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width) or [""]:
        while stringWidth(line, font, size) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return tuple(lines)
