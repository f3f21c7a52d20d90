"""Unpadded RFC 4648 base32, vectorized with numpy (the stdlib codec runs at ~5 MB/s).

The share text and QR forms carry payloads of up to hundreds of MiB in base32; encoding 256 MiB
with ``base64.b32encode`` took over a minute per share. Work is done in cache-sized chunks of
40-bit groups. This is the only base32 codec of keyceremony: the share text and QR forms
(docs/share-format.md §5, §6) and the backup package's (docs/backup-package.md §5, §6) all use it.

Decoding is strict: it rejects any character outside A-Z2-7 (so lower case and '=' padding too),
a length that no byte string encodes to (1, 3 or 6 characters mod 8), and non-zero unused bits in
the last character, so every byte string has exactly one encoding and ``decode`` is the inverse
of ``encode`` on its image only (RFC 4648 §3.5, §6). Callers that accept lenient input (lower
case, look-alikes, spacing) normalise it first.

numpy is imported when first needed: a text of a few KB (one share or backup package, as
``verify-share`` reads) is decoded with the standard library, with the same checks and errors,
so checking one share does not pay numpy's start-up (docs/benchmarks.md).
"""

from __future__ import annotations

import base64
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_TAIL_CHARS = {0: 0, 1: 2, 2: 4, 3: 5, 4: 7}  # bytes in the last group -> characters
_TAIL_BYTES = {v: k for k, v in _TAIL_CHARS.items()}
_CHUNK = 1 << 16  # 40-bit groups per step
ALPHABET_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 §6
#: Texts up to this many characters are decoded without numpy (about 3 ms at the limit).
SMALL_TEXT = 1 << 15


@cache
def alphabet() -> NDArray[np.uint8]:
    """The 32 characters as a numpy array: 5-bit value -> ASCII."""
    import numpy as np  # here, not at import: see the module's docstring

    return np.frombuffer(ALPHABET_BYTES, dtype=np.uint8)


@cache
def values() -> NDArray[np.uint8]:
    """ASCII -> 5-bit value as a numpy array of 256; 255 for anything that is not base32."""
    import numpy as np

    value = np.full(256, 255, dtype=np.uint8)
    value[alphabet()] = np.arange(32)
    return value

Reason = Literal["character", "length", "padding"]


class Base32Error(ValueError):
    """Why a text is not the canonical base32 of any byte string.

    ``reason`` is "character" (``index`` is the first character outside A-Z2-7), "length" (no
    byte string has this many characters) or "padding" (``index`` is the last character, whose
    unused low bits are not zero). Callers turn it into their format's error.
    """

    def __init__(self, reason: Reason, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.index = index


def encode(data: bytes | bytearray | memoryview) -> bytes:
    """Upper-case base32 of ``data`` without '=' padding."""
    return alphabet()[symbols(data)].tobytes()


def symbols(data: bytes | bytearray | memoryview) -> NDArray[np.uint8]:
    """The 5-bit values (uint8) that ``encode`` writes as characters."""
    import numpy as np

    n = len(data)
    groups = -(-n // 5)
    src: NDArray[np.uint8] = np.zeros(groups * 5, dtype=np.uint8)
    src[:n] = np.frombuffer(data, dtype=np.uint8)
    src = src.reshape(groups, 5)
    out = np.empty((groups, 8), dtype=np.uint8)
    for lo in range(0, groups, _CHUNK):
        b0, b1, b2, b3, b4 = (np.ascontiguousarray(src[lo : lo + _CHUNK, i]) for i in range(5))
        s = out[lo : lo + _CHUNK]
        s[:, 0] = b0 >> 3
        s[:, 1] = ((b0 & 7) << 2) | (b1 >> 6)
        s[:, 2] = (b1 >> 1) & 31
        s[:, 3] = ((b1 & 1) << 4) | (b2 >> 4)
        s[:, 4] = ((b2 & 15) << 1) | (b3 >> 7)
        s[:, 5] = (b3 >> 2) & 31
        s[:, 6] = ((b3 & 3) << 3) | (b4 >> 5)
        s[:, 7] = b4 & 31
    return out.reshape(-1)[: (n // 5) * 8 + _TAIL_CHARS[n % 5]]


def decode(text: bytes | bytearray | memoryview) -> bytes:
    """Inverse of ``encode``; raises Base32Error (a ValueError) for anything not in its image."""
    n = len(text)
    if n % 8 not in _TAIL_BYTES:
        raise Base32Error(
            "length", f"{n} characters is not a base32 length (none of 1, 3 or 6 characters mod 8 encodes bytes)"
        )
    if n <= SMALL_TEXT:
        return _decode_small(bytes(text))
    return _decode_vectorized(text)


def _decode_small(text: bytes) -> bytes:
    """``decode`` of a short text with the standard library: the same checks, in the same order."""
    n = len(text)
    if text.translate(None, ALPHABET_BYTES):  # something is left that is not base32
        index = next(i for i, c in enumerate(text) if c not in ALPHABET_BYTES)
        raise Base32Error("character", f"character {index + 1} is not a base32 character (A-Z, 2-7)", index)
    groups = -(-n // 8)
    out = base64.b32decode(text + b"A" * (groups * 8 - n))  # 'A' = 0, as the vectorized path pads
    length = (n // 8) * 5 + _TAIL_BYTES[n % 8]
    if any(out[length:]):
        raise Base32Error(
            "padding", "the last character's unused bits are not zero: not the canonical encoding", n - 1
        )
    return out[:length]


def _decode_vectorized(text: bytes | bytearray | memoryview) -> bytes:
    import numpy as np

    n = len(text)
    groups = -(-n // 8)
    chars: NDArray[np.uint8] = np.full(groups * 8, 65, dtype=np.uint8)  # pad with 'A' = 0
    chars[:n] = np.frombuffer(text, dtype=np.uint8)
    chars = chars.reshape(groups, 8)
    out = np.empty((groups, 5), dtype=np.uint8)
    for lo in range(0, groups, _CHUNK):
        v = values()[chars[lo : lo + _CHUNK]]
        if (v == 255).any():
            index = lo * 8 + int(np.flatnonzero(v.reshape(-1) == 255)[0])
            raise Base32Error("character", f"character {index + 1} is not a base32 character (A-Z, 2-7)", index)
        s0, s1, s2, s3, s4, s5, s6, s7 = (np.ascontiguousarray(v[:, i]) for i in range(8))
        b = out[lo : lo + _CHUNK]
        b[:, 0] = (s0 << 3) | (s1 >> 2)
        b[:, 1] = (s1 << 6) | (s2 << 1) | (s3 >> 4)
        b[:, 2] = (s3 << 4) | (s4 >> 1)
        b[:, 3] = (s4 << 7) | (s5 << 2) | (s6 >> 3)
        b[:, 4] = (s6 << 5) | s7
    length = (n // 8) * 5 + _TAIL_BYTES[n % 8]
    flat = out.reshape(-1)
    if flat[length:].any():  # only the last character can set bits past ``length`` (5 > bits per char)
        raise Base32Error(
            "padding", "the last character's unused bits are not zero: not the canonical encoding", n - 1
        )
    return flat[:length].tobytes()
