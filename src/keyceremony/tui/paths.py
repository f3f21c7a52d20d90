"""Path completion for the UI's file fields: the rest of the one name that starts as typed.

Textual shows the suggestion greyed after the cursor; the right arrow (or End) takes it. Only
names are listed, nothing is opened; an unreadable folder suggests nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

#: Entries looked at in one folder; a huge folder just gets no suggestion past these.
MAX_ENTRIES = 2000


class PathSuggester(Suggester):
    """Suggests the completion of a path when exactly one entry of its folder starts with the
    typed name (a folder gets its trailing ``/``); ``~`` is expanded only to look."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        folder, _, stem = value.rpartition("/")
        if folder:
            where = Path(os.path.expanduser(folder))
        else:
            where = Path("/") if value.startswith("/") else Path(".")
        try:
            with os.scandir(where) as it:
                names = []
                for i, entry in enumerate(it):
                    if i >= MAX_ENTRIES:
                        return None
                    if entry.name.startswith(stem) and (stem.startswith(".") or not entry.name.startswith(".")):
                        names.append(entry.name + ("/" if entry.is_dir() else ""))
        except OSError:
            return None
        if len(names) != 1 or names[0] == stem:
            return None
        return value + names[0][len(stem):]
