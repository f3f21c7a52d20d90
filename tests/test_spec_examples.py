"""The specs' worked examples, checked against the code, and the cases a reader of docs/ alone
would have to guess, pinned as conformance cases.

Each example is parsed out of the markdown (docs/share-format.md, docs/backup-package.md,
docs/transcript.md), made again by the code and compared; where the spec gives a rule (the line
check, what readers accept, the order of checks, which set and duplicate are kept, the
share-file-with-package grammar, the canary, the secrets guard's scope, torn transcript lines),
the cases below check the code follows it. The code is the reference: a failure here means the
spec and the code disagree, and the spec is what to fix unless the code is wrong.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keyceremony.codec import pgp_words
from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint, parse_fingerprint
from keyceremony.errors import (
    AmbiguousShareSets,
    AnchorMismatch,
    DuplicateShare,
    ForeignShare,
    PackageFormatError,
    ShareFormatError,
    ShareSignatureError,
    ThresholdNotMet,
)
from keyceremony.shares.collector import Outcome, ShareCollector
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import create_share_set, recover_secret
from keyceremony.shares.text import from_qr_text, from_text, line_check, to_qr_text, to_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text of the section whose heading starts with ``heading``, up to the next heading of
    the same or a higher level (lines inside code fences are not headings)."""
    out: list[str] = []
    level = 0
    fenced = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"(#+) (.*)", line)
        if level and match and len(match.group(1)) <= level:
            break
        if level:
            out.append(line)
        elif match and match.group(2).startswith(heading):
            level = len(match.group(1))
    assert level, f"no section {heading!r}"
    return "".join(out)


def seeded(seed: bytes, first: bytes | None = None):
    """A deterministic stand-in for os.urandom; ``first`` answers the first request (a set id)."""
    counter = 0

    def randbytes(n: int) -> bytes:
        nonlocal counter
        counter += 1
        if counter == 1 and first is not None:
            assert n == len(first)
            return first
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)

    return randbytes


# --- docs/share-format.md §1: the example share ------------------------------------------------

EXAMPLE_SECRET = b"example: a throwaway 32-byte key"
EXAMPLE_SET_ID = bytes.fromhex("f301747b0a15adc6")
EXAMPLE_CREATED = 1_795_873_698  # 2026-11-28 13:48:18 UTC


@pytest.fixture(scope="module")
def example_set() -> list[SharePayload]:
    rand = seeded(b"keyceremony share-format example v1", first=EXAMPLE_SET_ID)
    return create_share_set(EXAMPLE_SECRET, 3, 5, label="Payments KEK", created=EXAMPLE_CREATED, randbytes=rand)


@pytest.fixture(scope="module")
def example_text() -> str:
    block = re.search(r"```\n(keyceremony share v1\n.*?)```", section(doc("share-format.md"), "1. Example"), re.S)
    assert block
    return block.group(1)


def test_share_example_is_what_the_code_makes(example_set, example_text):
    share = example_set[1]
    comments = [line[2:] for line in example_text.splitlines() if line.startswith("# ")]
    assert example_text == to_text(share, comments)
    assert from_text(example_text) == share
    # the comments tell the truth (the CLI writes them: cli/shares.py)
    when = datetime.fromtimestamp(share.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert comments == [
        "Payments KEK: share 2 of 5; any 3 recover the secret",
        f"set f301747b-0a15adc6, made {when}, secret 32 bytes",
        f"set fingerprint {format_fingerprint(share.fingerprint())}",
        "Keep this secret. Each data line: number, 24 characters, 3-character check.",
    ]
    # the prose around it: sizes, the first line's fields, the QR text
    prose = section(doc("share-format.md"), "1. Example")
    data = share.to_bytes()
    assert f"The payload is {len(data)} bytes" in prose
    chars = to_qr_text(share)
    assert f"= {len(chars)} characters: {len(chars) // 24} full lines of 24" in prose
    assert f"a short last line of {len(chars) % 24}" in prose
    assert "`4b4353 01 f301747b0a15adc6 03 05 02`" in prose and data[:15].hex() == "4b435301f301747b0a15adc6030502"
    assert f"(`{chars[:12]}…{chars[-5:]}`" in prose
    assert recover_secret([(str(p.x), p) for p in example_set[2:]]).secret == EXAMPLE_SECRET


def test_set_fingerprint_from_the_spec_formula(example_set):
    """docs/share-format.md §4, written from the text: big-endian fields as in the payload."""
    p = example_set[1]
    label = p.label.encode()
    fields = p.set_id + bytes([p.threshold, p.count]) + struct.pack(">I", p.created) + bytes([len(label)]) + label
    fields += struct.pack(">I", len(p.y)) + p.public_key
    fp = hashlib.sha256(b"keyceremony share set fingerprint v1\x00" + fields).digest()[:16]
    assert fp == p.fingerprint()
    assert all(q.fingerprint() == fp for q in example_set)


def test_fingerprint_example_hex_and_words(example_set):
    text = section(doc("share-format.md"), "4. Set fingerprint")
    fp = example_set[1].fingerprint()
    assert f"`{format_fingerprint(fp)}`" in text
    words = re.search(r"The example's\nfingerprint in words is:\n\n((?:    .*\n)+)", text)
    assert words, "the words block of §4"
    assert words.group(1).split() == pgp_words.to_words(fp) == fingerprint_words(fp).split()
    assert parse_fingerprint(words.group(1)) == fp == parse_fingerprint(format_fingerprint(fp).lower())
    # even positions take the two-syllable list, odd positions the three-syllable list
    assert [w in pgp_words.EVEN for w in pgp_words.to_words(fp)] == [i % 2 == 0 for i in range(16)]


def test_ceremony_key_fingerprint_words_in_the_transcript_example():
    text = doc("transcript.md")
    hex_fp, words = re.search(r"is `([0-9A-F ]{39})`, in words \*([a-zA-Z \n]+)\*", text).groups()
    assert words.split() == pgp_words.to_words(bytes.fromhex(hex_fp.replace(" ", "")))


def test_pgp_word_list_is_pinned_by_its_hash():
    text = section(doc("share-format.md"), "4.1 The PGP word list")
    pinned = re.search(r"Its SHA-256 is\n\n    ([0-9a-f]{64})", text).group(1)
    serialized = "\n".join(pgp_words.EVEN + pgp_words.ODD).encode("ascii")
    assert hashlib.sha256(serialized).hexdigest() == pinned
    assert (pgp_words.EVEN[0], pgp_words.EVEN[255], pgp_words.ODD[0], pgp_words.ODD[255]) == (
        "aardvark", "Zulu", "adroitness", "Yucatan",
    )  # fmt: skip
    assert len(set(w.lower() for w in pgp_words.EVEN + pgp_words.ODD)) == 512


# --- docs/share-format.md §5: the last line and the line check ---------------------------------

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def spec_crc(number: int, chars: str) -> int:
    """CRC-15/CAN over the bit string of docs/share-format.md §5.2, written from the text."""
    bits = [(number >> (31 - i)) & 1 for i in range(32)]
    for c in chars:
        bits += [(ALPHABET.index(c) >> (4 - i)) & 1 for i in range(5)]
    crc = 0
    for b in bits:
        top = ((crc >> 14) & 1) ^ b
        crc = (crc << 1) & 0x7FFF
        if top:
            crc ^= 0x4599
    return crc


def crc_examples() -> list[tuple[int, str, int, str]]:
    table = doc("share-format.md").split("<!-- crc-examples -->", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `([A-Z2-7]+)` \| 0x([0-9A-F]{4}) \| `([A-Z2-7]{3})` \|$", table, re.M)
    assert len(rows) >= 4
    return [(int(n), chars, int(crc, 16), check) for n, chars, crc, check in rows]


@pytest.mark.parametrize("number, chars, crc, check", crc_examples())
def test_crc_worked_examples(number, chars, crc, check):
    assert spec_crc(number, chars) == crc
    assert "".join(ALPHABET[(crc >> s) & 31] for s in (10, 5, 0)) == check
    assert line_check(number, chars) == check


def test_crc_is_crc15_can_with_its_check_value():
    """§5.2: the register is CRC-15/CAN, whose catalogue check over b'123456789' is 0x059E."""
    bits = [(byte >> (7 - i)) & 1 for byte in b"123456789" for i in range(8)]
    crc = 0
    for b in bits:
        top = ((crc >> 14) & 1) ^ b
        crc = ((crc << 1) & 0x7FFF) ^ (0x4599 if top else 0)
    assert crc == 0x059E


@pytest.mark.parametrize("label_len", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
def test_last_line_grammar(label_len):
    """§5.1: every line but the last has 24 characters in 6 groups of 4; the last has the rest
    (1..24), in groups of 4 and a shorter final group; the check of every line is §5.2's."""
    p = create_share_set(bytes(16), 2, 3, label="L" * label_len, created=0, randbytes=seeded(b"grammar"))[0]
    chars = to_qr_text(p)
    lines = to_text(p).splitlines()[1:]
    width = max(2, len(str(len(lines))))
    for n, line in enumerate(lines, 1):
        body = chars[24 * (n - 1) : 24 * n]
        assert body, "never an empty last line"
        groups = " ".join(body[i : i + 4] for i in range(0, len(body), 4))
        check = "".join(ALPHABET[(spec_crc(n, body) >> s) & 31] for s in (10, 5, 0))
        assert line == f"{n:0{width}d}  {groups}  {check}"
    assert len(chars) == -(-len(p.to_bytes()) * 8 // 5) and len(chars) % 8 in (0, 2, 4, 5, 7)


# --- docs/share-format.md §5.3: what readers accept --------------------------------------------


def _data(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    head = [line for line in lines if not line[:1].isdigit()]
    return head, [line for line in lines if line[:1].isdigit()]


def _ungrouped(line: str) -> str:
    number, chars, check = re.fullmatch(r"(\S+)  (.*)  (\S+)", line).groups()
    return f"{number} {chars.replace(' ', '')} {check}"


def _swap(text: str, fn) -> str:
    head, data = _data(text)
    return "\n".join(head + [fn(line) for line in data]) + "\n"


LENIENT = {
    "upper-case header": lambda t: t.replace("keyceremony share v1", "KEYCEREMONY SHARE V1"),
    "header with spaces around": lambda t: t.replace("keyceremony share v1", "  keyceremony share v1\t"),
    "blank lines before the header": lambda t: "\n \n" + t,
    "lower-case data and checks": lambda t: _swap(t, str.lower),
    "unpadded line numbers": lambda t: _swap(t, lambda line: line.lstrip("0")),
    "more leading zeros": lambda t: _swap(t, lambda line: "00" + line),
    "a colon after the number": lambda t: _swap(t, lambda line: line.replace("  ", ": ", 1)),
    "a dot after the number": lambda t: _swap(t, lambda line: line.replace("  ", ". ", 1)),
    "no groups": lambda t: _swap(t, _ungrouped),
    "tabs and many spaces": lambda t: _swap(t, lambda line: "\t" + line.replace(" ", " \t  ") + "  "),
    "look-alikes 0 1 8 9 in data and check": lambda t: _swap(
        t, lambda line: line[:4] + line[4:].replace("O", "0").replace("I", "1").replace("B", "8").replace("G", "9")
    ),
    "CR LF line ends": lambda t: t.replace("\n", "\r\n"),
    "no line end at the end": lambda t: t.rstrip("\n"),
    "comments and blank lines between data lines": lambda t: t.replace("\n03 ", "\n# a note\n\n03 "),
    "comments after the last line": lambda t: t + "# end of card\n\n",
}  # fmt: skip


@pytest.mark.parametrize("name", list(LENIENT))
def test_lenient_forms_are_read(example_set, example_text, name):
    changed = LENIENT[name](example_text)
    assert changed != example_text
    assert from_text(changed, source="typed.txt") == example_set[1]


def test_lenient_reading_of_the_check_itself(example_text):
    """§5.3 rule 4 applies to the check too: line 1's `QI7` typed `q17` reads as `QI7`."""
    assert "  QI7\n" in example_text
    assert from_text(example_text.replace("  QI7\n", "  q17\n")) == from_text(example_text)


STRICT = {
    "no white space after the colon": (
        lambda t: _swap(t, lambda line: line.replace("  ", ":", 1)),
        "should start with its line number",
    ),
    "check not separated": (
        lambda t: _swap(t, lambda line: line[:-5] + line[-3:]),
        "3-character check after at most 24",
    ),
    "full-width letter": (lambda t: t.replace("JNBV", "ＪNBV"), "'Ｊ' is not a share character"),
    "padding sign": (lambda t: t.replace("S47O 4  A4N", "S47O 4=  A4N"), "'=' is not a share character"),
    "line numbers from 0": (
        lambda t: _swap(t, lambda line: f"{int(line[:2]) - 1:02d}{line[2:]}"),
        "expected data line 1 here but found line 0",
    ),
}


@pytest.mark.parametrize("name", list(STRICT))
def test_strict_where_a_mistake_could_hide(example_text, name):
    change, message = STRICT[name]
    with pytest.raises(ShareFormatError, match=re.escape(message)):
        from_text(change(example_text), source="typed.txt")


def test_qr_text_leniency(example_set):
    """§6: white space around and lower case are read; look-alikes and bad padding bits are not."""
    qr = to_qr_text(example_set[1])
    assert from_qr_text(f"  {qr.lower()}\n") == example_set[1]
    with pytest.raises(ShareFormatError, match="unexpected character '0'"):
        from_qr_text(qr.replace("O", "0"))
    last = ALPHABET.index(qr[-1])
    assert last & 1 == 0  # 168 bytes = 33 groups of 5 and 3 bytes: 5 characters, the last bit zero
    with pytest.raises(ShareFormatError, match="cut short"):
        from_qr_text(qr[:-1] + ALPHABET[last | 1])


# --- docs/share-format.md §7.1: the order of the checks ----------------------------------------


def _line(text: str, n: int) -> str:
    return _data(text)[1][n - 1]


def _replace_line(text: str, n: int, new: str) -> str:
    return text.replace(_line(text, n) + "\n", new + "\n")


def _typo(line: str) -> str:
    """Change one data character (the 5th of the line's characters), keeping the check."""
    i = line.index("  ") + 2
    return line[:i] + ("B" if line[i] == "A" else "A") + line[i + 1 :]


def _short_line_2(t: str) -> str:
    """Line 2 with 20 characters, and its check made to match: only its length is wrong."""
    return t.replace(_line(t, 2), "02  NMFN XIQM KBQX S3LF NZ2H  " + line_check(2, "NMFNXIQMKBQXS3LFNZ2H"))


def _typo_3_and_no_line_7(t: str) -> str:
    return _replace_line(t, 3, _typo(_line(t, 3))).replace(_line(t, 7) + "\n", "")


ORDER = {
    # name: (a change of the example text, the message of the check that must win)
    "wrong header beats everything": (
        lambda t: "keyceremony share v2\n" + _typo(t.split("\n", 1)[1]),
        "version 2 is not supported",
    ),
    "shape before number": (lambda t: _replace_line(t, 2, "xx JNBV"), "should start with its line number"),
    "number before a typo on the same line": (
        lambda t: _replace_line(t, 2, _typo(_line(t, 2)).replace("02", "03", 1)),
        "expected data line 2 here but found line 3",
    ),
    "missing check before a bad character": (lambda t: _replace_line(t, 2, "02  NMF@"), "no check at its end"),
    "bad character before the check": (
        lambda t: _replace_line(t, 2, _line(t, 2).replace("NMFN", "NM@N").replace("I3M", "I3X")),
        "'@' is not a share character",
    ),
    "too many characters before the check": (
        lambda t: _replace_line(t, 2, _line(t, 2).replace("NMFN", "NMFNA")),
        "at most 24 characters",
    ),
    "an earlier typo before a later missing line": (
        lambda t: _typo_3_and_no_line_7(t).replace("\n", "\r\n"),
        "data line 3 does not match its check",
    ),
    "canonical layout: a block's numbers before its checks": (
        _typo_3_and_no_line_7,
        "expected data line 7 here but found line 8",
    ),
    "every line's check before the line lengths": (
        lambda t: _short_line_2(t) + "13  AAAA  BBB\n",
        "data line 13 does not match its check",
    ),
    "line length before base32 length": (_short_line_2, "data line 2 has 20 characters where 24 are expected"),
    "base32 length before the payload": (
        lambda t: t.replace(_line(t, 12), "12  S47O 4A  " + line_check(12, "S47O4A")),
        "impossible number of characters",
    ),
    "truncation before the checksum": (lambda t: t.replace(_line(t, 12) + "\n", ""), "lines are missing at the end"),
}


@pytest.mark.parametrize("name", list(ORDER))
def test_order_of_text_checks(example_text, name):
    change, message = ORDER[name]
    changed = change(example_text)
    assert changed != example_text
    with pytest.raises(ShareFormatError, match=re.escape(message)):
        from_text(changed, source="share-2.txt")


def _raw(p: SharePayload, **fields: bytes) -> bytes:
    """The payload of docs/share-format.md §2 from its fields, with some replaced; the check is
    recomputed unless given."""
    label = p.label.encode()
    f = {
        "magic": b"KCS", "version": b"\x01", "set_id": p.set_id, "k": bytes([p.threshold]),
        "n": bytes([p.count]), "x": bytes([p.x]), "created": struct.pack(">I", p.created),
        "label": bytes([len(label)]) + label, "secret_len": struct.pack(">I", len(p.y)), "y": p.y,
        "public_key": p.public_key, "signature": p.signature,
    }  # fmt: skip
    check = fields.pop("check", None)
    f.update(fields)
    body = b"".join(f.values())
    return body + (check or hashlib.sha256(body).digest()[:4])


PAYLOAD_ORDER = {
    "magic before version": ({"magic": b"KCX", "version": b"\x02"}, "wrong magic"),
    "version before length": ({"version": b"\x02", "y": b""}, "version 2 is not supported"),
    "length before checksum": ({"y": b"\x00" * 31, "check": b"\x00" * 4}, "truncated"),
    "trailing bytes before checksum": ({"signature": bytes(65), "check": b"\x00" * 4}, "1 unexpected trailing bytes"),
    "checksum before fields": ({"k": b"\x09", "check": b"\x00" * 4}, "checksum does not match"),
    "label before threshold": ({"label": b"\x03e\xcc\x81", "k": b"\x09"}, "NFC"),
    "threshold before x": ({"k": b"\x09", "x": b"\x00"}, "threshold <= count"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(PAYLOAD_ORDER))
def test_order_of_payload_checks(example_set, name):
    fields, message = PAYLOAD_ORDER[name]
    with pytest.raises(ShareFormatError, match=re.escape(message)):
        SharePayload.from_bytes(_raw(example_set[1], **fields))


def test_raw_payload_helper_is_the_spec_layout(example_set):
    assert _raw(example_set[1]) == example_set[1].to_bytes()


def test_signature_after_format_and_anchor_after_signature(example_set):
    """§7.1 steps 7–8: a forged share of another set is a signature failure, not a foreign one."""
    from keyceremony.shares.shareset import check_fingerprint, verify_share

    other = create_share_set(bytes(32), 3, 5, label="Other", created=0, randbytes=seeded(b"other"))
    forged = replace(other[0], signature=bytes(64))
    with pytest.raises(ShareSignatureError):
        verify_share(forged)
    with pytest.raises(ForeignShare):
        verify_share(other[0])
        check_fingerprint(other[0], example_set[0].fingerprint().hex())


# --- docs/share-format.md §7.2: mixed sets and duplicates (current behaviour) -------------------


@pytest.fixture(scope="module")
def two_sets():
    a = create_share_set(b"A" * 16, 2, 3, label="A", created=1, randbytes=seeded(b"set a"))
    b = create_share_set(b"B" * 16, 2, 3, label="B", created=1, randbytes=seeded(b"set b"))
    return a, b


def _kinds(recovery) -> list[tuple[str, str]]:
    return [(r.source, type(r.error).__name__) for r in recovery.rejected]


def test_a_mix_of_sets_is_refused_unless_anchored(two_sets):
    """§7.2: counting never decides; the anchor (the paper log's fingerprint) does."""
    a, b = two_sets
    for items in (
        [("a1", a[0]), ("b1", b[0]), ("b2", b[1])],  # a foreign share first
        [("a1", a[0]), ("b1", b[0]), ("a2", a[1]), ("b2", b[1])],  # a tie
        [("a1", a[0]), ("a1 again", a[0]), ("b1", b[0]), ("b2", b[1])],
    ):  # repeats
        with pytest.raises(AmbiguousShareSets, match="belong to 2 different sets"):
            recover_secret(items)
    r = recover_secret([("a1", a[0]), ("b1", b[0]), ("b2", b[1])], expected_fingerprint=b[0].fingerprint())
    assert r.secret == b"B" * 16 and r.used == ("b1", "b2") and r.anchored
    assert _kinds(r) == [("a1", "ForeignShare")]
    r = recover_secret(
        [("a1", a[0]), ("b1", b[0]), ("a2", a[1]), ("b2", b[1])], expected_fingerprint=a[0].fingerprint()
    )
    assert r.secret == b"A" * 16 and _kinds(r) == [("b1", "ForeignShare"), ("b2", "ForeignShare")]
    with pytest.raises(ThresholdNotMet, match="1 usable share") as err:
        recover_secret(
            [("a1", a[0]), ("a1 again", a[0]), ("b1", b[0]), ("b2", b[1])], expected_fingerprint=a[0].fingerprint()
        )
    assert [type(c) for c in err.value.causes] == [DuplicateShare, ForeignShare, ForeignShare]
    with pytest.raises(AnchorMismatch, match="none of the shares given is of the set recorded"):
        recover_secret([("b1", b[0]), ("b2", b[1])], expected_fingerprint=a[0].fingerprint())


def test_the_first_share_of_a_number_is_kept():
    """§7.2: of two genuine shares with one number, the first given is kept, even when it is the
    one that disagrees; the later one is set aside as a duplicate."""
    from keyceremony.shares.shareset import SetKey

    with SetKey(seeded(b"set key")) as key:  # one set, one key: two different shares numbered 2
        good = create_share_set(b"G" * 16, 2, 5, label="S", created=1, randbytes=seeded(b"same"), set_key=key)
        other = create_share_set(b"W" * 16, 2, 5, label="S", created=1, randbytes=seeded(b"same"), set_key=key)
    assert good[1].fingerprint() == other[1].fingerprint() and good[1].y != other[1].y
    r = recover_secret([("s1", good[0]), ("s2 other", other[1]), ("s2", good[1]), ("s3", good[2]), ("s4", good[3])])
    assert r.secret == b"G" * 16
    assert _kinds(r) == [("s2", "DuplicateShare"), ("s2 other", "InconsistentShares")]
    assert "a different share with the same number as s2 other" in r.rejected[0].reason
    r = recover_secret([("s1", good[0]), ("s2", good[1]), ("s2 copy", good[1]), ("s3", good[2])])
    assert _kinds(r) == [("s2 copy", "DuplicateShare")] and "the same share as s2" in r.rejected[0].reason


def test_signature_failures_are_set_aside_before_the_set_is_chosen(two_sets):
    a, b = two_sets
    forged = [replace(p, signature=bytes(64)) for p in b]
    r = recover_secret([(f"f{i}", p) for i, p in enumerate(forged)] + [("a1", a[0]), ("a2", a[1])])
    assert r.secret == b"A" * 16 and [k for _, k in _kinds(r)] == ["ShareSignatureError"] * 3
    with pytest.raises(ShareSignatureError):
        recover_secret([("f", forged[0])])  # one share, and it is forged: its own error
    with pytest.raises(ThresholdNotMet, match="none of the shares given is genuine"):
        recover_secret([("f", forged[0]), ("g", forged[1])])


def test_collector_first_genuine_share_fixes_the_set(two_sets):
    a, b = two_sets
    c = ShareCollector()
    forged = replace(b[0], signature=bytes(64))
    cards = [("fb1", forged), ("a1", a[0]), ("b1", b[0]), ("a1 again", a[0]), ("a2", a[1])]
    outcomes = [c.add(name, p).outcome for name, p in cards]
    assert outcomes == [Outcome.BAD_SIGNATURE, Outcome.ACCEPTED, Outcome.OTHER_SET, Outcome.DUPLICATE, Outcome.ACCEPTED]
    assert c.complete and [s for s, _ in c.items()] == ["a1", "a2"]


def test_collector_anchored_refuses_another_set_even_first(two_sets):
    a, b = two_sets
    c = ShareCollector(expected_fingerprint=a[0].fingerprint())
    outcomes = [c.add(name, p).outcome for name, p in [("b1", b[0]), ("a1", a[0]), ("b2", b[1])]]
    assert outcomes == [Outcome.OTHER_SET, Outcome.ACCEPTED, Outcome.OTHER_SET]
    # scan-back of card 3: share 2 is refused as not expected, before the duplicate check
    assert c.add("a1", a[0], expect_x=3).outcome is Outcome.NOT_EXPECTED
    assert c.add("a1", a[0], expect_x=1).outcome is Outcome.DUPLICATE


# --- docs/share-format.md §2.1 and docs/backup-package.md §2: labels ---------------------------


def test_share_label_is_checked_not_normalised(example_set):
    decomposed = "Cafe\u0301"  # 'Café' with a combining accent: not NFC
    assert unicodedata.normalize("NFC", decomposed) != decomposed
    with pytest.raises(ShareFormatError, match="NFC"):
        SharePayload.from_bytes(_raw(example_set[1], label=bytes([6]) + decomposed.encode()))
    with pytest.raises(ValueError, match="NFC"):
        create_share_set(bytes(16), 2, 3, label=decomposed)
    for bad in ("a\u200bb", "a\u2028b", "a\x85b"):  # Cf, Zl, Cc (C1)
        with pytest.raises(ShareFormatError, match="control characters"):
            SharePayload.from_bytes(_raw(example_set[1], label=bytes([len(bad.encode())]) + bad.encode()))
    assert create_share_set(bytes(16), 2, 3, label="")[0].label == ""


# --- docs/backup-package.md §1–§3: the example package, its canary, its wrapping key -----------


@pytest.fixture(scope="module")
def backup_example():
    from test_backup_package import make_example  # the one recipe of the spec's example

    return make_example()


def test_backup_package_example_prose_matches_its_bytes(backup_example):
    from keyceremony.keys.backup_package import BackupPackage

    text = doc("backup-package.md")
    hex_dump = re.search(r"<!-- example-hex -->\n```\n(.*?)```", text, re.S).group(1)
    data = bytes.fromhex("".join(hex_dump.split()))
    p = BackupPackage.from_bytes(data)
    assert p == backup_example.package
    prose = section(text, "1. Example")
    label, algorithm = p.label.encode(), p.algorithm.value.encode()
    kcv = bytes.fromhex(p.key_check_value)
    expected = [
        f"The same {len(data)} bytes in hex",
        f"`{data[:3].hex()} {data[3]:02x}` is `KCB` and version 1",
        f"`{p.created:08x}` the creation time",
        f"`{p.set_id.hex()}` the share\nset id",
        f"the {len(p.set_fingerprint)}-byte set fingerprint",
        f"`{p.threshold:02x} {p.count:02x}` ({p.threshold} of {p.count})",
        f"`{len(label):02x}` + `{p.label}`",
        f"`{len(algorithm):02x}` +\n`{p.algorithm.value}`",
        f"`{len(p.wrap_mechanism):02x}` + `{p.wrap_mechanism}`",
        f"`{len(kcv):02x}` + the KCV `{p.key_check_value}`",
        f"`{len(p.wrapped_blob):04x}` + the {len(p.wrapped_blob)}-byte wrapped key",
        f"`{len(p.public_key or b''):04x}` (no\npublic key)",
        f"`{len(p.canary_nonce):02x}` + the {len(p.canary_nonce)}-byte GCM nonce",
        f"`{len(p.canary_value):02x}` + the {len(p.canary_value)}-byte canary",
        f"the {len(b'keyceremony canary v1|' + label)}-byte plaintext\n`keyceremony canary v1|{p.label}`",
        f"the set's {len(p.set_public_key)}-byte public key, the {len(p.signature)}-byte signature and the "
        "4-byte check",
    ]
    flat = " ".join(prose.split())
    for fragment in expected:
        assert " ".join(fragment.split()) in flat, fragment
    # the offsets the prose walks through, from the field table of §2
    assert data[4:8] == struct.pack(">I", p.created) and data[8:16] == p.set_id
    assert data[16:32] == p.set_fingerprint and data[32:34] == bytes([p.threshold, p.count])


def test_backup_package_fingerprint_from_the_spec_formula(backup_example):
    p = backup_example.package
    signed = p.to_bytes()[:-4]
    body = signed[:-64]
    assert body == p.body() and signed[-64:] == p.signature
    digest = hashlib.sha256(b"keyceremony backup package fingerprint v1\x00" + body + p.signature).digest()
    assert digest[:16] == p.fingerprint()
    assert f"package fingerprint {format_fingerprint(p.fingerprint())}" in doc("backup-package.md")


def test_recovered_secret_is_the_wrapping_key_and_the_canary_has_no_aad(backup_example):
    """docs/backup-package.md §2.2 and §3: the Shamir secret, byte for byte, is the RFC 5649 key;
    the AES canary is AES-GCM with an empty AAD, ciphertext then tag."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding

    from keyceremony.keys.kcv import aes_kcv

    p = backup_example.package
    shares = backup_example.shares
    wrapping_key = recover_secret([(str(s.x), s) for s in shares[:3]]).secret
    assert len(wrapping_key) == 32
    key = aes_key_unwrap_with_padding(wrapping_key, p.wrapped_blob)
    assert aes_kcv(key) == p.key_check_value
    plaintext = b"keyceremony canary v1|" + p.label.encode()
    assert AESGCM(key).decrypt(p.canary_nonce, p.canary_value, None) == plaintext
    assert AESGCM(key).encrypt(p.canary_nonce, plaintext, None) == p.canary_value
    assert len(p.canary_value) == len(plaintext) + 16
    ciphertext, tag = p.canary_value[:-16], p.canary_value[-16:]
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.GCM(p.canary_nonce, tag)).decryptor()
    assert decryptor.update(ciphertext) + decryptor.finalize() == plaintext  # tag last, no AAD
    with pytest.raises(Exception):  # noqa: B017,PT011 - any AAD makes the tag fail
        AESGCM(key).decrypt(p.canary_nonce, p.canary_value, p.label.encode())


def _with_label(raw_package, p, label: str) -> bytes:
    """The package's bytes with another label, and a canary of the size that label needs."""
    encoded = label.encode()
    canary = bytes(len(b"keyceremony canary v1|" + encoded) + 16)
    return raw_package(p, label=bytes([len(encoded)]) + encoded, canary=bytes([len(canary)]) + canary)


def test_package_label_rules_for_writers_and_readers(backup_example):
    """docs/backup-package.md §2.1: writers refuse a non-NFC label; readers read it unchanged."""
    from keyceremony.keys.backup_package import BackupPackage
    from keyceremony.keys.soft import SoftBackend
    from keyceremony.recipes.backup import make_backup
    from test_backup_package import raw_package

    decomposed = "Cafe\u0301"
    p = backup_example.package
    read = BackupPackage.from_bytes(_with_label(raw_package, p, decomposed))
    assert read.label == decomposed  # not normalised, not refused
    for bad in ("a\x7fb", ""):
        with pytest.raises(PackageFormatError, match="fields are invalid"):
            BackupPackage.from_bytes(raw_package(p, label=bytes([len(bad)]) + bad.encode()))
    c1 = "a\x85b"  # a C1 control: refused on cards, read in a package
    assert BackupPackage.from_bytes(_with_label(raw_package, p, c1)).label == c1
    with SoftBackend() as soft:
        key = soft.generate(decomposed, p.algorithm)
        with pytest.raises(ValueError, match="NFC"):
            make_backup(soft, key, 2, 3)


# --- docs/backup-package.md §5.1: a share file that carries a package ---------------------------


@pytest.fixture(scope="module")
def share_file(backup_example) -> tuple[str, str]:
    from keyceremony.recipes.backup import share_comments

    share, package = backup_example.shares[0], backup_example.package
    return to_text(share, share_comments(share, package)), package.to_text()


def _read(tmp_path: Path, content: str | bytes, name: str = "share-1.txt"):
    from keyceremony.recipes.sources import read_payloads

    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return read_payloads(str(path))


def test_share_file_as_written(tmp_path, share_file, backup_example):
    share, package = share_file
    got = _read(tmp_path, share + "\n" + package)
    assert [p for _, p in got.shares] == [backup_example.shares[0]]
    assert [p for _, p in got.packages] == [backup_example.package] and not got.problems


SHARE_FILE_FORMS = {
    "no empty line between": lambda s, p: s + p,
    "indented, upper-case package header": lambda s, p: s + "\n" + " \t" + p.upper().split("\n", 1)[0] + "\n"
    + p.split("\n", 1)[1],
    "comments and blank lines before the block": lambda s, p: s + "\n# the package follows\n\n\n" + p,
    "two package blocks": lambda s, p: s + "\n" + p + "\n" + p,
}  # fmt: skip


@pytest.mark.parametrize("name", list(SHARE_FILE_FORMS))
def test_share_file_forms_are_read(tmp_path, share_file, backup_example, name):
    got = _read(tmp_path, SHARE_FILE_FORMS[name](*share_file))
    assert [p for _, p in got.shares] == [backup_example.shares[0]] and not got.problems
    assert {p for _, p in got.packages} == {backup_example.package}


def test_a_commented_header_does_not_start_a_block(tmp_path, share_file):
    share, package = share_file
    got = _read(tmp_path, share + "# keyceremony backup package v1 follows below\n\n" + package)
    assert len(got.shares) == 1 and len(got.packages) == 1


def test_package_only_text_file(tmp_path, share_file, backup_example):
    got = _read(tmp_path, "\n\n" + share_file[1], name="package.txt")
    assert not got.shares and [p for _, p in got.packages] == [backup_example.package]


def test_package_errors_name_the_line_of_the_whole_file(tmp_path, share_file):
    share, package = share_file
    lines = package.splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if line.startswith("03  "))
    lines[target] = _typo(lines[target].rstrip("\n")) + "\n"
    content = share + "\n" + "".join(lines)
    whole_line = share.count("\n") + 1 + target + 1
    got = _read(tmp_path, content)
    assert len(got.shares) == 1 and not got.packages  # the share is still usable
    assert [type(e) for e in got.problems] == [PackageFormatError]
    assert f"line {whole_line}:" in str(got.problems[0]) and "data line 3 does not match" in str(got.problems[0])


def test_combine_reads_only_the_share_part(tmp_path, share_file, backup_example):
    from keyceremony.recipes.sources import read_shares

    share, package = share_file
    path = tmp_path / "share-1.txt"
    path.write_text(share + "\n" + package[: len(package) // 2])  # a damaged package block
    assert [p for _, p in read_shares(str(path))] == [backup_example.shares[0]]


# --- docs/transcript.md §3.2: the secrets guard's scope ----------------------------------------

SECRET_NAMES = {
    # data: does the writer refuse it (and the verifier give reason "secret")?
    "top-level pin": ({"pin": 1}, True),
    "camel case": ({"userPIN2": 1}, True),
    "run of capitals": ({"PINCode": 1}, True),
    "nested object": ({"outer": {"root_key": "x"}}, True),
    "object in an array": ({"cards": [{"seed": "x"}]}, True),
    "object in arrays in arrays": ({"a": [[{"b": [{"passphrase": "x"}]}]]}, True),
    "long word inside a word": ({"apiSecretValue": "x"}, True),
    "a qualifier wins": ({"private_key_id": "x", "secret_label": "x", "seed_length": 32}, False),
    "values are not names": ({"text": "my pin is 1234, the seed is abc"}, False),
    "array of strings": ({"notes": ["pin", "secret"]}, False),
    "describes, nested": ({"outer": {"key_check_value": "abc123", "public_key": "00"}}, False),
    "a word inside another word": ({"spinner": 1, "keyboard": 2, "monkey": 3}, False),
}


def _fixed_clock():
    moments = iter(datetime(2026, 11, 28, 13, 48, 5, tzinfo=UTC) + timedelta(seconds=i) for i in range(1000))
    return lambda: next(moments)


@pytest.mark.parametrize("name", list(SECRET_NAMES))
def test_secret_name_scope(tmp_path, name):
    from keyceremony.errors import TranscriptDataRefused
    from keyceremony.transcript import CeremonyMeta, TranscriptWriter
    from keyceremony.transcript.guard import check_public_data
    from keyceremony.transcript.signer import SoftSigner

    data, refused = SECRET_NAMES[name]
    if refused:
        with pytest.raises(TranscriptDataRefused, match="may hold a secret"):
            check_public_data(data)
    else:
        assert check_public_data(data) == data
    meta = CeremonyMeta("c-1", "T")
    w = TranscriptWriter.create(tmp_path / "t.jsonl", SoftSigner.generate(), meta, clock=_fixed_clock())
    if refused:
        with pytest.raises(TranscriptDataRefused):
            w.append("step", "event", data=data)
        assert len(w.entries) == 1  # nothing was written
    else:
        w.append("step", "event", data=data)


def test_secret_names_in_actors_and_opening_details(tmp_path):
    """The rule is about data member names: actors' names and roles are values; the opening
    details are data and are checked."""
    from keyceremony.errors import TranscriptDataRefused
    from keyceremony.transcript import Actor, CeremonyMeta, TranscriptWriter, verify_transcript
    from keyceremony.transcript.signer import SoftSigner

    signer = SoftSigner.generate()
    w = TranscriptWriter.create(
        tmp_path / "t.jsonl",
        signer,
        CeremonyMeta("c-1", "Secret key ceremony"),
        actors=[Actor("Pin Seed", "key-holder")],
        clock=_fixed_clock(),
    )
    w.seal()
    assert verify_transcript(tmp_path / "t.jsonl").sealed
    with pytest.raises(TranscriptDataRefused):
        CeremonyMeta("c-2", "T", {"location": {"safe_pin": "1234"}})


def test_verifier_reports_secret_at_any_depth_and_malformed_otherwise(tmp_path):
    """A line signed with a secret-named member nested in an array is `secret`; too deep a
    `data` is `malformed` (the writer would refuse both; the lines are made by hand)."""
    from keyceremony.codec import canonical_json
    from keyceremony.errors import TranscriptTampered
    from keyceremony.transcript import CeremonyMeta, TranscriptWriter, verify_transcript
    from keyceremony.transcript.signer import SoftSigner
    from keyceremony.transcript.values import SIGNATURE_CONTEXT, line_hash

    signer = SoftSigner.generate()
    path = tmp_path / "t.jsonl"
    TranscriptWriter.create(path, signer, CeremonyMeta("c-1", "T"), clock=_fixed_clock()).close()
    first = path.read_bytes()

    def entry(data) -> bytes:
        obj = {
            "actors": [],
            "ceremony": "c-1",
            "data": data,
            "event": "note",
            "format": "keyceremony transcript v1",
            "prev": line_hash(first).hex(),
            "seq": 2,
            "step": "s",
            "time": "2026-11-28T13:49:00.000Z",
        }
        sig = signer.sign(SIGNATURE_CONTEXT + canonical_json.encode(obj))
        return canonical_json.encode({**obj, "sig": sig.hex()}) + b"\n"

    deep: dict = {}
    for _ in range(20):
        deep = {"level": deep}
    for data, reason in [({"cards": [[{"userPin": 1}]]}, "secret"), (deep, "malformed")]:
        with pytest.raises(TranscriptTampered) as err:
            verify_transcript(first + entry(data), require_sealed=False)
        assert (err.value.reason, err.value.line) == (reason, 2)


# --- docs/transcript.md §7 and §8.2: torn lines ------------------------------------------------


@pytest.fixture
def sealed_transcript(tmp_path):
    from keyceremony.transcript import CeremonyMeta, TranscriptWriter
    from keyceremony.transcript.signer import SoftSigner

    signer = SoftSigner.generate()
    path = tmp_path / "t.jsonl"
    w = TranscriptWriter.create(path, signer, CeremonyMeta("c-1", "T"), clock=_fixed_clock())
    w.append("step", "event", data={"n": 1})
    return path, w, signer


def _verify_reason(content: bytes, **kwargs) -> tuple[str, int | None]:
    from keyceremony.errors import TranscriptTampered
    from keyceremony.transcript import verify_transcript

    with pytest.raises(TranscriptTampered) as err:
        verify_transcript(content, **kwargs)
    return err.value.reason, err.value.line


def test_torn_line_cases(sealed_transcript):
    path, w, _ = sealed_transcript
    open_two = path.read_bytes()
    lines = open_two.splitlines(keepends=True)
    assert _verify_reason(open_two + b'{"actors":[', require_sealed=False) == ("torn", 3)
    assert _verify_reason(open_two + b'{"actors":[') == ("torn", 3)  # torn before not-sealed
    assert _verify_reason(b'{"actors":[') == ("torn", 1)  # torn before empty
    assert _verify_reason(b"") == ("empty", None)
    assert _verify_reason(open_two + lines[1]) == ("sequence", 3)  # a complete line is checked
    # a complete, validly signed entry without its line feed is still torn
    w.append("step", "event")
    three = path.read_bytes()
    assert _verify_reason(three[:-1], require_sealed=False) == ("torn", 3)
    # a bad complete line before a torn one is reported first
    damaged = lines[0] + lines[1].replace(b'"n":1', b'"n":2')
    assert _verify_reason(damaged + b"{", require_sealed=False) == ("signature", 2)
    # after the seal: torn, not after-seal
    w.seal()
    assert _verify_reason(path.read_bytes() + b"{") == ("torn", 5)


def test_resume_and_torn_lines(sealed_transcript):
    from keyceremony.errors import TornTranscript, TranscriptError, TranscriptSealed
    from keyceremony.transcript import TranscriptWriter, verify_transcript

    path, w, signer = sealed_transcript
    w.close()
    good = path.read_bytes()
    path.write_bytes(good + b'{"actors":[],"cer')
    with pytest.raises(TornTranscript):
        TranscriptWriter.resume(path, signer, clock=_fixed_clock())
    assert path.read_bytes().endswith(b'"cer')  # nothing changed
    clock = _fixed_clock()
    for _ in range(10):
        clock()
    r = TranscriptWriter.resume(path, signer, truncate_torn=True, clock=clock)
    assert r.last_entry.data["dropped_bytes"] == len(b'{"actors":[],"cer')
    assert path.read_bytes().startswith(good) and verify_transcript(path, require_sealed=False)
    r.seal()
    path.write_bytes(path.read_bytes() + b"{")
    with pytest.raises(TranscriptSealed):
        TranscriptWriter.resume(path, signer, truncate_torn=True)
    path.write_bytes(b'{"actors":[')
    with pytest.raises(TranscriptError, match="nothing to resume"):
        TranscriptWriter.resume(path, signer, truncate_torn=True)


# --- docs/transcript.md §1: the example line ----------------------------------------------------


def test_transcript_example_is_the_valid_vector():
    from keyceremony.transcript import verify_transcript

    text = doc("transcript.md")
    line = re.search(r"```\n(\{.*?\})\n```", text, re.S).group(1).encode()
    vector = ROOT / "tests" / "vectors" / "transcript" / "valid.jsonl"
    lines = vector.read_bytes().splitlines(keepends=True)
    assert lines[1] == line + b"\n"
    assert f"line 2 as it is on disk (one line, {len(lines[1])} bytes with its line feed)" in " ".join(text.split())
    hex_fp = re.search(r"is `([0-9A-F ]{39})`, in words", text).group(1)
    result = verify_transcript(vector, expected_fingerprint=hex_fp)
    rows = re.findall(r"^\| (\d+) \| [0-9:.]+Z \| `([a-z-]+)` \| `([a-z-]+)` \|", text, re.M)
    assert [(int(n), step, event) for n, step, event in rows] == [(e.seq, e.step, e.event) for e in result.entries]
