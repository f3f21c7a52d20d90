"""Generate the share-recovery conformance vectors in tests/vectors/shares/ (see README.md there).

    .venv/bin/python tests/vectors/make_share_vectors.py          # rewrites tests/vectors/shares/
    .venv/bin/python tests/vectors/make_share_vectors.py OUT_DIR  # or anywhere else

Deterministic: every random byte comes from SHAKE-256 of a fixed per-purpose seed and is injected
through ``create_share_set(randbytes=...)``; ``created`` is fixed; Ed25519 signatures are
deterministic (RFC 8032 §5.1.6). Running it again gives byte-identical files, which
tests/test_share_vectors.py checks.

The shares are made with keyceremony's own recipes (create_share_set, to_text, to_qr_text); the
damaged ones are then edited here by hand, byte by byte or character by character, the way a
custodian's typo, a truncated scan or a forger would. The set's Ed25519 key is rebuilt from the
injected randomness (it is the last 32 bytes create_share_set draws) so that "wrong but validly
signed" shares can be made as an insider would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import create_share_set, format_fingerprint, format_set_id
from keyceremony.shares.text import HEADER, format_line, to_qr_text, to_text

CREATED = 1_735_689_600  # 2025-01-01 00:00:00 UTC
LABEL = "payments-root-2025"
OUT = Path(__file__).resolve().parent / "shares"


class Drbg:
    """Deterministic bytes: SHAKE-256(seed || call counter), one call per request."""

    def __init__(self, seed: str) -> None:
        self.seed = seed.encode()
        self.counter = 0

    def __call__(self, count: int) -> bytes:
        out = hashlib.shake_256(self.seed + self.counter.to_bytes(8, "big")).digest(count)
        self.counter += 1
        return out


@dataclass
class ShareSet:
    secret: bytes
    shares: list[SharePayload]
    key: Ed25519PrivateKey

    def __getitem__(self, x: int) -> SharePayload:
        return self.shares[x - 1]

    def resign(self, payload: SharePayload, **changes: object) -> SharePayload:
        """A share changed *and* signed again with the set key: wrong, yet its signature verifies."""
        return sign(replace(payload, **changes), self.key)


def make_set(name: str, secret_len: int, k: int, n: int, label: str = LABEL) -> ShareSet:
    secret = Drbg(f"keyceremony share vectors/{name}/secret")(secret_len)
    draw = Drbg(f"keyceremony share vectors/{name}/split")
    calls: list[bytes] = []

    def randbytes(count: int) -> bytes:
        calls.append(draw(count))
        return calls[-1]

    shares = create_share_set(secret, k, n, label=label, created=CREATED, randbytes=randbytes)
    key = Ed25519PrivateKey.from_private_bytes(calls[-1])
    if key.public_key().public_bytes_raw() != shares[0].public_key:
        raise RuntimeError("create_share_set no longer draws the key seed last; update make_set")
    return ShareSet(secret, shares, key)


def sign(payload: SharePayload, key: Ed25519PrivateKey) -> SharePayload:
    return replace(payload, signature=key.sign(payload.signing_input()))


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[index] ^= mask
    return bytes(out)


# --- the two forms a share is handed over in -------------------------------------------------------


def comments(p: SharePayload) -> list[str]:
    """The comment lines `keyceremony split` writes (informational; the payload is authoritative)."""
    when = datetime.fromtimestamp(p.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    label = f"{p.label}: " if p.label else ""
    return [
        f"{label}share {p.x} of {p.count}; any {p.threshold} recover the secret",
        f"set {format_set_id(p.set_id)}, made {when}, secret {len(p.y)} bytes",
        f"set fingerprint {format_fingerprint(p.fingerprint())}",
        "Keep this secret. Each data line: number, 24 characters, 3-character check.",
    ]


def text(name: str, p: SharePayload, edit: Callable[[list[str]], list[str]] | None = None) -> dict:
    lines = to_text(p, comments(p)).splitlines()
    if edit is not None:
        lines = edit(lines)
    return {"name": name, "text": "\n".join(lines) + "\n"}


def qr(name: str, p: SharePayload | bytes) -> dict:
    if isinstance(p, SharePayload):
        return {"name": name, "qr": to_qr_text(p)}
    return {"name": name, "qr": base64.b32encode(p).decode().rstrip("=")}


def text_of_bytes(name: str, data: bytes) -> dict:
    """Data lines for raw payload bytes (valid line checks), under the v1 header."""
    chars = base64.b32encode(data).decode().rstrip("=")
    rows = [chars[i : i + 24] for i in range(0, len(chars), 24)]
    width = max(2, len(str(len(rows))))
    lines = [HEADER] + [format_line(i, r, width) for i, r in enumerate(rows, 1)]
    return {"name": name, "text": "\n".join(lines) + "\n"}


def with_check(body: bytes) -> bytes:
    return body + hashlib.sha256(body).digest()[:4]


# --- hand edits of the text form ---------------------------------------------------------------------


def data_index(lines: list[str], number: int) -> int:
    data = [i for i, line in enumerate(lines) if i > 0 and not line.startswith("#")]
    return data[number - 1]


def substitute(number: int, col: int) -> Callable[[list[str]], list[str]]:
    """Change character ``col`` (0-based, among the line's 24 share characters) of data line ``number``."""

    def edit(lines: list[str]) -> list[str]:
        i = data_index(lines, number)
        head, rest = lines[i].split("  ", 1)
        pos = len(head) + 2 + col + col // 4  # skip the group spaces
        old = lines[i][pos]
        new = "Q" if old != "Q" else "R"
        return lines[:i] + [lines[i][:pos] + new + lines[i][pos + 1 :]] + lines[i + 1 :]

    return edit


def transpose(number: int, col: int) -> Callable[[list[str]], list[str]]:
    """Swap share characters ``col`` and ``col + 1`` of data line ``number`` (they must differ)."""

    def edit(lines: list[str]) -> list[str]:
        i = data_index(lines, number)
        head, rest = lines[i].split("  ", 1)
        groups, check = rest.rsplit("  ", 1)
        chars = list(groups.replace(" ", ""))
        if chars[col] == chars[col + 1]:
            raise RuntimeError("pick two different neighbouring characters")
        chars[col], chars[col + 1] = chars[col + 1], chars[col]
        regrouped = " ".join("".join(chars[j : j + 4]) for j in range(0, len(chars), 4))
        return lines[:i] + [f"{head}  {regrouped}  {check}"] + lines[i + 1 :]

    return edit


def swap_lines(a: int, b: int) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        i, j = data_index(lines, a), data_index(lines, b)
        lines = list(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return lines

    return edit


def drop_line(number: int) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        i = data_index(lines, number)
        return lines[:i] + lines[i + 1 :]

    return edit


def drop_last(count: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: lines[:-count]


def header(new: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [new] + lines[1:]


def typed_leniently(lines: list[str]) -> list[str]:
    """Lower case, look-alike digits for O/I/B/G, odd spacing, no comments: as a person types."""
    out = [lines[0].upper()]
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        number, rest = line.split("  ", 1)
        rest = rest.translate(str.maketrans({"O": "0", "I": "1", "B": "8", "G": "9"}))
        out.append(f"  {number.lstrip('0')}.   {rest.lower().replace(' ', '  ')}  ")
    return out


# --- the cases ------------------------------------------------------------------------------------------


def build_cases() -> dict[str, dict]:
    a = make_set("A", 32, 3, 5)  # the ceremony being recovered
    b = make_set("B", 32, 3, 5)  # another ceremony: same parameters and label, another set
    c = make_set("C", 32, 2, 5)  # another set with another threshold
    d = make_set("D", 16, 3, 5)  # another set with another secret length
    u = make_set("U", 24, 2, 3, label="Schlüssel für Zahlungen ✓")
    t = make_set("T", 1, 2, 2, label="")
    attacker = Ed25519PrivateKey.from_private_bytes(Drbg("keyceremony share vectors/attacker")(32))

    altered_y = replace(a[3], y=flip(a[3].y, 9))
    forged_other_key = replace(sign(replace(a[3], y=flip(a[3].y, 9)), attacker), public_key=a[3].public_key)
    forged_own_key = sign(
        replace(a[3], y=flip(a[3].y, 9), public_key=attacker.public_key().public_bytes_raw()), attacker
    )
    # The forger's own complete set, passed off as ours: same set id, label and date, their own key.
    attacker_public = attacker.public_key().public_bytes_raw()
    f = make_set("F", 32, 3, 5)
    passed_off = {x: sign(replace(f[x], set_id=a[1].set_id, public_key=attacker_public), attacker) for x in (1, 2, 3)}
    a_id, b_id = format_set_id(a[1].set_id), format_set_id(b[1].set_id)
    ours = a[1].fingerprint().hex()  # the set fingerprint the ceremony's paper log recorded
    cases: dict[str, dict] = {}

    def case(name: str, description: str, inputs: list[dict], expected: str, *,
             secret: bytes | None = None, contains: list[str] = (), set_aside: list[str] | None = None,
             anchor: str | None = None) -> None:
        entry: dict = {"description": description, "inputs": inputs, "expected": expected}
        if anchor is not None:
            entry["anchor"] = anchor
        if secret is not None:
            entry["secret_hex"] = secret.hex()
        if set_aside is not None:
            entry["set_aside"] = set_aside
        if contains:
            entry["message_contains"] = list(contains)
        cases[name] = entry

    # ok ---------------------------------------------------------------------------------------------
    case("ok-exactly-threshold", "exactly the threshold: shares 1, 2, 3 of a 3-of-5 set, as text files",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", a[3])],
         "ok", secret=a.secret, set_aside=[])
    case("ok-exactly-threshold-qr-and-text", "the threshold from two scanned QR codes and one text file",
         [qr("card-2.png", a[2]), text("share-4.txt", a[4]), qr("card-5.png", a[5])],
         "ok", secret=a.secret, set_aside=[])
    case("ok-more-than-threshold", "all five shares of a 3-of-5 set",
         [text(f"share-{x}.txt", a[x]) for x in (5, 3, 1, 4, 2)], "ok", secret=a.secret, set_aside=[])
    case("ok-more-than-threshold-one-altered",
         "four shares, one with a byte of y altered (its signature fails): recovered from the other three",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", altered_y),
          text("share-4.txt", a[4])],
         "ok", secret=a.secret, set_aside=["share-3.txt"],
         contains=["share-3.txt: the share's signature does not verify"])
    case("ok-more-than-threshold-one-wrong-but-signed",
         "all five shares, share 2 wrong yet signed with the set key (an insider's forgery): robust "
         "decoding finds it",
         [text(f"share-{x}.txt", a.resign(a[2], y=flip(a[2].y, 17, 0xA5)) if x == 2 else a[x]) for x in range(1, 6)],
         "ok", secret=a.secret, set_aside=["share-2.txt"],
         contains=["share-2.txt: its share 2 disagrees with the other shares"])
    case("ok-more-than-threshold-one-foreign",
         "anchored to our set fingerprint: the threshold plus a share of another set, which is set aside",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("other-4.txt", b[4]),
          text("share-3.txt", a[3])],
         "ok", secret=a.secret, set_aside=["other-4.txt"], contains=[f"other-4.txt belongs to set {b_id}"],
         anchor=ours)
    case("ok-foreign-first-anchored",
         "anchored: a share of another set comes first, then the threshold of ours; ours is recovered",
         [text("other-4.txt", b[4]), text("share-1.txt", a[1]), text("share-2.txt", a[2]),
          text("share-3.txt", a[3])],
         "ok", secret=a.secret, set_aside=["other-4.txt"], contains=["the set recorded in the paper log"],
         anchor=ours)
    case("ok-more-than-threshold-one-duplicate", "the threshold plus a copy of one of the shares",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-2-copy.txt", a[2]),
          text("share-3.txt", a[3])],
         "ok", secret=a.secret, set_aside=["share-2-copy.txt"],
         contains=["share-2-copy.txt is the same share as share-2.txt"])
    case("ok-typed-leniently",
         "typed by hand: lower case, 0/1/8/9 for O/I/B/G, line numbers without zeros, odd spacing, no comments",
         [text("typed-1.txt", a[1], typed_leniently), text("typed-3.txt", a[3], typed_leniently),
          text("share-5.txt", a[5])],
         "ok", secret=a.secret, set_aside=[])
    case("ok-unicode-label", "a set labelled with non-ASCII text (NFC)",
         [text("share-1.txt", u[1]), qr("card-3.png", u[3])], "ok", secret=u.secret, set_aside=[])
    case("ok-one-byte-secret", "a one-byte secret, 2 of 2", [text("share-2.txt", t[2]), text("share-1.txt", t[1])],
         "ok", secret=t.secret, set_aside=[])

    # too_few ------------------------------------------------------------------------------------------
    case("too-few", "two shares of a 3-of-5 set",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2])], "too_few",
         contains=["2 usable share(s)", "3 are needed, bring 1 more", a_id])
    case("too-few-one-share", "one share of a 3-of-5 set", [qr("card-4.png", a[4])], "too_few",
         contains=["1 usable share(s)", "bring 2 more"])

    # duplicate ----------------------------------------------------------------------------------------
    case("duplicate-same-file-twice", "the same file given twice, and one other share",
         [text("share-1.txt", a[1]), text("share-1.txt", a[1]), text("share-2.txt", a[2])], "duplicate",
         contains=["share-1.txt was given twice (share 1 of 5)", "bring 1 more"])
    case("duplicate-same-share-two-files", "one share in two files, and one other share",
         [text("share-1.txt", a[1]), text("share-1-copy.txt", a[1]), text("share-2.txt", a[2])], "duplicate",
         contains=["share-1-copy.txt is the same share as share-1.txt", "bring 1 more"])
    case("duplicate-text-and-qr", "one share as a text file and as its card's QR code, and one other share",
         [text("share-2.txt", a[2]), qr("card-2.png", a[2]), text("share-3.txt", a[3])], "duplicate",
         contains=["card-2.png is the same share as share-2.txt"])
    case("duplicate-same-number-different-share",
         "two different validly signed shares numbered 1 (an insider's forgery), and share 2",
         [text("share-1.txt", a[1]), text("other-1.txt", a.resign(a[1], y=flip(a[1].y, 0))),
          text("share-2.txt", a[2])], "duplicate",
         contains=["other-1.txt is a different share with the same number as share-1.txt"])

    # foreign_set (anchored: the set fingerprint of the paper log says which set is ours) ---------------
    case("foreign-set", "anchored: two shares of our set and one of another ceremony's set (same parameters "
         "and label)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("other-3.txt", b[3])], "foreign_set",
         contains=[f"other-3.txt belongs to set {b_id}", f"not to set {a_id}", "bring a share of the right set",
                   "bring 1 more"], anchor=ours)
    case("foreign-set-threshold", "anchored: a share of a set with another threshold (2 of 5 among 3 of 5)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("other-3.txt", c[3])], "foreign_set",
         contains=["other-3.txt belongs to set", "any 2 of 5", "any 3 of 5"], anchor=ours)
    case("foreign-set-length", "anchored: a share of a set with another secret length (16 among 32 bytes)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("other-3.txt", d[3])], "foreign_set",
         contains=["other-3.txt belongs to set", "16-byte secret", "32-byte secret"], anchor=ours)
    case("foreign-set-forged-own-key",
         "anchored: share 3 altered and signed with a forger's key that it carries: the signature verifies, "
         "the set fingerprint does not match (same set id and label: only the fingerprints differ)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", forged_own_key)],
         "foreign_set", contains=[f"share-3.txt belongs to set {a_id}", "fingerprint "
                                  + format_fingerprint(forged_own_key.fingerprint()),
                                  "fingerprint " + format_fingerprint(a[1].fingerprint())], anchor=ours)
    case("foreign-set-forged-majority-anchored",
         "anchored: three shares of a forger's own set passed off as ours (same set id and label) and two of "
         "ours: the forger's majority is set aside, two of ours are too few",
         [text(f"share-{x}.txt", passed_off[x]) for x in (1, 2, 3)]
         + [text("share-4.txt", a[4]), text("share-5.txt", a[5])],
         "foreign_set", contains=["share-1.txt belongs to set", "bring 1 more"], anchor=ours)

    # ambiguous_sets: more than one set and no anchor --------------------------------------------------
    case("ambiguous-forged-majority",
         "unanchored: three shares of a forger's own set passed off as ours and two of ours: counting cannot "
         "tell them apart, so nothing is recovered",
         [text(f"share-{x}.txt", passed_off[x]) for x in (1, 2, 3)]
         + [text("share-4.txt", a[4]), text("share-5.txt", a[5])],
         "ambiguous_sets", contains=["belong to 2 different sets", "paper log",
                                     format_fingerprint(a[1].fingerprint()),
                                     format_fingerprint(passed_off[1].fingerprint())])
    case("ambiguous-two-complete-sets", "unanchored: the threshold of two different sets",
         [text(f"share-{x}.txt", a[x]) for x in (1, 2, 3)] + [text(f"other-{x}.txt", b[x]) for x in (1, 2, 3)],
         "ambiguous_sets", contains=["belong to 2 different sets", a_id, b_id])
    case("ambiguous-one-foreign", "unanchored: the threshold plus one share of another set",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("other-4.txt", b[4]),
          text("share-3.txt", a[3])],
         "ambiguous_sets", contains=["belong to 2 different sets", "other-4.txt (1 share(s))"])

    # anchor_mismatch: a complete substituted set ------------------------------------------------------
    case("anchor-mismatch-substituted-set",
         "anchored to our set: a complete set of another ceremony (own key, same label) is refused",
         [text(f"other-{x}.txt", b[x]) for x in (1, 2, 3)], "anchor_mismatch",
         contains=["none of the shares given is of the set recorded in the paper log",
                   format_fingerprint(a[1].fingerprint()), format_fingerprint(b[1].fingerprint())], anchor=ours)

    # bad_signature ------------------------------------------------------------------------------------
    case("bad-signature-altered-y", "share 3 with one byte of y altered (the payload check recomputed)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", altered_y)], "bad_signature",
         contains=["share-3.txt: the share's signature does not verify", "bring 1 more"])
    case("bad-signature-altered-label", "share 3 relabelled",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", replace(a[3], label="payroll"))],
         "bad_signature", contains=["share-3.txt: the share's signature does not verify"])
    case("bad-signature-forged-other-key",
         "share 3 altered and signed with another key, still carrying the set's public key",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), qr("card-3.png", forged_other_key)],
         "bad_signature", contains=["card-3.png: the share's signature does not verify"])
    case("bad-signature-alone", "a single share whose signature does not verify", [text("share-3.txt", altered_y)],
         "bad_signature", contains=["share-3.txt: the share's signature does not verify", "altered or forged"])

    # inconsistent -------------------------------------------------------------------------------------
    case("inconsistent-cannot-tell-which",
         "four shares of a 3-of-5 set, one wrong yet validly signed: they disagree and one extra share "
         "cannot tell which is wrong",
         [text(f"share-{x}.txt", a.resign(a[1], y=flip(a[1].y, 3)) if x == 1 else a[x]) for x in range(1, 5)],
         "inconsistent", contains=["disagree", "bring more shares"])

    # typo ---------------------------------------------------------------------------------------------
    case("typo-substitution", "one character mistyped on data line 4 (file line 9) of share 3",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", a[3], substitute(4, 10))],
         "typo", contains=["share-3.txt, line 9: data line 4 does not match its check"])
    case("typo-transposition", "two neighbouring characters swapped on data line 7 (file line 12)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", a[3], transpose(7, 3))],
         "typo", contains=["share-3.txt, line 12: data line 7 does not match its check"])
    case("typo-swapped-lines", "data lines 5 and 6 typed in the wrong order",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", a[3], swap_lines(5, 6))],
         "typo", contains=["share-3.txt, line 10: expected data line 5 here but found line 6"])
    case("typo-missing-line", "data line 3 left out",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", a[3], drop_line(3))],
         "typo", contains=["share-3.txt, line 8: expected data line 3 here but found line 4"])
    case("typo-qr-misread", "a QR text with one character changed: the payload check catches it",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]),
          {"name": "card-3.png", "qr": _change_char(to_qr_text(a[3]), 40)}],
         "typo", contains=["card-3.png: the share's checksum does not match"])

    # truncated ----------------------------------------------------------------------------------------
    case("truncated-text", "share 3 with its last two data lines missing",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text("share-3.txt", a[3], drop_last(2))],
         "truncated", contains=["share-3.txt:", "truncated", "lines are missing at the end"])
    case("truncated-payload", "a QR text of share 3's payload without its last 20 bytes",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), qr("card-3.png", a[3].to_bytes()[:-20])],
         "truncated", contains=["card-3.png:", "truncated"])

    # unknown_version ----------------------------------------------------------------------------------
    case("unknown-version-text", "a share file headed 'keyceremony share v2'",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]),
          text("share-3.txt", a[3], header("keyceremony share v2"))],
         "unknown_version",
         contains=["share-3.txt, line 1: share text version 2 is not supported", "newer keyceremony"])
    v2 = with_check(b"KCS\x02" + a[3].to_bytes()[4:-4])
    case("unknown-version-payload", "a QR text of a payload with version byte 2",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), qr("card-3.png", v2)],
         "unknown_version", contains=["card-3.png: share format version 2 is not supported", "newer keyceremony"])
    case("unknown-version-payload-in-text", "a v1 share file whose payload has version byte 2",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), text_of_bytes("share-3.txt", v2)],
         "unknown_version", contains=["share-3.txt: share format version 2 is not supported"])

    # not_a_share --------------------------------------------------------------------------------------
    case("not-a-share-text", "a text file that is not a share",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), {"name": "notes.txt", "text": "Alice's notes\n"}],
         "not_a_share", contains=["notes.txt, line 1:", "not a keyceremony share file"])
    case("not-a-share-empty", "an empty file",
         [text("share-1.txt", a[1]), {"name": "share-2.txt", "text": ""}, text("share-3.txt", a[3])],
         "not_a_share", contains=["share-2.txt: the file is empty"])
    case("not-a-share-qr-url", "a QR code holding a web address",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), {"name": "poster.png", "qr": "https://example.com/"}],
         "not_a_share", contains=["poster.png: the QR code does not hold a keyceremony share"])
    case("not-a-share-qr-other-magic", "a QR code holding base32 of something else (a ZIP header)",
         [text("share-1.txt", a[1]), text("share-2.txt", a[2]), qr("card-3.png", b"PK\x03\x04" + bytes(60))],
         "not_a_share", contains=["card-3.png: this is not a keyceremony share (wrong magic)"])
    return cases


def _change_char(chars: str, pos: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return chars[:pos] + alphabet[(alphabet.index(chars[pos]) + 1) % 32] + chars[pos + 1 :]


def render(case: dict) -> str:
    return json.dumps(case, indent=1, ensure_ascii=False) + "\n"


def write_vectors(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cases = build_cases()
    for stale in directory.glob("*.json"):
        if stale.stem not in cases:
            stale.unlink()
    written = []
    for name, case in cases.items():
        path = directory / f"{name}.json"
        path.write_text(render(case), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    paths = write_vectors(target)
    print(f"wrote {len(paths)} vectors to {target}")
