"""Every way of tampering with a transcript is detected, and the error names the right line.

The transcripts come from ``transcript_vectors`` (deterministic). "Named" means the raised
``TranscriptTampered`` carries the 1-based line and the sequence number of the first bad entry
(or ``None`` when the line cannot be read as an entry), and its message says both.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from transcript_vectors import (
    ADMIN,
    START,
    StepClock,
    rechain,
    sample_bytes,
    sign_object,
    signer,
)

from keyceremony.errors import TornTranscript, TranscriptKeyChanged, TranscriptTampered
from keyceremony.transcript import (
    CeremonyMeta,
    TranscriptWriter,
    line_hash,
    split_lines,
    verify_transcript,
)

FINGERPRINT = signer().fingerprint
VALID = sample_bytes()
LINES, _ = split_lines(VALID)  # 7 lines: opened, 5 entries, sealed
OTHER, _ = split_lines(sample_bytes("other ceremony key", "0b7d19e2-a4c35f60"))
MALLORY = signer("mallory")


def tampered(content: bytes, **kwargs) -> TranscriptTampered:
    with pytest.raises(TranscriptTampered) as info:
        verify_transcript(content, expected_fingerprint=FINGERPRINT, **kwargs)
    err = info.value
    if err.line is not None:
        where = f"line {err.line}" + (f" (sequence {err.sequence})" if err.sequence is not None else "")
        assert str(err).startswith(f"transcript, {where}: ")
    return err


def small_transcript(tmp: Path) -> bytes:
    """Four short lines, for the exhaustive tests."""
    key = signer()
    w = TranscriptWriter.create(tmp / "small.jsonl", key, CeremonyMeta("c1", "T"), clock=StepClock())
    w.append("generate-key", "key-generated", data={"kcv": "a1b2c3"})
    w.append("split", "shares-made", actors=[ADMIN], data={"threshold": 2, "count": 3})
    w.seal()
    return (tmp / "small.jsonl").read_bytes()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> bytes:
    return small_transcript(tmp_path_factory.mktemp("small"))


def test_the_untouched_transcripts_verify(small):
    assert verify_transcript(VALID, expected_fingerprint=FINGERPRINT).sealed
    assert verify_transcript(small, expected_fingerprint=FINGERPRINT).sealed


def line_of_each_byte(content: bytes) -> list[int]:
    out, line = [], 1
    for byte in content:
        out.append(line)
        line += byte == 0x0A
    return out


@pytest.mark.parametrize("mask", [0x01, 0x80])
def test_flipping_any_bit_of_any_byte_is_named_at_its_line(small, mask):
    """Exhaustive: every byte of every line, the line feeds included; 0x01 keeps ASCII ASCII
    (hex digits stay hex, '"' becomes '#'), 0x80 makes invalid UTF-8 or changes a character."""
    lines = line_of_each_byte(small)
    for i, line in enumerate(lines):
        content = bytearray(small)
        content[i] ^= mask
        with pytest.raises(TranscriptTampered) as info:
            verify_transcript(bytes(content), expected_fingerprint=FINGERPRINT)
        assert info.value.line == line, (i, str(info.value))
        assert f"transcript, line {line}" in str(info.value)


def test_replacing_bytes_throughout_the_sample_is_named_at_their_line():
    """The larger sample (7 lines, 4 KB): every 7th byte, replaced by a space (or '!')."""
    lines = line_of_each_byte(VALID)
    for i in range(0, len(VALID), 7):
        content = bytearray(VALID)
        content[i] = 0x20 if content[i] != 0x20 else 0x21
        with pytest.raises(TranscriptTampered) as info:
            verify_transcript(bytes(content))
        assert info.value.line == lines[i], (i, str(info.value))


@pytest.mark.parametrize("k", range(1, 8))
def test_deleting_an_entry_is_named(k):
    err = tampered(b"".join(LINES[: k - 1] + LINES[k:]))
    if k == 7:  # the seal itself: the transcript now ends early
        assert (err.reason, err.line, err.sequence) == ("not-sealed", 6, 6)
    else:
        assert (err.reason, err.line, err.sequence) == ("sequence", k, k + 1)
        assert f"entry {k} is missing" in str(err)


@pytest.mark.parametrize("k", range(1, 7))
def test_swapping_two_neighbouring_entries_is_named(k):
    swapped = LINES[: k - 1] + [LINES[k], LINES[k - 1]] + LINES[k + 1 :]
    err = tampered(b"".join(swapped))
    assert (err.reason, err.line, err.sequence) == ("sequence", k, k + 1)


def test_swapping_distant_entries_is_named():
    swapped = list(LINES)
    swapped[1], swapped[5] = swapped[5], swapped[1]
    assert (tampered(b"".join(swapped)).line, tampered(b"".join(swapped)).sequence) == (2, 6)


@pytest.mark.parametrize("k", range(1, 8))
def test_repeating_an_entry_is_named(k):
    err = tampered(b"".join(LINES[:k] + [LINES[k - 1]] + LINES[k:]))
    if k == 7:
        assert (err.reason, err.line, err.sequence) == ("after-seal", 8, 7)
    else:
        assert (err.reason, err.line, err.sequence) == ("sequence", k + 1, k)
        assert "used before" in str(err)


@pytest.mark.parametrize("keep", range(1, 7))
def test_cutting_off_the_end_is_named(keep):
    err = tampered(b"".join(LINES[:keep]))
    assert (err.reason, err.line, err.sequence) == ("not-sealed", keep, keep)
    assert "without the seal" in str(err)


def test_cutting_inside_a_line_is_named_as_torn():
    for cut in (1, 100, len(LINES[6]) - 1):
        with pytest.raises(TornTranscript) as info:
            verify_transcript(b"".join(LINES[:6]) + LINES[6][:cut])
        assert (info.value.line, info.value.torn_bytes) == (7, cut)


def test_an_empty_transcript_is_refused():
    assert tampered(b"").reason == "empty"


@pytest.mark.parametrize("k", range(1, 8))
def test_an_entry_spliced_in_from_another_ceremony_is_named(k):
    err = tampered(b"".join(LINES[: k - 1] + [OTHER[k - 1]] + LINES[k:]))
    assert (err.line, err.sequence) == (k, k)
    if k == 1:  # the other ceremony's opening: a ceremony id and key that are not this one's
        assert err.reason == "wrong-key"
    else:
        assert err.reason == "foreign" and "0b7d19e2-a4c35f60" in str(err)


def test_a_spliced_in_opening_entry_without_a_fingerprint_breaks_the_chain_at_line_2():
    with pytest.raises(TranscriptTampered) as info:
        verify_transcript(b"".join([OTHER[0]] + LINES[1:]))
    assert (info.value.reason, info.value.line, info.value.sequence) == ("foreign", 2, 2)


@pytest.mark.parametrize("k", range(1, 8))
def test_an_entry_altered_and_re_signed_with_another_key_is_named(k):
    obj = json.loads(LINES[k - 1])
    obj["data"]["remark"] = "nothing to see"
    err = tampered(b"".join(LINES[: k - 1] + [sign_object(obj, MALLORY)] + LINES[k:]))
    assert (err.reason, err.line, err.sequence) == ("signature", k, k)
    assert "signature does not verify" in str(err)


def test_an_opening_entry_with_a_substituted_key_is_named_at_line_1():
    obj = json.loads(LINES[0])
    obj["key"] = MALLORY.public_key.hex()
    err = tampered(b"".join([sign_object(obj, MALLORY)] + LINES[1:]))
    assert (err.reason, err.line, err.sequence) == ("wrong-key", 1, 1)
    assert "not signed by that ceremony's key" in str(err)


def test_a_transcript_re_signed_throughout_with_another_key_needs_the_fingerprint_to_tell():
    forged = b"".join(rechain(LINES, MALLORY))
    assert verify_transcript(forged).fingerprint == MALLORY.fingerprint  # consistent on its own
    err = tampered(forged)
    assert (err.reason, err.line, err.sequence) == ("wrong-key", 1, 1)


@pytest.mark.parametrize("k", [2, 4, 7])
def test_a_forged_resume_with_another_key_is_reported_and_refused(k):
    """A forger truncates after line k-1, appends a 'resumed' entry with their key and rewrites
    the rest. The chain and signatures hold; the key change is what gives it away."""
    forged_resume = json.loads(LINES[0])
    forged_resume.update(
        event="resumed", seq=k, prev=line_hash(LINES[k - 2]).hex(), key=MALLORY.public_key.hex(),
        time=json.loads(LINES[k - 2])["time"], data={"dropped_bytes": 0, "key_changed": True},
    )
    rest = [json.loads(line) for line in LINES[k - 1 :]]
    for obj in rest:
        obj["seq"] += 1
    body = LINES[: k - 1] + [sign_object(forged_resume, MALLORY)] + [sign_object(o, MALLORY) for o in rest]
    forged = b"".join(rechain(body, MALLORY, from_line=k + 1))

    summary = verify_transcript(forged)
    assert [c.line for c in summary.key_changes] == [k]
    with pytest.raises(TranscriptKeyChanged) as info:
        verify_transcript(forged, expected_fingerprint=FINGERPRINT)
    assert info.value.lines == (k,) and info.value.fingerprints == (MALLORY.fingerprint,)
    err = tampered(forged, later_fingerprints=[])
    assert (err.reason, err.line, err.sequence) == ("wrong-key", k, k)


@pytest.mark.parametrize("key_changed", [False, "yes"])
def test_a_resume_whose_key_changed_flag_contradicts_its_key_is_named(key_changed):
    """The forged resume above, but claiming the key did not change (or not saying a bool)."""
    k = 4
    forged_resume = json.loads(LINES[0])
    forged_resume.update(
        event="resumed", seq=k, prev=line_hash(LINES[k - 2]).hex(), key=MALLORY.public_key.hex(),
        time=json.loads(LINES[k - 2])["time"], data={"dropped_bytes": 0, "key_changed": key_changed},
    )
    body = LINES[: k - 1] + [sign_object(forged_resume, MALLORY)]
    with pytest.raises(TranscriptTampered) as info:
        verify_transcript(b"".join(body), require_sealed=False)
    assert (info.value.reason, info.value.line) == ("structure", k)
    assert "contradicts itself" in str(info.value)


def test_a_same_key_resume_claiming_a_new_key_is_named():
    k = 4
    resume = json.loads(LINES[0])
    resume.update(
        event="resumed", seq=k, prev=line_hash(LINES[k - 2]).hex(), key=signer().public_key.hex(),
        time=json.loads(LINES[k - 2])["time"], data={"dropped_bytes": 0, "key_changed": True},
    )
    with pytest.raises(TranscriptTampered, match="contradicts itself"):
        verify_transcript(b"".join(LINES[: k - 1] + [sign_object(resume, signer())]), require_sealed=False)
    resume["data"]["key_changed"] = False  # the truth: it verifies
    verify_transcript(b"".join(LINES[: k - 1] + [sign_object(resume, signer())]), require_sealed=False)


def test_an_entry_appended_after_the_seal_is_named():
    obj = json.loads(LINES[5])
    obj.update(seq=8, prev=line_hash(LINES[6]).hex())
    err = tampered(VALID + sign_object(obj, MALLORY))
    assert (err.reason, err.line, err.sequence) == ("after-seal", 8, 8)


def test_an_entry_replaced_by_a_validly_signed_fork_breaks_the_chain(tmp_path):
    """The same key signs two different line 3s (a forked run): the next line gives it away."""
    fork = json.loads(LINES[2])
    fork["data"]["threshold"] = 2
    err = tampered(b"".join(LINES[:2] + [sign_object(fork, signer())] + LINES[3:]))
    assert (err.reason, err.line, err.sequence) == ("chain", 4, 4)


def test_a_time_moved_back_is_named_even_when_re_signed():
    obj = json.loads(LINES[3])
    obj["time"] = "2026-11-28T13:00:00.000Z"
    forged = rechain(LINES[:3] + [sign_object(obj, signer())] + LINES[4:], signer(), from_line=4)
    err = tampered(b"".join(forged))
    assert (err.reason, err.line, err.sequence) == ("time", 4, 4)


def test_the_crash_window_itself_is_not_tampering(tmp_path):
    """A resumed transcript (same key) verifies: resuming is part of the format, not a repair."""
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(LINES[:4]) + LINES[4][:10])
    key = signer()
    w = TranscriptWriter.resume(path, key, truncate_torn=True, clock=StepClock(START + timedelta(hours=1)))
    w.seal()
    result = verify_transcript(path, expected_fingerprint=FINGERPRINT)
    assert result.resumes == 1 and result.key_changes == ()
