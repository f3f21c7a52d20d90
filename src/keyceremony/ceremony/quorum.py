"""Who must be present: a step's quorum and the roll call's role limits, as plain values.

The engine enforces them (``steps.context.check_attendance`` and the roll call raise
QuorumNotMet); a screen shows the same lines while people are ticked, and refuses to go on
while :attr:`QuorumLine.met` is False, so it never holds a rule of its own
(docs/ceremony-guide.md §8.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keyceremony.transcript import Actor


@dataclass(frozen=True)
class QuorumLine:
    """One role: ``names`` present, at least ``least`` and at most ``most`` (None: no limit)."""

    role: str
    least: int
    names: tuple[str, ...]
    most: int | None = None

    @property
    def met(self) -> bool:
        return self.least <= len(self.names) and (self.most is None or len(self.names) <= self.most)

    def __str__(self) -> str:
        limit = f"{self.least}" if self.most is None else f"{self.least}-{self.most}"
        mark = "ok" if self.met else "NOT MET"
        return f"{self.role}: {len(self.names)} present, needs {limit} ({mark})"


def _names(present: Iterable[Actor], role: str) -> tuple[str, ...]:
    return tuple(sorted({a.name for a in present if a.role == role}))


def quorum_lines(quorum: Sequence[tuple[str, int]], present: Sequence[Actor]) -> tuple[QuorumLine, ...]:
    """A step's quorum (role, count) against the people present."""
    return tuple(QuorumLine(role, count, _names(present, role)) for role, count in quorum)


def roster_lines(
    roles: Sequence[tuple[str, str, int, int | None]], people: Sequence[Actor]
) -> tuple[QuorumLine, ...]:
    """The roll call's role limits (name, title, min, max) against the people recorded."""
    return tuple(QuorumLine(name, least, _names(people, name), most) for name, _title, least, most in roles)
