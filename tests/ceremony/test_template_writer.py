"""Writing templates: render_template reads back to the same template, and a derived template
(new threshold, shares, label, algorithm, paper) is checked by the template validator itself."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyceremony.ceremony.template import (
    ALGORITHMS,
    PAPERS,
    KeyGenerationParameters,
    bundled_directory,
    load_template,
    parse_template,
)
from keyceremony.ceremony.template_writer import check_parameters, derive_template, render_template
from keyceremony.errors import SetupError, TemplateError

KEYGEN = load_template("key-generation")
SAME = dict(key_label="root-kek", algorithm="aes256", threshold="3", shares="5", paper="a4")


@pytest.mark.parametrize("name", ["key-generation", "recovery", "dr-drill"])
def test_a_rendered_bundled_template_reads_back_equal(name):
    template = load_template(name)
    again = parse_template(render_template(template), source="rendered")
    assert dataclasses.replace(again, source=template.source, sha256=template.sha256) == template


def test_a_template_with_every_optional_part_round_trips():
    text = (bundled_directory() / "recovery.toml").read_text(encoding="utf-8")
    label = 'key_label = "kek \\"2\\" \\\\ \'\'\'x"'
    text = text.replace("extractable = false", f'extractable = true\n{label}\nanchor = "required"')
    text = text.replace('min = 0', 'min = 0\nmax = 3\ndescription = """two\nlines"""')
    template = parse_template(text)
    assert template.parameters.key_label == "kek \"2\" \\ '''x"  # type: ignore[union-attr]
    again = parse_template(render_template(template))
    assert dataclasses.replace(again, source=template.source, sha256=template.sha256) == template


def test_a_derived_template_has_the_new_parameters_and_says_where_it_comes_from():
    text = derive_template(KEYGEN, key_label="payments-kek", algorithm="aes128", threshold=2, shares=3, paper="letter")
    derived = parse_template(text)
    assert derived.parameters == KeyGenerationParameters("payments-kek", "aes128", 2, 3, "letter")
    derived_from = f"Derived from key-generation v{KEYGEN.version} (sha256 {KEYGEN.sha256[:16]}) by the set-up form"
    assert derived_from in derived.description
    assert "threshold 3 -> 2, shares 5 -> 3" in derived.description
    assert "2-of-3" in derived.title and "3-of-5" not in derived.title
    assert derived.role("custodian").min == 3 and derived.step("hand-over").quorum_of("custodian") == 3
    assert derived.steps == tuple(
        dataclasses.replace(s, quorum=tuple((r, 3 if r == "custodian" else n) for r, n in s.quorum))
        for s in KEYGEN.steps
    )
    assert [r.min for r in derived.roles if r.name != "custodian"] == [r.min for r in KEYGEN.roles
                                                                       if r.name != "custodian"]  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(shares=st.integers(1, 255), data=st.data())
def test_any_valid_split_derives_a_valid_template(shares, data):
    threshold = data.draw(st.integers(1, shares))
    algorithm, paper = data.draw(st.sampled_from(ALGORITHMS)), data.draw(st.sampled_from(PAPERS))
    derived = parse_template(derive_template(KEYGEN, key_label="k", algorithm=algorithm, threshold=threshold,
                                             shares=shares, paper=paper))  # fmt: skip
    assert derived.parameters == KeyGenerationParameters("k", algorithm, threshold, shares, paper)
    assert derived.role("custodian").min == shares


def test_unchanged_parameters_run_the_template_itself():
    template, text = check_parameters(KEYGEN, **SAME)
    assert template is KEYGEN and text is None


def validator_message(**changes: object) -> str:
    """What the template validator says about the bundled template, hand-edited to these parameters."""
    text = (bundled_directory() / "key-generation.toml").read_text(encoding="utf-8")
    values = {"key_label": "root-kek", "algorithm": "aes256", "threshold": 3, "shares": 5, "paper": "a4", **changes}
    block = "[parameters]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    head, rest = text.split("[parameters]\n", 1)
    text = head + block + rest[rest.index("\n\n") :]
    with pytest.raises(TemplateError) as err:
        parse_template(text)
    return err.value.detail


@pytest.mark.parametrize(
    ("changes", "field", "hand_edited"),
    [
        (dict(threshold="6"), "threshold", dict(threshold=6)),
        (dict(threshold="0"), "threshold", dict(threshold=0)),
        (dict(shares="300", threshold="3"), "threshold", dict(shares=300)),
        (dict(key_label="a\tb"), "key_label", dict(key_label="a\tb")),
        (dict(key_label="é" * 33), "key_label", dict(key_label="é" * 33)),
        (dict(algorithm="rot13"), "algorithm", dict(algorithm="rot13")),
        (dict(paper="a5"), "paper", dict(paper="a5")),
    ],
)
def test_bad_parameters_get_the_template_validators_message_and_field(changes, field, hand_edited):
    with pytest.raises(SetupError) as err:
        check_parameters(KEYGEN, **{**SAME, **changes})
    assert err.value.field == field
    assert err.value.detail == validator_message(**hand_edited)


def test_a_threshold_that_is_not_a_number_is_named():
    with pytest.raises(SetupError) as err:
        check_parameters(KEYGEN, **{**SAME, "threshold": ""})
    assert err.value.field == "threshold"
    assert err.value.detail == "threshold must be a whole number of at least 1, not ''"


def test_a_custodian_minimum_above_the_share_count_is_kept_and_checked_under_shares():
    text = (bundled_directory() / "key-generation.toml").read_text(encoding="utf-8").replace("min = 5", "min = 6")
    template = parse_template(text)
    fewer = derive_template(template, key_label="root-kek", algorithm="aes256", threshold=3, shares=4, paper="a4")
    assert parse_template(fewer).role("custodian").min == 6
    with pytest.raises(SetupError) as err:
        check_parameters(template, **{**SAME, "shares": "7"})
    assert err.value.field == "shares" and "roles.custodian.min must be at least 7" in err.value.detail


def test_only_a_key_generation_template_is_derived():
    with pytest.raises(ValueError, match="only a key-generation template"):
        derive_template(load_template("dr-drill"), **SAME)  # type: ignore[arg-type]
