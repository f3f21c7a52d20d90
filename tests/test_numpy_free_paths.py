"""The standard-library paths that keep ``verify-share`` of one share free of numpy give the same
answers as the vectorized paths they stand in for (docs/benchmarks.md, start-up).

- ``codec.base32``: texts up to ``SMALL_TEXT`` characters are decoded with ``base64``: the same
  bytes, or the same error (reason, index, message), as the numpy decoder;
- ``shares.text``: up to ``_SMALL_LINES`` full lines are checked one by one: the same characters,
  or the same first wrong line, as the vectorized check; and so the same share or the same error
  from ``from_text`` whichever path runs, for canonical texts and texts with a byte changed.
"""

from __future__ import annotations

import random
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keyceremony.codec import base32
from keyceremony.errors import ShareFormatError
from keyceremony.shares import text as share_text
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.text import from_text, to_text

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def outcome(decode, text: bytes) -> tuple[str, object]:
    try:
        return "bytes", decode(text)
    except base32.Base32Error as err:
        return "error", (err.reason, err.index, str(err))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET + "a=01 \x00é", max_size=90))
@example("")
@example("MZXW6===")
@example("MZXW7")  # unused bits set
@example("MZXW6YT")  # a length no byte string has
@example("MZXW6YTBOI======"[:8] + "a")
def test_base32_small_and_vectorized_decoders_agree(text):
    raw = text.encode("utf-8")
    if len(raw) % 8 in (1, 3, 6):  # a bad length is refused before either path runs
        assert outcome(base32.decode, raw)[1][0] == "length"
        return
    small = outcome(base32._decode_small, raw)
    assert small == outcome(base32._decode_vectorized, raw) == outcome(base32.decode, raw)


def test_base32_large_texts_take_the_vectorized_path():
    data = random.Random(3).randbytes(base32.SMALL_TEXT)  # 1.6 times as many characters as the limit
    text = base32.encode(data)
    assert len(text) > base32.SMALL_TEXT
    with mock.patch.object(base32, "_decode_small", side_effect=AssertionError("small path used")):
        assert base32.decode(text) == data
    with mock.patch.object(base32, "_decode_vectorized", side_effect=AssertionError("vectorized path used")):
        assert base32.decode(text[: base32.SMALL_TEXT]) == data[: base32.SMALL_TEXT * 5 // 8]


def payload(secret_len: int, seed: int) -> SharePayload:
    rng = random.Random(seed)
    return SharePayload(
        set_id=rng.randbytes(8), threshold=2, count=3, x=1, created=1_735_689_600, label="paths",
        y=rng.randbytes(secret_len), public_key=rng.randbytes(32), signature=rng.randbytes(64),
    )


def read(text: bytes, *, vectorized: bool) -> tuple[str, object]:
    """from_text's answer with the full lines checked one way or the other."""
    limit = -1 if vectorized else share_text._LINES_PER_CHUNK  # -1: no text is small enough
    with mock.patch.object(share_text, "_SMALL_LINES", limit):
        try:
            return "share", from_text(text, source="s.txt")
        except ShareFormatError as err:
            return "error", str(err)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**32), st.sampled_from(b"A7Z02 \n#\xffa:"), st.booleans())
def test_line_checks_one_by_one_and_vectorized_agree(secret_len, seed, new, change):
    text = to_text(payload(secret_len, seed), ["a comment"]).encode("ascii")
    if change:  # one byte changed after the header and comment
        rnd = random.Random(seed)
        at = rnd.randrange(len("keyceremony share v1\n# a comment\n"), len(text))
        text = text[:at] + bytes([new]) + text[at + 1 :]
    assert read(text, vectorized=False) == read(text, vectorized=True)


def test_both_line_checks_find_the_same_first_wrong_line():
    text = to_text(payload(300, 5), []).encode("ascii")
    lines = text.split(b"\n")
    lines[5] = lines[5][:-1] + (b"A" if lines[5][-1:] != b"A" else b"B")  # line 5's check, wrong
    lines[9] = lines[9].replace(b"  ", b" ", 1)  # line 9 laid out wrong: found before any check
    bad = b"\n".join(lines)
    one_by_one, vectorized = read(bad, vectorized=False), read(bad, vectorized=True)
    assert one_by_one == vectorized
    assert one_by_one[0] == "error"


@pytest.mark.parametrize("secret_len", [1, 32, 3000, 5000])
def test_only_a_short_share_is_checked_one_line_at_a_time(secret_len):
    # the path verify-share takes for one share file of a key: no numpy
    share = payload(secret_len, 1)
    text = to_text(share, ["c"]).encode("ascii")
    full_lines = len(share.to_bytes()) // share_text.LINE_BYTES
    with mock.patch.object(share_text, "_rows_vectorized", side_effect=AssertionError("vectorized path used")):
        if full_lines <= share_text._SMALL_LINES:
            assert from_text(text) == share
        else:
            assert secret_len == 5000
            with pytest.raises(AssertionError, match="vectorized path used"):
                from_text(text)
