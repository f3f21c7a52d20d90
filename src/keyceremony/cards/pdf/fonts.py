"""The fonts cards and reports are set in, and which characters they can print
(docs/share-cards.md §2.1).

Text is set in DejaVu Sans and DejaVu Sans Mono, embedded as subsets, so names in Latin, Greek
and Cyrillic scripts print; where those fonts are not installed, the standard PDF fonts are used
and text must be in Windows-1252. ``unprintable`` says which character of a text cannot be
printed, so callers can refuse a name before anything is made; ``printable`` writes such
characters out instead, for the auditors' report. The fonts are registered with reportlab when
this module is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from reportlab.pdfbase.pdfmetrics import registerFont, registerFontFamily, stringWidth
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["FONT_DESCRIPTION", "FONT_DIRS", "MONO", "MONO_BOLD", "SANS", "SANS_BOLD",
           "fit_one_line", "printable", "unprintable"]

#: Where DejaVu's TrueType files are looked for: only $KEYCEREMONY_FONT_DIR when it is set, else
#: where Debian's fonts-dejavu-core (which `make setup` installs), Fedora and Homebrew put them.
FONT_DIRS = tuple(Path(d) for d in (
    (os.environ["KEYCEREMONY_FONT_DIR"],) if os.environ.get("KEYCEREMONY_FONT_DIR") else (
        "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu-sans-fonts",
        "/usr/share/fonts/dejavu-sans-mono-fonts", "/usr/share/fonts/TTF",
        "/opt/homebrew/share/fonts", "/usr/local/share/fonts")
))  # fmt: skip
_DEJAVU = {"KC-Sans": "DejaVuSans.ttf", "KC-Sans-Bold": "DejaVuSans-Bold.ttf",
           "KC-Mono": "DejaVuSansMono.ttf", "KC-Mono-Bold": "DejaVuSansMono-Bold.ttf"}


def _register_fonts() -> tuple[str, str, str, str, frozenset[int] | None]:
    """Register DejaVu if all four files are found: (sans, bold, mono, mono bold, the code points
    all four can draw); else the standard fonts and ``None`` (Windows-1252 only)."""
    paths = {}
    for name, filename in _DEJAVU.items():
        found = next((d / filename for d in FONT_DIRS if (d / filename).is_file()), None)
        if found is None:
            return "Helvetica", "Helvetica-Bold", "Courier", "Courier-Bold", None
        paths[name] = found
    fonts = {name: TTFont(name, str(path)) for name, path in paths.items()}
    for font in fonts.values():
        registerFont(font)
    registerFontFamily("KC-Sans", normal="KC-Sans", bold="KC-Sans-Bold", italic="KC-Sans", boldItalic="KC-Sans-Bold")
    registerFontFamily("KC-Mono", normal="KC-Mono", bold="KC-Mono-Bold", italic="KC-Mono", boldItalic="KC-Mono-Bold")
    drawable = frozenset.intersection(*(frozenset(f.face.charToGlyph) for f in fonts.values()))
    return "KC-Sans", "KC-Sans-Bold", "KC-Mono", "KC-Mono-Bold", drawable


SANS, SANS_BOLD, MONO, MONO_BOLD, _DRAWABLE = _register_fonts()
FONT_DESCRIPTION = ("DejaVu Sans and DejaVu Sans Mono" if _DRAWABLE is not None
                    else "the standard PDF fonts (Windows-1252 only; install fonts-dejavu-core for more scripts)")


def unprintable(text: str) -> str | None:
    """The first character of *text* the card and report fonts cannot print, or ``None``.

    Control characters are never printable; everything else depends on the fonts found.
    """
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            return ch
        if _DRAWABLE is None:
            try:
                ch.encode("cp1252")
            except UnicodeEncodeError:
                return ch
        elif ord(ch) not in _DRAWABLE and ch != " ":
            return ch
    return None


def printable(text: str) -> str:
    """*text* with each character ``unprintable`` finds written as ``[U+XXXX]``: the auditors'
    report shows whatever a transcript holds (a token label, a name) rather than fail on it.
    Tabs and line breaks become spaces, as a paragraph would set them."""
    text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    while (bad := unprintable(text)) is not None:
        text = text.replace(bad, f"[U+{ord(bad):04X}]")
    return text


def fit_one_line(text: str, font: str, size: float, width: float) -> str:
    """*text*, cut with an ellipsis if it is wider than *width*."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "\u2026", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"
