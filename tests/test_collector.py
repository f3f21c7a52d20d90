"""keyceremony.shares.collector: shares gathered one card at a time, each answered at once."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyceremony.errors import DuplicateShare, ForeignShare, ShareFormatError, ShareSignatureError
from keyceremony.shares.collector import Outcome, ShareCollector
from keyceremony.shares.shareset import create_share_set, recover_secret
from keyceremony.shares.text import to_text

SECRET = bytes(range(32))


@pytest.fixture(scope="module")
def shares():
    return create_share_set(SECRET, 3, 5, label="collector test")


@pytest.fixture(scope="module")
def stranger():
    return create_share_set(SECRET, 3, 5, label="collector test")  # same label, another set key


def test_shares_are_accepted_one_at_a_time_with_the_count(shares):
    collector = ShareCollector(holders={2: "Alice Ng"})
    assert collector.status() == "no share yet" and not collector.complete
    first = collector.add("card-2.pdf", shares[1])
    assert first.accepted and first.share_number == 2 and first.holder == "Alice Ng"
    assert first.have == 1 and first.needed == 3
    assert "accepted as share 2 of set" in first.message and "(custodian Alice Ng)" in first.message
    assert first.message.endswith("1 of 3 shares, 2 more needed")
    assert collector.add("card-4.pdf", shares[3]).message.endswith("2 of 3 shares, 1 more needed")
    last = collector.add("card-5.pdf", shares[4])
    assert last.accepted and collector.complete and collector.status() == "3 of 3 shares: enough"
    assert recover_secret(collector.items()).secret == SECRET


def test_a_duplicate_is_refused_and_does_not_count(shares):
    collector = ShareCollector()
    collector.add("card-1.pdf", shares[0])
    again = collector.add("photo of card 1", shares[0])
    assert again.outcome is Outcome.DUPLICATE and isinstance(again.error, DuplicateShare)
    assert "the same share as card-1.pdf" in again.message
    assert "[refused; 1 of 3 shares, 2 more needed]" in again.message
    assert collector.have == 1


def test_a_share_of_another_set_is_refused_naming_both_fingerprints(shares, stranger):
    collector = ShareCollector()
    collector.add("card-1.pdf", shares[0])
    answer = collector.add("card-x.pdf", stranger[1])
    assert answer.outcome is Outcome.OTHER_SET and isinstance(answer.error, ForeignShare)
    assert answer.set_fingerprint is not None and answer.set_fingerprint in answer.message
    ours = collector.reference.fingerprint() if collector.reference else b""
    assert ours.hex().upper()[:4] in answer.message.replace(" ", "")
    assert "set key differs" in answer.message and collector.have == 1


def test_an_anchored_collector_refuses_a_stranger_even_first(shares, stranger):
    collector = ShareCollector(expected_fingerprint=shares[0].fingerprint())
    answer = collector.add("card-1.pdf", stranger[0])
    assert answer.outcome is Outcome.OTHER_SET and "recorded in the paper log" in answer.message
    assert collector.reference is None and collector.status() == "no share yet"
    assert collector.add("card-1.pdf", shares[0]).accepted


def test_an_altered_share_is_refused_as_a_bad_signature(shares):
    forged = replace(shares[2], y=bytes(b ^ 1 for b in shares[2].y))
    collector = ShareCollector()
    answer = collector.add("card-3.pdf", forged)
    assert answer.outcome is Outcome.BAD_SIGNATURE and isinstance(answer.error, ShareSignatureError)
    assert "claims to be share 3" in answer.message and collector.have == 0


def test_a_typo_is_refused_naming_its_line(shares):
    text = to_text(shares[0])
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line[:2].strip().isdigit())  # the first data line
    col = lines[n].index("  ") + 3
    lines[n] = lines[n][:col] + ("Q" if lines[n][col] != "Q" else "R") + lines[n][col + 1 :]
    collector = ShareCollector()
    answer = collector.add_text("\n".join(lines) + "\n", "typed share #1")
    assert answer.outcome is Outcome.UNREADABLE and isinstance(answer.error, ShareFormatError)
    assert "line" in answer.message and "type it again" in answer.message
    assert collector.add_text(text, "typed share #2").accepted


def test_a_card_that_is_not_the_one_asked_for_is_refused(shares):
    collector = ShareCollector()
    answer = collector.add("card-2.pdf", shares[2], expect_x=2)
    assert answer.outcome is Outcome.NOT_EXPECTED and "is share 3, not share 2" in answer.message
    assert collector.add("card-2.pdf", shares[1], expect_x=2).accepted


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 5),
    extra=st.integers(0, 3),
    length=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_order_with_repeats_and_strangers_recovers_once_complete(k, extra, length, seed):
    rng = random.Random(seed)
    secret = rng.randbytes(length)
    n = k + extra
    mine = create_share_set(secret, k, n)
    theirs = create_share_set(rng.randbytes(length), k, n)
    cards = [(f"card-{p.x}", p) for p in mine] + [(f"again-{p.x}", p) for p in rng.sample(mine, min(2, n))]
    cards += [(f"stranger-{p.x}", p) for p in theirs[:2]]
    rng.shuffle(cards)
    if cards[0][0].startswith("stranger"):  # the first genuine card fixes the set: anchor it instead
        collector = ShareCollector(expected_fingerprint=mine[0].fingerprint())
    else:
        collector = ShareCollector()
    seen: set[int] = set()
    for source, payload in cards:
        answer = collector.add(source, payload)
        if source.startswith("stranger"):
            assert answer.outcome is Outcome.OTHER_SET
        elif payload.x in seen:
            assert answer.outcome is Outcome.DUPLICATE
        else:
            assert answer.accepted
            seen.add(payload.x)
        assert answer.have == len(seen)
    assert collector.complete and sorted(collector.accepted) == sorted(p.x for p in mine)
    assert recover_secret(collector.items()).secret == secret
