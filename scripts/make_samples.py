"""Regenerate samples/: a throwaway secret's share files, one card PDF and its PNG render, and
samples/ceremony/: a rehearsal key-generation ceremony's signed transcript, its PDF report and
the cards it printed (card 1's two pages also as PNG).

The share samples are deterministic: randomness comes from SHAKE-256 of a fixed seed and the time
is fixed, so running this again gives identical files; tests/test_samples.py checks that it does.
The ceremony is a real run of ``keyceremony run`` (fresh keys, real time), so it changes each
time; tests/test_samples.py verifies it instead: the transcript's signatures and chain, its
template, its report, and that the cards belong to it.

    .venv/bin/python scripts/make_samples.py [OUTDIR]      (default: samples/)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

SEED = b"keyceremony samples v1"
CREATED = 1_795_000_000  # 2026-11-18 UTC
SECRET_HEX = b"sample: a throwaway 32-byte key!".hex()  # never a real key


def seeded_randbytes(seed: bytes):
    """A deterministic stand-in for os.urandom (samples and tests only)."""
    counter = 0

    def randbytes(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n) if n else b""

    return randbytes


def make(out: Path) -> list[Path]:
    from keyceremony.cards.raster import render_pdf
    from keyceremony.cards.share_cards import render_card
    from keyceremony.shares.shareset import create_share_set
    from keyceremony.shares.text import to_text

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


def make_ceremony(out: Path) -> list[Path]:
    """Run the key-generation template (soft back end, rehearsal answers) and keep its record."""
    import shutil
    import subprocess
    import tempfile

    from keyceremony.cards.raster import render_pdf

    root = Path(__file__).resolve().parent.parent
    answers = root / "examples" / "ceremony" / "key-generation.toml"
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "keygen"
        subprocess.run([sys.executable, "-m", "keyceremony", "run", "key-generation", "--answers", str(answers),
                        "--out", str(run), "--quiet"], check=True, capture_output=True)
        if out.exists():
            shutil.rmtree(out)
        (out / "cards").mkdir(parents=True)
        names = ["transcript.jsonl", "transcript-report.pdf", "report.txt", "requirements.json", "state.json"]
        written = []
        for name in names:
            shutil.copy2(run / name, out / name)
            written.append(out / name)
        for card in sorted((run / "cards").glob("card-*.pdf")):
            shutil.copy2(card, out / "cards" / card.name)
            written.append(out / "cards" / card.name)
    first, second = render_pdf(out / "cards" / "card-1.pdf", dpi=100)  # page 2: the package, typeable
    first.save(out / "cards" / "card-1.png", optimize=True)
    second.save(out / "cards" / "card-1-page-2.png", optimize=True)
    return [*written, out / "cards" / "card-1.png", out / "cards" / "card-1-page-2.png"]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "samples"
    for path in make(target) + make_ceremony(target / "ceremony"):
        print(path)
