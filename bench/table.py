"""Rows of the report and their Markdown rendering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A figure the issue asks for: ``value >= bound`` or ``value < bound``."""

    relation: str  # ">=" or "<"
    bound: float
    unit: str

    def met(self, value: float) -> bool:
        return value >= self.bound if self.relation == ">=" else value < self.bound

    def __str__(self) -> str:
        sign = "≥" if self.relation == ">=" else "<"
        return f"{sign} {number(self.bound)} {self.unit}"


@dataclass(frozen=True)
class Figure:
    """One measured figure; ``value`` is None when it could not be taken (see ``problem``)."""

    what: str
    value: float | None
    unit: str
    statistic: str
    problem: str = ""
    target: Target | None = None


@dataclass(frozen=True)
class PeerFigure:
    """A peer's figure next to ours on the same input; None where it could not be taken."""

    peer: str
    what: str
    value: float | None
    ours: float | None
    unit: str
    statistic: str
    round_trip: str  # "ok", "FAILED: ...", or "n/a: ..."
    higher_is_better: bool


def number(value: float) -> str:
    """Three significant figures, thousands separated: 0.00723, 31.6, 5,632,901."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _result(figure: Figure) -> str:
    if figure.value is None:
        return f"invalid ({figure.problem})" if figure.problem else "invalid"
    return f"{number(figure.value)} {figure.unit}"


def figures_table(figures: Sequence[Figure]) -> str:
    """Measurement, result, statistic; plus target and met columns if any figure has a target."""
    with_targets = any(f.target for f in figures)
    header = ["measurement", "result", "statistic"] + (["target", "met?"] if with_targets else [])
    rows = []
    for f in figures:
        row = [f.what, _result(f), f.statistic]
        if with_targets:
            if f.target is None:
                row += ["", ""]
            elif f.value is None:
                row += [str(f.target), "not measured"]
            else:
                row += [str(f.target), "met" if f.target.met(f.value) else "**not met**"]
        rows.append(row)
    return markdown_table(header, rows)


def _speedup(p: PeerFigure) -> str:
    if p.value is None or p.ours is None or p.value <= 0 or p.ours <= 0:
        return "—"
    ratio = p.ours / p.value if p.higher_is_better else p.value / p.ours
    return f"{number(ratio)}×"


def peers_table(figures: Sequence[PeerFigure]) -> str:
    header = [
        "peer", "measurement", "peer result", "ours, same input", "ours faster by", "statistic", "round trip",
    ]
    rows = [
        [
            p.peer,
            p.what,
            f"{number(p.value)} {p.unit}" if p.value is not None else "invalid",
            f"{number(p.ours)} {p.unit}" if p.ours is not None else "—",
            _speedup(p),
            p.statistic,
            p.round_trip,
        ]
        for p in figures
    ]
    return markdown_table(header, rows)
