"""A share typed in from its card's text form, one numbered line at a time (docs/share-format.md).

:class:`TypedShare` checks each line as it is entered (its line number and check characters,
``text.line_check_error``) and knows from the first lines how many the share has
(``text.lines_needed``), so a screen or a prompt can say at once "line 2: ... type it again" and
end the share by itself after its last line. It holds the lines in memory only.
"""

from __future__ import annotations

from keyceremony.shares.text import HEADER, line_check_error, lines_needed


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

    def text(self) -> str:
        """The share's text form, as a share file holds it."""
        return HEADER + "\n" + "\n".join(self.lines) + "\n"
