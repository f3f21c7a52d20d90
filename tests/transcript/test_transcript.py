"""The transcript library: signer, models, the secrets guard, writer, crash and resume, verifier,
template requirements, conformance vectors and the ``transcript verify`` command.

Tampering is tested on its own in ``test_transcript_tamper.py``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transcript_vectors import (
    ADMIN,
    CUSTODIANS,
    OPERATOR,
    START,
    WITNESS_1,
    WITNESS_2,
    StepClock,
    sample_bytes,
    signer,
    vectors,
    write_sample,
)

from keyceremony.codec import canonical_json
from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint, parse_fingerprint
from keyceremony.errors import (
    KeyCeremonyError,
    SignerUnavailable,
    TemplateViolation,
    TornTranscript,
    TranscriptDataRefused,
    TranscriptError,
    TranscriptKeyChanged,
    TranscriptSealed,
    TranscriptTampered,
    UsageError,
)
from keyceremony.transcript import (
    REASONS,
    Actor,
    CeremonyMeta,
    Entry,
    StepRequirement,
    TemplateRequirements,
    TranscriptWriter,
    check_public_data,
    format_time,
    genesis_hash,
    looks_secret,
    new_ceremony_id,
    parse_time,
    split_lines,
    verify_transcript,
)
from keyceremony.transcript.signer import Signer, SoftSigner, key_fingerprint, signature_verifies

VECTORS = Path(__file__).parent.parent / "vectors" / "transcript"
META = CeremonyMeta("test-ceremony", "Test ceremony", {"template": "kek-split"})


@pytest.fixture
def key() -> SoftSigner:
    return signer()


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


def new_writer(tmp_path: Path, key: Signer, clock=None, name="t.jsonl") -> TranscriptWriter:
    return TranscriptWriter.create(tmp_path / name, key, META, actors=[ADMIN], clock=clock or StepClock())


# --- the ceremony key -------------------------------------------------------------------------


def test_soft_signer_signs_verifiably_and_is_deterministic_from_its_randomness(key):
    assert isinstance(key, Signer)
    assert len(key.public_key) == 32
    assert signer().public_key == key.public_key
    sig = key.sign(b"message")
    assert len(sig) == 64 and signature_verifies(key.public_key, b"message", sig)
    assert not signature_verifies(key.public_key, b"messagf", sig)
    assert not signature_verifies(bytes(32), b"message", sig)


def test_destroy_drops_the_private_key(key):
    key.destroy()
    key.destroy()  # idempotent
    assert key.destroyed
    with pytest.raises(SignerUnavailable, match="destroyed"):
        key.sign(b"x")
    assert "destroyed" in repr(key)


def test_the_soft_key_cannot_be_pickled_copied_or_shown(key):
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="never be written"):
            attempt(key)
    assert repr(key) == f"SoftSigner({format_fingerprint(key.fingerprint)}, live)"
    assert not hasattr(key, "__dict__")


def test_fingerprint_is_printed_as_hex_groups_and_read_as_words(key):
    fp = key.fingerprint
    assert fp == key_fingerprint(key.public_key) and len(fp) == 16
    text = format_fingerprint(fp)
    assert len(text.split()) == 8 and text == text.upper()
    words = fingerprint_words(fp)
    assert len(words.split()) == 16
    assert parse_fingerprint(text) == fp
    assert parse_fingerprint(text.lower().replace(" ", ":")) == fp
    assert parse_fingerprint(words.upper()) == fp
    with pytest.raises(ValueError, match="32 hex digits"):
        parse_fingerprint(text[:-1])
    with pytest.raises(ValueError, match="word 2"):
        parse_fingerprint(" ".join([words.split()[0]] * 16))


# --- models -------------------------------------------------------------------------------------


def test_times_are_utc_milliseconds_with_z():
    moment = datetime(2026, 11, 28, 14, 48, 5, 120999, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(moment) == "2026-11-28T13:48:05.120Z"
    assert parse_time("2026-11-28T13:48:05.120Z") == datetime(2026, 11, 28, 13, 48, 5, 120000, tzinfo=UTC)
    for bad in ("2026-11-28T13:48:05Z", "2026-11-28T13:48:05.120+00:00", "2026-11-28 13:48:05.120Z",
                "2026-11-28T13:48:05.120z", "2026-02-30T13:48:05.120Z", "2026-11-28T13:48:60.000Z",
                "2026-11-28T13:48:05.1200Z", "٢٠٢٦-11-28T13:48:05.120Z"):
        with pytest.raises(ValueError):
            parse_time(bad)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))


def test_ceremony_ids_and_meta_validate_themselves():
    assert len(new_ceremony_id()) == 17
    assert new_ceremony_id(lambda n: bytes(range(n))) == "00010203-04050607"
    for bad in ("", "-x", "a b", "x" * 65, "é"):
        with pytest.raises(ValueError):
            CeremonyMeta(bad, "title")
    with pytest.raises(ValueError):
        CeremonyMeta("c", "")
    with pytest.raises(ValueError):
        CeremonyMeta("c", "two\nlines")
    with pytest.raises(ValueError):
        CeremonyMeta("c", "t", {"title": "again"})
    with pytest.raises(TranscriptDataRefused):
        CeremonyMeta("c", "t", {"root_pin": "1234"})


def test_actors_validate_themselves():
    assert str(Actor("Jürgen Weiß", "witness")) == "Jürgen Weiß (witness)"
    for name, role in (("", "witness"), (" Eve", "witness"), ("Eve\n", "witness"), ("Eve", "Witness"),
                       ("Eve", "a--b"), ("e\u0301", "witness"), ("x" * 129, "witness"), ("Eve", "")):
        with pytest.raises(ValueError):
            Actor(name, role)


def test_entry_round_trips_through_its_line(key):
    draft = Entry(
        ceremony="c-1", seq=2, time=parse_time("2026-11-28T13:48:05.120Z"), step="split", event="shares-made",
        actors=(Actor("Alice Ng", "custodian"),), data={"threshold": 3, "nested": [{"ok": True}, None]},
        prev=bytes(32), sig=bytes(64),
    )
    entry = draft.signed(key)
    line = entry.to_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert Entry.from_line(line) == entry
    assert entry.signature_verifies(key.public_key)
    assert entry.signing_input() == b"keyceremony transcript entry v1\x00" + canonical_json.encode(
        {k: v for k, v in json.loads(line).items() if k != "sig"}
    )


json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=10),
    lambda c: (
        st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["note", "count", "label", "x", "é"]), c, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["note", "kcv", "share_number", "set_fingerprint", "Ünïcode"]), json_data,
                       max_size=4),
       st.integers(1, 2**53 - 1))
def test_entries_round_trip_any_public_data(data, seq):
    entry = Entry(
        ceremony="c", seq=seq, time=parse_time("2026-11-28T13:48:05.120Z"), step="s", event="e",
        actors=(), data=data, prev=bytes(32), sig=bytes(64),
    )
    assert Entry.from_line(entry.to_line()) == entry


def test_entry_refuses_bad_fields():
    good = dict(ceremony="c", seq=1, time=parse_time("2026-11-28T13:48:05.120Z"), step="s", event="e",
                actors=(), data={}, prev=bytes(32), sig=bytes(64))
    for change in ({"seq": 0}, {"seq": True}, {"time": datetime(2026, 1, 1)},
                   {"time": datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)}, {"step": "Split"},
                   {"event": ""}, {"prev": bytes(31)}, {"sig": bytes(65)}, {"key": bytes(31)},
                   {"actors": (ADMIN, ADMIN)}, {"actors": ("Dana",)}):
        with pytest.raises(ValueError):
            Entry(**{**good, **change})
    with pytest.raises(TranscriptDataRefused):
        Entry(**{**good, "data": {"seed": "00"}})


# --- the secrets guard ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "secret", "pin", "PIN", "userPin", "user_pin", "so-pin", "password", "Passphrase", "seed", "key",
    "private", "privateKey", "private_key", "apiSecret", "mnemonic", "kek", "root_key", "wrapped_key",
    "plaintext", "share", "shares", "otp", "sk", "dbPassword", "credentials",
])
def test_secret_looking_field_names_are_refused(name):
    assert looks_secret(name)
    with pytest.raises(TranscriptDataRefused) as info:
        check_public_data({"outer": [{name: "hunter2"}]})
    assert info.value.field == f"data.outer[0].{name}"
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("name", [
    "kcv", "key_check_value", "key_label", "public_key", "publicKey", "key_fingerprint", "fingerprint",
    "share_set_id", "share_number", "share_count", "pin_attempts", "pin_status", "key_destroyed",
    "holder", "threshold", "algorithm", "token_label", "set_fingerprint", "keyboard", "spinner", "note",
    "secretary_name", "key_changed", "dropped_bytes",
])
def test_descriptive_field_names_are_allowed(name):
    assert not looks_secret(name)
    assert check_public_data({name: "x"}) == {name: "x"}


@pytest.mark.parametrize("value", [b"\x00" * 32, bytearray(32), memoryview(b"k"), 1.5, {1, 2}, object(), 2**53])
def test_values_that_are_not_plain_json_are_refused(value):
    with pytest.raises(TranscriptDataRefused) as info:
        check_public_data({"note": value})
    assert info.value.field == "data.note"
    assert "00000000" not in str(info.value)


def test_bytes_are_refused_with_advice_to_give_hex():
    with pytest.raises(TranscriptDataRefused, match="hex strings"):
        check_public_data({"note": b"abc"})


def test_the_guard_copies_and_normalises(tmp_path):
    data = {"list": (1, 2), "d": {"x": [True]}}
    checked = check_public_data(data)
    assert checked == {"list": [1, 2], "d": {"x": [True]}}
    data["d"]["x"].append(False)
    assert checked["d"]["x"] == [True]
    with pytest.raises(TranscriptDataRefused):
        check_public_data([1])
    with pytest.raises(TranscriptDataRefused):
        check_public_data({1: "x"})


# --- writing ------------------------------------------------------------------------------------


def test_create_append_seal_verify(tmp_path, key, clock):
    w = TranscriptWriter.create(tmp_path / "t.jsonl", key, META, actors=[ADMIN, WITNESS_1], clock=clock)
    first = w.append("generate-key", "key-generated", actors=[OPERATOR, WITNESS_1], data={"kcv": "a1b2c3"})
    assert first.seq == 2 and w.last_entry == first and len(w.entries) == 2
    assert w.fingerprint == key.fingerprint and w.ceremony_id == "test-ceremony"
    seal = w.seal(actors=[ADMIN])
    assert seal.event == "sealed" and seal.step == "ceremony" and w.sealed
    assert key.destroyed
    result = verify_transcript(tmp_path / "t.jsonl", expected_fingerprint=format_fingerprint(key.fingerprint))
    assert result.sealed and result.ceremony_id == "test-ceremony" and result.title == "Test ceremony"
    assert result.meta == {"title": "Test ceremony", "template": "kek-split"}
    assert result.steps == ("generate-key",)
    assert result.actors == (ADMIN, WITNESS_1, OPERATOR)
    assert result.started == START and result.ended == START + 2 * clock.step
    assert result.key_changes == () and result.resumes == 0
    assert [e.seq for e in result.entries] == [1, 2, 3]


def test_every_line_is_canonical_json_and_the_first_starts_the_chain(tmp_path, key):
    write_sample(tmp_path / "t.jsonl", key)
    lines, torn = split_lines((tmp_path / "t.jsonl").read_bytes())
    assert torn == b"" and len(lines) == 7
    for line in lines:
        assert canonical_json.encode(canonical_json.decode(line[:-1])) == line[:-1]
    first = json.loads(lines[0])
    assert bytes.fromhex(first["prev"]) == genesis_hash("f3a1c2d4-5e6f7081")
    assert bytes.fromhex(first["key"]) == key.public_key


def test_create_refuses_an_existing_file_and_leaves_it_alone(tmp_path, key):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"precious")
    with pytest.raises(TranscriptError, match="already exists"):
        TranscriptWriter.create(path, key, META)
    assert path.read_bytes() == b"precious"


def test_create_with_a_destroyed_key_writes_nothing(tmp_path, key):
    key.destroy()
    with pytest.raises(SignerUnavailable):
        TranscriptWriter.create(tmp_path / "t.jsonl", key, META)
    assert not (tmp_path / "t.jsonl").exists()


def test_every_entry_is_fsynced_and_the_directory_on_create(tmp_path, key, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append("dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    w = new_writer(tmp_path, key)
    assert synced == ["file", "dir"]
    w.append("s", "e")
    w.append("s", "e")
    assert synced == ["file", "dir", "file", "file"]
    w.seal()
    assert synced[-1] == "file" and len(synced) == 5


def test_append_refuses_reserved_steps_bad_names_and_secrets_and_writes_nothing(tmp_path, key):
    w = new_writer(tmp_path, key)
    before = w.path.read_bytes()
    with pytest.raises(ValueError, match="reserved"):
        w.append("ceremony", "sealed")
    with pytest.raises(ValueError):
        w.append("Generate Key", "x")
    with pytest.raises(TranscriptDataRefused, match="data.pin"):
        w.append("s", "e", data={"pin": "1234"})
    with pytest.raises(TranscriptDataRefused, match="bytes"):
        w.append("s", "e", data={"note": b"\x01" * 32})
    with pytest.raises(TranscriptDataRefused, match="at most"):
        w.append("s", "e", data={"note": "x" * (1 << 20)})
    assert w.path.read_bytes() == before
    w.append("s", "e")  # still usable
    verify_transcript(w.path, require_sealed=False)


def test_a_clock_that_goes_back_is_refused(tmp_path, key):
    times = iter([START, START + timedelta(seconds=5), START + timedelta(seconds=1)])
    w = new_writer(tmp_path, key, clock=lambda: next(times))
    w.append("s", "e")
    with pytest.raises(TranscriptError, match="never go back"):
        w.append("s", "e")
    assert len(split_lines(w.path.read_bytes())[0]) == 2


def test_a_naive_clock_is_refused(tmp_path, key):
    with pytest.raises(ValueError, match="timezone-aware"):
        TranscriptWriter.create(tmp_path / "t.jsonl", key, META, clock=datetime.now)


def test_a_signer_that_signs_wrong_is_caught_before_writing(tmp_path, key):
    class Broken:
        public_key = key.public_key

        def sign(self, message):
            return key.sign(message + b"!")

        def destroy(self):
            pass

    with pytest.raises(TranscriptError, match="does not verify"):
        TranscriptWriter.create(tmp_path / "t.jsonl", Broken(), META)
    assert not (tmp_path / "t.jsonl").exists()


def test_nothing_can_be_added_after_the_seal(tmp_path, key):
    w = new_writer(tmp_path, key)
    w.seal()
    with pytest.raises(TranscriptSealed):
        w.append("s", "e")
    with pytest.raises(TranscriptSealed):
        TranscriptWriter.resume(w.path, signer())


def test_a_second_writer_is_locked_out(tmp_path, key):
    w = new_writer(tmp_path, key)
    with pytest.raises(TranscriptError, match="another program"):
        TranscriptWriter.resume(w.path, key)
    w.close()
    w2 = TranscriptWriter.resume(w.path, key)
    w2.close()
    with pytest.raises(TranscriptError, match="closed"):
        w2.append("s", "e")


def test_a_failed_write_stops_the_writer_until_it_is_resumed(tmp_path, key, monkeypatch):
    w = new_writer(tmp_path, key)
    w.append("s", "first")
    real_write = os.write

    def half_then_fail(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(TranscriptError, match="No space left"):
        w.append("s", "second")
    monkeypatch.setattr(os, "write", real_write)
    with pytest.raises(TranscriptError, match="earlier write failed"):
        w.append("s", "third")
    w.close()
    with pytest.raises(TornTranscript) as info:
        TranscriptWriter.resume(w.path, key)
    assert info.value.line == 3 and info.value.torn_bytes > 0
    w = TranscriptWriter.resume(w.path, key, truncate_torn=True, clock=StepClock(START + timedelta(hours=1)))
    assert w.last_entry.data["dropped_bytes"] == info.value.torn_bytes
    w.append("s", "second")
    w.seal()
    result = verify_transcript(w.path, expected_fingerprint=key.fingerprint)
    assert [e.event for e in result.entries] == ["opened", "first", "resumed", "second", "sealed"]


# --- crash and resume ----------------------------------------------------------------------------


def test_resume_with_the_same_key_continues_the_chain(tmp_path, key):
    write_sample(tmp_path / "t.jsonl", key, seal=False)
    w = TranscriptWriter.resume(tmp_path / "t.jsonl", key, actors=[ADMIN], data={"reason": "lunch"},
                                clock=StepClock(START + timedelta(hours=1)))
    resumed = w.last_entry
    assert resumed.event == "resumed" and resumed.key == key.public_key and resumed.seq == 7
    assert resumed.data == {"reason": "lunch", "dropped_bytes": 0, "key_changed": False}
    assert [e.seq for e in w.entries] == list(range(1, 8))
    w.seal()
    result = verify_transcript(tmp_path / "t.jsonl", expected_fingerprint=key.fingerprint)
    assert result.resumes == 1 and result.key_changes == ()


def test_resume_needs_the_ceremony_key_unless_a_new_one_is_allowed(tmp_path, key):
    write_sample(tmp_path / "t.jsonl", key, seal=False)
    with pytest.raises(TranscriptError, match="is not the ceremony key"):
        TranscriptWriter.resume(tmp_path / "t.jsonl", signer("stranger"))


def test_resume_refuses_reserved_data_and_files_without_an_entry(tmp_path, key):
    write_sample(tmp_path / "t.jsonl", key, seal=False)
    with pytest.raises(ValueError, match="dropped_bytes"):
        TranscriptWriter.resume(tmp_path / "t.jsonl", key, data={"dropped_bytes": 0})
    (tmp_path / "torn.jsonl").write_bytes(b'{"actors":[],"cer')
    with pytest.raises(TranscriptError, match="nothing to resume"):
        TranscriptWriter.resume(tmp_path / "torn.jsonl", key, truncate_torn=True)
    with pytest.raises(TranscriptError, match="cannot open"):
        TranscriptWriter.resume(tmp_path / "missing.jsonl", key)


def test_resume_refuses_a_tampered_transcript(tmp_path, key):
    content = bytearray(sample_bytes(seal=False))
    content[len(split_lines(bytes(content))[0][0]) + 100] ^= 1  # inside line 2
    (tmp_path / "t.jsonl").write_bytes(bytes(content))
    with pytest.raises(TranscriptTampered) as info:
        TranscriptWriter.resume(tmp_path / "t.jsonl", key, truncate_torn=True)
    assert info.value.line == 2


def test_crash_at_every_byte_of_the_last_line_resumes_and_verifies(tmp_path, monkeypatch):
    """Power lost while line 3 was being written: the file ends at any byte of it.

    fsync is stubbed here only for speed (about 1300 calls); that every entry is fsynced is
    tested on its own above.
    """
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    path = tmp_path / "t.jsonl"
    w = TranscriptWriter.create(path, signer(), META, clock=StepClock())
    w.append("generate-key", "key-generated", data={"kcv": "a1b2c3"})
    w.append("split", "n", data={})
    w.close()
    lines, _ = split_lines(path.read_bytes())
    kept, last = b"".join(lines[:-1]), lines[-1]
    for cut in range(len(last)):  # cut == 0: the line never started; otherwise torn
        path.write_bytes(kept + last[:cut])
        key = signer()  # the same ceremony key: the engine held it in memory (or an HSM)
        if cut:
            with pytest.raises(TornTranscript) as info:
                TranscriptWriter.resume(path, key)
            assert (info.value.line, info.value.torn_bytes, info.value.good_length) == (3, cut, len(kept))
        w = TranscriptWriter.resume(path, key, truncate_torn=True, clock=StepClock(START + timedelta(hours=1)))
        assert w.last_entry.seq == 3 and w.last_entry.data["dropped_bytes"] == cut
        w.append("split", "shares-made", data={"threshold": 3})
        w.seal()
        result = verify_transcript(path, expected_fingerprint=key.fingerprint)
        assert [e.event for e in result.entries] == ["opened", "key-generated", "resumed", "shares-made", "sealed"]


@pytest.mark.parametrize("cut", [0, 1, 150])
def test_a_lost_soft_key_resumes_as_a_new_segment_that_auditors_must_confirm(tmp_path, cut):
    path = tmp_path / "t.jsonl"
    first = signer()
    write_sample(path, first, seal=False)
    lines, _ = split_lines(path.read_bytes())
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:cut])
    first.destroy()  # the process died: the soft key is gone
    replacement = signer("replacement")
    w = TranscriptWriter.resume(path, replacement, actors=[ADMIN, WITNESS_2], truncate_torn=True,
                                allow_new_key=True, clock=StepClock(START + timedelta(hours=1)))
    assert w.last_entry.data["key_changed"] is True and w.last_entry.key == replacement.public_key
    assert w.fingerprint == first.fingerprint  # the ceremony's fingerprint stays the first key's
    w.append("hand-over", "card-received", actors=[CUSTODIANS[2], WITNESS_2])
    w.seal()
    assert replacement.destroyed

    result = verify_transcript(path)  # no auditor expectations: the change is reported, not judged
    assert [s.line for s in result.segments] == [1, 6]
    assert [c.fingerprint for c in result.key_changes] == [replacement.fingerprint]
    assert result.fingerprint == first.fingerprint

    with pytest.raises(TranscriptKeyChanged) as info:
        verify_transcript(path, expected_fingerprint=first.fingerprint)
    assert info.value.lines == (6,) and info.value.fingerprints == (replacement.fingerprint,)
    assert format_fingerprint(replacement.fingerprint) in str(info.value)

    ok = verify_transcript(path, expected_fingerprint=first.fingerprint,
                           later_fingerprints=[fingerprint_words(replacement.fingerprint)])
    assert ok.sealed
    with pytest.raises(TranscriptTampered) as wrong:
        verify_transcript(path, expected_fingerprint=first.fingerprint, later_fingerprints=[signer("x").fingerprint])
    assert (wrong.value.reason, wrong.value.line) == ("wrong-key", 6)
    with pytest.raises(TranscriptTampered) as none:
        verify_transcript(path, expected_fingerprint=first.fingerprint, later_fingerprints=[])
    assert (none.value.reason, none.value.line) == ("wrong-key", 6)
    with pytest.raises(TranscriptTampered, match="2 key change"):
        verify_transcript(path, later_fingerprints=[replacement.fingerprint, first.fingerprint])


def test_resume_after_a_crash_right_after_the_seal_says_to_destroy_the_key(tmp_path, key):
    write_sample(tmp_path / "t.jsonl", key)
    with pytest.raises(TranscriptSealed, match="destroy key"):
        TranscriptWriter.resume(tmp_path / "t.jsonl", signer())


# --- verifying ------------------------------------------------------------------------------------


def test_verify_accepts_paths_bytes_and_lines(tmp_path):
    content = sample_bytes()
    (tmp_path / "t.jsonl").write_bytes(content)
    by_path = verify_transcript(str(tmp_path / "t.jsonl"))
    assert verify_transcript(content) == by_path
    assert verify_transcript(content.splitlines(keepends=True)) == by_path
    with pytest.raises(TranscriptError, match="cannot read"):
        verify_transcript(tmp_path / "missing.jsonl")


def test_an_unsealed_transcript_verifies_only_as_in_progress():
    content = sample_bytes(seal=False)
    with pytest.raises(TranscriptTampered) as info:
        verify_transcript(content)
    assert (info.value.reason, info.value.line, info.value.sequence) == ("not-sealed", 6, 6)
    assert not verify_transcript(content, require_sealed=False).sealed


def test_a_malformed_fingerprint_argument_is_a_usage_error():
    with pytest.raises(ValueError):
        verify_transcript(sample_bytes(), expected_fingerprint="12 34")


REQUIREMENTS = TemplateRequirements((
    StepRequirement("generate-key", {"operator": 1, "witness": 2}),
    StepRequirement("split"),
    StepRequirement("hand-over", {"custodian": 2}),
))


def test_template_requirements_met():
    result = verify_transcript(sample_bytes(), template_requirements=REQUIREMENTS)
    assert result.steps == ("generate-key", "split", "hand-over")


def test_template_requirements_round_trip_and_validate():
    assert TemplateRequirements.from_json(json.loads(json.dumps(REQUIREMENTS.to_json()))) == REQUIREMENTS
    for bad in ({"steps": [{"step": "a"}, {"step": "a"}]}, {"steps": [{"step": "ceremony"}]},
                {"steps": [{"step": "a", "roles": {"w": 0}}]}, {"steps": [{"step": "a", "roles": ["w"]}]},
                {"steps": [{"step": "a", "x": 1}]}, {"step": []}, []):
        with pytest.raises(ValueError):
            TemplateRequirements.from_json(bad)


@pytest.mark.parametrize(
    ("steps", "line", "says"),
    [
        # a step the template requires never ran before a later one: named where the later begins
        ([StepRequirement("generate-key"), StepRequirement("audit"), StepRequirement("split")], 3,
         "required step 'audit' never ran"),
        # the ceremony ended without a required step: named at the seal
        ([StepRequirement("split"), StepRequirement("destroy-key")], 7, "ends without the required step 'destroy-key'"),
        # steps in the wrong order: named where the later step begins without the earlier one
        ([StepRequirement("split"), StepRequirement("generate-key")], 2, "required step 'split' never ran before it"),
        ([StepRequirement("hand-over"), StepRequirement("split")], 3, "required step 'hand-over' never ran"),
        # not enough people in a role: named at the step's last entry
        ([StepRequirement("generate-key", {"witness": 3})], 2,
         re.escape("'generate-key' (line 2) had 2 (Eve Park, Jürgen Weiß) in the role 'witness'")),
        ([StepRequirement("hand-over", {"custodian": 3})], 6, "at least 3"),
        ([StepRequirement("split", {"auditor": 1})], 3, "had none in the role 'auditor'"),
    ],
)
def test_template_violations_name_the_first_bad_line(steps, line, says):
    with pytest.raises(TemplateViolation, match=says) as info:
        verify_transcript(sample_bytes(), template_requirements=TemplateRequirements(tuple(steps)))
    assert info.value.line == line and info.value.sequence == line and info.value.reason == "template"
    assert isinstance(info.value, TranscriptTampered)


def test_a_step_that_runs_again_after_a_later_one_is_out_of_order(tmp_path, key):
    w = new_writer(tmp_path, key)
    w.append("split", "a")
    w.append("hand-over", "b")
    w.append("split", "c")  # line 4: back to an earlier required step
    w.seal()
    with pytest.raises(TemplateViolation, match="step 'split' runs after step 'hand-over' began on line 3") as info:
        requirements = TemplateRequirements((StepRequirement("split"), StepRequirement("hand-over")))
        verify_transcript(w.path, template_requirements=requirements)
    assert info.value.line == 4


# --- conformance vectors --------------------------------------------------------------------------


def test_vector_files_are_what_the_generator_makes():
    files, manifest = vectors()
    assert sorted(p.name for p in VECTORS.glob("*.jsonl")) == sorted(files)
    for name, content in files.items():
        assert (VECTORS / name).read_bytes() == content, f"{name} differs; see tests/vectors/transcript/README.md"
    assert json.loads((VECTORS / "vectors.json").read_text()) == manifest


@pytest.mark.parametrize("name", sorted(json.loads((VECTORS / "vectors.json").read_text())))
def test_each_vector_verifies_to_its_expected_outcome(name):
    case = json.loads((VECTORS / "vectors.json").read_text())[name]
    assert case["outcome"] in REASONS | {"valid", "key-changed"}
    try:
        verify_transcript(VECTORS / name, **case["verify_with"])
        got = ("valid", None, None)
    except TranscriptTampered as err:
        got = (err.reason, err.line, err.sequence)
    except TranscriptKeyChanged as err:
        got = ("key-changed", err.lines[0], None)
    assert got == (case["outcome"], case["line"], case["sequence"])


GUIDE = Path(__file__).parent.parent.parent / "docs" / "auditor-guide.md"
NOT_CHECKED_BY_THE_SKETCH = {"time", "secret"}  # the guide says so


def test_the_auditor_guides_independent_checker_agrees_with_the_vectors(tmp_path):
    """docs/auditor-guide.md §6 prints a checker that uses only json, hashlib and cryptography:
    a second implementation. It must accept what we accept and reject (at the same line) what
    it claims to check."""
    import re

    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    (tmp_path / "check.py").write_text(next(b for b in blocks if "def check(" in b))
    manifest = json.loads((VECTORS / "vectors.json").read_text())
    fingerprint = signer().fingerprint.hex()
    for name, case in sorted(manifest.items()):
        run = subprocess.run([sys.executable, str(tmp_path / "check.py"), str(VECTORS / name), fingerprint],
                             capture_output=True, text=True, timeout=60)
        said = run.stdout + run.stderr
        if case["outcome"] in {"valid", "key-changed"} | NOT_CHECKED_BY_THE_SKETCH:
            assert run.returncode == 0 and "OK: 7 entries, sealed" in said, (name, said)
            assert ("NEW KEY" in said) == ("resumed" in name or "key-change" in name), (name, said)
        else:
            assert run.returncode != 0, (name, said)
            named = re.match(r"line (\d+):", said)
            if named:
                assert int(named.group(1)) == case["line"], (name, said)


# --- the command line -----------------------------------------------------------------------------


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``keyceremony`` with the transcript commands registered, as the lead will in cli.py."""
    from keyceremony.cli import main as cli
    from keyceremony.cli.transcript import add_transcript_commands

    original = cli._parser

    def parser_with_transcript():
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "transcript" not in sub.choices:
            add_transcript_commands(sub)
        return parser

    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        cli._parser = parser_with_transcript
        try:
            code = cli.main(argv)
        finally:
            cli._parser = original
    return code, out.getvalue(), err.getvalue()


def test_cli_verify_prints_the_summary_with_fingerprint_and_words():
    fp = signer().fingerprint
    code, out, err = run_cli(["transcript", "verify", str(VECTORS / "valid.jsonl"), "--fingerprint", fp.hex()])
    assert code == 0, err
    assert "intact and sealed; 7 entries" in out
    assert format_fingerprint(fp) in out and fingerprint_words(fp) in out
    assert "matches the fingerprint given" in out
    assert "Jürgen Weiß (witness)" in out and "steps:     generate-key, split, hand-over" in out


def test_cli_verify_without_a_fingerprint_says_it_was_not_checked():
    code, out, _ = run_cli(["transcript", "verify", str(VECTORS / "valid.jsonl")])
    assert code == 0 and "NOT CHECKED" in out


def test_cli_verify_names_the_first_bad_entry_and_fails():
    code, out, err = run_cli(["transcript", "verify", str(VECTORS / "deleted-entry.jsonl")])
    assert code == 1 and out == ""
    assert "deleted-entry.jsonl, line 4 (sequence 5): sequence number 5 where 4 was expected" in err


def test_cli_verify_a_resumed_transcript_needs_the_later_fingerprint(tmp_path):
    path = str(VECTORS / "valid-resumed-new-key.jsonl")
    first, later = signer().fingerprint, signer("replacement key").fingerprint
    code, _, err = run_cli(["transcript", "verify", path, "--fingerprint", format_fingerprint(first)])
    assert code == 1 and "--later-fingerprint" in err and format_fingerprint(later) in err
    code, out, err = run_cli(["transcript", "verify", path, "--fingerprint", fingerprint_words(first),
                              "--later-fingerprint", format_fingerprint(later)])
    assert code == 0, err
    assert "resumed on line 5 with a NEW key, 57 bytes of a partial line removed" in out
    assert "matches the --later-fingerprint given" in out


def test_cli_verify_with_requirements_and_in_progress(tmp_path):
    req = tmp_path / "req.json"
    req.write_text(json.dumps(REQUIREMENTS.to_json()))
    code, out, err = run_cli(["transcript", "verify", str(VECTORS / "valid.jsonl"), "--requirements", str(req)])
    assert code == 0 and "all 3 required steps ran in order" in out, err
    req.write_text(json.dumps({"steps": [{"step": "destroy-key"}]}))
    code, _, err = run_cli(["transcript", "verify", str(VECTORS / "valid.jsonl"), "--requirements", str(req)])
    assert code == 1 and "line 7 (sequence 7)" in err and "destroy-key" in err
    code, out, _ = run_cli(["transcript", "verify", str(VECTORS / "truncated.jsonl"), "--in-progress"])
    assert code == 0 and "NOT SEALED" in out


@pytest.mark.parametrize("argv", [
    ["--fingerprint", "1234"],
    ["--later-fingerprint", "not words at all"],
    ["--requirements", "/nonexistent.json"],
])
def test_cli_usage_errors(argv):
    code, _, err = run_cli(["transcript", "verify", str(VECTORS / "valid.jsonl"), *argv])
    assert code == UsageError.exit_code and err.startswith("keyceremony: error:")


def test_cli_transcript_without_an_action_prints_help():
    code, out, _ = run_cli(["transcript"])
    assert code == 2 and "verify" in out


def test_cli_errors_are_keyceremony_errors():
    assert issubclass(TranscriptTampered, KeyCeremonyError) and issubclass(TranscriptKeyChanged, KeyCeremonyError)


# --- layers ---------------------------------------------------------------------------------------


def test_the_transcript_modules_are_headless():
    """docs/architecture.md §3: no UI or I/O boundary library is loaded by the transcript modules or the CLI's."""
    probe = (
        "import sys, json\n"
        "import keyceremony.codec.canonical_json, keyceremony.transcript.signer, keyceremony.transcript\n"
        "import keyceremony.cli.transcript\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(result.stdout))
    assert not loaded & {"textual", "reportlab", "qrcode", "pkcs11", "pyzbar", "pypdfium2", "numpy"}
