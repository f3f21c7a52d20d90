"""Helpers of the terminal UI tests: a fake host, deterministic share sets, waiting on a screen."""

from __future__ import annotations

import asyncio
import importlib.util
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from keyceremony.ceremony.ports import SwapArea
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import create_share_set
from keyceremony.shares.text import to_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "ceremony"
SIZE = (80, 24)

_spec = importlib.util.spec_from_file_location("_keys_conftest_for_tui", REPO / "tests" / "keys" / "conftest.py")
assert _spec is not None and _spec.loader is not None
keys_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keys_conftest)
MODULE: str = keys_conftest.MODULE  # the SoftHSM2 PKCS#11 module, and the tokens' user PIN
USER_PIN: str = keys_conftest.USER_PIN


class FakeHost:
    """HostFacts of an air-gapped laptop without swap."""

    def system(self) -> Mapping[str, str]:
        return {"os": "Linux", "kernel": "6.1.0-test", "machine": "x86_64", "distribution": "Test Live 1"}

    def software_versions(self) -> Mapping[str, str]:
        return {"keyceremony": "test", "python": "3.11"}

    def network_interfaces_up(self) -> Sequence[str]:
        return []

    def swap_areas(self) -> Sequence[SwapArea]:
        return []


def share_set(seed: int, threshold: int = 2, count: int = 3, label: str = "tui-test") -> list[SharePayload]:
    """A share set that is the same on every run (fixed randomness and creation time)."""
    rng = random.Random(seed)
    secret = bytes(rng.randrange(256) for _ in range(32))
    return create_share_set(secret, threshold, count, label=label, created=1_700_000_000, randbytes=rng.randbytes)


def write_shares(folder: Path, payloads: Sequence[SharePayload], stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for payload in payloads:
        path = folder / f"{stem}-{payload.x}.txt"
        path.write_text(to_text(payload), encoding="utf-8")
        paths.append(path)
    return paths


async def wait_until(pilot: object, condition: Callable[[], bool], timeout: float = 120) -> None:
    """Let the app run until ``condition()`` holds (worker threads post to it meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the screen did not get there in time"
        await pilot.pause(0.05)  # type: ignore[attr-defined]
        await asyncio.sleep(0)


class Keys:
    """Counts the keystrokes a person makes, besides typing names, numbers and paths (the
    issue's measure); ``typed`` fills a field as typing would, uncounted."""

    def __init__(self, pilot: object) -> None:
        self.pilot = pilot
        self.count = 0
        self.pressed: list[str] = []

    async def press(self, *keys: str) -> None:
        self.count += len(keys)
        self.pressed.extend(keys)
        await self.pilot.press(*keys)  # type: ignore[attr-defined]

    async def typed(self, field: object, text: str) -> None:
        field.value = text  # type: ignore[attr-defined]
        await self.pilot.pause()  # type: ignore[attr-defined]


async def next_question(pilot: object, screen: object, timeout: float = 300) -> object | None:
    """The question panel the ceremony screen shows next, once it has the focus; None when the
    ceremony ended instead."""
    from keyceremony.tui.screens.questions import Question

    def ready() -> bool:
        if screen.outcome is not None:  # type: ignore[attr-defined]
            return True
        panels = list(screen.query(Question))  # type: ignore[attr-defined]
        focused = screen.focused  # type: ignore[attr-defined]
        return bool(panels) and focused is not None and panels[0] in focused.ancestors_with_self

    await wait_until(pilot, ready, timeout=timeout)
    panels = list(screen.query(Question))  # type: ignore[attr-defined]
    return panels[0] if panels and screen.outcome is None else None  # type: ignore[attr-defined]


async def answer_with_defaults(keys: Keys, panel: object) -> None:
    """Answer a question as a person who agrees with what is shown: Enter, or y to confirm."""
    from keyceremony.tui.screens.questions import ConfirmPanel

    await keys.press("y" if isinstance(panel, ConfirmPanel) else "enter")


async def paste(pilot: object, text: str) -> None:
    """Typed text, as one paste into the focused field (not counted as keystrokes)."""
    from textual import events

    app = pilot.app  # type: ignore[attr-defined]
    assert app.focused is not None
    app.focused.post_message(events.Paste(text))
    await pilot.pause()  # type: ignore[attr-defined]
