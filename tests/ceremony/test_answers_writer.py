"""Writing answers files: render_answers reads back through parse_answers, and check_draft names
the form field of the line the parser refused (keyceremony.ceremony.answers_writer)."""

from __future__ import annotations

import dataclasses
import tomllib
import unicodedata

import pytest
from ceremony_helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyceremony.ceremony.answers import load_answers, parse_answers
from keyceremony.ceremony.answers_writer import (
    AnswersDraft,
    check_draft,
    draft_from_answers,
    render_answers,
    render_answers_lines,
    split_names,
    toml_string,
    toml_text,
)
from keyceremony.ceremony.template import load_template, parse_template
from keyceremony.errors import SetupError
from keyceremony.transcript import Actor, looks_secret

KEYGEN = load_template("key-generation")
DRILL = load_template("dr-drill")


def people(*pairs: str) -> list[tuple[str, str]]:
    return [(name, role) for pair in pairs for name, role in [pair.split("/")]]


STAFF = people("Dana Ruiz/ceremony-administrator", "Alice Ng/custodian", "Eve Park/witness")


@pytest.mark.parametrize("name", ["key-generation", "recovery", "dr-drill"])
def test_every_example_answers_file_round_trips(name, monkeypatch, tmp_path):
    monkeypatch.setenv("KEYGEN_DIR", str(tmp_path / "keygen"))
    template = load_template(name)
    answers = load_answers(EXAMPLES / f"{name}.toml", template)
    text = render_answers(draft_from_answers(answers))
    again = parse_answers(text, template, source=answers.source, base=tmp_path / "elsewhere")  # paths are absolute
    assert dataclasses.replace(again, sha256=answers.sha256) == answers
    assert "${" not in text and "KEYGEN_DIR" not in text  # written expanded


def test_the_rendered_file_says_where_the_pin_comes_from_and_has_no_secret_key():
    draft = AnswersDraft(title="T", participants=STAFF, backend="pkcs11", module="/lib/p11.so", token="root")
    text = render_answers(draft)
    raw = tomllib.loads(text)
    keys = [k for table in raw.values() if isinstance(table, dict) for k in table] + list(raw)
    assert keys and not [k for k in keys if looks_secret(k)]
    assert "$KEYCEREMONY_PIN" in text and raw["hsm"] == {"backend": "pkcs11", "module": "/lib/p11.so", "token": "root"}
    assert not hasattr(draft, "pin")


# Names within what Actor accepts: printable, NFC, no outer spaces, 1 to 128 characters.
_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40)
NAMES = _TEXT.map(lambda s: unicodedata.normalize("NFC", s).strip()).filter(lambda s: 0 < len(s) <= 128)


def accepted(name: str) -> bool:
    try:
        Actor(name, "custodian")
    except ValueError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(NAMES.filter(accepted), min_size=1, max_size=8, unique=True), title=NAMES, location=NAMES,
       roles=st.data())  # fmt: skip
def test_drafts_of_any_printable_names_round_trip(names, title, location, roles):
    chosen = [roles.draw(st.sampled_from([r.name for r in KEYGEN.roles])) for _ in names]
    draft = AnswersDraft(title=title, location=location, participants=list(zip(names, chosen, strict=True)))
    answers = check_draft(draft, KEYGEN)
    assert [(a.name, a.role) for a in answers.participants] == draft.participants
    assert (answers.title, answers.location) == (title, location)
    assert draft_from_answers(answers).participants == draft.participants


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_any_text_is_a_toml_string_that_reads_back(value):
    for rendered in (toml_string(value), toml_text(value)):
        assert tomllib.loads(f"k = {rendered}\n")["k"] == value


def test_a_name_with_three_apostrophes_does_not_confuse_the_line_finder():
    name = "O'''Brien"
    draft = AnswersDraft(participants=[*STAFF, (name, "witness"), ("x" * 129, "witness")])
    with pytest.raises(SetupError) as err:
        check_draft(draft, KEYGEN)
    assert err.value.field == "people:witness" and "1 to 128 characters" in err.value.detail


@pytest.mark.parametrize(
    ("draft", "field", "message"),
    [
        (AnswersDraft(participants=[*STAFF, ("x" * 129, "custodian")]), "people:custodian",
         "an actor's name must be a string of 1 to 128 characters"),
        (AnswersDraft(participants=[*STAFF, (unicodedata.normalize("NFD", "Jürgen"), "witness")]), "people:witness",
         "must be in Unicode NFC form"),
        (AnswersDraft(participants=[*STAFF, ("Eve Park", "witness")]), "people:witness", "is listed twice"),
        (AnswersDraft(participants=STAFF, title=" "), "title", "title must be a non-empty string"),
        (AnswersDraft(participants=STAFF, backend="hsm"), "backend", "backend must be 'soft' or 'pkcs11'"),
        (AnswersDraft(participants=STAFF, warn=("hsm",)), "rehearsal", "does not let a rehearsal relax the 'hsm'"),
        (AnswersDraft(participants=[]), "people:ceremony-administrator", "list the participants"),
        (AnswersDraft(participants=STAFF, module="$NO_SUCH_VARIABLE_X/p11.so", backend="pkcs11"), None, None),
    ],
)  # fmt: skip
def test_check_draft_names_the_field_with_the_parsers_message(draft, field, message):
    if message is None:  # [hsm] module expands variables without refusing unset ones: accepted
        check_draft(draft, KEYGEN)
        return
    with pytest.raises(SetupError) as err:
        check_draft(draft, KEYGEN)
    assert err.value.field == field and message in err.value.detail, (err.value.field, err.value.detail)


def test_anchor_fields_are_checked_by_the_parser_and_a_required_one_is_asked_for():
    draft = AnswersDraft(participants=STAFF, set_fingerprint="not a fingerprint")
    with pytest.raises(SetupError) as err:
        check_draft(draft, DRILL)
    assert err.value.field == "set_fingerprint" and err.value.detail.startswith("set_fingerprint:")
    draft.set_fingerprint, draft.kcv = "", "12345g"
    with pytest.raises(SetupError) as err:
        check_draft(draft, DRILL)
    assert err.value.field == "kcv"
    text = (EXAMPLES.parent.parent / "ceremony_templates" / "dr-drill.toml").read_text(encoding="utf-8")
    required = parse_template(text.replace('[rehearsal]', '[parameters]\nanchor = "required"\n\n[rehearsal]'))
    draft.kcv = ""
    with pytest.raises(SetupError) as err:
        check_draft(draft, required)
    assert err.value.field == "set_fingerprint" and "requires an anchor" in err.value.detail


def test_carried_step_answers_that_name_someone_gone_are_reported_as_steps():
    answers = load_answers(EXAMPLES / "key-generation.toml", KEYGEN)
    draft = draft_from_answers(answers)
    draft.participants = [p for p in draft.participants if p[0] != "Farah Haddad"]
    with pytest.raises(SetupError) as err:
        check_draft(draft, KEYGEN)
    assert err.value.field == "steps" and "'Farah Haddad' is not among the participants" in err.value.detail


def test_the_line_map_covers_every_value_line():
    answers = load_answers(EXAMPLES / "key-generation.toml", KEYGEN)
    rendered = render_answers_lines(draft_from_answers(answers), header=["a header"])
    for number, line in enumerate(rendered.text.splitlines(), start=1):
        if line and not line.startswith("#"):
            assert rendered.field_of(number) is not None, line


def test_split_names():
    assert split_names(" Alice Ng,Bob Li , ,Chen Wei,") == ["Alice Ng", "Bob Li", "Chen Wei"]
    assert split_names("  ") == []
