"""The secrets guard: nothing secret goes into a transcript (docs/transcript.md §3.2).

:func:`check_public_data` lets through only JSON values, and refuses bytes and fields whose
names suggest key material (:func:`looks_secret`). Entries, the ceremony's details and the
data of a resume all pass through it.
"""

from __future__ import annotations

import re

from keyceremony.codec import canonical_json
from keyceremony.errors import TranscriptDataRefused
from keyceremony.transcript.values import JSONValue

MAX_DATA_DEPTH = 16

# Words that mark a field as possibly secret. The long ones are matched anywhere in the name
# ("apiSecret", "privatekey"); the short ones only as whole words ("pin", not "spinner").
_SECRET_ANYWHERE = (
    "secret", "private", "password", "passwd", "passphrase", "mnemonic", "plaintext",
    "cleartext", "credential",
)
_SECRET_WORDS = frozenset(
    {"key", "keys", "pin", "pins", "puk", "seed", "seeds", "pwd", "pass", "sk", "otp", "kek",
     "dek", "apikey", "share", "shares", "wrapped"}
)
# Words that say the field describes a secret instead of holding it: "key_label",
# "public_key", "key_check_value", "share_set_id", "pin_attempts", "key_destroyed".
_PUBLIC_QUALIFIERS = frozenset(
    {"public", "pub", "fingerprint", "fingerprints", "words", "kcv", "kcvs", "check", "checks",
     "checksum", "id", "ids", "label", "labels", "name", "names", "algorithm", "alg", "type",
     "kind", "length", "len", "size", "bits", "count", "number", "index", "x", "holder",
     "holders", "custodian", "custodians", "owner", "owners", "set", "status", "changed",
     "destroyed", "generated", "created", "verified", "attempts", "retries", "policy", "slot",
     "token", "handle", "location"}
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def looks_secret(field_name: str) -> bool:
    """True if a data field of this name may hold key material (module comment above).

    >>> [looks_secret(n) for n in ("pin", "userPIN", "key_label", "public_key", "seed", "kcv")]
    [True, True, False, False, True, False]
    """
    words = {w.lower() for w in _WORD.findall(field_name)}
    if words & _PUBLIC_QUALIFIERS:
        return False
    lower = field_name.lower()
    return bool(words & _SECRET_WORDS) or any(s in lower for s in _SECRET_ANYWHERE)


def check_public_data(data: object, *, field: str = "data") -> dict[str, JSONValue]:
    """A deep copy of ``data`` if it can go in a transcript; raises TranscriptDataRefused if not.

    Refused: anything but a ``dict`` at the top; field names that look secret
    (:func:`looks_secret`), at any depth; values other than ``str``, ``int``, ``bool``,
    ``None``, ``list`` / ``tuple`` and ``dict`` with ``str`` keys (so ``bytes``,
    ``bytearray``, ``memoryview``, floats and arrays are refused: give public binary values as
    hex strings); integers beyond ±(2^53 − 1); lone surrogates; nesting deeper than 16. The
    error names the field, never its value.
    """
    if not isinstance(data, dict):
        raise TranscriptDataRefused(f"{field} must be a dict of public values", field=field)
    return _check_dict(data, field, 0)


def _check_str(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise TranscriptDataRefused(f"{path} holds a lone surrogate, which is not text", field=path) from None
    return str(value)


def _check_dict(value: dict[object, object], path: str, depth: int) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TranscriptDataRefused(f"{path} has a {type(key).__name__} key; keys must be strings", field=path)
        where = f"{path}.{key}"
        if looks_secret(key):
            raise TranscriptDataRefused(
                f"{where}: a field of this name may hold a secret (PIN, key, seed, password), "
                "and a transcript never holds secrets. Record public facts about it instead, "
                "under a name that says so (key_label, kcv, public_key, fingerprint, pin_status)",
                field=where,
            )
        checked = _check_value(item, where, depth + 1)  # the value before the key, as always
        out[_check_str(key, where)] = checked
    return out


def _check_value(value: object, path: str, depth: int) -> JSONValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -canonical_json.MAX_SAFE_INTEGER <= value <= canonical_json.MAX_SAFE_INTEGER:
            raise TranscriptDataRefused(f"{path} is an integer beyond ±(2^53 - 1); give it as a string", field=path)
        return int(value)
    if isinstance(value, str):
        return _check_str(value, path)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TranscriptDataRefused(
            f"{path} is a {type(value).__name__} object: binary values could be key material and "
            "are refused. Give public values (public keys, hashes, check values) as hex strings",
            field=path,
        )
    if depth >= MAX_DATA_DEPTH:
        raise TranscriptDataRefused(f"{path} is nested more than {MAX_DATA_DEPTH} levels deep", field=path)
    if isinstance(value, (list, tuple)):
        return [_check_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return _check_dict(value, path, depth)
    kind = "a float: canonical JSON has integers only" if isinstance(value, float) else f"a {type(value).__name__}"
    raise TranscriptDataRefused(
        f"{path} is {kind}; data holds only str, int, bool, None, lists and dicts", field=path
    )
