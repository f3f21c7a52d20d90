"""keyceremony.shares.text: the typeable text form and the QR text (docs/share-format.md §5).

The per-line CRC-15 is checked against an independent bit-serial implementation and the CAN
catalogue value; the vectorized encoder/checker against the scalar one; and every single-character
substitution and adjacent transposition on every data line of a sample share is shown to be caught
and pinned to its line, on the fast path and the slow path alike.
"""

from __future__ import annotations

import base64
import inspect
import os
import random
import unicodedata
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keyceremony.errors import ShareFormatError
from keyceremony.recipes.sources import read_shares
from keyceremony.shares import text as share_text
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.text import (
    CHARS_PER_LINE,
    HEADER,
    format_line,
    from_qr_text,
    from_text,
    line_check,
    line_check_error,
    to_qr_text,
    to_text,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
LOOKALIKES = {"O": "0", "I": "1", "B": "8", "G": "9"}  # written char -> accepted look-alike


def make_payload(y: bytes, *, label: str = "payments-root-2025", x: int = 2, seed: int = 7) -> SharePayload:
    rng = random.Random(seed)
    return SharePayload(
        set_id=rng.randbytes(8), threshold=3, count=5, x=x, created=1_735_689_600, label=label,
        y=y, public_key=rng.randbytes(32), signature=rng.randbytes(64),
    )


SAMPLE = make_payload(random.Random(1).randbytes(32))
SAMPLE_COMMENTS = ["payments-root-2025: share 2 of 5; any 3 recover the secret", "set fingerprint 0000"]
SAMPLE_TEXT = to_text(SAMPLE, SAMPLE_COMMENTS)
SAMPLE_LINES = SAMPLE_TEXT.splitlines()
FIRST_DATA = 1 + len(SAMPLE_COMMENTS)  # index of the first data line in SAMPLE_LINES
DATA_INDEXES = range(FIRST_DATA, len(SAMPLE_LINES))


def with_line(lines: list[str], index: int, new: str) -> str:
    return "\n".join(lines[:index] + [new] + lines[index + 1 :]) + "\n"


def expect_line_error(text: str, file_line: int) -> ShareFormatError:
    with pytest.raises(ShareFormatError) as info:
        from_text(text, source="share-2.txt")
    err = info.value
    assert err.line == file_line, str(err)
    assert str(err).startswith(f"share-2.txt, line {file_line}: "), str(err)
    return err


# --- the CRC-15 against an independent implementation ---------------------------------------------


def reference_crc15(bits: list[int]) -> int:
    """Remainder of M(x) * x^15 divided by the CAN polynomial, by long division."""
    poly = (1 << 15) | 0x4599
    reg = int("".join(map(str, bits)) or "0", 2) << 15
    for shift in range(len(bits) + 14, 14, -1):
        if reg >> shift & 1:
            reg ^= poly << (shift - 15)
    return reg


def reference_line_check(number: int, chars: str) -> str:
    bits = [(number >> (31 - i)) & 1 for i in range(32)]
    for c in chars:
        v = ALPHABET.index(c)
        bits += [(v >> (4 - j)) & 1 for j in range(5)]
    crc = reference_crc15(bits)
    return "".join(ALPHABET[(crc >> s) & 31] for s in (10, 5, 0))


def test_crc15_is_the_can_crc():
    # CRC-15/CAN: width 15, poly 0x4599, init 0, no reflection, no final XOR, check 0x059E.
    bits = [(b >> (7 - i)) & 1 for b in b"123456789" for i in range(8)]
    assert reference_crc15(bits) == 0x059E
    crc = 0
    for b in b"123456789":
        crc = share_text._crc_update(crc, b, 8)
    assert crc == 0x059E


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.text(alphabet=ALPHABET, min_size=0, max_size=CHARS_PER_LINE))
def test_line_check_matches_reference(number, chars):
    assert line_check(number, chars) == reference_line_check(number, chars)


# --- the vectorized checks agree with the scalar ones -------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.integers(0, 2**32 - 1), st.integers(0, 2**32))
def test_vectorized_checks_match_scalar(rows, top, seed):
    rnd = random.Random(seed)
    numbers = np.array([rnd.randrange(0, top + 1) for _ in range(rows)], dtype=np.uint32)
    values = np.array([[rnd.randrange(32) for _ in range(CHARS_PER_LINE)] for _ in range(rows)], dtype=np.uint8)
    checks = share_text._check_text(share_text._checks(numbers, values))
    for n, row, check in zip(numbers, values, checks, strict=True):
        chars = "".join(ALPHABET[v] for v in row)
        assert check.tobytes().decode() == line_check(int(n), chars)


def full_lines(data: str, count: int, width: int) -> str:
    """share_text._full_lines on ``data``; it takes ASCII characters or their 5-bit values."""
    ascii_chars = np.frombuffer(data.encode(), dtype=np.uint8)
    first = next(iter(inspect.signature(share_text._full_lines).parameters))
    arg = np.array([ALPHABET.index(c) for c in data], dtype=np.uint8) if first == "values" else ascii_chars
    got = share_text._full_lines(arg, count, width)
    return got.decode("ascii") if isinstance(got, bytes) else got


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1200), st.integers(0, 3), st.integers(0, 2**32))
def test_vectorized_lines_match_format_line(count, extra_width, seed):
    rnd = random.Random(seed)
    width = max(2, len(str(count))) + extra_width  # to_text never writes a narrower number
    data = "".join(rnd.choice(ALPHABET) for _ in range(count * CHARS_PER_LINE))
    got = full_lines(data, count, width)
    want = "".join(
        format_line(i + 1, data[i * CHARS_PER_LINE : (i + 1) * CHARS_PER_LINE], width) + "\n" for i in range(count)
    )
    assert got == want


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=400), st.integers(1, 6))
@example(bytes(range(100)), 2)  # 6 full lines and a partial one: 3 pieces of lines, then the tail
def test_lines_written_in_pieces_are_the_lines_written_whole(data, piece_lines):
    """iter_lines cuts the data at whole lines (15 bytes); with pieces of a few lines, every cut
    falls somewhere, and the joined pieces must still be format_line's lines, numbered on."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(share_text, "_LINES_PER_PIECE", piece_lines)
        pieces = list(share_text.iter_lines(data, "HEADER", ["a comment"]))
    chars = base64.b32encode(data).decode().rstrip("=")
    nlines = -(-len(chars) // CHARS_PER_LINE)
    width = max(2, len(str(nlines)))
    want = "HEADER\n# a comment\n" + "".join(
        format_line(i + 1, chars[i * CHARS_PER_LINE : (i + 1) * CHARS_PER_LINE], width) + "\n" for i in range(nlines))
    assert b"".join(pieces).decode() == want
    assert len(pieces) == 1 + -(-(len(data) // 15) // piece_lines) + (len(data) % 15 > 0)


def test_values_maps_the_alphabet_and_nothing_else():
    codes = np.arange(256, dtype=np.uint8)
    values = share_text._values(codes)
    for code, value in zip(range(256), values, strict=True):
        ch = chr(code)
        assert value == (ALPHABET.index(ch) if ch in ALPHABET else 255), ch


# --- round trips ---------------------------------------------------------------------------------------


labels = (
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), max_size=20)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: len(s.encode()) <= 64 and unicodedata.is_normalized("NFC", s))
)


@st.composite
def payloads(draw: st.DrawFn) -> SharePayload:
    count = draw(st.integers(1, 255))
    return SharePayload(
        set_id=draw(st.binary(min_size=8, max_size=8)),
        threshold=draw(st.integers(1, count)),
        count=count,
        x=draw(st.integers(1, 255)),
        created=draw(st.integers(0, 2**32 - 1)),
        label=draw(labels),
        y=draw(st.binary(min_size=1, max_size=3000)),
        public_key=draw(st.binary(min_size=32, max_size=32)),
        signature=draw(st.binary(min_size=64, max_size=64)),
    )


@settings(max_examples=120, deadline=None)
@given(payloads())
def test_text_round_trip(payload):
    comments = [f"{payload.label}: share {payload.x} of {payload.count}", "Keep this secret."]
    text = to_text(payload, comments)
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines[0] == HEADER and lines[1].startswith("# ") and lines[2] == "# Keep this secret."
    back = from_text(text)
    assert back == payload
    assert back.to_bytes() == payload.to_bytes()
    # Every data line is exactly what format_line writes, and carries its own line's check.
    data = base64.b32encode(payload.to_bytes()).rstrip(b"=").decode()
    body = lines[3:]
    width = max(2, len(str(len(body))))
    for number, line in enumerate(body, 1):
        chars = data[(number - 1) * CHARS_PER_LINE : number * CHARS_PER_LINE]
        assert line == format_line(number, chars, width)


@settings(max_examples=120, deadline=None)
@given(payloads())
def test_qr_text_round_trip(payload):
    qr = to_qr_text(payload)
    assert set(qr) <= set(ALPHABET)  # QR alphanumeric mode, no padding
    assert from_qr_text(qr) == payload
    assert from_qr_text(qr.lower()) == payload
    assert from_qr_text(f"  {qr}\n") == payload


@settings(max_examples=40, deadline=None)
@given(payloads(), st.integers(0, 2**32))
def test_fast_and_slow_paths_agree(payload, seed):
    text = to_text(payload, ["a comment"])
    with mock.patch.object(share_text, "_fast_decode", lambda *a, **k: None):
        slow = from_text(text)  # line by line only
    assert slow == payload
    if text.count("\n") > 3:  # two or more data lines: canonical text needs only the fast path
        with mock.patch.object(share_text, "_slow_decode", side_effect=AssertionError("slow path used")):
            assert from_text(text) == payload
    # One random change anywhere in a data line: whichever path runs, it must be refused.
    rnd = random.Random(seed)
    lines = text.splitlines()
    index = rnd.randrange(2, len(lines))
    col = rnd.randrange(len(lines[index]))
    lines[index] = lines[index][:col] + "*" + lines[index][col + 1 :]  # "#" first would make a comment
    with pytest.raises(ShareFormatError) as info:
        from_text("\n".join(lines) + "\n")
    assert info.value.line == index + 1


def test_one_byte_and_exact_line_multiples():
    for size in (1, 2, 14, 15, 16, 29, 30, 31):
        payload = make_payload(bytes(range(size)))
        assert from_text(to_text(payload)) == payload
        assert from_qr_text(to_qr_text(payload)) == payload


# --- every single mistake on every data line is caught and named ---------------------------------------


def substitutes(ch: str) -> list[str]:
    if ch.isdigit():
        return [str((int(ch) + 1) % 10), str((int(ch) + 5) % 10), "A"]
    if ch == " ":
        return ["A", "7", "-"]
    i = ALPHABET.index(ch)
    return [ALPHABET[(i + d) % 32] for d in (1, 13, 17)]


def test_sample_has_several_full_lines_and_a_short_last_line():
    data = SAMPLE_LINES[FIRST_DATA:]
    assert len(data) >= 8
    assert len(data[-1]) < len(data[0])


@pytest.mark.parametrize("index", DATA_INDEXES)
def test_every_substitution_is_caught_on_its_line(index):
    line = SAMPLE_LINES[index]
    tried = 0
    for col, ch in enumerate(line):
        for new in substitutes(ch):
            assert new != ch
            expect_line_error(with_line(SAMPLE_LINES, index, line[:col] + new + line[col + 1 :]), index + 1)
            tried += 1
    assert tried == 3 * len(line)


@pytest.mark.parametrize("index", DATA_INDEXES)
def test_every_adjacent_transposition_is_caught_on_its_line(index):
    line = SAMPLE_LINES[index]
    for col in range(len(line) - 1):
        a, b = line[col], line[col + 1]
        if a == b:
            continue
        swapped = line[:col] + b + a + line[col + 2 :]
        text = with_line(SAMPLE_LINES, index, swapped)
        if " " in (a, b):
            # Moving a space inside the character groups only regroups the same characters
            # (typing is lenient about spacing); anything else must be caught.
            try:
                assert from_text(text).to_bytes() == SAMPLE.to_bytes(), (col, swapped)
            except ShareFormatError as err:
                assert err.line == index + 1, str(err)
        else:
            expect_line_error(text, index + 1)


@pytest.mark.parametrize("index", DATA_INDEXES)
def test_swapping_neighbouring_share_characters_across_groups_is_caught(index):
    # Neighbours in the data, not in the printed line: "JNBV GAOM" -> "JNBG VAOM".
    number, rest = SAMPLE_LINES[index].split("  ", 1)
    groups, check = rest.rsplit("  ", 1)
    chars = groups.replace(" ", "")
    for i in range(len(chars) - 1):
        if chars[i] == chars[i + 1]:
            continue
        swapped = chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :]
        regrouped = " ".join(swapped[j : j + 4] for j in range(0, len(swapped), 4))
        expect_line_error(with_line(SAMPLE_LINES, index, f"{number}  {regrouped}  {check}"), index + 1)


def test_a_line_typed_under_another_number_is_caught():
    a, b = FIRST_DATA + 2, FIRST_DATA + 3
    na, rest_a = SAMPLE_LINES[a].split("  ", 1)
    nb, rest_b = SAMPLE_LINES[b].split("  ", 1)
    lines = list(SAMPLE_LINES)
    lines[a], lines[b] = f"{na}  {rest_b}", f"{nb}  {rest_a}"  # contents swapped, numbers kept
    err = expect_line_error("\n".join(lines) + "\n", a + 1)
    assert "does not match its check" in str(err)


def test_swapped_lines():
    a, b = FIRST_DATA + 2, FIRST_DATA + 3
    lines = list(SAMPLE_LINES)
    lines[a], lines[b] = lines[b], lines[a]
    err = expect_line_error("\n".join(lines) + "\n", a + 1)
    assert "expected data line 3 here but found line 4" in str(err)
    assert "out of order" in str(err)


def test_missing_line():
    index = FIRST_DATA + 4
    lines = SAMPLE_LINES[:index] + SAMPLE_LINES[index + 1 :]
    err = expect_line_error("\n".join(lines) + "\n", index + 1)
    assert "expected data line 5 here but found line 6" in str(err)
    assert "missing" in str(err)


def test_repeated_line():
    index = FIRST_DATA + 4
    lines = SAMPLE_LINES[: index + 1] + SAMPLE_LINES[index:]
    err = expect_line_error("\n".join(lines) + "\n", index + 2)
    assert "repeated" in str(err)


@pytest.mark.parametrize("drop", [1, 2, 5])
def test_missing_lines_at_the_end(drop):
    lines = SAMPLE_LINES[:-drop]
    last = len(lines) - FIRST_DATA
    with pytest.raises(ShareFormatError, match=f"ends after data line {last} but is not complete") as info:
        from_text("\n".join(lines) + "\n", source="share-2.txt")
    assert "truncated" in str(info.value) and str(info.value).startswith("share-2.txt: ")


def test_every_truncation_of_the_file_is_rejected():
    text = SAMPLE_TEXT.rstrip()
    first_data_offset = len("\n".join(SAMPLE_LINES[:FIRST_DATA])) + 1
    for cut in range(len(text)):
        with pytest.raises(ShareFormatError) as info:
            from_text(text[:cut], source="share-2.txt")
        message = str(info.value)
        assert message.startswith("share-2.txt"), message
        if cut > first_data_offset + 3:  # cut inside the data: names the line or says what is missing
            assert info.value.line is not None or "truncated" in message or "last line" in message, (cut, message)


def test_extra_trailing_junk_line():
    text = SAMPLE_TEXT + "thanks, Alice\n"
    err = expect_line_error(text, len(SAMPLE_LINES) + 1)
    assert "should start with its line number" in str(err)


def test_extra_numbered_line():
    number = len(SAMPLE_LINES) - FIRST_DATA + 1
    extra = format_line(number, "AAAA", 2)
    with pytest.raises(ShareFormatError) as info:
        from_text(SAMPLE_TEXT + extra + "\n", source="share-2.txt")
    assert info.value.line is not None


@pytest.mark.parametrize("header", ["keyceremony shares v1", "keyceremony share", "hello", "01  JNBV GAOM  AAA"])
def test_wrong_header(header):
    err = expect_line_error(with_line(SAMPLE_LINES, 0, header), 1)
    assert "first line should read 'keyceremony share v1'" in str(err)
    assert "not a keyceremony share file" in str(err)


@pytest.mark.parametrize("version", ["2", "10", "0"])
def test_unknown_text_version(version):
    err = expect_line_error(with_line(SAMPLE_LINES, 0, f"keyceremony share v{version}"), 1)
    assert f"share text version {version} is not supported" in str(err)
    assert "newer keyceremony" in str(err)


def test_binary_junk():
    rng = random.Random(5)
    junk = rng.randbytes(500).decode("latin-1")
    with pytest.raises(ShareFormatError, match="not a keyceremony share file"):
        from_text(junk, source="junk.txt")
    with pytest.raises(ShareFormatError):
        from_text(SAMPLE_TEXT + junk, source="junk.txt")


def test_binary_file_on_disk(tmp_path):
    path = tmp_path / "share-9.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64) + b"\xff\xfe")
    with pytest.raises(ShareFormatError, match="not text|not a keyceremony share") as info:
        read_shares(str(path))
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["", "\n\n", "   \n\t\n"])
def test_empty(text):
    with pytest.raises(ShareFormatError, match="the file is empty") as info:
        from_text(text, source="share-2.txt")
    assert str(info.value).startswith("share-2.txt: ")


def test_header_only():
    with pytest.raises(ShareFormatError, match="no data lines"):
        from_text(HEADER + "\n# a comment\n\n")


# --- lenient where it cannot hide a mistake ----------------------------------------------------------


def lookalike(line: str) -> str:
    number, rest = line.split("  ", 1)
    return number + "  " + "".join(LOOKALIKES.get(c, c) for c in rest)


LENIENT = {
    "lowercase": lambda line: line.lower(),
    "look-alikes 0/O 1/I 8/B 9/G": lookalike,
    "extra spaces": lambda line: "   " + line.replace(" ", "   ") + "   ",
    "tabs": lambda line: line.replace("  ", "\t"),
    "no groups": lambda line: (
        line.split("  ")[0] + "  " + line.split("  ")[1].replace(" ", "") + " " + line.split("  ")[2]
    ),
    "number without zero": lambda line: line.lstrip("0"),
    "number with a dot": lambda line: line.replace("  ", ".  ", 1),
    "number with a colon": lambda line: line.replace("  ", ": ", 1),
}


@pytest.mark.parametrize("name", LENIENT)
def test_lenient_input_parses(name):
    change = LENIENT[name]
    lines = SAMPLE_LINES[:FIRST_DATA] + [change(line) for line in SAMPLE_LINES[FIRST_DATA:]]
    assert from_text("\n".join(lines) + "\n").to_bytes() == SAMPLE.to_bytes()


def test_lenient_layout_parses():
    lines = ["", "  Keyceremony Share V1  "] + SAMPLE_LINES[1:FIRST_DATA]
    for i, line in enumerate(SAMPLE_LINES[FIRST_DATA:]):
        lines += [line, "", "# typed by Alice"] if i % 3 == 0 else [line]
    assert from_text("\r\n".join(lines) + "\r\n").to_bytes() == SAMPLE.to_bytes()


def test_lookalikes_are_accepted_but_never_written():
    for payload in (SAMPLE, make_payload(bytes(range(256)) * 4)):
        body = to_text(payload).split("\n", 1)[1]
        for line in body.splitlines():
            number, rest = line.split("  ", 1)
            assert not set(rest) & set("0189"), line


def test_wrong_character_is_named():
    index = FIRST_DATA + 1
    line = SAMPLE_LINES[index]
    err = expect_line_error(with_line(SAMPLE_LINES, index, line[:6] + "*" + line[7:]), index + 1)
    assert "'*' is not a share character" in str(err)


# --- checking lines as they are typed (combine --type) -------------------------------------------------


def test_line_check_error():
    for number, line in enumerate(SAMPLE_LINES[FIRST_DATA:], 1):
        assert line_check_error(line, number) is None
        assert line_check_error(line.lower(), number) is None
    line = SAMPLE_LINES[FIRST_DATA]
    typo = line[:5] + ("A" if line[5] != "A" else "B") + line[6:]
    assert "does not match its check" in line_check_error(typo, 1)
    assert "expected data line 2" in line_check_error(line, 2)
    assert "line number" in line_check_error("JNBV GAOM", 1)


# --- the QR text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "https://example.com/share", "KC1:ABCD", "JNBV GAOM", "ÄBC"])
def test_qr_text_not_a_share(text):
    with pytest.raises(ShareFormatError, match="does not hold a keyceremony share") as info:
        from_qr_text(text, source="card-2.png")
    assert str(info.value).startswith("card-2.png: ")


def test_qr_text_of_another_payload():
    with pytest.raises(ShareFormatError, match="not a keyceremony share"):
        from_qr_text(base64.b32encode(b"PK\x03\x04" + bytes(200)).decode().rstrip("="))


def test_every_truncation_of_the_qr_text_is_rejected():
    qr = to_qr_text(SAMPLE)
    for cut in range(1, len(qr)):
        with pytest.raises(ShareFormatError):
            from_qr_text(qr[:cut], source="card-2.png")


def test_qr_text_typo_is_caught_by_the_payload_check():
    qr = to_qr_text(SAMPLE)
    for pos in range(len(qr)):
        new = ALPHABET[(ALPHABET.index(qr[pos]) + 1) % 32]
        with pytest.raises(ShareFormatError):
            from_qr_text(qr[:pos] + new + qr[pos + 1 :])


def test_non_canonical_base32_padding_bits_are_rejected():
    # One share, one encoding: unused bits in the last character must be zero (RFC 4648 §3.5).
    qr = to_qr_text(SAMPLE)
    spare = (5 * len(qr)) % 8
    assert spare, "sample must have unused bits in its last character"
    last = ALPHABET.index(qr[-1])
    assert last & ((1 << spare) - 1) == 0  # the encoder writes zeros
    tweaked = qr[:-1] + ALPHABET[last | 1]
    with pytest.raises(ShareFormatError):
        from_qr_text(tweaked, source="card-2.png")
    # The same in the text form, with the last line's check made to match the tweak.
    lines = list(SAMPLE_LINES)
    number, rest = lines[-1].split("  ", 1)
    groups = rest.rsplit("  ", 1)[0].replace(" ", "")
    assert qr.endswith(groups)
    new_chars = groups[:-1] + tweaked[-1]
    lines[-1] = format_line(int(number), new_chars, len(number))
    with pytest.raises(ShareFormatError):
        from_text("\n".join(lines) + "\n", source="share-2.txt")


# --- large shares: the fast path, and its hand-over to the slow path ---------------------------------


@pytest.mark.slow
def test_large_share_round_trips_on_the_fast_path(monkeypatch):
    payload = make_payload(np.random.default_rng(3).bytes(20_000_000))
    text = to_text(payload, ["a 20 MB secret"])
    lines = text.count("\n")
    assert lines > 1_300_000

    def no_slow_path(*args, **kwargs):  # a canonical file must never need the line-by-line path
        raise AssertionError("slow path used for a canonical file")

    monkeypatch.setattr(share_text, "_slow_decode", no_slow_path)
    back = from_text(text)
    assert back.y == payload.y and back.to_bytes() == payload.to_bytes()


def test_large_share_with_one_typo_names_the_line(monkeypatch):
    # The fast path finds the failing line itself and has it named by the line parser, without
    # reading the file again line by line in Python (which took ~30 s for a 20 MB share).
    payload = make_payload(np.random.default_rng(4).bytes(20_000_000))
    lines = to_text(payload).splitlines()
    index = len(lines) // 2
    line = lines[index]
    col = line.index("  ") + 7
    lines[index] = line[:col] + ("Q" if line[col] != "Q" else "R") + line[col + 1 :]
    calls = []
    real_slow = share_text._slow_decode
    monkeypatch.setattr(share_text, "_slow_decode", lambda *a: calls.append(1) or real_slow(*a))
    err = expect_line_error("\n".join(lines) + "\n", index + 1)
    assert f"data line {index} does not match its check" in str(err)
    assert calls == []  # named by the fast path, no line-by-line pass


@settings(max_examples=120, deadline=None)
@given(st.binary(min_size=1, max_size=100))
@example(bytes(1))  # one short data line: no full line for the fast path
@example(bytes(15))  # exactly one full line
def test_checked_lines_round_trip_from_one_line_up(data):
    """encode_lines / decode_lines for any length, including texts of a single data line, where
    the fast path must step aside for the line-by-line parser (never misread offsets)."""
    text = share_text.encode_lines(data, HEADER, ["a comment"])
    chars, last_line = share_text.decode_lines(text, share_text.SHARE_TEXT)
    assert chars == base64.b32encode(data).rstrip(b"=")
    assert last_line == text.count(b"\n")  # header, comment, data lines: the last one's file line
