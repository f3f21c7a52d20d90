"""Realistic share cards for the card rendering and scanning tests.

The payload imitates the real share payload (its format belongs to the share format module):
"KC1:" followed by 200 random bytes in base32 without "=" padding, about 324 characters,
which gives a version 13 QR code at level Q in alphanumeric mode (docs/share-format.md §6).
"""

from __future__ import annotations

import base64
import random

import numpy as np
from PIL import Image

from keyceremony.cards.model import CardContent, standard_instructions

WORDS = ("apple", "river", "stone", "violet", "maple", "anchor", "breeze", "copper",
         "lantern", "meadow", "orbit", "pepper")


def synthetic_payload(seed: int = 1, nbytes: int = 200) -> str:
    rng = random.Random(seed)
    raw = bytes(rng.randrange(256) for _ in range(nbytes))
    return "KC1:" + base64.b32encode(raw).decode("ascii").rstrip("=")


def typeable_lines(payload: str) -> tuple[str, ...]:
    """Numbered lines of seven 4-character groups, as the share format might print them."""
    body = payload.removeprefix("KC1:")
    lines = []
    for number, start in enumerate(range(0, len(body), 28), 1):
        chunk = body[start:start + 28]
        lines.append(f"{number:02d} " + " ".join(chunk[i:i + 4] for i in range(0, len(chunk), 4)))
    return tuple(lines)


def make_card(paper: str = "a4", seed: int = 1, **changes: object) -> CardContent:
    payload = synthetic_payload(seed)
    fields: dict[str, object] = dict(
        title="keyceremony share card",
        key_label="payments-root-2025",
        set_id="7F3A-91C2-0B5E",
        share_index=2,
        share_count=5,
        threshold=3,
        custodian="Alice Example",
        created="2025-03-14",
        qr_text=payload,
        text_lines=typeable_lines(payload),
        fingerprint="3F2A 9C01 77B4 E0D5 1A2B 3C4D 5E6F 7081",
        fingerprint_words=WORDS[:8],
        key_check_value=None,
        instructions=standard_instructions(3),
        paper=paper,
    )
    fields.update(changes)
    return CardContent(**fields)  # type: ignore[arg-type]


def matrix_image(matrix: list[list[bool]], module_px: int = 4, quiet: int = 4) -> Image.Image:
    """A QR matrix drawn straight to pixels (black on white, with a quiet zone)."""
    cells = np.pad(np.array(matrix, dtype=bool), quiet, constant_values=False)
    pixels = np.where(cells, 0, 255).astype(np.uint8)
    pixels = pixels.repeat(module_px, axis=0).repeat(module_px, axis=1)
    return Image.fromarray(pixels)  # uint8, 2-D: mode "L"


def perspective(image: Image.Image, corners: list[tuple[float, float]],
                background: int = 90) -> Image.Image:
    """*image* as if photographed at an angle: its corners land on *corners* (fractions of
    the size; top-left, top-right, bottom-right, bottom-left) on a darker desk."""
    w, h = image.size
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(fx * w, fy * h) for fx, fy in corners]
    rows, rhs = [], []
    for (x, y), (sx, sy) in zip(dst, src, strict=True):  # output pixel (x, y) samples input (sx, sy)
        rows.append([x, y, 1, 0, 0, 0, -sx * x, -sx * y])
        rhs.append(sx)
        rows.append([0, 0, 0, x, y, 1, -sy * x, -sy * y])
        rhs.append(sy)
    coeffs = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return image.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs),
                           Image.Resampling.BICUBIC, fillcolor=background)
