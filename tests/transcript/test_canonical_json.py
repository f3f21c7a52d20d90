"""Canonical JSON (docs/transcript.md §4): one encoding per value, and nothing else decodes.

Known answers come from RFC 8785 (§3.2.2.2 string escapes, §3.2.3 the key-sorting example);
Python's own ``json`` module is the independent implementation the property tests compare with.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from keyceremony.codec import canonical_json
from keyceremony.codec.canonical_json import MAX_SAFE_INTEGER, decode, encode
from keyceremony.errors import NonCanonicalJSON

# --- known answers ---------------------------------------------------------------------------


def test_rfc8785_sorts_keys_by_utf16_code_units():
    # RFC 8785 §3.2.3: the emoji (surrogates D83D DE00) sorts before U+FB33, unlike code points.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = [json.loads(b"[" + part.split(b":")[0] + b"]")[0] for part in encode(value)[1:-1].split(b",")]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (None, b"null"),
        (True, b"true"),
        (False, b"false"),
        (0, b"0"),
        (-1, b"-1"),
        (MAX_SAFE_INTEGER, b"9007199254740991"),
        (-MAX_SAFE_INTEGER, b"-9007199254740991"),
        ("", b'""'),
        # RFC 8785 §3.2.2.2: short escapes, \u00xx lower-case for the other controls, and
        # '/', DEL, non-ASCII and U+2028 written as themselves.
        ('"\\\b\f\n\r\t', b'"\\"\\\\\\b\\f\\n\\r\\t"'),
        ("\x00\x0f\x1f", b'"\\u0000\\u000f\\u001f"'),
        ("/\x7f\u2028é\U0001f600", '"/\x7f\u2028é\U0001f600"'.encode()),
        ([], b"[]"),
        ({}, b"{}"),
        ({"b": [1, {"d": None, "c": True}], "a": "x"}, b'{"a":"x","b":[1,{"c":true,"d":null}]}'),
        ((1, 2), b"[1,2]"),
    ],
)
def test_known_encodings(value, encoded):
    assert encode(value) == encoded
    assert decode(encoded) == (list(value) if isinstance(value, tuple) else value)


@pytest.mark.parametrize(
    "value",
    [1.0, 0.5, float("nan"), b"bytes", bytearray(b"x"), MAX_SAFE_INTEGER + 1, -(2**53), {1: "a"},
     {"a": {1, 2}}, "\ud800", {"\udfff": 1}, object()],
)
def test_encode_refuses_what_canonical_json_cannot_carry(value):
    with pytest.raises(ValueError):
        encode(value)


def test_encode_refuses_deep_nesting():
    deep: list = []
    for _ in range(canonical_json.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="nesting"):
        encode(deep)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'{"a": 1}', "whitespace after a colon"),
        (b'{"a":1 }', "whitespace before a brace"),
        (b' {"a":1}', "leading whitespace"),
        (b'{"a":1}\n', "a trailing line feed"),
        (b'{"b":1,"a":2}', "keys out of order"),
        (b'{"a":1,"a":1}', "a duplicate key"),
        (b'{"\xef\xac\xb3":1,"\xf0\x9f\x98\x80":2}', "code point order instead of UTF-16 order"),
        (b"1.0", "a fraction"),
        (b"1e2", "an exponent"),
        (b"1E+2", "an exponent"),
        (b"-0", "minus zero"),
        (b"01", "a leading zero"),
        (b"+1", "a plus sign"),
        (b"9007199254740992", "an integer beyond 2^53 - 1"),
        (b"1" * 5000, "a huge integer"),
        (b"NaN", "NaN"),
        (b"Infinity", "Infinity"),
        (b'"\\/"', "an escaped solidus"),
        (b'"\\u0041"', "an escaped letter"),
        (b'"\\u00e9"', "an escaped non-ASCII letter"),
        (b'"\\u001F"', "upper-case hex in an escape"),
        (b'"\\u000a"', "\\u000a for a short escape"),
        (b'"\\ud800"', "an escaped lone surrogate"),
        (b'"\xed\xa0\x80"', "a surrogate in UTF-8"),
        (b'"\xc0\x80"', "overlong UTF-8"),
        (b'"\xff"', "not UTF-8"),
        (b'\xef\xbb\xbf{"a":1}', "a byte order mark"),
        (b'"\x01"', "a raw control character"),
        (b"[1,]", "a trailing comma"),
        (b"", "nothing"),
        (b"{'a':1}", "single quotes"),
        (b"[" * 100 + b"]" * 100, "nesting deeper than the limit"),
        (b"[" * 100_000 + b"]" * 100_000, "nesting deeper than the recursion limit"),
    ],
)
def test_decode_rejects_non_canonical_forms(data, why):
    with pytest.raises(NonCanonicalJSON):
        decode(data)


def test_decode_error_points_at_the_first_wrong_byte():
    with pytest.raises(NonCanonicalJSON, match="byte 5 is ' ' where the canonical form has '1'") as info:
        decode(b'{"a": 1}')
    assert info.value.offset == 5


# --- properties ------------------------------------------------------------------------------

safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
scalars = st.none() | st.booleans() | safe_ints | st.text()
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
bmp_text = st.text(alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=8)
bmp_values = st.recursive(
    st.none() | st.booleans() | safe_ints | bmp_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(bmp_text, children, max_size=5),
    max_leaves=25,
)


@given(json_values)
def test_round_trip(value):
    data = encode(value)
    assert decode(data) == value
    assert encode(decode(data)) == data


@given(json_values)
def test_any_json_decoder_reads_the_encoding(value):
    assert json.loads(data := encode(value)) == value
    assert data.decode("utf-8")  # UTF-8, no BOM


@given(bmp_values)
def test_agrees_with_python_json_where_code_point_order_is_utf16_order(value):
    # An independent encoder: same escapes (RFC 8785 §3.2.2.2), keys sorted by code point, which
    # equals UTF-16 order when no character lies beyond U+FFFF.
    reference = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    assert encode(value) == reference


@given(st.binary(max_size=64))
def test_whatever_decodes_is_canonical(data):
    try:
        value = decode(data)
    except NonCanonicalJSON:
        return
    assert encode(value) == data


@settings(max_examples=200)
@given(json_values, st.data())
def test_single_byte_changes_are_rejected_or_canonical(value, draw):
    data = bytearray(encode(value))
    i = draw.draw(st.integers(0, len(data) - 1))
    data[i] = draw.draw(st.integers(0, 255))
    try:
        decoded = decode(bytes(data))
    except NonCanonicalJSON:
        return
    assert encode(decoded) == bytes(data)  # decoding is injective: one value, one encoding


def _has_nonempty_container(value) -> bool:
    if isinstance(value, list):
        return bool(value) or any(_has_nonempty_container(v) for v in value)
    if isinstance(value, dict):
        return bool(value) or any(_has_nonempty_container(v) for v in value.values())
    return False


@given(json_values, st.sampled_from([b" ", b"\n", b"\t", b"\r"]), st.booleans())
def test_outer_whitespace_is_rejected(value, space, before):
    data = encode(value)
    with pytest.raises(NonCanonicalJSON):
        decode(space + data if before else data + space)


@given(json_values)
def test_pretty_printing_is_rejected(value):
    assume(_has_nonempty_container(value))
    pretty = json.dumps(value, ensure_ascii=False, indent=1).encode()
    with pytest.raises(NonCanonicalJSON):
        decode(pretty)


@given(st.dictionaries(st.text(max_size=4), scalars, min_size=2, max_size=6))
def test_unsorted_keys_are_rejected(value):
    canonical = encode(value)
    unsorted = json.dumps(dict(reversed(json.loads(canonical).items())), ensure_ascii=False, separators=(",", ":"))
    with pytest.raises(NonCanonicalJSON):
        decode(unsorted.encode())


@given(json_values)
def test_ascii_escaped_non_ascii_is_rejected(value):
    escaped = json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode()
    assume(escaped != json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    with pytest.raises(NonCanonicalJSON):
        decode(escaped)


@given(safe_ints, st.sampled_from(["{}.0", "{}e0", "{}.00", "{}E0"]))
def test_integers_written_as_floats_are_rejected(n, form):
    with pytest.raises(NonCanonicalJSON):
        decode(form.format(n).encode())


@given(st.text(min_size=1, max_size=6), scalars, scalars)
def test_duplicate_keys_are_rejected(key, a, b):
    data = b"{" + encode(key) + b":" + encode(a) + b"," + encode(key) + b":" + encode(b) + b"}"
    with pytest.raises(NonCanonicalJSON, match="twice"):
        decode(data)
