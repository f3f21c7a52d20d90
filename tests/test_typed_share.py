"""A share typed line by line (shares/typed.py): every line checked as it comes, the share ends
by itself after its last line, and what was typed reads back as the same share."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyceremony.errors import ShareFormatError
from keyceremony.shares.shareset import create_share_set
from keyceremony.shares.text import from_text, to_text
from keyceremony.shares.typed import TypedShare, printed_line

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def data_lines(secret: bytes, seed: int) -> tuple[object, list[str]]:
    rng = random.Random(seed)
    payload = create_share_set(secret, 2, 3, label="typed", created=1_700_000_000, randbytes=rng.randbytes)[0]
    return payload, [line for line in to_text(payload).splitlines() if line[:2].isdigit()]


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=96), st.integers(0, 2**32))
def test_the_lines_of_a_card_make_the_share_and_it_ends_after_its_last(secret, seed):
    payload, lines = data_lines(secret, seed)
    typed = TypedShare()
    for i, line in enumerate(lines, 1):
        assert not typed.complete
        assert typed.add(line) is None
        assert typed.next_number == i + 1
    assert typed.complete and from_text(typed.text()) == payload


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(0, 2**32), st.data())
def test_a_line_with_one_character_changed_is_refused_by_its_number(secret, seed, data):
    _, lines = data_lines(secret, seed)
    index = data.draw(st.integers(0, len(lines) - 1))
    typed = TypedShare()
    for line in lines[:index]:
        assert typed.add(line) is None
    line = lines[index]
    spots = [i for i, c in enumerate(line) if c in B32 and i > 2]
    spot = data.draw(st.sampled_from(spots))
    other = data.draw(st.sampled_from([c for c in B32 if c != line[spot]]))
    problem = typed.add(line[:spot] + other + line[spot + 1:])
    assert problem is not None and problem.startswith(f"line {index + 1:02d}:") and "type the line again" in problem
    assert len(typed.lines) == index and not typed.complete  # nothing was taken
    assert typed.add(line) is None  # typed again, right


def test_a_line_typed_out_of_order_is_refused():
    _, lines = data_lines(b"k" * 32, 1)
    typed = TypedShare()
    assert typed.add(lines[1]) is not None and typed.next_number == 1


# --- pasted share files and lines from two cards -------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["keyceremony share v1", "keyceremony backup package v1"]), st.data())
def test_headers_in_any_case_and_spacing_are_printed_lines(header, data):
    cased = "".join(c.upper() if data.draw(st.booleans()) else c for c in header)
    spaced = data.draw(st.sampled_from(["", " ", "\t"])) + cased.replace(" ", data.draw(st.sampled_from([" ", "  "])))
    assert printed_line(spaced + data.draw(st.sampled_from(["", " ", "\r"]))) == (
        "header" if "share" in header else "package")


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(0, 2**32), st.text(max_size=30))
def test_comments_are_printed_lines_and_data_lines_are_not(secret, seed, comment):
    _, lines = data_lines(secret, seed)
    assert printed_line("# " + comment.replace("\n", " ")) == "comment"
    assert all(printed_line(line) is None for line in lines)


def test_a_header_of_another_version_is_named():
    with pytest.raises(ValueError, match="version 2; this keyceremony reads v1"):
        printed_line("keyceremony share v2")


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=8, max_size=64), st.integers(0, 2**32), st.data())
def test_a_line_from_another_card_of_the_set_passes_its_check_and_is_named_at_the_end(secret, seed, data):
    rng = random.Random(seed)
    first, second = create_share_set(secret, 2, 3, label="typed", created=1_700_000_000, randbytes=rng.randbytes)[:2]
    ones = [line for line in to_text(first).splitlines() if line[:2].isdigit()]
    twos = [line for line in to_text(second).splitlines() if line[:2].isdigit()]
    differing = [i for i, (a, b) in enumerate(zip(ones, twos, strict=True)) if a != b and i > 0]
    index = data.draw(st.sampled_from(differing))
    typed = TypedShare()
    for i, line in enumerate(ones):
        assert typed.add(twos[i] if i == index else line) is None  # every line passes its own check
    assert typed.complete and typed.header() is not None and typed.header()[3] == first.x
    with pytest.raises(ShareFormatError):
        from_text(typed.text())
    message = typed.mixed_lines_message("typed share #1")
    assert f"lines 01-{len(ones):02d} passed its own check" in message and f"share {first.x} of set" in message
    assert "from another card" in message
