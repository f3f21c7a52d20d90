"""Regenerate samples/: a throwaway secret's share files, one card PDF and its PNG render.

Deterministic: randomness comes from SHAKE-256 of a fixed seed and the time is fixed, so running
this again gives identical files; tests/test_samples.py checks that it does.

    .venv/bin/python scripts/make_samples.py [OUTDIR]      (default: samples/)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

SEED = b"keyceremony samples v1"
CREATED = 1_795_000_000  # 2026-11-18 UTC
SECRET_HEX = "sample: a throwaway 32-byte key!".encode().hex()  # never a real key


def seeded_randbytes(seed: bytes):
    """A deterministic stand-in for os.urandom (samples and tests only)."""
    counter = 0

    def randbytes(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n) if n else b""

    return randbytes


def make(out: Path) -> list[Path]:
    from keyceremony.cards import render_card
    from keyceremony.raster import render_pdf
    from keyceremony.share_text import to_text
    from keyceremony.shareset import create_share_set

    out.mkdir(parents=True, exist_ok=True)
    secret = bytes.fromhex(SECRET_HEX)
    payloads = create_share_set(
        secret, 3, 5, label="Sample KEK", created=CREATED, randbytes=seeded_randbytes(SEED)
    )
    written = [out / "secret.bin"]
    written[0].write_bytes(secret)
    for p in payloads:
        path = out / f"sample-share-{p.x}.txt"
        path.write_text(to_text(p, ["SAMPLE of a throwaway secret (samples/secret.bin); not a real key"]))
        written.append(path)
    pdf = render_card(payloads[1], custodian="Sam Sample", paper="a4")
    (out / "sample-card.pdf").write_bytes(pdf)
    render_pdf(pdf, dpi=100)[0].save(out / "sample-card.png", optimize=True)
    written += [out / "sample-card.pdf", out / "sample-card.png"]
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "samples"
    for path in make(target):
        print(path)
