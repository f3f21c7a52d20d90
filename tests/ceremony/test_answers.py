"""Answers files: the samples load, and mistakes are reported with their line."""

from __future__ import annotations

from pathlib import Path

import pytest
from ceremony_helpers import EXAMPLES

from keyceremony.ceremony.answers import load_answers, parse_answers
from keyceremony.ceremony.template import load_template
from keyceremony.errors import AnswersError

KEYGEN = load_template("key-generation")
SAMPLE = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def error_of(text: str, template=KEYGEN) -> AnswersError:  # type: ignore[no-untyped-def]
    with pytest.raises(AnswersError) as caught:
        parse_answers(text, template, source="answers.toml", base=EXAMPLES)
    return caught.value


def test_the_sample_answers_load(monkeypatch):
    answers = load_answers(EXAMPLES / "key-generation.toml", KEYGEN)
    assert len(answers.participants) == 9 and answers.rehearsal.warn == ("network", "swap")
    assert answers.step("hand-over").hand_over[1] == (2, "Bob Li", "TEB-100202")
    monkeypatch.setenv("KEYGEN_DIR", "/srv/keygen")
    drill = load_answers(EXAMPLES / "dr-drill.toml", load_template("dr-drill"))
    assert [c.path for c in drill.step("present-cards").cards][0] == Path("/srv/keygen/cards/card-1.pdf")
    load_answers(EXAMPLES / "recovery.toml", load_template("recovery"))


def test_the_key_owner_and_contact_are_read_and_bounded():
    bare = "".join(line for line in SAMPLE.splitlines(keepends=True) if not line.startswith(("owner =", "contact =")))
    with_owner = bare.replace('location = "Room 4.12, rehearsal"',
                              'location = "Room 4.12, rehearsal"\nowner = "Dana Ruiz"\ncontact = "+44 20 7946 0000"')
    answers = parse_answers(with_owner, KEYGEN, source="answers.toml", base=EXAMPLES)
    assert (answers.owner, answers.contact) == ("Dana Ruiz", "+44 20 7946 0000")
    assert parse_answers(bare, KEYGEN, source="answers.toml", base=EXAMPLES).owner is None  # optional
    shipped = load_answers(EXAMPLES / "key-generation.toml", KEYGEN)
    assert (shipped.owner, shipped.contact) == ("Payments platform team", "keys@payments.example, ext. 4120")
    err = error_of(with_owner.replace("+44 20 7946 0000", "x" * 65))
    assert err.line == line_of(with_owner, "contact =")
    assert "the owner's contact is 65 characters long; at most 64 fit; it is printed on every card" in str(err)


def test_a_pin_is_refused_with_its_line():
    text = SAMPLE.replace('backend = "soft"', 'backend = "pkcs11"\npin = "1234"')
    err = error_of(text)
    assert err.line == line_of(text, 'pin = "1234"') and "never go in an answers file" in str(err)
    assert "1234" not in str(err)


def test_an_unknown_role_has_its_line():
    text = SAMPLE.replace('role = "auditor"', 'role = "observer"')
    err = error_of(text)
    assert err.line == line_of(text, 'role = "observer"') and "no role 'observer'" in str(err)


def test_an_unknown_step_and_an_unknown_confirmation():
    text = SAMPLE.replace("[steps.preflight]", "[steps.pre-flight]")
    assert error_of(text).line == line_of(text, "[steps.pre-flight]")
    text = SAMPLE.replace("seal = true", "sealed = true")
    err = error_of(text)
    assert err.line == line_of(text, "sealed = true") and "unknown key 'sealed'" in str(err)


def test_a_custodian_who_is_not_a_participant():
    text = SAMPLE.replace('custodian = "Emeka Obi"', 'custodian = "Emeka O."')
    err = error_of(text)
    assert err.line == line_of(text, "cards = [") and "'Emeka O.' is not among the participants" in str(err)


def test_a_rehearsal_may_relax_only_what_the_template_allows():
    text = SAMPLE.replace('warn = ["network", "swap"]', 'warn = ["network", "hsm"]')
    err = error_of(text)
    assert err.line == line_of(text, "warn = [") and "does not let a rehearsal relax the 'hsm' check" in str(err)


def test_an_unset_environment_variable_in_a_path(monkeypatch):
    monkeypatch.delenv("KEYGEN_DIR", raising=False)
    text = (EXAMPLES / "dr-drill.toml").read_text(encoding="utf-8")
    err = error_of(text, load_template("dr-drill"))
    assert err.line == line_of(text, "cards = [") and "$KEYGEN_DIR, which is not set" in str(err)


def test_toml_syntax_error():
    text = SAMPLE.replace('name = "Bob Li"', 'name = "Bob Li')
    assert error_of(text).line == line_of(text, 'name = "Bob Li')


def test_anchors_are_read_and_a_malformed_one_has_its_line(monkeypatch):
    monkeypatch.setenv("KEYGEN_DIR", "/srv/keygen")
    drill = load_template("dr-drill")
    base = (EXAMPLES / "dr-drill.toml").read_text(encoding="utf-8")
    good = base + '\n[anchors]\nset_fingerprint = "0001 0203 0405 0607 0809 0A0B 0C0D 0E0F"\nkcv = "1A2B3C"\n'
    anchors = parse_answers(good, drill, source="answers.toml", base=EXAMPLES).anchors
    assert anchors.set_fingerprint == bytes(range(16)) and anchors.kcv == "1a2b3c"
    assert anchors.package_fingerprint is None
    for bad, words in (('kcv = "1A2B"', "kcv: a key check value is 6 hex digits"),
                       ('set_fingerprint = "0001 0203"', "set_fingerprint: a fingerprint is 32 hex digits"),
                       ('fingerprint = "00"', "unknown key 'fingerprint' in [anchors]")):
        text = base + f"\n[anchors]\n{bad}\n"
        err = error_of(text, drill)
        assert err.line == line_of(text, bad) and words in str(err), str(err)
