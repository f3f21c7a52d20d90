"""The signed share payload, version 1 (docs/share-format.md §2).

One share of a share set, as bytes: what the QR code and the typed text carry. The layout is
fixed and big-endian; decoders reject anything that is not exactly this encoding.

    magic "KCS" | version 0x01 | set_id[8] | threshold | count | x | created u32 |
    label_len | label | secret_len u32 | y[secret_len] | public_key[32] | signature[64] | check[4]

``signature`` is Ed25519 by the set's key over ``signing_input()``; ``check`` is the first four
bytes of SHA-256 over everything before it, a typo catch-all (not a security feature).
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import dataclass

from keyceremony.errors import ShareFormatError

MAGIC = b"KCS"
VERSION = 1
SET_ID_LEN = 8
PUBLIC_KEY_LEN = 32
SIGNATURE_LEN = 64
CHECK_LEN = 4
MAX_LABEL_BYTES = 64
_HEAD = struct.Struct(">3sB8sBBBI")  # magic, version, set_id, threshold, count, x, created
SIGNATURE_CONTEXT = b"keyceremony share signature v1\x00"
FINGERPRINT_CONTEXT = b"keyceremony share set fingerprint v1\x00"
FINGERPRINT_LEN = 16
MIN_LENGTH = _HEAD.size + 1 + 4 + 1 + PUBLIC_KEY_LEN + SIGNATURE_LEN + CHECK_LEN


def check_label(label: str) -> str:
    """Labels are NFC UTF-8, at most 64 bytes, printable (they are printed on every card)."""
    normal = unicodedata.normalize("NFC", label)
    if normal != label:
        raise ValueError("label must be in Unicode NFC form")
    # Zl/Zp (U+2028, U+2029) break lines in the share text's comments (str.splitlines).
    if any(unicodedata.category(c).startswith("C") or unicodedata.category(c) in ("Zl", "Zp") for c in label):
        raise ValueError("label must not contain control characters or line breaks")
    if len(label.encode()) > MAX_LABEL_BYTES:
        raise ValueError(f"label must be at most {MAX_LABEL_BYTES} bytes of UTF-8")
    return label


@dataclass(frozen=True, repr=False)
class SharePayload:
    """One signed share; validates itself on construction (ValueError on misuse)."""

    set_id: bytes
    threshold: int
    count: int
    x: int
    created: int  # Unix seconds, UTC
    label: str
    y: bytes
    public_key: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.set_id) != SET_ID_LEN:
            raise ValueError("set_id must be 8 bytes")
        if not 1 <= self.threshold <= self.count <= 255:
            raise ValueError("need 1 <= threshold <= count <= 255")
        if not 1 <= self.x <= 255:
            raise ValueError("x must be in 1..255")
        if not 0 <= self.created < 2**32:
            raise ValueError("created must fit in 32 bits")
        check_label(self.label)
        if not 1 <= len(self.y) < 2**32:
            raise ValueError("y must be 1 to 2^32 - 1 bytes")
        if len(self.public_key) != PUBLIC_KEY_LEN or len(self.signature) != SIGNATURE_LEN:
            raise ValueError("public key must be 32 bytes and signature 64 bytes")

    def __repr__(self) -> str:
        return (
            f"SharePayload(set={self.set_id.hex()}, x={self.x}, {self.threshold}-of-{self.count}, "
            f"label={self.label!r}, y=<{len(self.y)} bytes>)"
        )

    # --- canonical bytes -------------------------------------------------------------------

    def header(self) -> bytes:
        """Everything before y, including secret_len (docs/share-format.md §2)."""
        label = self.label.encode()
        head = _HEAD.pack(MAGIC, VERSION, self.set_id, self.threshold, self.count, self.x, self.created)
        return head + bytes([len(label)]) + label + struct.pack(">I", len(self.y))

    def signing_input(self) -> bytes:
        """What the set key signs: context, header, SHA-256(y), public key (§3)."""
        return signing_input(self.header(), hashlib.sha256(self.y).digest(), self.public_key)

    def to_bytes(self) -> bytes:
        body = b"".join((self.header(), self.y, self.public_key, self.signature))
        return body + hashlib.sha256(body).digest()[:CHECK_LEN]

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str | None = None) -> SharePayload:
        """Parse and check the encoding; raises ShareFormatError (signature not checked here)."""
        if len(data) < 4 or data[:3] != MAGIC:
            raise ShareFormatError("this is not a keyceremony share (wrong magic)", source=source)
        if data[3] != VERSION:
            raise ShareFormatError(
                f"share format version {data[3]} is not supported by this keyceremony "
                f"(it reads version {VERSION}); use a newer keyceremony",
                source=source,
            )
        if len(data) < MIN_LENGTH:
            raise ShareFormatError("the share is truncated: it ends before its fields do", source=source)
        body, check = data[:-CHECK_LEN], data[-CHECK_LEN:]
        _, _, set_id, threshold, count, x, created = _HEAD.unpack_from(data)
        pos = _HEAD.size
        label_len = data[pos]
        pos += 1
        label_bytes = data[pos : pos + label_len]
        pos += label_len
        if pos + 4 > len(body):
            raise ShareFormatError("the share is truncated inside its header", source=source)
        (secret_len,) = struct.unpack_from(">I", data, pos)
        pos += 4
        expected = pos + secret_len + PUBLIC_KEY_LEN + SIGNATURE_LEN + CHECK_LEN
        if len(data) < expected:
            raise ShareFormatError(
                f"the share is truncated: {len(data)} bytes where {expected} are needed", source=source
            )
        if len(data) > expected:
            raise ShareFormatError(
                f"the share has {len(data) - expected} unexpected trailing bytes", source=source
            )
        if hashlib.sha256(body).digest()[:CHECK_LEN] != check:
            raise ShareFormatError(
                "the share's checksum does not match: it was mistyped or damaged", source=source
            )
        y = data[pos : pos + secret_len]
        pos += secret_len
        public_key = data[pos : pos + PUBLIC_KEY_LEN]
        signature = data[pos + PUBLIC_KEY_LEN : pos + PUBLIC_KEY_LEN + SIGNATURE_LEN]
        try:
            label = check_label(label_bytes.decode("utf-8"))
            return cls(set_id, threshold, count, x, created, label, y, public_key, signature)
        except (UnicodeDecodeError, ValueError) as err:
            raise ShareFormatError(f"the share's fields are invalid: {err}", source=source) from None

    # --- the set this share belongs to ------------------------------------------------------

    def fingerprint(self) -> bytes:
        """16 bytes naming the set and its key: equal on every share of one set (§4)."""
        return set_fingerprint(
            self.set_id, self.threshold, self.count, self.created, self.label, len(self.y), self.public_key
        )


def encoded_length(prefix: bytes) -> int | None:
    """Length of the whole payload that starts with ``prefix``, once its header is complete
    (None before that, or if the prefix is not a v1 share); used to know when typing is done."""
    if len(prefix) < _HEAD.size + 1 or prefix[:3] != MAGIC or prefix[3] != VERSION:
        return None
    pos = _HEAD.size + 1 + prefix[_HEAD.size]
    if len(prefix) < pos + 4:
        return None
    secret_len: int
    (secret_len,) = struct.unpack_from(">I", prefix, pos)
    return pos + 4 + secret_len + PUBLIC_KEY_LEN + SIGNATURE_LEN + CHECK_LEN


def header_fields(prefix: bytes) -> tuple[bytes, int, int, int] | None:
    """(set_id, threshold, count, x) from the first bytes of a v1 share, once they are in."""
    if len(prefix) < _HEAD.size or prefix[:3] != MAGIC or prefix[3] != VERSION:
        return None
    _, _, set_id, threshold, count, x, _ = _HEAD.unpack_from(prefix)
    return set_id, threshold, count, x


def signing_input(header: bytes, y_digest: bytes, public_key: bytes) -> bytes:
    return SIGNATURE_CONTEXT + header + y_digest + public_key


def set_fingerprint(
    set_id: bytes, threshold: int, count: int, created: int, label: str, secret_len: int, public_key: bytes
) -> bytes:
    label_bytes = label.encode()
    fields = struct.pack(">8sBBIB", set_id, threshold, count, created, len(label_bytes)) + label_bytes
    fields += struct.pack(">I", secret_len) + public_key
    return hashlib.sha256(FINGERPRINT_CONTEXT + fields).digest()[:FINGERPRINT_LEN]
