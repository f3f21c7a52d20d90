"""A share typed in from its card's text form, one numbered line at a time (docs/share-format.md).

:class:`TypedShare` checks each line as it is entered (its line number and check characters,
``text.line_check_error``) and knows from the first lines how many the share has
(``text.lines_needed``), so a screen or a prompt can say at once "line 2: ... type it again" and
end the share by itself after its last line. It holds the lines in memory only.

:func:`printed_line` tells the lines of a pasted share file that are not data lines (its header,
its comments, the backup package's header) so that a prompt skips them silently.
"""

from __future__ import annotations

import re

from keyceremony.shares.payload import header_fields
from keyceremony.shares.text import HEADER, line_check_error, lines_needed, typed_prefix

PACKAGE_HEADER = "keyceremony backup package v1"
_HEADER_LINE = re.compile(r"keyceremony (share|backup package) v(\d+)")


def printed_line(line: str) -> str | None:
    """What a line of a pasted share file is when it is not a data line: "header" (of a share),
    "package" (a backup package's header: its block follows), "comment" (``#``); None for any
    other line (a data line, or a mistake its line check names). A header of another version
    raises ValueError: that text cannot be read here."""
    text = line.strip()
    if text.startswith("#"):
        return "comment"
    match = _HEADER_LINE.fullmatch(" ".join(text.lower().split()))
    if match is None:
        return None
    header = f"keyceremony {match.group(1)} v{match.group(2)}"
    if header not in (HEADER, PACKAGE_HEADER):
        raise ValueError(f"'{text}' is text of version {match.group(2)}; this keyceremony reads v1: "
                         "use a newer keyceremony")
    return "header" if header == HEADER else "package"


class TypedShare:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def next_number(self) -> int:
        return len(self.lines) + 1

    def add(self, line: str) -> str | None:
        """Take the next line; the reason it is wrong (to type it again) or None."""
        number = self.next_number
        problem = line_check_error(line, number)
        if problem:
            return f"line {number:02d}: {problem}; type the line again"
        self.lines.append(line)
        return None

    @property
    def complete(self) -> bool:
        """Every line of the share is in (known once its first lines are)."""
        return bool(self.lines) and len(self.lines) == lines_needed(self.lines)

    def header(self) -> tuple[bytes, int, int, int] | None:
        """(set_id, threshold, count, x) once the first lines hold them, else None."""
        return header_fields(typed_prefix(self.lines))

    def mixed_lines_message(self, name: str) -> str:
        """What to say when every line passed its own check but together they are not one share
        (its checksum or length does not hold): a line from another card is the likely cause."""
        last = len(self.lines)
        head = self.header()
        whose = ""
        if head is not None:
            from keyceremony.shares.shareset import format_set_id

            whose = f"; its first lines are those of share {head[3]} of set {format_set_id(head[0])}"
        return (f"{name}: each of lines 01-{last:02d} passed its own check, but together they are not one "
                f"share{whose}. A line seems to have been typed from another card (a line's check covers "
                "only its number and characters, not which card it is on). Type this share again, "
                "every line from the same card")

    def text(self) -> str:
        """The share's text form, as a share file holds it."""
        return HEADER + "\n" + "\n".join(self.lines) + "\n"
