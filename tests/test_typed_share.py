"""A share typed line by line (shares/typed.py): every line checked as it comes, the share ends
by itself after its last line, and what was typed reads back as the same share."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from keyceremony.shares.shareset import create_share_set
from keyceremony.shares.text import from_text, to_text
from keyceremony.shares.typed import TypedShare

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
