"""Signed share sets: make them, verify one share alone, recover the secret (the recipes layer).

A share set is the output of one split: ``count`` signed share payloads of which any
``threshold`` recover the secret. An Ed25519 key made for the set signs every share and is
dropped right after; each share carries the public key, so a single card can be verified on its
own against the set fingerprint recorded at the ceremony (docs/share-format.md §3–4).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from keyceremony.codec.fingerprint import format_fingerprint as format_fingerprint  # also part of this module's API
from keyceremony.errors import (
    AmbiguousShareSets,
    AnchorMismatch,
    DuplicateShare,
    ForeignShare,
    InconsistentShares,
    KeyCeremonyError,
    ShareSignatureError,
    ThresholdNotMet,
)
from keyceremony.shares.payload import SET_ID_LEN, SharePayload, check_label

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class SetKey:
    """The Ed25519 key of one share set, for a caller that signs more than the shares.

    Made from 32 injected random bytes (wiped at once); exposes ``public_key`` and ``sign()``
    and drops the private key on ``close()`` / leaving the ``with`` block. The backup recipe
    signs the wrapping key's shares and the backup package with one ``SetKey``, which binds the
    package to the cards (docs/backup-package.md §3).

    >>> with SetKey() as key:
    ...     shares = create_share_set(secret, 3, 5, set_key=key)   # doctest: +SKIP
    ...     signature = key.sign(package_signing_input)            # doctest: +SKIP
    """

    def __init__(self, randbytes: Callable[[int], bytes] = os.urandom) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        seed = bytearray(randbytes(32))
        try:
            self._key: Ed25519PrivateKey | None = Ed25519PrivateKey.from_private_bytes(bytes(seed))
        finally:
            seed[:] = bytes(32)  # cryptography keeps its own copy, freed with the key (docs/core.md §6)
        self.public_key: bytes = self._key.public_key().public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature over ``message``; ValueError once the key was dropped."""
        if self._key is None:
            raise ValueError("this set key was closed; its private key is gone")
        return self._key.sign(message)

    def close(self) -> None:
        self._key = None

    def __enter__(self) -> SetKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SetKey(public_key={self.public_key.hex()[:16]}..., {'closed' if self._key is None else 'open'})"


def create_share_set(
    secret: bytes | bytearray,
    threshold: int,
    count: int,
    *,
    label: str = "",
    created: int | None = None,
    randbytes: Callable[[int], bytes] = os.urandom,
    set_key: SetKey | None = None,
) -> list[SharePayload]:
    """Split ``secret`` and sign every share with the set's Ed25519 key; ValueError on misuse.

    Without ``set_key`` a fresh key is made (after the split, from ``randbytes``) and dropped
    when the shares are signed. With ``set_key`` the caller's key signs, and the caller closes it.
    """
    from keyceremony.core import shamir  # numpy: only splitting and combining need it, not verifying

    check_label(label)
    when = int(time.time()) if created is None else created
    set_id = randbytes(SET_ID_LEN)
    shares = shamir.split(secret, threshold, count, randbytes=randbytes)
    key = SetKey(randbytes) if set_key is None else set_key
    try:
        public = key.public_key
        unsigned = bytes(64)
        out = []
        for share in shares:
            draft = SharePayload(set_id, threshold, count, share.x, when, label, share.y, public, unsigned)
            out.append(replace(draft, signature=key.sign(draft.signing_input())))
    finally:
        if set_key is None:
            key.close()
    return out


def verify_share(payload: SharePayload, *, source: str | None = None) -> None:
    """Check the share's signature against the public key it carries; raises ShareSignatureError.

    This proves the share is intact and was made with the set's key. That the key is the right
    one is proved by comparing ``payload.fingerprint()`` with the one recorded at the ceremony.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(payload.public_key).verify(payload.signature, payload.signing_input())
    except (InvalidSignature, ValueError):
        raise ShareSignatureError(
            "the share's signature does not verify: the share was altered or forged. Do not use "
            "it; report it to the ceremony administrator",
            source=source,
        ) from None


def check_fingerprint(payload: SharePayload, expected_hex: str, *, source: str | None = None) -> None:
    """Raise ForeignShare unless the share's set fingerprint is ``expected_hex`` (spaces ignored)."""
    want = "".join(expected_hex.split()).lower()
    if not hmac.compare_digest(payload.fingerprint().hex(), want):
        raise ForeignShare(
            f"{source or 'share'}: its set fingerprint {format_fingerprint(payload.fingerprint())} "
            "is not the one recorded at the ceremony; this card is not from that ceremony"
        )


def format_set_id(set_id: bytes) -> str:
    h = set_id.hex()
    return f"{h[:8]}-{h[8:]}"


def describe_set(p: SharePayload) -> str:
    label = f"'{p.label}', " if p.label else ""
    return f"set {format_set_id(p.set_id)} ({label}any {p.threshold} of {p.count}, {len(p.y)}-byte secret)"


@dataclass(frozen=True)
class Rejected:
    """An input set aside: where it came from, why (a sentence), and the same as an error."""

    source: str
    reason: str
    error: KeyCeremonyError | None = None


@dataclass(frozen=True, repr=False)
class Recovery:
    """A recovered secret, the shares it came from, and the inputs that were set aside.

    ``anchored``: the set was checked against the fingerprint recorded on paper. Without it the
    recovery proves only that the shares agree with each other (docs/threat-model.md)."""

    secret: bytes
    reference: SharePayload
    used: tuple[str, ...]
    rejected: tuple[Rejected, ...] = field(default=())
    anchored: bool = False

    def __repr__(self) -> str:
        return f"Recovery(secret=<{len(self.secret)} bytes>, used={self.used}, rejected={self.rejected})"


def recover_secret(
    items: Sequence[tuple[str, SharePayload]], *, expected_fingerprint: bytes | None = None
) -> Recovery:
    """Recover from (source name, payload) pairs, using those that are genuine and consistent.

    Shares whose signature fails, or that repeat a share already given, are set aside with a
    reason; so are shares that disagree with the others (robust decoding, shamir.decode).
    Raises a KeyCeremonyError subclass naming sources when fewer than the threshold are left.

    Which set is ours is never decided by the shares themselves (docs/share-format.md §7.2):
    with ``expected_fingerprint`` (the set fingerprint in the ceremony's paper log) shares of
    any other set are set aside (ForeignShare), and none of that set raises AnchorMismatch;
    without it, shares of more than one set raise AmbiguousShareSets, naming every set.
    """
    if not items:
        raise ThresholdNotMet("no shares were given; give at least the threshold number", have=0, need=1)
    rejected: list[Rejected] = []
    genuine: list[tuple[str, SharePayload]] = []
    errors: list[KeyCeremonyError] = []
    for source, payload in items:
        try:
            verify_share(payload, source=source)
        except ShareSignatureError as err:
            rejected.append(Rejected(source, str(err), err))
            errors.append(err)
            continue
        genuine.append((source, payload))
    if not genuine:
        if len(errors) == 1:
            raise errors[0]
        reasons = tuple(r.reason for r in rejected)
        raise ThresholdNotMet(
            "none of the shares given is genuine:" + "".join(f"\n  - {r}" for r in reasons),
            have=0,
            need=1,
            set_aside=reasons,
            causes=tuple(errors),
        )

    reference = _reference_set(genuine, expected_fingerprint)
    fp = reference.fingerprint()
    in_set: dict[int, tuple[str, SharePayload]] = {}
    for source, payload in genuine:
        if payload.fingerprint() != fp:
            foreign = ForeignShare(
                f"{source} belongs to {_set_and_key(payload)}, not to {_set_and_key(reference)}, the set "
                "recorded in the paper log; set it aside and bring a share of the right set"
            )
            rejected.append(Rejected(source, str(foreign), foreign))
            errors.append(foreign)
            continue
        if payload.x in in_set:
            first_source, first = in_set[payload.x]
            same = first.to_bytes() == payload.to_bytes()
            if source == first_source:
                what = f"{source} was given twice"
            else:
                kind = "the same share as" if same else "a different share with the same number as"
                what = f"{source} is {kind} {first_source}"
            duplicate = DuplicateShare(
                f"{what} (share {payload.x} of {payload.count}); each share counts once, bring a different one"
            )
            rejected.append(Rejected(source, str(duplicate), duplicate))
            errors.append(duplicate)
            continue
        in_set[payload.x] = (source, payload)

    have, need = len(in_set), reference.threshold
    if have < need:
        more = need - have
        detail = "".join(f"\n  - {r.reason}" for r in rejected)
        raise ThresholdNotMet(
            f"{have} usable share(s) of {describe_set(reference)}; {need} are needed, bring "
            f"{more} more" + (f". Set aside:{detail}" if detail else ""),
            have=have,
            need=need,
            set_aside=tuple(r.reason for r in rejected),
            causes=tuple(errors),
        )
    from keyceremony.core import shamir  # numpy, imported only when a secret is combined

    by_x = {x: src for x, (src, _) in in_set.items()}
    shares = [shamir.Share(p.x, p.y) for _, p in in_set.values()]
    try:
        decoded = shamir.decode(shares, need)
    except InconsistentShares as err:
        raise InconsistentShares(
            f"the shares of {describe_set(reference)} disagree and the wrong ones cannot be told "
            f"apart ({err}); bring more shares",
            bad_x=err.bad_x,
        ) from None
    for x in decoded.bad_x:
        reason = f"{by_x[x]}: its share {x} disagrees with the other shares"
        rejected.append(Rejected(by_x[x], reason, InconsistentShares(reason, bad_x=(x,))))
    used = tuple(by_x[x] for x in decoded.good_x)
    return Recovery(decoded.secret, reference, used, tuple(rejected), anchored=expected_fingerprint is not None)


def _set_and_key(p: SharePayload) -> str:
    """A set as people compare it: its id, parameters and fingerprint (the set key's). Two sets
    can share an id and label (a forger copies them); only the fingerprint tells them apart."""
    return f"{describe_set(p)}, fingerprint {format_fingerprint(p.fingerprint())}"


def _reference_set(genuine: list[tuple[str, SharePayload]], expected: bytes | None) -> SharePayload:
    """The set the recovery is about: the anchored one, or the only one given."""
    sets: dict[bytes, list[tuple[str, SharePayload]]] = {}
    for source, p in genuine:
        sets.setdefault(p.fingerprint(), []).append((source, p))
    if expected is not None:
        for fp, members in sets.items():
            if hmac.compare_digest(fp, expected):
                return members[0][1]
        found = "; ".join(f"{_set_and_key(m[0][1])} ({', '.join(s for s, _ in m)})" for m in sets.values())
        raise AnchorMismatch(
            f"none of the shares given is of the set recorded in the paper log (fingerprint "
            f"{format_fingerprint(expected)}); they are of: {found}. These are not the cards made at "
            "that ceremony: check the fingerprint you gave, and where these cards came from"
        )
    if len(sets) == 1:
        return genuine[0][1]
    found = "".join(
        f"\n  - {_set_and_key(m[0][1])}: {', '.join(s for s, _ in m)} ({len(m)} share(s))" for m in sets.values()
    )
    raise AmbiguousShareSets(
        f"the shares given belong to {len(sets)} different sets (set keys), and nothing says which one "
        f"is yours:{found}\nA set of your own cannot be told from a forged one by counting. Give the "
        "set fingerprint written in the ceremony's paper log (--fingerprint, hex or the 16 words), "
        "or leave out the cards that are not of your set"
    )
