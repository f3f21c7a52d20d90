"""Share cards: build a card for each signed share, print it to PDF, and prove it reads back.

A card is only handed over once the PDF just written has been rendered to pixels and its QR code
decoded to exactly the share it was made from, and its printed text lines parse back to the same
share (docs/share-cards.md). The drawing, rasterizing and QR libraries are each behind their own
module and imported only here, when cards are asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from keyceremony.atomic_file import write_atomically
from keyceremony.cards.model import CardContent, backup_instructions, standard_instructions
from keyceremony.codec.pgp_words import to_words
from keyceremony.errors import KeyCeremonyError
from keyceremony.keys.backup_package import HEADER as PACKAGE_HEADER
from keyceremony.keys.backup_package import BackupPackage, format_kcv
from keyceremony.shares import text as share_text
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import format_fingerprint, format_set_id

READBACK_DPI = 150  # the lowest resolution found reliable (docs/share-cards.md §1); a margin over 200 dpi scans


class CardReadbackError(KeyCeremonyError):
    """A card just written does not read back to its share: do not hand it over."""


def card_content(
    payload: SharePayload,
    *,
    custodian: str | None = None,
    paper: str = "a4",
    key_check_value: str | None = None,
    package: BackupPackage | None = None,
    ceremony_fingerprint: str | None = None,
    owner: str | None = None,
    contact: str | None = None,
) -> CardContent:
    """What the card of ``payload`` says (docs/share-cards.md §2).

    With ``package`` (a key backup, docs/backup-package.md) the card also carries the backup
    package as a second QR code and, on page 2, as its typeable form, the key's check value, and
    says to recover with ``keyceremony recover``. ``owner`` and ``contact`` (not secret, not
    signed) say whom to tell when the card is lost.
    """
    fp = payload.fingerprint()
    if package is not None and key_check_value is None:
        key_check_value = format_kcv(package.key_check_value)
    lines = share_text.to_text(payload).splitlines()[1:]
    return CardContent(
        title="keyceremony share card",
        key_label=payload.label or "(unlabelled secret)",
        set_id=format_set_id(payload.set_id),
        share_index=payload.x,
        share_count=payload.count,
        threshold=payload.threshold,
        custodian=custodian,
        created=datetime.fromtimestamp(payload.created, UTC).date().isoformat(),
        qr_text=share_text.to_qr_text(payload),
        text_lines=tuple(lines),
        fingerprint=format_fingerprint(fp),
        fingerprint_words=tuple(to_words(fp)),
        key_check_value=key_check_value,
        instructions=(standard_instructions if package is None else backup_instructions)(
            payload.threshold, owner, contact),
        paper=paper,
        package_qr_text=package.to_qr_text() if package is not None else None,
        package_text_lines=package_text_lines(package) if package is not None else None,
        ceremony_fingerprint=ceremony_fingerprint,
    )


def package_text_lines(package: BackupPackage) -> tuple[str, ...]:
    """The package's typeable form as a card prints it: its header and numbered data lines
    (docs/backup-package.md §5; the comments of package.kcb's text form are left out)."""
    return tuple(package.to_text(comments=[]).splitlines())


def unprintable_name(what: str, name: str) -> str | None:
    """Why *name* (a key label or custodian) cannot go on a card, or ``None`` if it can: the
    checks ``CardContent`` makes, and whether the card's fonts can print every character
    (docs/share-cards.md §2.1). Callers ask before anything is made."""
    from keyceremony.cards.model import check_field
    from keyceremony.cards.pdf import FONT_DESCRIPTION, unprintable

    try:
        check_field(f"{what} '{name}'", name, allow_empty=True)
    except ValueError as err:
        return f"{err}; it cannot go on a card"
    bad = unprintable(name)
    if bad is not None:
        return (f"{what} '{name}' contains {bad!r} (U+{ord(bad):04X}), which {FONT_DESCRIPTION} cannot "
                "print on the card; write it in a script the fonts have (Latin, Greek or Cyrillic"
                + ("; a name as the holder's passport spells it in Latin letters, say)"
                   if "custodian" in what else ")"))
    return None


def check_card_fits(payload: SharePayload) -> None:
    """Raise UsageError unless a share like ``payload`` fits on a card (its typeable form is at
    most 16 lines, its QR code at most 1,200 characters), saying how large a secret does."""
    import dataclasses

    from keyceremony.errors import UsageError

    def fits(n: int) -> bool:
        try:
            card_content(dataclasses.replace(payload, y=bytes(n)))
        except ValueError:
            return False
        return True

    if fits(len(payload.y)):
        return
    lo, hi = 0, len(payload.y)  # fits(lo) or lo == 0; not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    label = " with this label" if payload.label else ""
    raise UsageError(
        f"a card holds the share of a secret of at most {lo} bytes{label}; this secret is "
        f"{len(payload.y)} bytes. Split it without --cards (share files only), or keep the large "
        "secret encrypted and back up its key: `keyceremony backup` puts a 32-byte wrapping key "
        "on the cards; nothing was written"
    )


def check_card_names(label: str, custodians: Sequence[str], owner: str | None = None,
                     contact: str | None = None) -> None:
    """Raise UsageError naming the first label, custodian, key owner or contact that cannot go
    on a card."""
    from keyceremony.errors import UsageError

    named = [("--owner", owner), ("--contact", contact)]
    for what, name in (("--label", label), *(("--custodian", c) for c in custodians),
                       *((w, n) for w, n in named if n is not None)):
        problem = unprintable_name(what, name)
        if problem is not None:
            raise UsageError(problem + "; nothing was written")


@dataclass(frozen=True)
class CardCheck:
    path: Path
    x: int
    render_seconds: float
    decode_seconds: float


def render_card(payload: SharePayload, **kwargs: object) -> bytes:
    from keyceremony.cards.pdf import render_card_pdf

    return render_card_pdf(card_content(payload, **kwargs))  # type: ignore[arg-type]


def verify_card_pdf(
    pdf: bytes, payload: SharePayload, *, name: str, package: BackupPackage | None = None
) -> CardCheck:
    """Render ``pdf`` to pixels, decode its QR code(s) and parse its text; raise unless all match.

    With ``package`` the card must carry exactly two codes on page 1: the share, and the backup
    package; and the package's typeable form, as the PDF's page 2 text gives it, must parse back
    to the package.
    """
    from keyceremony.cards.qrscan import decode_qr
    from keyceremony.cards.raster import pdf_text, render_pdf

    codes, want_pages = (1, 1) if package is None else (2, 2)
    t0 = time.perf_counter()
    pages = render_pdf(pdf, dpi=READBACK_DPI)
    t1 = time.perf_counter()
    texts = decode_qr(pages[0], min_codes=codes) if pages else []
    t2 = time.perf_counter()
    want = payload.to_bytes()
    if len(pages) != want_pages or len(texts) != codes:
        raise CardReadbackError(
            f"{name}: expected {want_pages} page(s) with {codes} QR code(s) on page 1, found {len(pages)} "
            f"page(s) and {len(texts)} code(s); the card was not printed correctly, do not hand it over"
        )
    if package is not None:
        package_texts = [t for t in texts if t == package.to_qr_text()]
        if len(package_texts) != 1:
            raise CardReadbackError(
                f"{name}: the backup package's QR code does not read back to the package; do "
                "not hand the card over"
            )
        texts = [t for t in texts if t != package_texts[0]]
        if printed_package(pdf_text(pdf)[1], source=name).to_bytes() != package.to_bytes():
            raise CardReadbackError(f"{name}: the package's printed lines on page 2 give another package; "
                                    "do not hand the card over")
    if share_text.from_qr_text(texts[0], source=name).to_bytes() != want:
        raise CardReadbackError(f"{name}: the QR code reads back to a different share; do not hand it over")
    typed = share_text.HEADER + "\n" + "\n".join(card_content(payload).text_lines) + "\n"
    if share_text.from_text(typed, source=name).to_bytes() != want:
        raise CardReadbackError(f"{name}: the printed text lines do not give back the share")
    return CardCheck(Path(name), payload.x, t1 - t0, t2 - t1)


def printed_package(page_text: str, *, source: str) -> BackupPackage:
    """The package whose typeable form a card's page 2 text holds (its header line and the
    numbered lines right under it); CardReadbackError if it does not parse."""
    import itertools
    import re

    from keyceremony.errors import PackageFormatError

    lines = page_text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == PACKAGE_HEADER)
    except StopIteration:
        raise CardReadbackError(f"{source}: page 2 does not show the package's header line; do not hand "
                                "the card over") from None
    data = [line.strip() for line in itertools.takewhile(lambda s: re.match(r"\s*\d\d\s", s), lines[start + 1:])]
    try:
        return BackupPackage.from_text(PACKAGE_HEADER + "\n" + "\n".join(data) + "\n", source=source)
    except PackageFormatError as err:
        raise CardReadbackError(f"the package's printed lines do not read back: {err}; do not hand the "
                                "card over") from None


def write_cards(
    payloads: Sequence[SharePayload],
    out_dir: Path,
    *,
    custodians: Sequence[str] = (),
    paper: str = "a4",
    write: Callable[[Path, bytes], None] | None = None,
    package: BackupPackage | None = None,
    ceremony_fingerprint: str | None = None,
    owner: str | None = None,
    contact: str | None = None,
) -> list[CardCheck]:
    """Write card-<x>.pdf for every share and verify each one as written.

    ``custodians`` name the holders of shares 1, 2, ... in order (fewer is fine). ``package``:
    every card also carries this backup package (and its key check value).
    ``ceremony_fingerprint``: the fingerprint of the ceremony key whose transcript records the
    cards, printed on each (docs/transcript.md §6.2).
    ``owner``, ``contact``: whom the cards say to tell when one is lost (not secret, not signed).
    ``write(path, data)`` stores a file (default: ``write_atomically``, whole and private, mode
    0600); raises CardReadbackError.
    """
    if len(custodians) > len(payloads):
        raise ValueError(f"{len(custodians)} custodians named for {len(payloads)} shares")
    checks = []
    for i, payload in enumerate(payloads):
        custodian = custodians[i] if i < len(custodians) else None
        path = out_dir / f"card-{payload.x}.pdf"
        pdf = render_card(payload, custodian=custodian, paper=paper, package=package,
                          ceremony_fingerprint=ceremony_fingerprint, owner=owner, contact=contact)
        (write or write_atomically)(path, pdf)
        checks.append(verify_card_pdf(path.read_bytes(), payload, name=str(path), package=package))
    return checks

