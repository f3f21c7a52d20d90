"""Cards and share files of a key backup: the share, the backup package and the key check value
on every card, read back from pixels; both kinds of payload read from files by their magic."""

from __future__ import annotations

import pytest

from keyceremony.cards.pdf import render_card_pdf
from keyceremony.cards.qrscan import decode_qr
from keyceremony.cards.raster import pdf_text, render_pdf
from keyceremony.cards.share_cards import (
    CardReadbackError,
    card_content,
    printed_package,
    render_card,
    verify_card_pdf,
)
from keyceremony.errors import PackageFormatError
from keyceremony.keys.backup_package import format_kcv
from keyceremony.keys.model import KeyAlgorithm
from keyceremony.keys.soft import SoftBackend
from keyceremony.recipes.backup import Backup, generate_and_back_up, write_backup
from keyceremony.recipes.sources import read_payloads, read_shares


def soft_backup(label: str, algorithm: KeyAlgorithm, threshold: int = 3, count: int = 5) -> Backup:
    with SoftBackend() as soft:
        return generate_and_back_up(soft, label, algorithm, threshold, count)


@pytest.fixture(scope="module")
def aes() -> Backup:
    return soft_backup("payments-kek", KeyAlgorithm.AES256)


def clean_margins(page) -> None:
    margin = round(10 / 25.4 * 100)  # 10 mm at 100 dpi; the card keeps 13 mm
    w, h = page.size
    for box in ((0, 0, w, margin), (0, h - margin, w, h), (0, 0, margin, h), (w - margin, 0, w, h)):
        assert page.crop(box).getextrema() == (255, 255), f"ink in the margin {box}"


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_a_backup_card_carries_the_share_the_package_and_the_check_value(aes, paper):
    share, package = aes.shares[1], aes.package
    card = card_content(share, custodian="Alice Ng", paper=paper, package=package)
    assert card.package_qr_text == package.to_qr_text()
    assert card.key_check_value == format_kcv(package.key_check_value)
    assert "`keyceremony recover`" in " ".join(card.instructions)
    pdf = render_card_pdf(card)
    check = verify_card_pdf(pdf, share, name="card-2.pdf", package=package)  # both codes at 150 dpi
    assert check.x == 2
    for page in render_pdf(pdf, dpi=100):
        clean_margins(page)
    first, second = pdf_text(pdf)
    assert "BAG NUMBER" in first and "WITNESS SIGNATURE" in first and "page 1 of 2" in first
    assert "payments-kek" in second and "share 2 of 5" in second and "page 2 of 2" in second
    assert printed_package(second, source="page 2").to_bytes() == package.to_bytes()
    # a card without the package, checked as a backup card, is refused
    with pytest.raises(CardReadbackError, match="expected 2 page"):
        verify_card_pdf(render_card(share), share, name="card-2.pdf", package=package)


def test_a_card_whose_printed_package_lines_differ_is_refused(aes):
    import dataclasses

    share = aes.shares[0]
    card = card_content(share, package=aes.package)
    lines = list(card.package_text_lines)
    lines[3] = lines[5]  # a wrong line: its number and check no longer match
    pdf = render_card_pdf(dataclasses.replace(card, package_text_lines=tuple(lines)))
    with pytest.raises(CardReadbackError, match="printed lines do not read back.*line 4"):
        verify_card_pdf(pdf, share, name="card-1.pdf", package=aes.package)


def test_owner_and_contact_are_printed_and_bounded(aes):
    card = card_content(aes.shares[0], package=aes.package, owner="Dora Szabó", contact="+44 20 7946 0000")
    assert "tell the key owner at once (Dora Szabó, +44 20 7946 0000)" in card.instructions[3]
    generic = card_content(aes.shares[0]).instructions[3]
    assert "tell the key owner at once (as named in the transcript or log of the ceremony" in generic
    with pytest.raises(ValueError, match="the key owner is 65 characters long; at most 64"):
        card_content(aes.shares[0], owner="x" * 65)
    with pytest.raises(ValueError, match="the owner's contact contains a control character"):
        card_content(aes.shares[0], contact="a\nb")


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_largest_backup_card_fits_and_reads_back(paper):
    """The widest label and custodian a backup accepts, 255 shares, and the largest package
    (a software P-256 key: PKCS#8 with its public key, about 900 characters, QR version 24)."""
    backup = soft_backup("W" * 64, KeyAlgorithm.EC_P256, 254, 255)
    share = backup.shares[-1]
    assert len(backup.package.to_qr_text()) > 850
    pdf = render_card(share, custodian="W" * 64, paper=paper, package=backup.package,
                      owner="W" * 64, contact="W" * 64)
    verify_card_pdf(pdf, share, name="card-255.pdf", package=backup.package)
    pages = render_pdf(pdf, dpi=100)
    assert len(pages) == 2
    for page in pages:
        clean_margins(page)
    first, second = pdf_text(pdf)
    assert "BAG NUMBER" in first and "W" * 40 in second
    assert len(card_content(share, package=backup.package).package_text_lines) == 39  # header and 38 lines


def test_package_qr_text_is_validated(aes):
    import dataclasses

    card = card_content(aes.shares[0], package=aes.package)
    for bad, message in (("abc", "'a'"), ("A" * 1001, "at most 1000"), ("", "non-empty")):
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(card, package_qr_text=bad)


# --- files: share files with a package block, package.kcb, card PDFs -----------------------------


def test_files_give_shares_and_packages_by_magic(aes, tmp_path):
    files = write_backup(aes, tmp_path, cards=False)
    assert [p.name for p in files][:2] == ["package.kcb", "share-1.txt"]
    share_file = tmp_path / "share-2.txt"
    text = share_file.read_text()
    assert text.startswith("keyceremony share v1\n") and "\n\nkeyceremony backup package v1\n" in text

    contents = read_payloads(str(share_file))
    assert [(n, p.x) for n, p in contents.shares] == [(str(share_file), 2)]
    assert contents.packages == [(str(share_file), aes.package)] and not contents.problems
    assert read_shares(str(share_file)) == contents.shares  # combine / verify-share skip the package
    assert read_payloads(str(tmp_path / "package.kcb")).packages[0][1] == aes.package

    # A typo in the package block is named by the file's own line number; the share still counts.
    lines = text.splitlines()
    at = lines.index("keyceremony backup package v1") + 7  # header, 4 comments, data lines 1, 2, 3
    lines[at] = lines[at][:6] + ("Q" if lines[at][6] != "Q" else "R") + lines[at][7:]
    share_file.write_text("\n".join(lines) + "\n")
    contents = read_payloads(str(share_file))
    assert len(contents.shares) == 1 and not contents.packages
    [problem] = contents.problems
    assert isinstance(problem, PackageFormatError)
    assert f"share-2.txt, line {at + 1}: data line 3 does not match its check" in str(problem)


def test_a_card_pdf_gives_both_payloads(aes, tmp_path):
    pdf = tmp_path / "card-3.pdf"
    pdf.write_bytes(render_card(aes.shares[2], package=aes.package))
    contents = read_payloads(str(pdf))
    assert [(n, p.x) for n, p in contents.shares] == [(str(pdf), 3)]
    assert contents.packages == [(f"{pdf} (backup package)", aes.package)]
    assert [(n, p.x) for n, p in read_shares(str(pdf))] == [(str(pdf), 3)]
    texts = decode_qr(render_pdf(pdf, dpi=150)[0])
    assert sorted(texts) == sorted([aes.package.to_qr_text(), _share_qr(aes.shares[2])])


def _share_qr(share) -> str:
    from keyceremony.shares.text import to_qr_text

    return to_qr_text(share)


def test_write_backup_removes_what_it_wrote_when_a_card_fails(aes, tmp_path, monkeypatch):
    import keyceremony.cards.share_cards as cards

    def broken(*args, **kwargs):
        raise CardReadbackError("card-1.pdf: the QR code reads back to a different share")

    monkeypatch.setattr(cards, "verify_card_pdf", broken)
    with pytest.raises(CardReadbackError):
        write_backup(aes, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_backup_modules_stay_light():
    """backup_package, cli_keys and the commands' help load no card, QR, scan or HSM library."""
    import subprocess
    import sys

    code = (
        "import sys, keyceremony.keys.backup_package, keyceremony.cli.keys, keyceremony.recipes.sources\n"
        "from keyceremony.cli.main import _parser; _parser().format_help()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pkcs11', 'reportlab', 'qrcode', 'pyzbar', 'pypdfium2', 'textual', 'cryptography'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_package_blocks_are_found_at_line_starts_only():
    """A package block opens a line (any case, indented or not); the words inside a comment or
    a data line's neighbour do not open one."""
    from keyceremony.recipes.sources import _package_starts

    raw = (b"keyceremony share v1\n# made with keyceremony backup package v1 beside it\n01  AAAA\n"
           b"  KeyCeremony Backup Package V1\n01  BBBB\r\n\tkeyceremony backup package v2\n")
    starts = _package_starts(raw)
    assert [raw[s:].split(b"\n", 1)[0].strip() for s in starts] == [b"KeyCeremony Backup Package V1",
                                                                      b"keyceremony backup package v2"]
    assert all(s == 0 or raw[s - 1 : s] == b"\n" for s in starts)
    assert _package_starts(b"") == [] and _package_starts(b"keyceremony backup package v1") == [0]
    # searched in pieces: a header cut by any piece boundary is still found, once
    import keyceremony.recipes.sources as share_sources

    for piece in range(1, 40):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(share_sources, "_SEARCH_PIECE", piece)
            assert _package_starts(raw) == starts
