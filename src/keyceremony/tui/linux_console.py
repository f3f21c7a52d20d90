"""The Linux console (``TERM=linux``): draw only glyphs its fonts have (docs/tui.md, Terminals).

Debian's console fonts (console-setup's Lat15 and Uni2 sets) have ASCII, Latin-1, the whole
box-drawing block U+2500-U+257F and the shades █░▒, but not Textual's half and eighth blocks
(``tall``, ``wide``, ``outer`` and ``inner`` borders, scrollbar ends, toggle buttons), its ⭘
header icon or its ⏎ and ⌫ key names. On the console the app draws its own fields with ``solid``
borders (KeyceremonyApp), and :class:`ConsoleDriver` replaces whatever such glyph a widget still
draws by one of the same width that the fonts have: a line along the same edge, a corner, a
full block or a blank.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from textual.drivers.linux_driver import LinuxDriver


def on_linux_console(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("TERM") == "linux"


GLYPHS = str.maketrans(
    {
        **dict.fromkeys("▔▁▀▄", "─"),  # edges along the top or the bottom of a cell
        **dict.fromkeys("▏▎▍▌▋▊▉▐▕", "│"),  # edges along its left or its right
        "▛": "┌", "▗": "┌", "▜": "┐", "▖": "┐", "▙": "└", "▝": "└", "▟": "┘", "▘": "┘",  # outer/inner corners
        **dict.fromkeys("▅▆▇▚▞", "█"),  # mostly filled (scrollbar ends)
        **dict.fromkeys("▂▃", " "),  # mostly empty
        "⭘": " ",  # the header's icon
    }
)  # fmt: skip

KEY_NAMES = str.maketrans({"⏎": "enter", "⌫": "backspace"})


class ConsoleDriver(LinuxDriver):
    """Textual's Linux driver, with the glyphs the console fonts lack replaced on the way out."""

    def write(self, data: str) -> None:
        super().write(data.translate(GLYPHS))
