"""A new ceremony's set-up, headless (keyceremony.ceremony.setup): the checks the form calls, the
files it saves, and a saved set-up run by `keyceremony run` without the UI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ceremony_helpers import EXAMPLES, run_cli

from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys
from keyceremony.ceremony.answers import load_answers
from keyceremony.ceremony.answers_writer import draft_from_answers
from keyceremony.ceremony.setup import (
    SetupFields,
    WouldReplace,
    check_setup,
    check_start,
    default_fields,
    describe_rehearsal,
    fields_from_draft,
    make_keys,
    save_setup,
)
from keyceremony.ceremony.template import KeyGenerationParameters, load_template
from keyceremony.errors import SetupError

KEYGEN = load_template("key-generation")
DRILL = load_template("dr-drill")
PEOPLE = {"ceremony-administrator": "Dana Ruiz", "custodian": "Alice Ng, Bob Li, Chen Wei, Dora Szabó, Emeka Obi",
          "witness": "Eve Park, Jürgen Weiß", "auditor": ""}  # fmt: skip


def form(tmp_path: Path, template=KEYGEN, **changes: object) -> SetupFields:  # type: ignore[no-untyped-def]
    fields = dataclasses.replace(default_fields(template), folder=str(tmp_path / "ceremony"), people=dict(PEOPLE))
    return dataclasses.replace(fields, **changes)  # type: ignore[arg-type]


def refused(fields: SetupFields, template=KEYGEN, *, start: bool = False, pin: str | None = None) -> SetupError:  # type: ignore[no-untyped-def]
    with pytest.raises(SetupError) as err:
        plan = check_setup(fields, template, template_ref=template.name)
        if start:
            check_start(plan)
        if pin is not None:
            make_keys(plan, pin)
    return err.value


def test_defaults_come_from_the_template(monkeypatch):
    monkeypatch.setenv("PKCS11_MODULE", "/opt/hsm/lib.so")
    fields = default_fields(KEYGEN)
    assert (fields.threshold, fields.shares, fields.key_label, fields.algorithm, fields.paper) == \
        ("3", "5", "root-kek", "aes256", "a4")  # fmt: skip
    assert fields.module == "/opt/hsm/lib.so" and set(fields.people) == {r.name for r in KEYGEN.roles}
    assert fields.backend == "pkcs11"  # the laptop names its HSM's module: that is the default store
    monkeypatch.delenv("PKCS11_MODULE")
    assert default_fields(KEYGEN).backend == "soft" and default_fields(KEYGEN).module == ""
    assert describe_rehearsal(KEYGEN) == "network/swap only warn; card files kept"
    assert describe_rehearsal(DRILL) == "network/swap only warn"


def test_a_plain_set_up_saves_answers_that_load_and_runs_the_template_itself(tmp_path):
    plan = check_setup(form(tmp_path, rehearsal=True, title="Payments KEK"), KEYGEN, template_ref="key-generation")
    check_start(plan)
    assert plan.template is KEYGEN and plan.template_path is None
    assert plan.answers_path == tmp_path / "ceremony-answers.toml"
    saved = save_setup(plan)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ceremony-answers.toml"]  # the folder is made at the start
    answers = load_answers(saved.answers_path, KEYGEN)
    assert answers == saved.answers and answers.title == "Payments KEK"
    assert answers.rehearsal.warn == ("network", "swap") and answers.rehearsal.keep_card_files
    assert [a.name for a in answers.participants if a.role == "custodian"][3] == "Dora Szabó"
    assert "keyceremony run key-generation --answers ceremony-answers.toml" in saved.answers_path.read_text("utf-8")
    assert isinstance(make_keys(plan, ""), SoftKeys)


def test_changed_parameters_save_a_derived_template_beside_the_answers(tmp_path):
    people = {**PEOPLE, "custodian": "Alice Ng, Bob Li, Chen Wei"}
    plan = check_setup(form(tmp_path, people=people, threshold="2", shares="3", paper="letter"), KEYGEN,
                       template_ref="key-generation")  # fmt: skip
    check_start(plan)
    saved = save_setup(plan)
    assert saved.template_path == tmp_path / "ceremony-template.toml"
    assert saved.template.source == str(saved.template_path)
    assert saved.template.parameters == KeyGenerationParameters("root-kek", "aes256", 2, 3, "letter")
    assert f"keyceremony run {saved.template_path}" in plan.run_command()
    assert str(saved.template_path) in saved.answers_path.read_text("utf-8")


def test_a_headless_run_of_a_saved_set_up_stops_at_the_first_question_it_has_no_answer_for(tmp_path):
    plan = check_setup(form(tmp_path, threshold="2", shares="5", rehearsal=True), KEYGEN, template_ref="key-generation")
    saved = save_setup(plan)
    assert saved.template_path is not None
    result = run_cli("run", str(saved.template_path), "--answers", str(saved.answers_path), "--out", str(plan.folder))
    assert result.returncode == 1
    assert "== Step 1 of 8: Roll call" in result.stdout
    assert "the answers do not confirm 'roll-call'" in result.stderr and "under [confirm]" in result.stderr


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (dict(folder=""), "folder", "type the path of a new (or empty) folder"),
        (dict(threshold="6"), "threshold", "need 1 <= threshold <= shares <= 255, not 6 of 5"),
        (dict(key_label=""), "key_label", "key_label must be a non-empty string"),
        (dict(people={**PEOPLE, "witness": "Eve Park, " + "x" * 129}), "people:witness", "1 to 128 characters"),
        (dict(people={**PEOPLE, "custodian": "Alice Ng, Alice Ng"}), "people:custodian", "listed twice"),
        (dict(backend="hsm"), "backend", "'soft' or 'pkcs11'"),
        (dict(owner="x" * 65), "owner", "the key owner is 65 characters long; at most 64 fit"),
        (dict(contact="x" * 65), "contact", "the owner's contact is 65 characters long; at most 64 fit"),
    ],
)
def test_a_bad_field_is_named_with_its_message(tmp_path, changes, field, message):
    err = refused(form(tmp_path, **changes))
    assert err.field == field and message in err.detail, (err.field, err.detail)


def test_the_folder_must_be_new_or_empty_and_the_answers_saved_beside_it(tmp_path):
    (tmp_path / "ceremony").mkdir()
    check_setup(form(tmp_path), KEYGEN, template_ref="key-generation")  # empty: fine
    (tmp_path / "ceremony" / "state.json").write_text("{}")
    assert "holds a ceremony already" in refused(form(tmp_path)).detail
    (tmp_path / "ceremony" / "state.json").rename(tmp_path / "ceremony" / "x")
    assert "is not empty" in refused(form(tmp_path)).detail
    (tmp_path / "file").write_text("")
    err = refused(form(tmp_path, folder=str(tmp_path / "file" / "ceremony")))
    assert err.field == "folder" and "is a file" in err.detail
    err = refused(form(tmp_path, folder=str(tmp_path / "new"), save_as=str(tmp_path / "new" / "a.toml")))
    assert err.field == "save_as" and "beside the ceremony folder" in err.detail
    (tmp_path / "dir-answers.toml").mkdir()
    err = refused(form(tmp_path, folder=str(tmp_path / "new"), save_as=str(tmp_path / "dir-answers.toml")))
    assert err.field == "save_as" and "is a folder" in err.detail


def test_the_roll_call_and_the_cards_are_checked_before_the_start(tmp_path):
    few = {**PEOPLE, "custodian": "Alice Ng, Bob Li"}
    check_setup(form(tmp_path, people=few), KEYGEN, template_ref="key-generation")  # a valid file: it can be saved
    err = refused(form(tmp_path, people=few), start=True)
    assert err.field == "people:custodian" and err.detail == "2 named; the roll call needs at least 5"
    two = {**PEOPLE, "ceremony-administrator": "Dana Ruiz, Eve Park"}
    assert refused(form(tmp_path, people=two), start=True).detail == "2 named; the ceremony allows at most 1"
    chinese = {**PEOPLE, "custodian": "Alice Ng, Bob Li, Chen Wei, Dora Szabó, 王小明"}
    err = refused(form(tmp_path, people=chinese), start=True)
    assert err.field == "people:custodian" and "cannot print" in err.detail
    err = refused(form(tmp_path, key_label="王-kek"), start=True)
    assert err.field == "key_label" and "cannot print" in err.detail
    err = refused(form(tmp_path, contact="王小明 +86 10 0000"), start=True)
    assert err.field == "contact" and "cannot print" in err.detail


def test_the_key_owner_and_contact_go_into_the_answers_and_back(tmp_path):
    plan = check_setup(form(tmp_path, owner="Dana Ruiz", contact="+44 20 7946 0000"), KEYGEN,
                       template_ref="key-generation")  # fmt: skip
    assert 'owner = "Dana Ruiz"' in plan.answers_text and 'contact = "+44 20 7946 0000"' in plan.answers_text
    assert (plan.answers.owner, plan.answers.contact) == ("Dana Ruiz", "+44 20 7946 0000")
    fields = fields_from_draft(draft_from_answers(plan.answers), KEYGEN, form(tmp_path))
    assert (fields.owner, fields.contact) == ("Dana Ruiz", "+44 20 7946 0000")


def test_a_pkcs11_set_up_needs_a_module_file_a_token_and_a_pin(tmp_path):
    module = tmp_path / "libp11.so"
    module.write_bytes(b"\x7fELF")
    err = refused(form(tmp_path, backend="pkcs11", module=str(tmp_path / "missing.so"), token="root"), start=True)
    assert err.field == "module" and "no file" in err.detail
    assert refused(form(tmp_path, backend="pkcs11", module=str(module)), start=True).field == "token"
    err = refused(form(tmp_path, backend="pkcs11", module=str(module), token="root"), pin="")
    assert err.field == "pin" and "never saved" in err.detail
    plan = check_setup(form(tmp_path, backend="pkcs11", module=str(module), token="root"), KEYGEN,
                       template_ref="key-generation")  # fmt: skip
    keys = make_keys(plan, "1234-SECRET")
    assert isinstance(keys, Pkcs11Keys) and (keys.module, keys.token) == (str(module), "root")
    saved = save_setup(plan)
    assert b"1234-SECRET" not in saved.answers_path.read_bytes()
    assert saved.answers.hsm.module == str(module) and saved.answers.hsm.token == "root"


def test_saving_never_replaces_a_different_file_unless_asked_again(tmp_path):
    plan = check_setup(form(tmp_path, title="First"), KEYGEN, template_ref="key-generation")
    save_setup(plan)
    save_setup(plan)  # the same text again: nothing to refuse
    second = check_setup(form(tmp_path, title="Second"), KEYGEN, template_ref="key-generation")
    with pytest.raises(WouldReplace) as err:
        save_setup(second)
    assert err.value.field == "save_as" and "save again to replace it" in err.value.detail
    assert load_answers(plan.answers_path, KEYGEN).title == "First"
    save_setup(second, replace=True)
    assert load_answers(plan.answers_path, KEYGEN).title == "Second"


def test_a_loaded_answers_file_fills_the_form_and_its_step_answers_are_kept(tmp_path):
    answers = load_answers(EXAMPLES / "key-generation.toml", KEYGEN)
    draft = draft_from_answers(answers)
    fields = fields_from_draft(draft, KEYGEN, form(tmp_path))
    assert fields.people["witness"] == "Eve Park, Jürgen Weiß" and fields.rehearsal and fields.title == answers.title
    plan = check_setup(fields, KEYGEN, template_ref="key-generation", carried=draft)
    assert plan.answers.steps == answers.steps and plan.answers.confirm == answers.confirm
    assert set(plan.answers.participants) == set(answers.participants)  # in the template's order of roles
    same = dataclasses.replace(plan.answers, source=answers.source, sha256=answers.sha256,
                               participants=answers.participants)  # fmt: skip
    assert same == answers
    draft.participants.append(("Ng, Alice", "custodian"))
    with pytest.raises(SetupError, match="with a comma"):
        fields_from_draft(draft, KEYGEN, form(tmp_path))
