"""A backup package typed in from page 2 of a card, one numbered line at a time
(docs/backup-package.md §5, docs/share-format.md §5.4).

:class:`TypedPackage` checks each line as it is entered (its number and check characters, as a
share's), and ends by itself when the lines typed so far form a whole package whose signature
verifies. A package carries no length field a prompt could read early, so "whole" means: its
lines parse, to the last field and its 4-byte check. The package is not secret.

    typed = TypedPackage()
    for line in lines_from_page_2:
        problem = typed.add(line)        # "package line 04: ...; type the line again", or None
    typed.package                       # the BackupPackage once complete, else None
"""

from __future__ import annotations

from keyceremony.errors import PackageError
from keyceremony.keys.backup_package import HEADER, BackupPackage
from keyceremony.shares.text import CHARS_PER_LINE, line_check_error, typed_prefix

__all__ = ["TypedPackage", "first_line_magic"]


def first_line_magic(line: str) -> bytes:
    """The first three bytes a typed first data line holds if it passes its check as line 01
    (``KCS`` a share's, ``KCB`` a package's), else ``b""``: which of the two a person is typing."""
    if line_check_error(line, 1) is not None:
        return b""
    return typed_prefix([line])[:3]


class TypedPackage:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.package: BackupPackage | None = None

    @property
    def next_number(self) -> int:
        return len(self.lines) + 1

    @property
    def complete(self) -> bool:
        return self.package is not None

    def reset(self) -> None:
        self.lines.clear()

    def add(self, line: str) -> str | None:
        """Take the next line: the reason it is wrong (to type it again, or the whole package
        again when every line passed but together they are not a package), or None."""
        number = self.next_number
        problem = line_check_error(line, number)
        if problem:
            return f"package line {number:02d}: {problem}; type the line again"
        self.lines.append(line)
        try:
            package = BackupPackage.from_text(self.text(), source="the typed package")
            package.verify(source="the typed package")
        except PackageError as err:
            if "lines are missing at the end" in str(err) and self._last_chars() == CHARS_PER_LINE:
                return None  # a full line, and the package is not whole yet: more lines are to come
            lines = len(self.lines)
            self.lines.clear()
            detail = getattr(err, "detail", err)
            return (f"the {lines} package line(s) typed each passed its own check, but together they are "
                    f"not a whole package ({detail}): type the package again from line 01, all from the same card")
        self.package = package
        return None

    def _last_chars(self) -> int:
        return len("".join(self.lines[-1].split()[1:-1]))

    def text(self) -> str:
        """The package's text form, as package.kcb's text block holds it (without comments)."""
        return HEADER + "\n" + "\n".join(self.lines) + "\n"
