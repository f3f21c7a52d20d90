"""The signed backup package, version 1 (docs/backup-package.md).

Everything a recovery needs besides the shares of the wrapping key, and nothing secret: the
wrapped key (RFC 5649), what kind of key it is and its label, its key check value, the canary,
the public key (EC/Ed25519), and which share set holds the wrapping key. It is signed by the
same Ed25519 set key that signs the wrapping key's shares, so package and cards are bound.

    magic "KCB" | version 0x01 | created u32 | set_id[8] | set_fingerprint[16] | threshold |
    count | label_len | label | algorithm_len | algorithm | wrap_len | wrap | kcv_len | kcv |
    blob_len u16 | blob | public_key_len u16 | public_key | nonce_len | nonce |
    canary_len | canary | set_public_key[32] | signature[64] | check[4]

Standard library and numpy (the base32 codec) only at import; ``verify`` imports ``cryptography``
when called.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from keyceremony.codec import base32
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.errors import PackageFormatError, PackageMismatch, PackageSignatureError
from keyceremony.keys.model import (
    WRAP_FORMAT_RFC5649,
    Canary,
    KeyAlgorithm,
    KeyInfo,
    WrappedKey,
    canary_plaintext,
)
from keyceremony.shares.payload import FINGERPRINT_LEN, PUBLIC_KEY_LEN, SET_ID_LEN, SIGNATURE_LEN, SharePayload
from keyceremony.shares.text import TextKind, decode_line_chars, decode_lines, decode_qr_text, encode_lines

MAGIC = b"KCB"
VERSION = 1
HEADER = "keyceremony backup package v1"
PACKAGE_TEXT = TextKind(HEADER, "backup package", PackageFormatError, "backup package")
CHECK_LEN = 4
MAX_BLOB_LEN = 4096
MAX_PUBLIC_KEY_LEN = 1024
SIGNATURE_CONTEXT = b"keyceremony backup package signature v1\x00"
FINGERPRINT_CONTEXT = b"keyceremony backup package fingerprint v1\x00"
PACKAGE_FINGERPRINT_LEN = 16
_HEAD = struct.Struct(">3sBI8s16sBB")  # magic, version, created, set_id, set_fingerprint, k, n
_KCV_LEN = {True: 3, False: 8}  # by algorithm.is_symmetric: AES KCV / public-key fingerprint
_NONCE_LEN = {True: 12, False: 16}
_ALGORITHMS = {a.value: a for a in KeyAlgorithm}
_REMEDY = "use the package from another card or the package.kcb file"


@dataclass(frozen=True, repr=False)
class BackupPackage:
    """One signed backup package; validates itself on construction (ValueError on misuse).

    Build it with :meth:`from_parts` (at backup) or :meth:`from_bytes` / :meth:`from_text` /
    :meth:`from_qr_text` (at recovery), then :meth:`verify` it and :meth:`check_shares`.
    """

    created: int  # Unix seconds, UTC
    set_id: bytes
    set_fingerprint: bytes
    threshold: int
    count: int
    label: str
    algorithm: KeyAlgorithm
    wrap_mechanism: str
    key_check_value: str  # lower-case hex: 6 digits (AES KCV) or 16 (public-key fingerprint)
    wrapped_blob: bytes
    public_key: bytes | None  # DER SubjectPublicKeyInfo for EC/Ed25519, None for AES
    canary_nonce: bytes
    canary_value: bytes  # AES-GCM ciphertext||tag, or a signature
    set_public_key: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.set_id) != SET_ID_LEN or len(self.set_fingerprint) != FINGERPRINT_LEN:
            raise ValueError("set_id is 8 bytes and set_fingerprint 16 bytes")
        if not 1 <= self.threshold <= self.count <= 255:
            raise ValueError("need 1 <= threshold <= count <= 255")
        if not 0 <= self.created < 2**32:
            raise ValueError("created must fit in 32 bits")
        # The key-level values validate label, KCV, public key, blob and canary themselves.
        _ = (self.key_info, self.wrapped_key, self.canary)
        if len(self.wrapped_blob) > MAX_BLOB_LEN:
            raise ValueError(f"the wrapped key is at most {MAX_BLOB_LEN} bytes")
        if self.public_key is not None and len(self.public_key) > MAX_PUBLIC_KEY_LEN:
            raise ValueError(f"the public key is at most {MAX_PUBLIC_KEY_LEN} bytes")
        if len(self.set_public_key) != PUBLIC_KEY_LEN or len(self.signature) != SIGNATURE_LEN:
            raise ValueError("the set public key is 32 bytes and the signature 64 bytes")

    @classmethod
    def from_parts(
        cls,
        wrapped: WrappedKey,
        info: KeyInfo,
        canary: Canary,
        *,
        created: int,
        set_id: bytes,
        set_fingerprint: bytes,
        threshold: int,
        count: int,
        set_public_key: bytes,
        signature: bytes = bytes(SIGNATURE_LEN),
    ) -> BackupPackage:
        """The package of a backup made by ``keys.recovery.backup_key``; sign it with
        ``replace(p, signature=set_key.sign(p.signing_input()))``."""
        if wrapped.algorithm is not info.algorithm or canary.label != info.label:
            raise ValueError("wrapped key, key info and canary are of different keys")
        return cls(
            created, set_id, set_fingerprint, threshold, count, info.label, info.algorithm,
            wrapped.mechanism, info.key_check_value, wrapped.blob, info.public_key,
            canary.nonce, canary.ciphertext_or_signature, set_public_key, signature,
        )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"BackupPackage({self.label!r}, {self.algorithm.value}, kcv={self.key_check_value}, "
            f"set={self.set_id.hex()}, blob=<{len(self.wrapped_blob)} bytes>)"
        )

    # --- the key-level values (keys/model.py) ---------------------------------------------------

    @property
    def key_info(self) -> KeyInfo:
        return KeyInfo(self.label, self.algorithm, self.key_check_value, self.public_key)

    @property
    def wrapped_key(self) -> WrappedKey:
        return WrappedKey(self.algorithm, self.wrapped_blob, self.wrap_mechanism)

    @property
    def canary(self) -> Canary:
        kind = self.algorithm.canary_kind
        return Canary(self.label, kind, self.canary_nonce, self.canary_value, canary_plaintext(self.label))

    # --- canonical bytes ------------------------------------------------------------------------

    def body(self) -> bytes:
        """Everything the signature covers: magic through set_public_key (§2)."""
        label = self.label.encode("utf-8")
        algorithm = self.algorithm.value.encode("ascii")
        wrap = self.wrap_mechanism.encode("ascii")
        kcv = bytes.fromhex(self.key_check_value)
        public_key = self.public_key or b""
        head = _HEAD.pack(
            MAGIC, VERSION, self.created, self.set_id, self.set_fingerprint, self.threshold, self.count
        )
        return b"".join((
            head,
            _short(label), _short(algorithm), _short(wrap), _short(kcv),
            struct.pack(">H", len(self.wrapped_blob)), self.wrapped_blob,
            struct.pack(">H", len(public_key)), public_key,
            _short(self.canary_nonce), _short(self.canary_value),
            self.set_public_key,
        ))  # fmt: skip

    def signing_input(self) -> bytes:
        """What the set key signs: the context string, then the body (§3)."""
        return SIGNATURE_CONTEXT + self.body()

    def to_bytes(self) -> bytes:
        signed = self.body() + self.signature
        return signed + hashlib.sha256(signed).digest()[:CHECK_LEN]

    def fingerprint(self) -> bytes:
        """16 bytes naming this exact package (§4)."""
        return hashlib.sha256(FINGERPRINT_CONTEXT + self.body() + self.signature).digest()[
            :PACKAGE_FINGERPRINT_LEN
        ]

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str | None = None) -> BackupPackage:
        """Parse and check the encoding; raises PackageFormatError (signature not checked)."""
        reader = _Reader(bytes(data), source)
        if len(data) < 4 or data[:3] != MAGIC:
            raise PackageFormatError("this is not a keyceremony backup package (wrong magic)", source=source)
        if data[3] != VERSION:
            raise PackageFormatError(
                f"backup package version {data[3]} is not supported by this keyceremony (it "
                f"reads version {VERSION}); use a newer keyceremony",
                source=source,
            )
        _, _, created, set_id, set_fp, threshold, count = _HEAD.unpack(reader.take(_HEAD.size))
        label_bytes = reader.short()
        algorithm_name = reader.short()
        wrap = reader.short()
        kcv = reader.short()
        blob = reader.take(reader.u16())
        public_key = reader.take(reader.u16())
        nonce = reader.short()
        canary = reader.short()
        set_public_key = reader.take(PUBLIC_KEY_LEN)
        signature = reader.take(SIGNATURE_LEN)
        reader.take(CHECK_LEN)
        reader.end()
        if hashlib.sha256(data[:-CHECK_LEN]).digest()[:CHECK_LEN] != data[-CHECK_LEN:]:
            raise PackageFormatError(
                "the package's checksum does not match: it was mistyped or damaged; use the "
                "package from another card or the package.kcb file",
                source=source,
            )
        try:
            algorithm = _ALGORITHMS[algorithm_name.decode("ascii")]
        except (UnicodeDecodeError, KeyError):
            raise PackageFormatError(
                f"unknown key algorithm {algorithm_name!r} (this keyceremony knows "
                f"{', '.join(_ALGORITHMS)}); use a newer keyceremony",
                source=source,
            ) from None
        if wrap != WRAP_FORMAT_RFC5649.encode():
            raise PackageFormatError(
                f"unknown wrapping format {wrap!r}; version 1 packages use '{WRAP_FORMAT_RFC5649}' "
                "(AES Key Wrap with Padding)",
                source=source,
            )
        if len(kcv) != _KCV_LEN[algorithm.is_symmetric] or len(nonce) != _NONCE_LEN[algorithm.is_symmetric]:
            raise PackageFormatError(
                f"the key check value or canary nonce has the wrong length for a {algorithm.value} key",
                source=source,
            )
        if algorithm.is_symmetric == bool(public_key):
            raise PackageFormatError(
                f"a {algorithm.value} key {'has no' if algorithm.is_symmetric else 'needs its'} "
                "public key in the package",
                source=source,
            )
        try:
            return cls(
                created, set_id, set_fp, threshold, count, label_bytes.decode("utf-8"), algorithm,
                wrap.decode("ascii"), kcv.hex(), blob, public_key or None, nonce, canary,
                set_public_key, signature,
            )  # fmt: skip
        except (UnicodeDecodeError, ValueError) as err:
            raise PackageFormatError(f"the package's fields are invalid: {err}", source=source) from None

    # --- checks ---------------------------------------------------------------------------------

    def verify(self, *, source: str | None = None) -> None:
        """Check the signature against ``set_public_key``; raises PackageSignatureError."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.set_public_key).verify(self.signature, self.signing_input())
        except (InvalidSignature, ValueError):
            raise PackageSignatureError(
                "the backup package's signature does not verify: it was altered, damaged or "
                "forged. Do not use it; use the package from another card or the package.kcb "
                "file of the backup, and report it",
                source=source,
            ) from None

    def check_shares(self, share: SharePayload, *, source: str | None = None) -> None:
        """Raise PackageMismatch unless the share (a SharePayload of the wrapping key's set) is
        of the set this package names, signed by the same set key (§3)."""
        same = (
            hmac.compare_digest(self.set_public_key, share.public_key)
            and hmac.compare_digest(self.set_fingerprint, share.fingerprint())
            and self.set_id == share.set_id
            and (self.threshold, self.count) == (share.threshold, share.count)
        )
        if not same:
            from keyceremony.shares.shareset import format_set_id

            raise PackageMismatch(
                f"{source or 'the backup package'} is the backup of key '{self.label}' made with "
                f"share set {format_set_id(self.set_id)}, but the cards are of set "
                f"{format_set_id(share.set_id)}: the cards come from another backup (or the "
                "package does). Bring the cards of this backup, or its own package (any of "
                "its cards carries it)"
            )

    # --- text and QR forms (§5, §6) -------------------------------------------------------------

    def describe(self) -> str:
        return f"key '{self.label}' ({self.algorithm.value}, check value {format_kcv(self.key_check_value)})"

    def to_text(self, comments: Sequence[str] | None = None) -> str:
        """The text block: header, '# ' comment lines, numbered data lines (as share text)."""
        if comments is None:
            comments = default_comments(self)
        return encode_lines(self.to_bytes(), HEADER, list(comments)).decode("utf-8")

    @classmethod
    def from_text(cls, text: str, *, source: str | None = None) -> BackupPackage:
        """Parse the text block; raises PackageFormatError naming the line that is wrong.

        Line numbers count from the start of ``text``; a caller that cut the block out of a
        share file passes the earlier lines as blank lines to keep them (share_sources does).
        """
        chars, last_line = decode_lines(text, PACKAGE_TEXT, source=source)
        data = decode_line_chars(chars, PACKAGE_TEXT, source=source, last_line=last_line)
        truncated = f"the package ends after line {last_line} but is not complete; lines are missing at the end"
        return cls._from_data(data, source, truncated)

    def to_qr_text(self) -> str:
        """Base32 without padding, upper case: QR alphanumeric mode (docs/backup-package.md §6)."""
        return base32.encode(self.to_bytes()).decode("ascii")

    @classmethod
    def from_qr_text(cls, text: str, *, source: str | None = None) -> BackupPackage:
        """Parse a QR code's text; raises PackageFormatError unless it is the canonical base32 of
        a package (docs/backup-package.md §6). White space around it and lower case are accepted."""
        data = decode_qr_text(text, PACKAGE_TEXT, _REMEDY, source=source)
        return cls._from_data(data, source, f"the QR code's package data is cut short; {_REMEDY}")

    @classmethod
    def _from_data(cls, data: bytes, source: str | None, truncated: str) -> BackupPackage:
        try:
            return cls.from_bytes(data, source=source)
        except PackageFormatError as err:
            if "truncated" in str(err):
                raise PackageFormatError(truncated, source=source) from None
            raise


def is_package_bytes(data: bytes) -> bool:
    """True if ``data`` starts with the package magic (dispatch between "KCS" and "KCB")."""
    return data[:3] == MAGIC


def is_package_qr_text(text: str) -> bool:
    """True if a QR code's base32 text decodes to something starting with the package magic."""
    head = text.strip().upper()[:8]  # 8 characters: 5 whole bytes, no unused bits
    try:
        return len(head) == 8 and is_package_bytes(base32.decode(head.encode("ascii")))
    except ValueError:  # not ASCII, or not base32
        return False


def format_kcv(kcv_hex: str) -> str:
    """``1a2b3c`` -> ``1A2B3C``; a 16-digit fingerprint in groups of four, as on the card."""
    up = kcv_hex.upper()
    return up if len(up) <= 6 else " ".join(up[i : i + 4] for i in range(0, len(up), 4))


def format_package_fingerprint(fp: bytes) -> str:
    return format_fingerprint(fp)


def default_comments(p: BackupPackage) -> list[str]:
    from keyceremony.shares.shareset import format_set_id

    when = datetime.fromtimestamp(p.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"Backup package of {p.describe()}",
        f"share set {format_set_id(p.set_id)} (any {p.threshold} of {p.count} cards), made {when}",
        f"package fingerprint {format_package_fingerprint(p.fingerprint())}",
        f"Not secret: useless without {p.threshold} cards. `keyceremony recover` reads it.",
    ]


def _short(value: bytes) -> bytes:
    if len(value) > 255:
        raise ValueError("a field with a one-byte length is at most 255 bytes")
    return bytes([len(value)]) + value


class _Reader:
    def __init__(self, data: bytes, source: str | None) -> None:
        self.data, self.pos, self.source = data, 0, source

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PackageFormatError(
                f"the package is truncated: {len(self.data)} bytes, but its fields need more",
                source=self.source,
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def short(self) -> bytes:
        return self.take(self.take(1)[0])

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def end(self) -> None:
        if self.pos != len(self.data):
            raise PackageFormatError(
                f"the package has {len(self.data) - self.pos} unexpected trailing bytes", source=self.source
            )
