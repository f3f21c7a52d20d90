"""Default implementations of the engine's ports: key stores, the card printer and scanner.

- :class:`SoftKeys`: the software key store (in memory) and a :class:`~keyceremony.transcript.signer.SoftSigner`
  ceremony key; nothing survives the process.
- :class:`Pkcs11Keys`: a PKCS#11 token; the ceremony key is an Ed25519 key pair in the token
  (:class:`~keyceremony.keys.pkcs11_backend.Pkcs11Signer`), which survives a crash.
- :class:`PdfCardPrinter`: "prints" a backup's cards as PDF files into a folder (``DIR/cards``),
  each rendered and read back before it counts (:func:`keyceremony.cards.share_cards.write_cards`); send
  them to the printer from there. :class:`FileCardScanner` reads cards, scans and share files.

Heavy libraries (cryptography, reportlab, pkcs11, pypdfium2, pyzbar) are imported when used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyceremony.ceremony.ports import PrintedCard

if TYPE_CHECKING:
    from keyceremony.recipes.backup import Backup


def _no_card_hook(done: int, total: int) -> None:
    pass


class SoftKeys:
    """The software back end: keys in this program's memory, a software ceremony key.

    ``test_key`` is a **test-only hook** (``KEYCEREMONY_TEST_SOFT_KEY``): the key-generation
    step imports these bytes instead of generating a key, so a test knows the key and can look
    for it in every file the ceremony writes. The engine records its use in the transcript's
    opening entry and the report says the ceremony is not real.
    """

    kind = "soft"
    persistent = False

    def __init__(self, *, test_key: bytes | None = None) -> None:
        self._test_key = test_key

    @property
    def test_hooks(self) -> tuple[str, ...]:
        return ("soft-key-import",) if self._test_key is not None else ()

    def open(self) -> Any:
        from keyceremony.keys.soft import SoftBackend

        return SoftBackend()

    def describe(self, backend: Any) -> Mapping[str, str]:
        from importlib import metadata

        return {
            "store": "software key store in this program's memory (no HSM)",
            "library": f"cryptography {metadata.version('cryptography')}",
        }

    def check(self, backend: Any) -> str:
        return "no HSM: the software back end keeps keys in this program's memory"

    def new_signer(self, backend: Any, ceremony_id: str) -> Any:
        from keyceremony.transcript.signer import SoftSigner

        return SoftSigner.generate()

    def find_signer(self, backend: Any, ceremony_id: str) -> Any | None:
        return None  # a software ceremony key dies with its process (docs/transcript.md §7)

    def generate_key(self, backend: Any, label: str, algorithm: Any) -> Any:
        if self._test_key is None:
            return backend.generate(label, algorithm, extractable_wrapped=True)
        material = bytearray(self._test_key)
        try:
            return backend.import_key(label, algorithm, material)
        finally:
            material[:] = bytes(len(material))


class Pkcs11Keys:
    """A PKCS#11 token, opened by label with the user PIN (used once, at :meth:`open`)."""

    kind = "pkcs11"
    persistent = True
    test_hooks: tuple[str, ...] = ()

    def __init__(self, module: str, token: str, pin: str, *, wrap_mechanism: str | None = None) -> None:
        self.module = module
        self.token = token
        self._pin: str | None = pin
        self._wrap_mechanism = wrap_mechanism

    def with_pin(self, pin: str) -> Pkcs11Keys:
        """The same token again with a PIN typed anew (this one forgot its PIN when it opened)."""
        return Pkcs11Keys(self.module, self.token, pin, wrap_mechanism=self._wrap_mechanism)

    def open(self) -> Any:
        from keyceremony.keys.pkcs11_backend import Pkcs11Backend

        pin, self._pin = self._pin, None
        if pin is None:
            raise ValueError("this token was opened already; the PIN is not kept")
        return Pkcs11Backend(self.module, self.token, pin, wrap_mechanism=self._wrap_mechanism)

    def describe(self, backend: Any) -> Mapping[str, str]:
        from keyceremony.keys.pkcs11_backend import token_info

        return token_info(backend)

    def check(self, backend: Any) -> str:
        backend.count_objects("keyceremony preflight probe")  # a round trip to the token
        return (
            f"token '{backend.token_label}' answers; logged in; RFC 5649 wrap with "
            f"CKM_{backend.wrap_mechanism}; the ceremony key signs with CKM_EDDSA"
        )

    def new_signer(self, backend: Any, ceremony_id: str) -> Any:
        from keyceremony.keys.pkcs11_signer import Pkcs11Signer, ceremony_key_label

        return Pkcs11Signer.generate(backend, ceremony_key_label(ceremony_id))

    def find_signer(self, backend: Any, ceremony_id: str) -> Any | None:
        from keyceremony.keys.pkcs11_signer import Pkcs11Signer, ceremony_key_label

        return Pkcs11Signer.find(backend, ceremony_key_label(ceremony_id))

    def generate_key(self, backend: Any, label: str, algorithm: Any) -> Any:
        return backend.generate(label, algorithm, extractable_wrapped=True)


class PdfCardPrinter:
    """Writes ``package.kcb`` and ``card-<x>.pdf`` (mode 0600) into ``directory``, and the
    transcript report (``transcript-report.pdf``) into its parent folder."""

    PACKAGE = "package.kcb"
    REPORT = "transcript-report.pdf"

    def __init__(self, directory: Path, *, paper: str = "a4") -> None:
        self.directory = Path(directory)
        self.paper = paper

    def print_report(self, verified: Any, transcript: bytes, *, source_name: str) -> Path:
        """The auditors' PDF of the verified transcript (transcript_report.build_report), with
        the ceremony key's fingerprint, every entry and signature lines."""
        from keyceremony.atomic_file import write_atomically
        from keyceremony.cards.pdf import render_report_pdf
        from keyceremony.transcript.report import build_report

        path = self.directory.parent / self.REPORT
        pdf = render_report_pdf(build_report(verified, transcript, source_name=source_name), paper=self.paper)
        write_atomically(path, pdf, mode=0o644)
        return path

    def unprintable_name(self, what: str, name: str) -> str | None:
        from keyceremony.cards.share_cards import unprintable_name

        return unprintable_name(what, name)

    def print_backup(
        self,
        backup: Backup,
        *,
        custodians: Sequence[str],
        paper: str,
        ceremony_fingerprint: str,
        on_card: Callable[[int, int], None] = _no_card_hook,
        owner: str | None = None,
        contact: str | None = None,
    ) -> Sequence[PrintedCard]:
        from keyceremony.atomic_file import write_atomically
        from keyceremony.cards.share_cards import READBACK_DPI, write_cards

        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomically(self.directory / self.PACKAGE, backup.package.to_bytes(), mode=0o644)
        checks = []
        total = len(backup.shares)
        for i, share in enumerate(backup.shares):  # one card at a time: on_card may stop us between two
            checks += write_cards(
                [share], self.directory, custodians=list(custodians[i : i + 1]), paper=paper,
                write=write_atomically, package=backup.package, ceremony_fingerprint=ceremony_fingerprint,
                owner=owner, contact=contact,
            )  # fmt: skip
            on_card(i + 1, total)
        names = dict(enumerate(custodians, start=1))
        readback = f"rendered at {READBACK_DPI} dpi; both QR codes decoded and the text lines parsed back to the share"
        return tuple(PrintedCard(c.x, Path(c.path), names.get(c.x), readback) for c in checks)

    def card_path(self, share_number: int) -> Path:
        return self.directory / f"card-{share_number}.pdf"

    def printed_files(self) -> Sequence[Path]:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted(self.directory.glob("card-*.pdf")))

    def shred(self, paths: Sequence[Path]) -> None:
        """Overwrite each file with zeros, fsync, and delete it. (On flash storage and
        journaling file systems overwriting is not a guarantee: the ceremony laptop's live
        system keeps these files in RAM; docs/ceremony-guide.md §2.)"""
        for path in paths:
            try:
                if path.is_symlink():  # never overwrite what a planted link points at: remove the link
                    path.unlink()
                    continue
                size = path.stat().st_size
                fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
                try:
                    os.write(fd, bytes(size))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                path.unlink()
            except FileNotFoundError:
                continue
        from keyceremony.atomic_file import fsync_directory

        if self.directory.is_dir():
            fsync_directory(self.directory)


class FileCardScanner:
    """Reads shares and backup packages from files (share_sources.read_payloads)."""

    def read(self, path: Path) -> Any:
        from keyceremony.recipes.sources import read_payloads

        return read_payloads(str(path))
