"""keyceremony.shares.payload: the signed binary share, version 1 (docs/share-format.md §2).

Round trips are property-tested; the encoder is cross-checked against an independent one written
here from the layout in the module docstring; every non-canonical encoding we can think of is
rejected with a ShareFormatError (docs/share-format.md §2: decoders MUST reject them).
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyceremony.errors import ShareFormatError
from keyceremony.shares.payload import (
    MIN_LENGTH,
    SIGNATURE_CONTEXT,
    SharePayload,
    check_label,
    set_fingerprint,
)

# --- an independent encoder, from the layout in share_payload's docstring ---------------------
#   magic "KCS" | version 0x01 | set_id[8] | threshold | count | x | created u32 |
#   label_len | label | secret_len u32 | y[secret_len] | public_key[32] | signature[64] | check[4]


def raw_payload(
    *,
    magic: bytes = b"KCS",
    version: int = 1,
    set_id: bytes = bytes(range(8)),
    threshold: int = 2,
    count: int = 3,
    x: int = 1,
    created: int = 1_735_689_600,
    label: bytes = b"test",
    label_len: int | None = None,
    y: bytes = b"\x11" * 20,
    secret_len: int | None = None,
    public_key: bytes = b"\x22" * 32,
    signature: bytes = b"\x33" * 64,
    check: bytes | None = None,
) -> bytes:
    body = magic + bytes([version]) + set_id + bytes([threshold, count, x])
    body += struct.pack(">I", created)
    body += bytes([len(label) if label_len is None else label_len]) + label
    body += struct.pack(">I", len(y) if secret_len is None else secret_len) + y
    body += public_key + signature
    return body + (hashlib.sha256(body).digest()[:4] if check is None else check)


def sample(**changes: object) -> SharePayload:
    fields: dict[str, object] = dict(
        set_id=bytes(range(8)),
        threshold=2,
        count=3,
        x=1,
        created=1_735_689_600,
        label="test",
        y=b"\x11" * 20,
        public_key=b"\x22" * 32,
        signature=b"\x33" * 64,
    )
    fields.update(changes)
    return SharePayload(**fields)  # type: ignore[arg-type]


# --- strategies ----------------------------------------------------------------------------------


def _nfc_label(text: str) -> str:
    return unicodedata.normalize("NFC", text)


labels = (
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn")), max_size=24)
    .map(_nfc_label)
    .filter(lambda s: len(s.encode()) <= 64 and unicodedata.normalize("NFC", s) == s)
)


@st.composite
def payloads(draw: st.DrawFn, max_len: int = 3000) -> SharePayload:
    count = draw(st.integers(1, 255))
    threshold = draw(st.integers(1, count))
    return SharePayload(
        set_id=draw(st.binary(min_size=8, max_size=8)),
        threshold=threshold,
        count=count,
        x=draw(st.integers(1, 255)),
        created=draw(st.integers(0, 2**32 - 1)),
        label=draw(labels),
        y=draw(st.binary(min_size=1, max_size=max_len)),
        public_key=draw(st.binary(min_size=32, max_size=32)),
        signature=draw(st.binary(min_size=64, max_size=64)),
    )


# --- round trips -----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(payloads())
def test_bytes_round_trip(payload):
    data = payload.to_bytes()
    back = SharePayload.from_bytes(data)
    assert back == payload
    assert back.to_bytes() == data  # canonical: one encoding per share


@settings(max_examples=100, deadline=None)
@given(payloads(max_len=300))
def test_encoder_matches_independent_encoder(payload):
    assert payload.to_bytes() == raw_payload(
        set_id=payload.set_id,
        threshold=payload.threshold,
        count=payload.count,
        x=payload.x,
        created=payload.created,
        label=payload.label.encode(),
        y=payload.y,
        public_key=payload.public_key,
        signature=payload.signature,
    )


def test_unicode_label_round_trips():
    label = "Schlüssel — ключ — 鍵 ✓"
    assert unicodedata.is_normalized("NFC", label)
    payload = sample(label=label)
    assert SharePayload.from_bytes(payload.to_bytes()).label == label


def test_minimum_length_is_a_one_byte_secret_with_empty_label():
    assert len(sample(label="", y=b"\x00").to_bytes()) == MIN_LENGTH


# --- what is signed and fingerprinted ----------------------------------------------------------------


def test_signing_input_commits_to_y_by_digest_and_to_everything_else():
    payload = sample()
    signed = payload.signing_input()
    assert signed.startswith(SIGNATURE_CONTEXT)
    assert hashlib.sha256(payload.y).digest() in signed
    assert signed.endswith(payload.public_key)
    assert payload.signature not in signed
    for change in (
        dict(set_id=b"\xff" * 8), dict(threshold=3), dict(count=4), dict(x=2), dict(created=1),
        dict(label="tost"), dict(y=b"\x12" + b"\x11" * 19), dict(public_key=b"\x23" * 32),
    ):
        assert replace(payload, **change).signing_input() != signed, change


def test_fingerprint_names_the_set_not_the_share():
    payload = sample()
    fp = payload.fingerprint()
    assert len(fp) == 16
    # Same set, another share: same fingerprint.
    assert replace(payload, x=2, y=b"\x99" * 20, signature=b"\x00" * 64).fingerprint() == fp
    # Any set field differs: another fingerprint.
    for change in (
        dict(set_id=b"\xff" * 8), dict(threshold=3), dict(count=4), dict(created=1),
        dict(label="tost"), dict(y=b"\x11" * 21), dict(public_key=b"\x23" * 32),
    ):
        assert replace(payload, **change).fingerprint() != fp, change
    assert set_fingerprint(
        payload.set_id, payload.threshold, payload.count, payload.created, payload.label,
        len(payload.y), payload.public_key,
    ) == fp


def test_repr_shows_no_share_bytes():
    y = bytes(range(200, 220))
    text = repr(sample(y=y))
    assert y.hex() not in text and y.hex().upper() not in text
    assert "20 bytes" in text
    assert str(sample(y=y)) == text


# --- construction validates (ValueError: caller misuse) ------------------------------------------


@pytest.mark.parametrize(
    "change, words",
    [
        (dict(set_id=b"\x00" * 7), "set_id"),
        (dict(threshold=0), "threshold"),
        (dict(threshold=4), "threshold"),
        (dict(count=256, threshold=2), "count"),
        (dict(x=0), "x must"),
        (dict(x=256), "x must"),
        (dict(created=-1), "created"),
        (dict(created=2**32), "created"),
        (dict(label=unicodedata.normalize("NFD", "é")), "NFC"),
        (dict(label="tab\there"), "control"),
        (dict(label="new\nline"), "control"),
        (dict(label="\u200b"), "control"),  # zero-width space is category Cf
        (dict(label="x" * 65), "64 bytes"),
        (dict(label="é" * 33), "64 bytes"),
        (dict(y=b""), "y must"),
        (dict(public_key=b"\x00" * 31), "public key"),
        (dict(signature=b"\x00" * 63), "signature"),
    ],
)
def test_construction_rejects_misuse(change, words):
    with pytest.raises(ValueError, match=words):
        sample(**change)


def test_check_label_accepts_64_bytes_and_nfc():
    assert check_label("é" * 32) == "é" * 32
    assert check_label("") == ""


# --- decoders MUST reject non-canonical encodings ---------------------------------------------------


def test_independent_encoding_decodes():
    assert SharePayload.from_bytes(raw_payload()) == sample()


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_version_byte(version):
    with pytest.raises(ShareFormatError, match=f"version {version} is not supported") as info:
        SharePayload.from_bytes(raw_payload(version=version), source="card-3.png")
    assert "newer keyceremony" in str(info.value)
    assert str(info.value).startswith("card-3.png: ")


@pytest.mark.parametrize("data", [b"", b"K", b"KC", b"KCS", b"XCS\x01" + raw_payload()[4:], b"\x00" * 200])
def test_not_a_share(data):
    with pytest.raises(ShareFormatError, match="not a keyceremony share"):
        SharePayload.from_bytes(data)


def test_every_truncation_is_rejected():
    data = raw_payload()
    for cut in range(len(data)):
        with pytest.raises(ShareFormatError) as info:
            SharePayload.from_bytes(data[:cut])
        if cut >= 4:
            assert "truncated" in str(info.value), cut


@pytest.mark.parametrize("extra", [b"\x00", b"\x00" * 4, b"junk" * 25])
def test_trailing_bytes_are_rejected(extra):
    with pytest.raises(ShareFormatError, match=f"{len(extra)} unexpected trailing bytes"):
        SharePayload.from_bytes(raw_payload() + extra)


def test_trailing_bytes_with_a_recomputed_check_are_rejected():
    # Appending to y without fixing secret_len, and recomputing the check over the longer body.
    data = raw_payload()
    body = data[:-4] + b"\x00"
    with pytest.raises(ShareFormatError, match="trailing"):
        SharePayload.from_bytes(body + hashlib.sha256(body).digest()[:4])


def test_wrong_check_is_rejected():
    data = raw_payload()
    for bit in range(32):
        bad = bytearray(data)
        bad[-4 + bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ShareFormatError, match="checksum does not match"):
            SharePayload.from_bytes(bytes(bad))


def test_every_single_byte_change_is_rejected():
    data = raw_payload()
    for pos in range(len(data)):
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[pos] ^= flip
            with pytest.raises(ShareFormatError):
                SharePayload.from_bytes(bytes(bad))


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(label=unicodedata.normalize("NFD", "café").encode()), "NFC"),
        (dict(label=b"\xff\xfe"), "invalid"),
        (dict(label=b"caf\xc3"), "invalid"),  # cut UTF-8 sequence
        (dict(label=b"a\x07b"), "control"),
        (dict(label=b"x" * 65), "64 bytes"),
        (dict(threshold=0), "threshold"),
        (dict(threshold=4, count=3), "threshold"),
        (dict(x=0), "x must"),
        (dict(y=b""), "y must"),
    ],
)
def test_invalid_fields_with_a_valid_check_are_rejected(fields, words):
    with pytest.raises(ShareFormatError, match=words) as info:
        SharePayload.from_bytes(raw_payload(**fields), source="share-2.txt")
    assert str(info.value).startswith("share-2.txt: ")


def test_length_fields_that_disagree_with_the_data():
    with pytest.raises(ShareFormatError, match="truncated"):
        SharePayload.from_bytes(raw_payload(secret_len=21))
    with pytest.raises(ShareFormatError, match="trailing"):
        SharePayload.from_bytes(raw_payload(secret_len=19))
    with pytest.raises(ShareFormatError):
        SharePayload.from_bytes(raw_payload(label_len=5))
    with pytest.raises(ShareFormatError, match="truncated"):
        SharePayload.from_bytes(raw_payload(label_len=255))
