"""Back up an HSM key onto signed cards, and recover or drill it: the recipes layer (headless).

A backup wraps the key under a fresh 256-bit *wrapping key* (RFC 5649), records its check value
and a canary, splits the wrapping key k-of-n into signed shares, and signs a *backup package*
(docs/backup-package.md) with the same set key, so the package and the cards are bound. The
wrapping key is wiped as soon as it is split; the package holds nothing secret.

    with SoftBackend() as soft:                                 # or Pkcs11Backend(module, token, pin)
        backup = generate_and_back_up(soft, "payments-kek", KeyAlgorithm.AES256, 3, 5)
        files = write_backup(backup, Path("backup"))
    with gather_recovery_inputs(["backup/share-1.txt", "backup/share-3.txt", "backup/card-5.pdf"]) as inputs:
        with SoftBackend() as scratch:
            report = recover_backup(scratch, inputs, drill=True)   # nothing is kept
    print(report.to_text())

Both front ends (``keyceremony backup`` / ``recover`` in cli_keys, and the demo) drive these
functions; they import ``cryptography`` (and, through cards, reportlab) only when called.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from keyceremony.atomic_file import write_atomically
from keyceremony.errors import (
    KeyBackendError,
    KeyCeremonyError,
    PackageMismatch,
    PackageMissing,
    ThresholdNotMet,
)
from keyceremony.keys.backend import KeyBackend, KeyHandle, wipe
from keyceremony.keys.backup_package import BackupPackage, format_kcv, format_package_fingerprint
from keyceremony.keys.model import KeyAlgorithm
from keyceremony.recipes.anchors import Anchors
from keyceremony.shares.payload import SharePayload, check_label

RandomBytes = Callable[[int], bytes]
Step = Callable[[str], None]
WRAPPING_KEY_BYTES = 32  # a fresh AES-256 backup wrapping key per backup
PACKAGE_FILE = "package.kcb"
DRILL_LABEL_PREFIX = "keyceremony drill "

__all__ = [
    "Backup",
    "DrillReport",
    "RecoveryInputs",
    "gather_recovery_inputs",
    "generate_and_back_up",
    "make_backup",
    "read_sources",
    "recover_backup",
    "reveal_key",
    "write_backup",
]


def _quiet(_: str) -> None:
    pass


# --- backup ------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Backup:
    """A finished backup: the signed package and the signed shares of its wrapping key."""

    package: BackupPackage
    shares: tuple[SharePayload, ...]

    def __repr__(self) -> str:
        return f"Backup({self.package!r}, {len(self.shares)} shares)"


def make_backup(
    backend: KeyBackend,
    key: KeyHandle,
    threshold: int,
    count: int,
    *,
    created: int | None = None,
    randbytes: RandomBytes = os.urandom,
    on_step: Step = _quiet,
) -> Backup:
    """Back up ``key`` (a key in ``backend``): wrap it under a fresh wrapping key, check the
    wrapped copy restores (keys.recovery.backup_key), split the wrapping key into ``count``
    signed shares of which ``threshold`` recover it, and sign the package with the set key.

    The wrapping key and the set's private key are wiped or dropped before this returns or
    raises. Raises ValueError on misuse (bad threshold/count, a label that cannot be printed on
    the cards), KeyBackendError / HSMError if the back end cannot wrap the key.
    """
    from keyceremony.keys.recovery import backup_key
    from keyceremony.shares.shareset import SetKey, create_share_set

    if not 1 <= threshold <= count <= 255:
        raise ValueError(f"need 1 <= threshold <= count <= 255, got {threshold} of {count}")
    check_label(key.label)  # printed on every card (share_payload.check_label)
    when = int(time.time()) if created is None else created
    wrapping_key = bytearray(randbytes(WRAPPING_KEY_BYTES))
    try:
        on_step(f"wrapping key '{key.label}' under a fresh 256-bit wrapping key (RFC 5649)...")
        wrapped, info, canary = backup_key(backend, key, bytearray(wrapping_key))  # wipes its copy
        on_step(f"splitting the wrapping key {threshold}-of-{count} into signed shares...")
        with SetKey(randbytes) as set_key:
            shares = create_share_set(
                wrapping_key, threshold, count, label=key.label, created=when,
                randbytes=randbytes, set_key=set_key,
            )  # fmt: skip
            first = shares[0]
            unsigned = BackupPackage.from_parts(
                wrapped, info, canary, created=when, set_id=first.set_id,
                set_fingerprint=first.fingerprint(), threshold=threshold, count=count,
                set_public_key=set_key.public_key,
            )  # fmt: skip
            package = replace(unsigned, signature=set_key.sign(unsigned.signing_input()))
    finally:
        wipe(wrapping_key)
    package.verify()
    return Backup(package, tuple(shares))


def generate_and_back_up(
    backend: KeyBackend,
    label: str,
    algorithm: KeyAlgorithm,
    threshold: int,
    count: int,
    *,
    then: Callable[[Backup], object] | None = None,
    **kwargs: object,
) -> Backup:
    """Generate key ``label`` in ``backend`` (sensitive; extractable only wrapped) and back it
    up with :func:`make_backup`, then call ``then(backup)`` (e.g. :func:`write_backup`). If any
    of it fails, the new key is deleted again, so no key is left that has no backup; the error
    says so in a note."""
    key = backend.generate(label, algorithm, extractable_wrapped=True)
    try:
        backup = make_backup(backend, key, threshold, count, **kwargs)  # type: ignore[arg-type]
        if then is not None:
            then(backup)
        return backup
    except BaseException as err:
        try:
            backend.destroy(key)
            err.add_note(f"The new key '{label}' was deleted again, so no key without a backup is left.")
        except Exception as cleanup:  # noqa: BLE001 - the original error matters more
            err.add_note(f"Deleting the new key '{label}' also failed ({cleanup}); delete it by hand.")
        raise


def write_backup(
    backup: Backup,
    out_dir: Path,
    *,
    cards: bool = True,
    custodians: Sequence[str] = (),
    paper: str = "a4",
    on_step: Step = _quiet,
    owner: str | None = None,
    contact: str | None = None,
) -> list[Path]:
    """Write the backup into ``out_dir``: ``package.kcb``, ``share-<x>.txt`` (the share, then the
    package as a text block) and, with ``cards``, ``card-<x>.pdf`` (share QR, package QR, key
    check value; the package's typeable form on page 2; ``owner`` and ``contact`` as whom to
    tell if a card is lost), each card rendered and read back before it counts.

    Share files and cards are written with mode 0600, atomically. If anything fails, the files
    written so far are removed and the error raised (CardReadbackError, OSError).
    """
    from keyceremony.shares import text as share_text

    out_dir.mkdir(parents=True, exist_ok=True)
    package = backup.package
    written: list[Path] = []
    try:
        path = out_dir / PACKAGE_FILE
        write_atomically(path, package.to_bytes(), mode=0o644)
        written.append(path)
        for share in backup.shares:
            path = out_dir / f"share-{share.x}.txt"
            on_step(f"writing {path.name}...")
            text = share_text.to_text(share, share_comments(share, package)) + "\n" + package.to_text()
            write_atomically(path, text.encode("ascii"))
            written.append(path)
        if cards:
            from keyceremony.cards.share_cards import write_cards

            def write_and_record(card_path: Path, data: bytes) -> None:
                write_atomically(card_path, data)
                written.append(card_path)

            on_step("printing the cards and reading each one back...")
            write_cards(
                backup.shares, out_dir, custodians=custodians, paper=paper,
                write=write_and_record, package=package, owner=owner, contact=contact,
            )  # fmt: skip
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def share_comments(share: SharePayload, package: BackupPackage) -> list[str]:
    """The comment lines of a backup's share file (informational; the payload is authoritative)."""
    from keyceremony.shares.shareset import format_fingerprint, format_set_id

    when = datetime.fromtimestamp(share.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"{share.label}: share {share.x} of {share.count} of the backup wrapping key; any "
        f"{share.threshold} recover the key",
        f"set {format_set_id(share.set_id)}, made {when}; key check value {format_kcv(package.key_check_value)}",
        f"set fingerprint {format_fingerprint(share.fingerprint())}",
        "Keep this secret. The backup package after the share's lines is not secret.",
    ]


# --- recovery inputs -----------------------------------------------------------------------------


@dataclass(eq=False, repr=False)
class RecoveryInputs:
    """The rebuilt wrapping key, the package it opens and where both came from.

    A context manager: leaving the ``with`` block wipes the wrapping key.
    """

    package: BackupPackage
    package_source: str
    wrapping_key: bytearray
    reference: SharePayload
    used: tuple[str, ...]  # "card-1.pdf (share 1)", ...
    set_aside: tuple[str, ...] = field(default=())  # reasons, one per source not used
    anchors: Anchors = field(default_factory=Anchors)  # what the paper log gave, all matched

    @property
    def anchored(self) -> bool:
        return self.anchors.any

    def close(self) -> None:
        wipe(self.wrapping_key)

    def __enter__(self) -> RecoveryInputs:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RecoveryInputs({self.package!r}, used={self.used})"


@dataclass
class SourcesRead:
    """What the cards, share files and images of a recovery held (:func:`read_sources`)."""

    shares: list[tuple[str, SharePayload]] = field(default_factory=list)
    packages: list[tuple[str, BackupPackage]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one per source (or part) not usable


def read_sources(sources: Sequence[str], *, on_step: Step = _quiet) -> SourcesRead:
    """Read every source; what cannot be read is kept as a problem, never raised."""
    from keyceremony.recipes.sources import read_payloads

    read = SourcesRead()
    for source in sources:
        on_step(f"reading {source}...")
        try:
            contents = read_payloads(source)
        except KeyCeremonyError as err:
            read.problems.append(str(err))
            continue
        read.shares += contents.shares
        read.packages += contents.packages
        read.problems += [str(p) for p in contents.problems]
    return read


def gather_recovery_inputs(
    sources: Sequence[str] | SourcesRead,
    *,
    package_path: str | None = None,
    on_step: Step = _quiet,
    anchors: Anchors | None = None,
    typed: Sequence[tuple[str, SharePayload]] = (),
    typed_package: BackupPackage | None = None,
) -> RecoveryInputs:
    """Read the cards / share files / images in ``sources`` (and ``package_path``), with the
    shares ``typed`` in from their cards (already read, in memory), rebuild the
    wrapping key from the genuine shares, and pick the backup package that belongs to them.
    ``sources`` may be read already (:func:`read_sources`); ``typed_package``: a package typed
    in from page 2 of a card, tried first.

    Checks, in order: each share's signature (forged or altered ones are set aside); the shares
    of one set reach the threshold (ThresholdNotMet, naming what was set aside); the package's
    signature (PackageSignatureError); that the package names this share set and was signed by
    the same set key (PackageMismatch: cards from another backup). Without ``package_path`` the
    package is taken from the cards or share files (PackageMissing if none carries one).

    ``anchors`` (from the paper log): shares of other sets than the anchored one are set aside,
    and a package whose fingerprint or check value differs raises AnchorMismatch. Without a set
    fingerprint, shares of more than one set raise AmbiguousShareSets (shareset.recover_secret).
    """
    anchors = anchors or Anchors()
    from keyceremony.recipes.sources import read_payloads
    from keyceremony.shares.shareset import format_set_id, recover_secret

    read = sources if isinstance(sources, SourcesRead) else read_sources(sources, on_step=on_step)
    shares: list[tuple[str, SharePayload]] = list(typed) + read.shares
    packages = ([("the typed package", typed_package)] if typed_package is not None else []) + read.packages
    problems = list(read.problems)
    explicit: tuple[str, BackupPackage] | None = None
    if package_path is not None:
        contents = read_payloads(package_path)
        if not contents.packages:
            raise PackageMissing(
                f"{package_path}: holds no backup package; give the package.kcb file of the "
                "backup (or leave out --package: every card of the backup carries it)"
            )
        explicit = contents.packages[0]
        explicit[1].verify(source=explicit[0])

    if not shares:
        detail = "".join(f"\n  - {p}" for p in problems)
        raise ThresholdNotMet(
            "no share could be read from the sources given; bring the cards or share files of "
            "the backup" + (f". Could not use:{detail}" if detail else ""),
            have=0,
            need=1,
        )
    try:
        recovery = recover_secret(shares, expected_fingerprint=anchors.set_fingerprint)
    except ThresholdNotMet as err:
        if problems:
            detail = "".join(f"\n  - {p}" for p in problems)
            raise ThresholdNotMet(f"{err}. Could not read:{detail}", have=err.have, need=err.need,
                                  set_aside=err.set_aside, causes=err.causes) from None
        raise
    secret = bytearray(recovery.secret)  # recovery.secret is bytes: freed, not overwritten (docs/core.md §6)
    try:
        reference = recovery.reference
        if explicit is not None:
            source, package = explicit
            package.check_shares(reference, source=source)
        else:
            if anchors.package_fingerprint is not None:  # the recorded package, if several are given
                recorded = [(s, p) for s, p in packages if p.fingerprint() == anchors.package_fingerprint]
                packages = recorded or packages
            source, package = _choose_package(packages, reference, problems)
        anchors.check_package(package, source=source)
        if len(secret) not in (16, 24, 32):
            raise PackageMismatch(
                f"the cards of set {format_set_id(reference.set_id)} hold a {len(secret)}-byte "
                "secret, not a backup wrapping key; they are not the cards of a key backup"
            )
        x_of = {src: p.x for src, p in shares}
        used = tuple(f"{src} (share {x_of[src]})" for src in recovery.used)
        set_aside = tuple(problems) + tuple(r.reason for r in recovery.rejected)
        return RecoveryInputs(package, source, secret, reference, used, set_aside, anchors)
    except BaseException:
        wipe(secret)
        raise


def _choose_package(
    packages: list[tuple[str, BackupPackage]], reference: SharePayload, problems: list[str]
) -> tuple[str, BackupPackage]:
    from keyceremony.errors import PackageError
    from keyceremony.shares.shareset import format_set_id

    mismatched: list[tuple[str, BackupPackage]] = []
    for source, package in packages:
        try:
            package.verify(source=source)
        except PackageError as err:
            problems.append(str(err))
            continue
        if package.set_id == reference.set_id:
            try:
                package.check_shares(reference, source=source)
            except PackageMismatch as err:
                problems.append(str(err))
                continue
            return source, package
        mismatched.append((source, package))
    if mismatched:
        source, package = mismatched[0]
        package.check_shares(reference, source=source)  # raises PackageMismatch
    detail = "".join(f"\n  - {p}" for p in problems)
    if packages:
        found = "none of the cards or share files given carries one that verifies"
    else:  # docs/share-cards.md §3.1
        found = ("no backup package was read from the cards or share files given (on a card it is "
                 "the smaller QR code, headed 'Backup package'; if these are scans, scan one card "
                 "again flat at 300 dpi)")
    raise PackageMissing(
        f"no usable backup package for share set {format_set_id(reference.set_id)}: {found}. "
        "Give the backup's package.kcb with --package, or a card of this backup (each carries "
        "the package)" + (f". Set aside:{detail}" if detail else "")
    )


# --- recovery and drills -------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillReport:
    """What a recovery (or a drill, ``drill=True``) proved. Failures raise instead."""

    label: str
    algorithm: str
    key_check_value: str
    canary: str  # what was checked, and where
    shares_used: tuple[str, ...]
    set_aside: tuple[str, ...]
    share_set: str  # describe_set of the wrapping key's shares
    package_source: str
    package_fingerprint: str
    target: str  # "token 'recovery'" or "software (in memory)"
    outcome: str  # what was kept, or that nothing was
    started: str  # UTC, ISO 8601
    seconds: float
    drill: bool

    def to_text(self) -> str:
        title = "Recovery drill: PASSED" if self.drill else "Recovery: DONE"
        rows = [
            ("key label", f"{self.label} ({self.algorithm})"),
            ("key check value", f"{format_kcv(self.key_check_value)} (matches the backup package)"),
            ("canary", self.canary),
            ("shares used", f"{len(self.shares_used)}: " + ", ".join(self.shares_used)),
            ("set aside", "; ".join(self.set_aside) if self.set_aside else "none"),
            ("share set", self.share_set),
            ("backup package", f"{self.package_source}, fingerprint {self.package_fingerprint}"),
            ("recovered into", self.target),
            ("result", self.outcome),
            ("started", self.started),
            ("time", f"{self.seconds:.2f} s"),
        ]
        return "\n".join([title] + [f"  {name:<16} {value}" for name, value in rows])


def recover_backup(
    backend: KeyBackend,
    inputs: RecoveryInputs,
    *,
    label: str | None = None,
    persistent: bool = True,
    extractable: bool = False,
    drill: bool = False,
    target: str | None = None,
    randbytes: RandomBytes = os.urandom,
    clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], float] = time.time,
    started: float | None = None,
) -> DrillReport:
    """Unwrap the package's key into ``backend`` and prove it is the backed-up key: its check
    value equals the package's, and the canary decrypts (AES-GCM, inside the token) or verifies
    (signature, plus a fresh challenge signed by the recovered key). Any failure deletes the
    unwrapped key before raising (keys.recovery.recover_key): nothing is left half-imported.

    ``drill=True`` unwraps a session copy under a scratch label, checks it, deletes it and
    checks that the store holds no more objects than before. The recovered key is otherwise a
    persistent, non-extractable key labelled ``label`` (default: the package's label).

    Raises UnwrapError, KeyCheckMismatch, CanaryMismatch, LabelInUse, KeyBackendError/HSMError.
    """
    from keyceremony.keys.recovery import recover_key
    from keyceremony.shares.shareset import describe_set

    t0 = clock() if started is None else started
    when = datetime.fromtimestamp(now(), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    package = inputs.package
    if drill:
        label = DRILL_LABEL_PREFIX + randbytes(4).hex()
        persistent = False
    else:
        label = label or package.label
    before = backend.count_objects(label)
    key = recover_key(
        backend, bytearray(inputs.wrapping_key), package.wrapped_key, package.key_check_value,
        package.canary, package.public_key, label, persistent, extractable=extractable,
    )  # fmt: skip
    where = target or f"the {backend.name} key store"
    if package.algorithm.is_symmetric:
        canary = f"AES-GCM canary decrypted by the recovered key inside {where}: OK"
    else:
        canary = (
            "signature canary verified with the package's public key; a fresh challenge, "
            f"signed by the recovered key inside {where}, verified too: OK"
        )
    if drill:
        backend.destroy(key)
        left = backend.count_objects(label)
        if left != before:
            raise KeyBackendError(
                f"the drill copy '{label}' could not be removed from {where} ({left} object(s) "
                "left); delete it by hand"
            )
        token = getattr(backend, "token_label", None)
        if token:  # the token was searched again: say what it holds now
            outcome = (f"drill copy deleted after the checks; nothing was kept (token '{token}' holds {left} "
                       f"objects labelled '{label}')")  # fmt: skip
        else:
            outcome = "drill copy wiped from memory after the checks; nothing was kept (no token was involved)"
    else:
        kind = "token object" if persistent else "session object"
        export = "extractable (wrapped only)" if extractable else "not extractable"
        outcome = f"key '{label}' kept as a {kind}, {export}"
    return DrillReport(
        label=package.label,
        algorithm=package.algorithm.value,
        key_check_value=package.key_check_value,
        canary=canary,
        shares_used=inputs.used,
        set_aside=inputs.set_aside,
        share_set=describe_set(inputs.reference),
        package_source=inputs.package_source,
        package_fingerprint=format_package_fingerprint(package.fingerprint()),
        target=where,
        outcome=outcome,
        started=when,
        seconds=clock() - t0,
        drill=drill,
    )


def reveal_key(inputs: RecoveryInputs) -> bytearray:
    """The key in plaintext, for migration: raw bytes for AES, PKCS#8 PEM for EC/Ed25519.

    The key is first recovered into an in-memory software store and checked (check value and
    canary) exactly as a recovery into a token would; only then is it unwrapped for output.
    The caller writes the returned buffer and wipes it. Raises like :func:`recover_backup`.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding

    from keyceremony.keys.soft import SoftBackend, strip_der_zero_padding

    with SoftBackend() as soft:
        recover_backup(soft, inputs, drill=True)  # the same checks; raises if the key is wrong
    package = inputs.package
    material = bytearray(aes_key_unwrap_with_padding(bytes(inputs.wrapping_key), package.wrapped_blob))
    if package.algorithm.is_symmetric:
        return material
    der = strip_der_zero_padding(material)
    try:
        private = serialization.load_der_private_key(bytes(der), password=None)
        return bytearray(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    finally:
        wipe(der)
        wipe(material)
