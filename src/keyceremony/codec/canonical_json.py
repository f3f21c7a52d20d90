"""Canonical JSON: one byte string for each value, and a decoder that accepts only that string.

The subset of RFC 8785 (JSON Canonicalization Scheme, JCS) that the transcript uses
(docs/transcript.md §4). Every encoding produced here is also what a JCS implementation
produces for the same value, so other languages can check our signatures with an off-the-shelf
JCS library:

- values: ``null``, ``true``, ``false``, integers in −(2^53 − 1) .. 2^53 − 1 (RFC 7493 §2.2,
  exactly representable as IEEE 754 doubles), strings, arrays, objects. No fractions, no
  exponents, no ``-0``, no NaN or infinities;
- text is UTF-8 without a byte order mark; strings hold Unicode scalar values only (a lone
  surrogate is an error);
- objects have string keys, no key twice, sorted by their UTF-16 code units (RFC 8785 §3.2.3);
- no whitespace outside strings; ``,`` and ``:`` as separators;
- strings escape exactly ``"`` and ``\\`` (as ``\\"`` and ``\\\\``), the five controls with short
  escapes ``\\b \\f \\n \\r \\t``, the other controls U+0000..U+001F as ``\\u00xx`` with lower-case
  hex, and nothing else (RFC 8785 §3.2.2.2): ``/``, U+007F, non-ASCII, U+2028 are written as
  themselves.

:func:`decode` accepts a byte string only if it is exactly the canonical encoding of the value
it denotes; anything else raises :class:`~keyceremony.errors.NonCanonicalJSON` (docs/transcript.md
§4: "decoders MUST reject non-canonical lines").

>>> encode({"b": [1, True, None], "a": "é\\n"})
b'{"a":"\\xc3\\xa9\\\\n","b":[1,true,null]}'
>>> decode(b'{"a":1}')
{'a': 1}
"""

from __future__ import annotations

import json
import re
from typing import Any

from keyceremony.errors import NonCanonicalJSON

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 7493 §2.2; Number.MAX_SAFE_INTEGER
MAX_DEPTH = 64  # nesting of arrays and objects; deeper input is refused, not recursed into

_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    return _SHORT.get(c) or f"\\u{ord(c):04x}"


def _utf16_order(key: str) -> bytes:
    # RFC 8785 §3.2.3: sort by UTF-16 code units. Big-endian UTF-16 bytes compare the same way.
    return key.encode("utf-16-be", "surrogatepass")


def encode(value: Any) -> bytes:
    """The canonical UTF-8 encoding of ``value``.

    ``value`` is built from ``None``, ``bool``, ``int``, ``str``, ``list`` / ``tuple`` and
    ``dict`` with ``str`` keys. Raises ``ValueError`` for anything else (floats, bytes, integers
    beyond ±(2^53 − 1), lone surrogates, nesting deeper than 64): these are programming errors.

    >>> encode([1, "a"])
    b'[1,"a"]'
    """
    parts: list[str] = []
    _encode_into(value, parts, 0)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("strings must not contain lone surrogates (U+D800..U+DFFF)") from None


def _encode_into(value: Any, out: list[str], depth: int) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside ±(2^53 - 1)")
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append('"' + _ESCAPE.sub(_escape, value) + '"')
    elif isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            raise ValueError(f"nesting deeper than {MAX_DEPTH}")
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode_into(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise ValueError(f"nesting deeper than {MAX_DEPTH}")
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"object keys must be strings, not {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_order)):
            if i:
                out.append(",")
            out.append('"' + _ESCAPE.sub(_escape, key) + '":')
            _encode_into(value[key], out, depth + 1)
        out.append("}")
    else:
        raise ValueError(f"canonical JSON has no {type(value).__name__} values")


class _Refused(Exception):
    """Raised inside json.loads hooks; turned into NonCanonicalJSON."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {json.dumps(key)} appears twice in one object")
        out[key] = value
    return out


def _no_float(text: str) -> Any:
    raise _Refused(f"{text} is not an integer (no fractions or exponents)")


def _no_constant(text: str) -> Any:
    raise _Refused(f"{text} is not JSON")


def decode(data: bytes) -> Any:
    """The value whose canonical encoding is exactly ``data``.

    Raises :class:`~keyceremony.errors.NonCanonicalJSON` if ``data`` is not UTF-8, not JSON, or
    JSON in any form other than the canonical one (whitespace, key order, escapes, number
    forms, duplicate keys, floats). The error's ``offset`` is the first byte that differs from
    the canonical form, when there is one.

    >>> decode(b'{"a": 1}')
    Traceback (most recent call last):
    ...
    keyceremony.errors.NonCanonicalJSON: not canonical JSON: byte 5 is ' ' where the canonical form has '1'
    """
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NonCanonicalJSON(f"not UTF-8 (byte {err.start})", offset=err.start) from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except _Refused as err:
        raise NonCanonicalJSON(f"not canonical JSON: {err}") from None
    except json.JSONDecodeError as err:
        offset = len(text[: err.pos].encode("utf-8"))
        raise NonCanonicalJSON(f"not JSON ({err.msg} at byte {offset})", offset=offset) from None
    except (ValueError, RecursionError) as err:  # e.g. integers longer than 4300 digits
        raise NonCanonicalJSON(f"not canonical JSON: {err}") from None
    try:
        again = encode(value)
    except ValueError as err:
        raise NonCanonicalJSON(f"not canonical JSON: {err}") from None
    if again != data:
        offset = _first_difference(data, again)
        raise NonCanonicalJSON(
            f"not canonical JSON: byte {offset} is {_show(data, offset)} where the canonical "
            f"form has {_show(again, offset)}",
            offset=offset,
        )
    return value


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths may differ
        if x != y:
            return i
    return min(len(a), len(b))


def _show(data: bytes, offset: int) -> str:
    if offset >= len(data):
        return "the end"
    byte = data[offset : offset + 1]
    return repr(byte.decode("ascii")) if byte.isascii() and byte.decode().isprintable() else f"0x{byte[0]:02x}"
