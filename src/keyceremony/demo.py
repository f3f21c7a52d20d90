"""`make demo`: a throwaway 256-bit key split 3-of-5 onto signed cards, then recovered; then a
fresh key generated in an HSM token (SoftHSM2), backed up onto cards, and a drill from 3 cards.

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
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from keyceremony.keys.backend import KeyBackend
    from keyceremony.transcript import VerifiedTranscript


def _say(ok: str) -> None:
    print(f"  \u2713 {ok}")


def main(argv: list[str] | None = None) -> int:
    from keyceremony.atomic_file import write_atomically
    from keyceremony.cards.raster import render_pdf
    from keyceremony.cards.share_cards import write_cards
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.codec.pgp_words import to_words
    from keyceremony.core import shamir
    from keyceremony.errors import ShareFormatError, ShareSignatureError, ThresholdNotMet
    from keyceremony.recipes.sources import read_shares
    from keyceremony.shares.shareset import (
        create_share_set,
        describe_set,
        recover_secret,
        verify_share,
    )
    from keyceremony.shares.text import from_text, to_text

    args = argv if argv is not None else sys.argv[1:]
    out = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="keyceremony-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    key = bytearray(os.urandom(32))
    key_id = hashlib.sha256(key).hexdigest()[:16]
    print("keyceremony demo: a throwaway AES-256 key, split 3-of-5 onto signed share cards\n")
    print(f"Key: 256 bits from the OS CSPRNG, SHA-256 fingerprint {key_id} (the key itself is never shown)")

    payloads = create_share_set(cast("bytes", key), 3, 5, label="Demo KEK")  # a bytearray, wiped at the end
    custodians = ["Alice Ng", "Bongani Dube", "Chen Wei", "Dana Levi", "Emeka Obi"]
    for p in payloads:
        write_atomically(out / f"share-{p.x}.txt", to_text(p).encode("utf-8"))
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
    _backup_demo(out / "backup")
    _ceremony_demo(out / "ceremony")
    print(f"\nDone in {time.perf_counter() - start:.1f} s. The demo keys were wiped from memory; the cards in")
    print(f"{out} are of throwaway keys: look at them, then delete the folder.")
    return 0


def _backup_demo(out: Path) -> None:
    """Part 2: a fresh key backed up from an HSM token (SoftHSM2 in a private temporary
    directory, or the software back end without it) onto cards, then a drill from 3 cards."""
    import secrets
    import shutil
    import subprocess

    from keyceremony.errors import AnchorMismatch, PackageSignatureError, ThresholdNotMet
    from keyceremony.keys.backup_package import format_kcv
    from keyceremony.keys.model import KeyAlgorithm
    from keyceremony.keys.soft import SoftBackend
    from keyceremony.recipes.anchors import Anchors
    from keyceremony.recipes.backup import (
        gather_recovery_inputs,
        generate_and_back_up,
        recover_backup,
        write_backup,
    )

    module = os.environ.get("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
    hsm_dir = None
    if shutil.which("softhsm2-util") and Path(module).exists():
        hsm_dir = Path(tempfile.mkdtemp(prefix="keyceremony-demo-softhsm-"))
        (hsm_dir / "tokens").mkdir()
        conf = hsm_dir / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {hsm_dir / 'tokens'}\nobjectstore.backend = file\n"
                        "log.level = ERROR\nslots.removable = false\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)  # before the library loads: read at C_Initialize (docs/hsm.md)
        pin = secrets.token_hex(4)
        for token in ("demo-root", "demo-recovery"):
            subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", token, "--so-pin",
                            secrets.token_hex(4), "--pin", pin], check=True, capture_output=True)
        from keyceremony.keys.pkcs11_backend import Pkcs11Backend

        def open_store(token: str) -> KeyBackend:
            return Pkcs11Backend(module, token, pin)

        where = "SoftHSM2 token 'demo-root' (a private token in a temporary folder)"
    else:
        from keyceremony.keys.soft import SoftBackend

        def open_store(token: str) -> KeyBackend:
            return SoftBackend()

        where = "the software back end (SoftHSM2 is not installed)"
    try:
        print(f"\nPart 2: an HSM key backed up onto cards, then a recovery drill, in {where}\n")
        t0 = time.perf_counter()
        custodians = ["Alice Ng", "Bongani Dube", "Chen Wei", "Dana Levi", "Emeka Obi"]
        with open_store("demo-root") as hsm:
            backup = generate_and_back_up(
                hsm, "demo-kek", KeyAlgorithm.AES256, 3, 5,
                then=lambda b: write_backup(b, out, custodians=custodians),
            )  # fmt: skip
        package = backup.package
        t_backup = time.perf_counter() - t0
        kcv = format_kcv(package.key_check_value)
        print("Key 'demo-kek' (AES-256) generated inside the token: sensitive, exportable only wrapped;")
        print(f"  key check value {kcv}. A fresh 256-bit wrapping key wrapped it (RFC 5649), was split 3-of-5")
        print("  onto cards and wiped; the backup package is signed by the cards' own set key.")
        print(f"Files ({t_backup:.1f} s with the cards, each read back): "
              f"{out}/package.kcb, share-1..5.txt, card-1..5.pdf\n")
        print("What the drill proved:")

        t1 = time.perf_counter()
        cards = [str(out / f"card-{x}.pdf") for x in (2, 4, 5)]
        paper_log = Anchors(kcv=package.key_check_value)  # what the custodians wrote down at the backup
        with gather_recovery_inputs(cards, anchors=paper_log) as inputs, open_store("demo-recovery") as scratch:
            before = scratch.count_objects("demo-kek")
            target = "token 'demo-recovery'" if hsm_dir else "the software key store"
            report = recover_backup(scratch, inputs, drill=True, target=target, started=t1)
            after = scratch.count_objects("demo-kek")
        if report.key_check_value != package.key_check_value or before != after:
            raise SystemExit("demo FAILED: the drill")
        _say("3 of the 5 cards alone (cards 2, 4 and 5; no package file, no share files) rebuilt the "
             "wrapping key, and each carries the signed backup package")
        _say(f"the key was unwrapped into {target} as a session copy; its check value {kcv} matches the "
             "backup package and the one written in the paper log (ANCHORED)")
        _say(f"the AES-GCM canary decrypted inside {target}: OK; then the copy was deleted, nothing kept")
        _say(f"shares used: {', '.join(Path(u.split(' (')[0]).name for u in report.shares_used)} "
             f"({report.seconds:.1f} s)")
        try:
            gather_recovery_inputs(cards[:2])
            raise SystemExit("demo FAILED: 2 cards were accepted")
        except ThresholdNotMet:
            _say("2 cards are refused as too few, before any token is touched")
        forged = out / "forged-package.kcb"
        forged.write_bytes(replace(package, key_check_value="000000").to_bytes())
        try:
            gather_recovery_inputs(cards, package_path=str(forged))
            raise SystemExit("demo FAILED: a forged package was accepted")
        except PackageSignatureError:
            _say("a backup package altered after the ceremony fails its signature and is refused")
        forged.unlink()
        substitute = out / "substitute"  # another backup: its own set key, package and check value
        with SoftBackend() as other:
            generate_and_back_up(other, "demo-kek", KeyAlgorithm.AES256, 3, 5,
                                 then=lambda b: write_backup(b, substitute, cards=False))  # fmt: skip
        others = [str(substitute / f"share-{x}.txt") for x in (1, 2, 3)]
        with gather_recovery_inputs(others) as unanchored:
            consistent = not unanchored.anchored
        try:
            gather_recovery_inputs(others, anchors=paper_log)
            raise SystemExit("demo FAILED: a substituted backup was accepted against the paper log")
        except AnchorMismatch:
            if not consistent:
                raise SystemExit("demo FAILED: an unanchored recovery called itself anchored") from None
            _say(f"a complete substituted backup (its own key, package and check value) is self-consistent: "
                 f"without the paper log it would pass, called UNANCHORED; against the check value {kcv} "
                 "written in the paper log it is refused")
        shutil.rmtree(substitute)
        print("\n" + report.to_text())
    finally:
        if hsm_dir is not None:
            shutil.rmtree(hsm_dir, ignore_errors=True)


_KEYGEN_ANSWERS = """
[ceremony]
title = "Demo KEK: generate and split 3-of-5 (rehearsal)"
location = "make demo"
[rehearsal]
warn = ["network", "swap"]      # a development machine is not air-gapped: warn, and say so
keep_card_files = true          # the drill below reads the cards
[confirm]
roll-call = true
destroy = true
seal = true
new-fingerprint-recorded = true
{people}
[steps.hand-over]
cards = [
{cards}
]
"""

_DRILL_ANSWERS = """
[ceremony]
title = "Demo KEK: disaster-recovery drill (rehearsal)"
location = "make demo"
[rehearsal]
warn = ["network", "swap"]
[confirm]
roll-call = true
new-fingerprint-recorded = true
{people}
[steps.present-cards]
cards = [
{cards}
]
[anchors]
set_fingerprint = "{set_fingerprint}"
"""

_PEOPLE = [("Dana Ruiz", "ceremony-administrator"), ("Eve Park", "witness"), ("Jürgen Weiß", "witness"),
           ("Alice Ng", "custodian"), ("Bongani Dube", "custodian"), ("Chen Wei", "custodian"),
           ("Dana Levi", "custodian"), ("Emeka Obi", "custodian"), ("Farah Haddad", "auditor")]


def _people(names: set[str] | None = None) -> str:
    return "\n".join(f'[[participants]]\nname = "{n}"\nrole = "{r}"'
                     for n, r in _PEOPLE if names is None or r != "custodian" or n in names)


def _ceremony_demo(out: Path) -> None:
    """Part 3: the key-generation ceremony run headless by `keyceremony run` (SoftHSM2 when it
    is installed), then a DR drill from 3 of the 5 cards scanned back from images; both
    transcripts verified with the templates' requirements."""
    import json
    import secrets
    import shlex
    import shutil
    import subprocess

    from keyceremony.cards.raster import render_pdf
    from keyceremony.codec.fingerprint import format_fingerprint
    from keyceremony.transcript import TemplateRequirements, verify_transcript

    out = out.resolve()  # the answers files name the card scans by absolute path
    out.mkdir(parents=True, exist_ok=True)
    for old in ("keygen", "drill"):
        shutil.rmtree(out / old, ignore_errors=True)
    env = dict(os.environ)
    module = os.environ.get("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
    hsm_args: dict[str, list[str]] = {"keygen": [], "drill": []}
    hsm_dir = None
    if shutil.which("softhsm2-util") and Path(module).exists():
        hsm_dir = Path(tempfile.mkdtemp(prefix="keyceremony-demo-ceremony-"))
        (hsm_dir / "tokens").mkdir()
        (hsm_dir / "softhsm2.conf").write_text(f"directories.tokendir = {hsm_dir / 'tokens'}\n"
                                               "objectstore.backend = file\nlog.level = ERROR\n")
        env["SOFTHSM2_CONF"] = str(hsm_dir / "softhsm2.conf")
        env["KEYCEREMONY_PIN"] = secrets.token_hex(4)
        for token in ("ceremony-root", "ceremony-scratch"):
            subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", token, "--so-pin",
                            secrets.token_hex(4), "--pin", env["KEYCEREMONY_PIN"]], check=True,
                           capture_output=True, env=env)
        for which, token in (("keygen", "ceremony-root"), ("drill", "ceremony-scratch")):
            hsm_args[which] = ["--backend", "pkcs11", "--module", module, "--token", token]
        where = "SoftHSM2 (private tokens 'ceremony-root' and 'ceremony-scratch')"
    else:
        where = "the software back end (SoftHSM2 is not installed)"
    custodians = [n for n, r in _PEOPLE if r == "custodian"]

    def run(template: str, answers: str, name: str) -> None:
        path = out / f"{name}-answers.toml"
        path.write_text(answers, encoding="utf-8")
        cmd = [sys.executable, "-m", "keyceremony", "run", template, "--answers", str(path),
               "--out", str(out / name), "--quiet", *hsm_args[name]]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"demo FAILED: keyceremony run {template}:\n{done.stderr}")

    def verified(name: str) -> VerifiedTranscript:
        state = json.loads((out / name / "state.json").read_text())
        requirements = TemplateRequirements.from_json(json.loads((out / name / "requirements.json").read_text()))
        return verify_transcript(out / name / "transcript.jsonl",
                                 expected_fingerprint=bytes.fromhex(state["fingerprint"]),
                                 later_fingerprints=[bytes.fromhex(f) for f in state["later_fingerprints"]],
                                 template_requirements=requirements)

    try:
        print(f"\nPart 3: a key-generation ceremony and a DR drill, run headless from templates, in {where}\n")
        t0 = time.perf_counter()
        cards = ",\n".join(f'  {{ card = {i}, custodian = "{n}", bag = "TEB-9000{i}" }}'
                           for i, n in enumerate(custodians, 1))
        run("key-generation", _KEYGEN_ANSWERS.format(people=_people(), cards=cards), "keygen")
        keygen = verified("keygen")
        scans = out / "scans"
        scans.mkdir(exist_ok=True)
        chosen = (2, 4, 5)
        for x in chosen:  # a scanner's view of the card: 150 dpi, a little crooked
            page = render_pdf(out / "keygen" / "cards" / f"card-{x}.pdf", dpi=150)[0]
            page.rotate(2, expand=True, fillcolor=255).save(scans / f"card-{x}.png")
        cards = ",\n".join(f'  {{ file = "{scans / f"card-{x}.png"}", custodian = "{custodians[x - 1]}", '
                           f'bag = "TEB-9000{x}" }}' for x in chosen)
        drill_people = _people({custodians[x - 1] for x in chosen})
        made = next(e.data for e in keygen.entries if e.event == "shares-made")  # read aloud, written down
        run("dr-drill", _DRILL_ANSWERS.format(people=drill_people, cards=cards,
                                              set_fingerprint=made["set_fingerprint"]), "drill")
        drill = verified("drill")
        seconds = time.perf_counter() - t0
        events = {(e.step, e.event): e.data for e in drill.entries}
        tested = events.get(("test-decrypt", "key-tested"), {})
        recovered = events.get(("recover", "key-recovered"), {})
        generated = next(e.data for e in keygen.entries if "kcv" in e.data)
        if recovered.get("kcv") != generated.get("kcv") or not recovered.get("kcv_matches") or not tested:
            raise SystemExit("demo FAILED: the drill did not recover the generated key")
        print("What the ceremonies proved:")
        _say(f"key generation: {len(keygen.entries)} signed, hash-chained entries over the steps "
             f"{', '.join(keygen.steps)}, each with its quorum; transcript verified and sealed")
        _say(f"ceremony key {format_fingerprint(keygen.fingerprint)} destroyed at the seal: "
             "nothing can be added to the record")
        _say(f"DR drill: cards {', '.join(map(str, chosen))} read back from 150 dpi images, 2° askew; the key "
             f"'{recovered.get('backed_up_label')}' recovered with check value {str(recovered.get('kcv', '')).upper()} "
             "(matches the one recorded at generation)")
        accepted = events.get(("present-cards", "cards-accepted"), {})
        if accepted.get("anchored_by") != ["set fingerprint"]:
            raise SystemExit("demo FAILED: the drill was not anchored to the paper log")
        _say(f"the cards were checked against the set fingerprint written down at key generation "
             f"({made['set_fingerprint']}): ANCHORED, recorded in the transcript")
        _say(f"canary: {tested.get('canary', 'checked')}; the throwaway copy was then destroyed")
        _say(f"both transcripts verify (reports for signing: transcript-report.pdf) — {seconds:.1f} s for both "
             "ceremonies; an auditor checks the drill's against the fingerprint read aloud at its roll call:")
        print(f"      keyceremony transcript verify {shlex.quote(str(out / 'drill' / 'transcript.jsonl'))} "
              f"--fingerprint '{format_fingerprint(drill.fingerprint)}' "
              f"--requirements {shlex.quote(str(out / 'drill' / 'requirements.json'))}")
    finally:
        if hsm_dir is not None:
            shutil.rmtree(hsm_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
