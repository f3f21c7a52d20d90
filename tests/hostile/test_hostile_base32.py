"""Hostile base32: every byte string has exactly one encoding, and every decoder says so.

keyceremony.codec.base32 is the only base32 codec (docs/share-format.md §5, §6 and
docs/backup-package.md §5, §6). ``base64.b32decode`` accepts a last character whose unused bits
are not zero, so two texts decode to the same bytes; the codec and every decoder built on it
reject that, a length no byte string encodes to, and a character outside A-Z2-7, with an error
that says which. The codec's properties are checked against ``base64.b32encode``.
"""

from __future__ import annotations

import base64
import random
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keyceremony.codec import base32
from keyceremony.errors import PackageFormatError, ShareFormatError
from keyceremony.keys.backup_package import BackupPackage, is_package_qr_text
from keyceremony.keys.model import KeyAlgorithm, canary_plaintext
from keyceremony.recipes.sources import read_payloads
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.text import format_line, from_qr_text, from_text, to_qr_text, to_text

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TAIL_BITS = {0: 0, 2: 2, 4: 4, 5: 1, 7: 3}  # characters mod 8 -> unused bits in the last character


def std_decode(text: str) -> bytes:
    """The standard library's reading of unpadded base32 (lenient about the unused bits)."""
    return base64.b32decode(text + "=" * (-len(text) % 8))


def non_canonical(text: str) -> str:
    """``text`` with its last character's lowest unused bit set: the same bytes to b32decode."""
    spare = TAIL_BITS[len(text) % 8]
    assert spare, "the text must have unused bits in its last character"
    value = ALPHABET.index(text[-1])
    assert value & ((1 << spare) - 1) == 0  # the encoder writes zeros
    tweaked = text[:-1] + ALPHABET[value | 1]
    assert std_decode(tweaked) == std_decode(text)  # what the lenient codec would let through
    return tweaked


def bad_length(text: str) -> str:
    """``text`` cut to the longest length (1, 3 or 6 mod 8) that no byte string encodes to."""
    n = len(text)
    while n % 8 not in (1, 3, 6):
        n -= 1
    return text[:n]


def share_payload(secret_len: int) -> SharePayload:
    rng = random.Random(secret_len)
    return SharePayload(
        set_id=rng.randbytes(8), threshold=2, count=3, x=1, created=1_735_689_600, label="hostile-base32",
        y=rng.randbytes(secret_len), public_key=rng.randbytes(32), signature=rng.randbytes(64),
    )  # fmt: skip


def package() -> BackupPackage:
    label = "hostile-kek"
    return BackupPackage(
        1_795_000_000, bytes(range(8)), bytes(range(16)), 2, 3, label, KeyAlgorithm.AES256, "rfc5649",
        "1a2b3c", bytes(range(40)), None, bytes(12), bytes(len(canary_plaintext(label)) + 16), bytes(32),
        bytes(64),
    )  # fmt: skip


# A share whose QR text has unused bits in its last character.
SHARE = next(p for p in map(share_payload, range(16, 40)) if TAIL_BITS[len(to_qr_text(p)) % 8])
PACKAGE = package()
assert TAIL_BITS[len(PACKAGE.to_qr_text()) % 8]


def with_last_line(text: str, chars: str) -> tuple[str, int]:
    """``text`` (a checked-lines text) with its last data line's characters replaced by
    ``chars``, its check recomputed; and the file line number of that line."""
    lines = text.splitlines()
    number, rest = lines[-1].split("  ", 1)
    lines[-1] = format_line(int(number), chars, len(number))
    return "\n".join(lines) + "\n", len(lines)


def last_line_chars(text: str) -> str:
    return text.splitlines()[-1].split("  ")[1].replace(" ", "")


# --- the codec ------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
@example(b"")
@example(b"\xff" * 5)
def test_round_trip_and_same_canonical_form_as_the_standard_library(data):
    text = base32.encode(data)
    assert text == base64.b32encode(data).rstrip(b"=")
    assert base32.decode(text) == data
    assert base32.decode(bytearray(text)) == base32.decode(memoryview(text)) == data


@pytest.mark.parametrize("size", [0, 1, 4, 5, 6, 327_679, 327_680, 327_681, 655_365, 1_000_003])
def test_round_trip_across_the_codecs_chunks(size):
    data = random.Random(size).randbytes(size)
    text = base32.encode(data)
    assert text == base64.b32encode(data).rstrip(b"=")
    assert base32.decode(text) == data


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=64))
@example("A")
@example("AB")
@example("AE")
@example("777")
def test_decode_is_canonical(text):
    """Every text that decodes re-encodes to itself; every other text is refused for its length
    or its unused bits, exactly when the standard library's reading re-encodes differently."""
    raw = text.encode("ascii")
    try:
        data = base32.decode(raw)
    except base32.Base32Error as err:
        if len(text) % 8 in (1, 3, 6):
            assert err.reason == "length"
        else:
            assert err.reason == "padding" and err.index == len(text) - 1
            lenient = std_decode(text)  # b32decode takes it, but it is not the encoding of its bytes
            assert base64.b32encode(lenient).rstrip(b"=") != raw
        return
    assert base32.encode(data) == raw
    assert data == std_decode(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_base32_error(raw):
    try:
        data = base32.decode(raw)
    except base32.Base32Error as err:
        assert isinstance(err, ValueError) and err.reason in ("character", "length", "padding")
        return
    assert base32.encode(data) == raw


@pytest.mark.parametrize("bad", ["a", "=", "0", "1", "8", "9", " ", "\n", "\xff"])
def test_codec_refuses_foreign_characters_and_names_the_first(bad):
    text = base32.encode(bytes(range(200))).decode("ascii")
    for at in (0, 77, len(text) - 1):
        raw = (text[:at] + bad + text[at + 1 :]).encode("latin-1")
        with pytest.raises(base32.Base32Error, match=f"character {at + 1} ") as info:
            base32.decode(raw)
        assert info.value.reason == "character" and info.value.index == at


def test_codec_refuses_padding_and_a_foreign_character_in_a_later_chunk():
    text = base32.encode(bytes(700_000))
    with pytest.raises(base32.Base32Error) as info:
        base32.decode(text + b"======")
    assert info.value.reason in ("character", "length")
    at = 600_000 * 8 // 5 + 3  # past the first chunk of 65,536 groups
    with pytest.raises(base32.Base32Error) as info:
        base32.decode(text[:at] + b"=" + text[at + 1 :])
    assert info.value.reason == "character" and info.value.index == at


@pytest.mark.parametrize("n", [1, 3, 6, 9, 11, 14, 17])
def test_codec_refuses_impossible_lengths(n):
    with pytest.raises(base32.Base32Error, match=f"{n} characters is not a base32 length") as info:
        base32.decode(b"A" * n)
    assert info.value.reason == "length"


# --- the share's QR text --------------------------------------------------------------------------------


def test_share_qr_text_canonical_accepted():
    qr = to_qr_text(SHARE)
    assert from_qr_text(qr, source="card-1.png") == SHARE
    assert from_qr_text(f" {qr.lower()}\n", source="card-1.png") == SHARE  # docs/share-format.md §6


def test_share_qr_text_non_canonical_last_character_refused():
    tweaked = non_canonical(to_qr_text(SHARE))
    with pytest.raises(ShareFormatError, match="last character is not the canonical base32") as info:
        from_qr_text(tweaked, source="card-1.png")
    assert str(info.value).startswith("card-1.png: ")
    with pytest.raises(ShareFormatError, match="unused bits must be zero"):
        from_qr_text(tweaked.lower(), source="card-1.png")


def test_share_qr_text_bad_length_refused():
    short = bad_length(to_qr_text(SHARE))
    with pytest.raises(ShareFormatError, match=f"card-1.png: .*cut short \\({len(short)} characters"):
        from_qr_text(short, source="card-1.png")


@pytest.mark.parametrize("bad", ["0", "=", "-", "é", "\x00"])
def test_share_qr_text_foreign_character_refused(bad):
    qr = to_qr_text(SHARE)
    message = re.escape(f"not hold a keyceremony share (unexpected character {bad.upper()!r})")
    for text in (qr[:10] + bad + qr[11:], qr + bad * (-len(qr) % 8)):  # '=' at the end: RFC 4648 padding
        with pytest.raises(ShareFormatError, match=message):
            from_qr_text(text, source="card-1.png")


# --- the share's text lines -----------------------------------------------------------------------------


@pytest.mark.parametrize("lenient", [False, True], ids=["canonical-layout", "typed-leniently"])
def test_share_text_non_canonical_last_character_refused(lenient):
    text = to_text(SHARE)
    assert from_text(text, source="share-1.txt") == SHARE
    qr = to_qr_text(SHARE)
    chars = last_line_chars(text)
    assert qr.endswith(chars)
    tweaked, line = with_last_line(text, chars[:-1] + non_canonical(qr)[-1])
    if lenient:  # lower case: the line-by-line path, not the vectorized one
        tweaked = tweaked.lower()
        assert from_text(text.lower(), source="share-1.txt") == SHARE
    with pytest.raises(ShareFormatError, match="last character of the last data line") as info:
        from_text(tweaked, source="share-1.txt")
    assert info.value.line == line
    assert str(info.value).startswith(f"share-1.txt, line {line}: ")


def test_share_text_bad_length_refused():
    text = to_text(SHARE)
    chars = last_line_chars(text)
    total = len(to_qr_text(SHARE)) - len(chars)
    keep = next(k for k in range(len(chars) - 1, 0, -1) if (total + k) % 8 in (1, 3, 6))
    short, line = with_last_line(text, chars[:keep])
    with pytest.raises(ShareFormatError, match="impossible number of characters") as info:
        from_text(short, source="share-1.txt")
    assert info.value.line == line


@pytest.mark.parametrize("bad", ["=", "@", "é"])
def test_share_text_foreign_character_refused(bad):
    lines = to_text(SHARE).splitlines()
    row = lines[2]  # data line 1
    lines[2] = row[:4] + bad + row[5:]
    with pytest.raises(ShareFormatError, match=f"'{bad.upper()}' is not a share character") as info:
        from_text("\n".join(lines) + "\n", source="share-1.txt")
    assert info.value.line == 3


# --- the backup package's QR text -----------------------------------------------------------------------


def test_package_qr_text_canonical_accepted():
    qr = PACKAGE.to_qr_text()
    assert qr == base64.b32encode(PACKAGE.to_bytes()).rstrip(b"=").decode("ascii")  # as before: one codec
    assert BackupPackage.from_qr_text(qr, source="card-1.png (backup package)") == PACKAGE
    assert BackupPackage.from_qr_text(f"\n{qr.lower()} ") == PACKAGE
    assert is_package_qr_text(qr) and is_package_qr_text(qr.lower())


def test_package_qr_text_non_canonical_last_character_refused():
    tweaked = non_canonical(PACKAGE.to_qr_text())
    with pytest.raises(PackageFormatError, match="package data is cut short or altered: its last character") as info:
        BackupPackage.from_qr_text(tweaked, source="card-1.png (backup package)")
    assert str(info.value).startswith("card-1.png (backup package): ")
    assert "package.kcb" in str(info.value)  # what to do


def test_package_qr_text_bad_length_refused():
    short = bad_length(PACKAGE.to_qr_text())
    with pytest.raises(PackageFormatError, match=f"package data is cut short \\({len(short)} characters"):
        BackupPackage.from_qr_text(short, source="card-1.png")


@pytest.mark.parametrize("bad", ["0", "=", "-", "é", "\x00"])
def test_package_qr_text_foreign_character_refused(bad):
    qr = PACKAGE.to_qr_text()
    text = qr[:10] + bad + qr[11:]
    message = re.escape(f"not hold a keyceremony backup package (unexpected character {bad.upper()!r})")
    with pytest.raises(PackageFormatError, match=message):
        BackupPackage.from_qr_text(text, source="card-1.png")
    assert not is_package_qr_text(bad + qr[1:])


# --- the backup package's text block, alone and in a share file -----------------------------------------


def test_package_text_non_canonical_last_character_refused():
    text = PACKAGE.to_text()
    assert BackupPackage.from_text(text) == PACKAGE
    chars = last_line_chars(text)
    tweaked, line = with_last_line(text, chars[:-1] + non_canonical(PACKAGE.to_qr_text())[-1])
    with pytest.raises(PackageFormatError, match="last character of the last data line") as info:
        BackupPackage.from_text(tweaked, source="share-1.txt")
    assert info.value.line == line


def test_package_text_bad_length_refused():
    text = PACKAGE.to_text()
    chars = last_line_chars(text)
    total = len(PACKAGE.to_qr_text()) - len(chars)
    keep = next(k for k in range(len(chars) - 1, 0, -1) if (total + k) % 8 in (1, 3, 6))
    short, line = with_last_line(text, chars[:keep])
    with pytest.raises(PackageFormatError, match="impossible number of characters") as info:
        BackupPackage.from_text(short, source="share-1.txt")
    assert info.value.line == line


def test_package_text_foreign_character_refused():
    lines = PACKAGE.to_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("01 "))
    lines[at] = lines[at][:4] + "=" + lines[at][5:]
    with pytest.raises(PackageFormatError, match="'=' is not a backup package character") as info:
        BackupPackage.from_text("\n".join(lines) + "\n")
    assert info.value.line == at + 1


def test_package_block_in_a_share_file(tmp_path: Path):
    share_text = to_text(SHARE)
    good = tmp_path / "share-1.txt"
    good.write_text(share_text + "\n" + PACKAGE.to_text())
    contents = read_payloads(str(good))
    assert contents.shares == [(str(good), SHARE)] and contents.packages == [(str(good), PACKAGE)]

    chars = last_line_chars(PACKAGE.to_text())
    block, _ = with_last_line(PACKAGE.to_text(), chars[:-1] + non_canonical(PACKAGE.to_qr_text())[-1])
    bad = tmp_path / "share-2.txt"
    bad.write_text(share_text + "\n" + block)
    file_line = len((share_text + "\n" + block).splitlines())
    contents = read_payloads(str(bad))
    assert contents.shares == [(str(bad), SHARE)] and not contents.packages  # the share still counts
    [problem] = contents.problems
    assert isinstance(problem, PackageFormatError)
    assert str(problem).startswith(f"{bad}, line {file_line}: the last character of the last data line")
