"""Ceremony templates: the bundled ones load, and every mistake is reported with its line."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from keyceremony.ceremony.template import (
    bundled_directory,
    bundled_template_names,
    load_template,
    parse_template,
)
from keyceremony.errors import TemplateError

REPO = Path(__file__).resolve().parents[2]
KEYGEN = (bundled_directory() / "key-generation.toml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def broken(old: str, new: str, *, count: int = 1) -> str:
    assert KEYGEN.count(old) >= count, old
    return KEYGEN.replace(old, new, count)


def error_of(text: str) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        parse_template(text, source="bad.toml")
    return caught.value


def test_the_three_bundled_templates_load():
    assert bundled_template_names() == ("dr-drill", "key-generation", "recovery")
    kinds = {name: load_template(name).kind for name in bundled_template_names()}
    assert kinds == {"dr-drill": "dr-drill", "key-generation": "key-generation", "recovery": "recovery"}
    keygen = load_template("key-generation")
    assert (keygen.parameters.threshold, keygen.parameters.shares) == (3, 5)
    assert [s.kind for s in keygen.steps] == [
        "roll-call", "preflight", "generate-key", "split-and-print", "scan-back", "hand-over", "destroy", "seal",
    ]  # fmt: skip
    assert keygen.step("hand-over").quorum_of("custodian") == 5
    assert dict(keygen.step("preflight").checks) == {"network": "stop", "swap": "stop", "hsm": "stop"}


def test_requirements_name_every_step_in_order_with_its_quorum():
    template = load_template("recovery")
    requirements = template.requirements()
    assert [r.step for r in requirements.steps] == [s.id for s in template.steps]
    assert dict(requirements.steps[2].roles) == {"custodian": 3, "witness": 2}


def test_the_checkout_folder_is_the_package_folder():
    # Decision (docs/ceremony-guide.md §5): the templates live in the package, so an installed
    # keyceremony has them; the checkout's top-level ceremony_templates/ is a symlink to it.
    top = REPO / "ceremony_templates"
    assert top.is_symlink() and top.resolve() == bundled_directory()
    names = sorted(p.name for p in top.glob("*.toml"))
    assert names == ["dr-drill.toml", "key-generation.toml", "recovery.toml"]
    assert all(filecmp.cmp(top / n, bundled_directory() / n, shallow=False) for n in names)


def test_a_template_is_found_by_path_too(tmp_path):
    path = tmp_path / "my-keygen.toml"
    path.write_text(KEYGEN.replace('key_label = "root-kek"', 'key_label = "signing-kek"'), encoding="utf-8")
    template = load_template(str(path))
    assert template.parameters.key_label == "signing-kek" and template.source == str(path)
    assert template.sha256 != load_template("key-generation").sha256


def test_an_unknown_template_name_lists_the_bundled_ones():
    with pytest.raises(TemplateError, match="key-generation, recovery") as caught:
        load_template("key-genration")
    assert caught.value.line is None


def test_toml_syntax_error_has_tomllib_line():
    text = broken('title = "Roll call"', 'title = "Roll call')
    err = error_of(text)
    assert err.line == line_of(text, 'title = "Roll call')
    assert "not valid TOML" in str(err) and f"bad.toml, line {err.line}" in str(err)


def test_unknown_step_kind_names_the_line_and_a_suggestion():
    text = broken('kind = "scan-back"', 'kind = "scan-bak"')
    err = error_of(text)
    assert err.line == line_of(text, 'kind = "scan-bak"')
    assert "unknown kind 'scan-bak'" in str(err) and "did you mean 'scan-back'" in str(err)


@pytest.mark.parametrize(
    ("value", "expect"),
    [("0", "at least 1"), ('"two"', "at least 1"), ("3", "raise roles.witness.min"), ("true", "at least 1")],
)
def test_bad_quorum_names_the_line(value, expect):
    text = broken("quorum = { custodian = 5, witness = 2 }", f"quorum = {{ custodian = 5, witness = {value} }}")
    err = error_of(text)
    assert err.line == line_of(text, f"witness = {value} }}")
    assert "bad quorum for 'witness'" in str(err) and expect in str(err)


def test_quorum_of_an_undeclared_role_names_the_line():
    text = broken("quorum = { custodian = 5, witness = 2 }", "quorum = { custodians = 5, witness = 2 }")
    err = error_of(text)
    assert err.line == line_of(text, "custodians = 5")
    assert "role 'custodians', which [roles] does not declare" in str(err)


def test_missing_administrator_role():
    text = broken("[roles.ceremony-administrator]", "[roles.administrator]")
    text = text.replace("quorum = { ceremony-administrator = 1, witness = 2 }", "quorum = { witness = 2 }")
    err = error_of(text)
    assert "ceremony-administrator" in str(err) and err.line == line_of(text, "[roles.administrator]")


def test_too_few_custodians_for_the_cards():
    text = broken("min = 5\n", "min = 4\n")
    err = error_of(text)
    assert err.line == line_of(text, "min = 4") and "at least 5" in str(err)


def test_duplicate_step_id_names_the_second():
    text = broken('id = "scan-back"', 'id = "split-and-print"')
    err = error_of(text)
    assert err.line == line_of(text, 'id = "split-and-print"', occurrence=2)
    assert "duplicate step id 'split-and-print'" in str(err)


def test_unknown_key_is_a_typo():
    text = broken('title = "Scan every card back"', 'tilte = "Scan every card back"')
    err = error_of(text)
    assert err.line == line_of(text, "tilte =") and "did you mean 'title'" in str(err)


def test_split_must_follow_key_generation_directly():
    text = broken('[[steps]]\nid = "split-and-print"',
                  '[[steps]]\nid = "note"\nkind = "confirm"\n\n[[steps]]\nid = "split-and-print"')
    err = error_of(text)
    assert err.line == line_of(text, 'kind = "split-and-print"') and "right after" in str(err)


def test_first_and_last_steps_and_kinds_per_template():
    err = error_of(broken('kind = "roll-call"', 'kind = "confirm"'))
    assert "needs a 'roll-call' step" in str(err)
    err = error_of(broken('kind = "generate-key"', 'kind = "recover"'))
    assert "no place in a key-generation ceremony" in str(err)


def test_preflight_policy_and_format_line():
    text = broken('network = "stop"', 'network = "maybe"')
    err = error_of(text)
    assert err.line == line_of(text, 'network = "maybe"') and "'stop' or 'warn'" in str(err)
    text = KEYGEN.replace('format = "keyceremony template v1"', 'format = "keyceremony template v2"')
    assert error_of(text).line == line_of(text, "format =")
