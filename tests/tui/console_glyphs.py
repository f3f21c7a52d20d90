"""The glyphs the Linux console's fonts have, for the tests of what the UI draws there.

Taken from the Unicode tables of Debian's console-setup fonts Lat15-Fixed16, Lat15-Terminus16,
Uni2-Fixed16 and Uni2-VGA16 (the fonts ``setupcon`` loads for Latin and C locales): the glyphs
all four have, less Greek, Cyrillic and circled letters that the UI does not use. Block elements
other than █░▒ (▊▔▁▎▏▀▄ ...), braille and emoji are not among them.
"""

from __future__ import annotations

CONSOLE_GLYPHS = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]  # ASCII
    + [chr(c) for c in range(0xA0, 0x100)]  # Latin-1
    + [chr(c) for c in range(0x2500, 0x2580)]  # box drawing: light, heavy, double, rounded
    + list("‐‑‒–—―‘’‚“”„†‡•…‰‹›‼€™←↑→↓−≈≠≤≥█░▒■▮▲▴▶▸▼▾◀◂◈●")
)


def foreign_glyphs(screen: str) -> set[str]:
    """The characters of ``screen`` (lines of text) that the console fonts do not have."""
    return {ch for ch in screen if ch != "\n" and ch not in CONSOLE_GLYPHS}
