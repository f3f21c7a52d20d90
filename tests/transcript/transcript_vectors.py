"""Deterministic sample transcripts and the conformance vectors in tests/vectors/transcript/.

Everything here is reproducible: keys come from SHA-256 in counter mode over a fixed label (never
do that for a real ceremony), the clock is a list of fixed times, and Ed25519 signatures are
deterministic (RFC 8032 §5.1.6). ``test_transcript.py`` regenerates the vectors and compares
them byte for byte with the files, so the files and this code cannot drift apart.

Regenerate the files (only after a deliberate format change) with:

    .venv/bin/python tests/transcript/transcript_vectors.py tests/vectors/transcript
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from keyceremony.codec import canonical_json
from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.transcript import (
    SIGNATURE_CONTEXT,
    Actor,
    CeremonyMeta,
    TranscriptWriter,
    genesis_hash,
    line_hash,
    split_lines,
)
from keyceremony.transcript.signer import SoftSigner

START = datetime(2026, 11, 28, 13, 48, 5, 120000, tzinfo=UTC)

ADMIN = Actor("Dana Ruiz", "ceremony-administrator")
WITNESS_1 = Actor("Eve Park", "witness")
WITNESS_2 = Actor("Jürgen Weiß", "witness")
OPERATOR = Actor("Tomás Ortega", "operator")
CUSTODIANS = [Actor(name, "custodian") for name in ("Alice Ng", "Bob Li", "Chidi Okafor")]


def seeded(label: str):
    """``randbytes`` from SHA-256(label || counter): deterministic, for samples and tests only."""
    counter = 0

    def randbytes(n: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < n:
            out += hashlib.sha256(f"{label}|{counter}".encode()).digest()
            counter += 1
        return out[:n]

    return randbytes


def signer(label: str = "ceremony key") -> SoftSigner:
    return SoftSigner.generate(randbytes=seeded(label))


class StepClock:
    """A clock that starts at ``start`` and moves on by ``step`` at every reading."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(seconds=41, milliseconds=250)):
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        now = self.now
        self.now += self.step
        return now


def write_sample(path: Path, key: SoftSigner, *, ceremony_id: str = "f3a1c2d4-5e6f7081", seal: bool = True) -> None:
    """The sample ceremony: open, generate a KEK, split it 3-of-5, hand over cards, seal (7 lines)."""
    meta = CeremonyMeta(
        ceremony_id,
        "Payments KEK: generate and split 3-of-5 (rehearsal)",
        {"template": "kek-split", "template_version": 1, "location": "Room 4.12, Zürich"},
    )
    clock = StepClock()
    w = TranscriptWriter.create(path, key, meta, actors=[ADMIN, WITNESS_1, WITNESS_2], clock=clock)
    w.append(
        "generate-key", "key-generated", actors=[OPERATOR, WITNESS_1, WITNESS_2],
        data={"key_label": "payments-kek", "algorithm": "aes-256", "kcv": "3b4f2a", "token_label": "root"},
    )
    w.append(
        "split", "shares-made", actors=[OPERATOR, WITNESS_1, WITNESS_2],
        data={"share_set_id": "9c0e55a1-27b4d3f8", "threshold": 3, "count": 5,
              "set_fingerprint": "3E4C F259 8126 D875 CB15 571C 90DB EFEF"},
    )
    for number, custodian in enumerate(CUSTODIANS[:2], start=1):
        w.append(
            "hand-over", "card-received", actors=[custodian, WITNESS_1],
            data={"share_number": number, "holder": custodian.name, "card_verified": True},
        )
    w.append("hand-over", "note", actors=[ADMIN], data={"text": "cards 3 to 5 go to the vault\n(in bag #0442)"})
    if seal:
        w.seal(actors=[ADMIN, WITNESS_1, WITNESS_2], data={"remarks": ""})
    else:
        w.close()


def sample_bytes(key_label: str = "ceremony key", ceremony_id: str = "f3a1c2d4-5e6f7081", seal: bool = True) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        write_sample(path, signer(key_label), ceremony_id=ceremony_id, seal=seal)
        return path.read_bytes()


def sign_object(obj: dict, key: SoftSigner) -> bytes:
    """A line from a hand-made entry object (bypassing every check of the models)."""
    body = {k: v for k, v in obj.items() if k != "sig"}
    body["sig"] = key.sign(SIGNATURE_CONTEXT + canonical_json.encode(body)).hex()
    return canonical_json.encode(body) + b"\n"


def rechain(lines: list[bytes], key: SoftSigner, *, from_line: int = 1) -> list[bytes]:
    """Re-sign lines ``from_line``.. with ``key``, fixing every ``prev`` (what a forger would do)."""
    out = list(lines[: from_line - 1])
    for line in lines[from_line - 1 :]:
        obj = json.loads(line)
        obj["prev"] = (genesis_hash(obj["ceremony"]) if not out else line_hash(out[-1])).hex()
        if "key" in obj:
            obj["key"] = key.public_key.hex()
        out.append(sign_object(obj, key))
    return out


def resumed_with_new_key() -> bytes:
    """The sample cut after line 4 (the soft key 'lost in a crash'), resumed with a new key."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        first = sample_bytes(seal=False)
        lines, _ = split_lines(first)
        path.write_bytes(b"".join(lines[:4]) + lines[4][:57])  # torn in the middle of line 5
        clock = StepClock(START + timedelta(minutes=30))
        new_key = signer("replacement key")
        w = TranscriptWriter.resume(
            path, new_key, actors=[ADMIN, WITNESS_1], data={"reason": "laptop lost power"},
            clock=clock, truncate_torn=True, allow_new_key=True,
        )
        w.append("hand-over", "card-received", actors=[CUSTODIANS[1], WITNESS_1],
                 data={"share_number": 2, "holder": CUSTODIANS[1].name, "card_verified": True})
        w.seal(actors=[ADMIN, WITNESS_1])
        return path.read_bytes()


def vectors() -> tuple[dict[str, bytes], dict[str, dict]]:
    """Every vector file's bytes, and the manifest of what verifying each must give."""
    key = signer()
    fp = key.fingerprint.hex()
    valid = sample_bytes()
    lines, _ = split_lines(valid)
    other_lines, _ = split_lines(sample_bytes("other ceremony key", "0b7d19e2-a4c35f60"))
    mallory = signer("mallory")
    files: dict[str, bytes] = {}
    manifest: dict[str, dict] = {}

    def add(name: str, content: bytes, outcome: str, line=None, sequence=None, note="", **verify):
        files[name] = content
        manifest[name] = {
            "outcome": outcome, "line": line, "sequence": sequence,
            "verify_with": {"expected_fingerprint": fp, **verify}, "note": note,
        }

    add("valid.jsonl", valid, "valid", note="the sample ceremony: opened, 5 entries, sealed")
    add("valid-resumed-new-key.jsonl", resumed_with_new_key(), "valid",
        later_fingerprints=[signer("replacement key").fingerprint.hex()],
        note="torn after line 4, resumed with a new key (line 5), sealed; new key confirmed")
    add("unconfirmed-key-change.jsonl", resumed_with_new_key(), "key-changed", line=5,
        note="the same file verified without later_fingerprints: the key change must be confirmed")
    flipped = bytearray(lines[3])
    flipped[flipped.index(b'"holder":"Alice Ng"') + 10] ^= 0x01  # 'A' -> '@'
    add("flipped-byte.jsonl", b"".join(lines[:3]) + bytes(flipped) + b"".join(lines[4:]), "signature", 4, 4,
        note="one bit of line 4's data flipped")
    add("deleted-entry.jsonl", b"".join(lines[:3] + lines[4:]), "sequence", 4, 5, note="line 4 removed")
    add("reordered.jsonl", b"".join(lines[:3] + [lines[4], lines[3]] + lines[5:]), "sequence", 4, 5,
        note="lines 4 and 5 swapped")
    add("truncated.jsonl", b"".join(lines[:-1]), "not-sealed", 6, 6, note="the seal (line 7) cut off")
    add("spliced-foreign.jsonl", b"".join(lines[:3] + [other_lines[3]] + lines[4:]), "foreign", 4, 4,
        note="line 4 taken from another ceremony's transcript")
    obj = json.loads(lines[3])
    obj["data"]["holder"] = "Mallory"
    add("resigned-entry.jsonl", b"".join(lines[:3] + [sign_object(obj, mallory)] + lines[4:]), "signature", 4, 4,
        note="line 4 altered and re-signed with another key")
    add("resigned-whole.jsonl", b"".join(rechain(lines, mallory)), "wrong-key", 1, 1,
        note="every line re-signed and re-chained with another key: only the fingerprint tells")
    after = json.loads(lines[5])
    after.update(seq=8, prev=line_hash(lines[6]).hex(), time="2026-11-28T13:53:00.000Z")
    add("after-seal.jsonl", valid + sign_object(after, key), "after-seal", 8, 8,
        note="an entry appended after the seal (signed with the real key, as if it had not been destroyed)")
    add("torn.jsonl", b"".join(lines[:-1]) + lines[-1][:100], "torn", 7, None, note="the last line cut short")
    spaced = lines[1].replace(b'"event":', b'"event": ', 1)
    add("non-canonical.jsonl", lines[0] + spaced + b"".join(lines[2:]), "not-canonical", 2, None,
        note="a space after a colon on line 2")
    add("crlf.jsonl", valid.replace(b"\n", b"\r\n"), "not-canonical", 1, None, note="Windows line ends")
    back = json.loads(lines[4])
    back["time"] = "2026-11-28T13:48:00.000Z"
    add("time-backwards.jsonl", b"".join(rechain(lines[:4] + [sign_object(back, key)] + lines[5:], key, from_line=5)),
        "time", 5, 5, note="line 5's time is before line 4's (signed and chained with the real key)")
    v2 = json.loads(lines[0])
    v2["format"] = "keyceremony transcript v2"
    add("version-2.jsonl", b"".join(rechain([sign_object(v2, key)] + lines[1:], key)), "version", 1, 1,
        note="a format version this reader does not know")
    secret = json.loads(lines[2])
    secret["data"]["pin"] = "123456"
    add("secret-field.jsonl", b"".join(rechain(lines[:2] + [sign_object(secret, key)] + lines[3:], key, from_line=3)),
        "secret", 3, 3, note="line 3's data has a field named 'pin' (signed and chained with the real key)")
    broken = json.loads(lines[3])
    broken["prev"] = "00" * 32
    add("broken-chain.jsonl", b"".join(lines[:3] + [sign_object(broken, key)] + lines[4:]), "chain", 4, 4,
        note="line 4 signed with the real key but not chained to line 3")
    headless = json.loads(lines[1])
    headless.update(seq=1, prev=genesis_hash(headless["ceremony"]).hex())
    add("no-opening.jsonl", b"".join(rechain([sign_object(headless, key)] + lines[2:], key)), "structure", 1, 1,
        note="the opening entry removed and the rest renumbered, re-chained and re-signed with the real key")
    add("float.jsonl", lines[0] + lines[1] + lines[2].replace(b'"count":5', b'"count":5.0'), "not-canonical", 3, None,
        note="a number with a fraction")
    add("empty.jsonl", b"", "empty", note="an empty file")
    return files, manifest


def write_vectors(directory: Path) -> None:
    files, manifest = vectors()
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    (directory / "vectors.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(files)} vectors to {directory}; ceremony key {format_fingerprint(signer().fingerprint)}")


if __name__ == "__main__":
    write_vectors(Path(sys.argv[1]))
