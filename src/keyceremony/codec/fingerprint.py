"""Fingerprints as people read them: hex groups on cards, 16 PGP words aloud (docs/share-format.md §4).

A fingerprint is 16 bytes. Share sets, backup packages and ceremony keys each derive theirs in
their own way; this module only writes them down and reads them back.

>>> format_fingerprint(bytes(range(16)))
'0001 0203 0405 0607 0809 0A0B 0C0D 0E0F'
>>> parse_fingerprint("0001 0203 0405 0607 0809 0a0b 0c0d 0e0f") == bytes(range(16))
True
"""

from __future__ import annotations

import hmac
import re

from keyceremony.codec.pgp_words import from_words, to_words

FINGERPRINT_LEN = 16


def format_fingerprint(fingerprint: bytes) -> str:
    """Eight groups of four upper-case hex digits, as printed on cards: ``6E8C 4A0B ...``."""
    h = fingerprint.hex().upper()
    return " ".join(h[i : i + 4] for i in range(0, len(h), 4))


def fingerprint_words(fingerprint: bytes) -> str:
    """The fingerprint as 16 PGP words, to be read aloud (docs/share-format.md §4)."""
    return " ".join(to_words(fingerprint))


_HEX = re.compile(r"[0-9a-fA-F]+")


def parse_fingerprint(text: str) -> bytes:
    """A fingerprint as written down: 32 hex digits (spaces, ``:`` and ``-`` ignored) or 16 PGP words.

    Raises ``ValueError`` saying what is wrong, e.g. which word is not in the list.
    """
    compact = re.sub(r"[\s:-]", "", text)
    if _HEX.fullmatch(compact):
        if len(compact) != 2 * FINGERPRINT_LEN:
            raise ValueError(f"a fingerprint is {2 * FINGERPRINT_LEN} hex digits, not {len(compact)}")
        return bytes.fromhex(compact)
    words = text.split()
    if len(words) != FINGERPRINT_LEN:
        raise ValueError(f"a fingerprint is {2 * FINGERPRINT_LEN} hex digits or {FINGERPRINT_LEN} words")
    return from_words(words)


def same_fingerprint(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
