"""`make demo`: a throwaway 256-bit key split 3-of-5 onto signed cards, then recovered.

Every claim printed is checked just before it is printed; a failed check stops the demo with a
non-zero exit. Nothing secret is printed: the key is named by a SHA-256 fingerprint only.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def _say(ok: str) -> None:
    print(f"  \u2713 {ok}")


def main(argv: list[str] | None = None) -> int:
    from keyceremony import shamir
    from keyceremony.cards import write_cards
    from keyceremony.errors import ShareFormatError, ShareSignatureError, ThresholdNotMet
    from keyceremony.pgp_words import to_words
    from keyceremony.raster import render_pdf
    from keyceremony.share_sources import read_shares
    from keyceremony.share_text import from_text, to_text
    from keyceremony.shareset import (
        create_share_set,
        describe_set,
        format_fingerprint,
        recover_secret,
        verify_share,
    )

    args = argv if argv is not None else sys.argv[1:]
    out = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="keyceremony-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    key = bytearray(os.urandom(32))
    key_id = hashlib.sha256(key).hexdigest()[:16]
    print("keyceremony demo: a throwaway AES-256 key, split 3-of-5 onto signed share cards\n")
    print(f"Key: 256 bits from the OS CSPRNG, SHA-256 fingerprint {key_id} (the key itself is never shown)")

    payloads = create_share_set(key, 3, 5, label="Demo KEK")
    custodians = ["Alice Ng", "Bongani Dube", "Chen Wei", "Dana Levi", "Emeka Obi"]
    for p in payloads:
        (out / f"share-{p.x}.txt").write_text(to_text(p))
    checks = write_cards(payloads, out, custodians=custodians)
    fp = payloads[0].fingerprint()
    print(f"Share set: {describe_set(payloads[0])}")
    print(f"Set fingerprint: {format_fingerprint(fp)}")
    print(f"  read aloud: {' '.join(to_words(fp))}")
    print(f"Files: {out}/share-1..5.txt and card-1..5.pdf\n")
    print("What this run proved:")

    for p in payloads:
        verify_share(p)
    _say("every share carries a valid Ed25519 signature by the set's key, and the same fingerprint")
    _say(f"every card PDF was rendered to pixels and its QR code read back to its exact share "
         f"({sum(c.render_seconds + c.decode_seconds for c in checks) / len(checks) * 1000:.0f} ms per card)")

    subsets = list(itertools.combinations(payloads, 3))
    for subset in subsets:
        got = recover_secret([(f"share-{p.x}", p) for p in subset]).secret
        if got != bytes(key):
            raise SystemExit("demo FAILED: a 3-subset did not recover the key")
    _say(f"all {len(subsets)} subsets of 3 shares recover the key, byte for byte")

    for pair in itertools.combinations(payloads, 2):
        try:
            recover_secret([(f"share-{p.x}", p) for p in pair])
        except ThresholdNotMet:
            continue
        raise SystemExit("demo FAILED: 2 shares were accepted")
    _say("all 10 pairs of shares are refused as too few")

    scans = []
    for x in (2, 4, 5):
        png = out / f"card-{x}-scan.png"
        render_pdf(out / f"card-{x}.pdf", dpi=150)[0].rotate(3, expand=True, fillcolor=255).save(png)
        scans.extend(read_shares(str(png)))
    if recover_secret(scans).secret != bytes(key):
        raise SystemExit("demo FAILED: the scanned cards did not recover the key")
    _say("3 cards scanned back from 150 dpi images, slightly rotated, recover the key")

    original = (out / "share-3.txt").read_text()
    at = original.index("\n03  ") + 5
    text = original[:at] + ("B" if original[at] != "B" else "C") + original[at + 1 :]  # one wrong letter
    try:
        from_text(text, source="share-3.txt")
        raise SystemExit("demo FAILED: a typo went unnoticed")
    except ShareFormatError as err:
        _say(f"a one-character typo is caught and located: \u201c{err}\u201d")

    forged = replace(payloads[0], y=bytes(len(payloads[0].y)))
    try:
        verify_share(forged, source="card-1 (altered)")
        raise SystemExit("demo FAILED: an altered share verified")
    except ShareSignatureError:
        _say("an altered share fails its signature check and is set aside")

    bad = [(f"share-{p.x}", p) for p in payloads[:3]]
    bad.append(("altered share-4", replace(payloads[3], y=bytes(len(payloads[3].y)))))
    rec = recover_secret(bad)
    if rec.secret != bytes(key) or not rec.rejected:
        raise SystemExit("demo FAILED: recovery with an altered extra share")
    _say("with 4 shares of which one is altered, the 3 genuine ones recover the key and the altered one is named")

    shares = shamir.split(bytes(key), 3, 5)
    bad_shares = shares[:4] + [shamir.Share(5, bytes(b ^ 0xFF for b in shares[4].y))]
    decoded = shamir.decode(bad_shares, 3)
    if decoded.secret != bytes(key) or decoded.bad_x != (5,):
        raise SystemExit("demo FAILED: robust decoding")
    _say("the core finds a wrong share among 5 by Reed-Solomon decoding (Berlekamp-Welch) and names it")

    key[:] = bytes(32)
    print(f"\nDone in {time.perf_counter() - start:.1f} s. The demo key was wiped from memory; the cards in")
    print(f"{out} are of a throwaway key: look at them, then delete the folder.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
