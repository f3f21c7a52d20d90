"""Collect the shares of one set, one card at a time, answering each at once.

A UI-agnostic recovery state (the idea of python-shamir-mnemonic's ``RecoveryState``): a
front end hands it one share at a time (read from a card, a scan, a share file, or typed), and
gets an :class:`Answer` straight away: accepted as share 2 of set X (held by Y), or refused with
the reason, and how many more are needed. ``combine --type`` and the ceremony's present-cards
and scan-back steps use it, so a bad card is answered (and can be brought again) on its own,
without starting over.

With ``expected_fingerprint`` (the set fingerprint written in the ceremony's paper log), a share
of any other set is refused even when it comes first. Without it, the first genuine share sets
what the count is about, a share of another set is refused *and kept* in :attr:`others`, and
:attr:`ambiguous` says that which set is ours cannot be told: callers hand ``others`` on to
``recover_secret``, which then refuses (AmbiguousShareSets) instead of trusting the first set.
Nothing here is secret: answers name sources, share numbers, set ids and fingerprints, never
share values.

>>> collector = ShareCollector()
>>> collector.status()
'no share yet'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.errors import (
    DuplicateShare,
    ForeignShare,
    KeyCeremonyError,
    ShareFormatError,
    ShareSignatureError,
)
from keyceremony.shares.payload import SharePayload
from keyceremony.shares.shareset import describe_set, format_set_id, verify_share


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # this share number was accepted already
    OTHER_SET = "other-set"  # a share of another set than the one being collected
    BAD_SIGNATURE = "bad-signature"  # altered or forged: the signature does not verify
    UNREADABLE = "unreadable"  # a typo (named by line) or a malformed share
    NOT_EXPECTED = "not-expected"  # a genuine share of the set, but not the one asked for


@dataclass(frozen=True)
class Answer:
    """What the collector says about one card, at once. ``message`` is for people."""

    outcome: Outcome
    source: str
    message: str
    share_number: int | None = None
    set_id: str | None = None
    set_fingerprint: str | None = None
    holder: str | None = None
    have: int = 0
    needed: int | None = None
    error: KeyCeremonyError | None = None
    reason: str = ""  # a refusal's sentence alone, without the count the message ends with

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class ShareCollector:
    """The shares of one set, gathered one at a time.

    ``expected_fingerprint``: the set fingerprint recorded on paper; shares of any other set are
    refused. ``holders``: who holds which share number (for the answers only).
    """

    def __init__(
        self,
        *,
        expected_fingerprint: bytes | None = None,
        holders: Mapping[int, str] | None = None,
    ) -> None:
        self.expected_fingerprint = expected_fingerprint
        self.holders = dict(holders or {})
        self.reference: SharePayload | None = None
        self.accepted: dict[int, tuple[str, SharePayload]] = {}
        self.others: list[tuple[str, SharePayload]] = []  # unanchored: genuine shares of other sets
        self.answers: list[Answer] = []

    @property
    def ambiguous(self) -> bool:
        """Shares of more than one set were seen and nothing anchored says which is ours."""
        return self.expected_fingerprint is None and bool(self.others)

    # -- what has been gathered

    @property
    def threshold(self) -> int | None:
        return self.reference.threshold if self.reference is not None else None

    @property
    def have(self) -> int:
        return len(self.accepted)

    @property
    def complete(self) -> bool:
        return self.reference is not None and self.have >= self.reference.threshold

    def items(self) -> list[tuple[str, SharePayload]]:
        """The accepted shares as (source, payload), in the order they came."""
        return list(self.accepted.values())

    def status(self) -> str:
        """'2 of 3 shares, 1 more needed', '3 of 3 shares: enough', or 'no share yet'."""
        if self.reference is None:
            return "no share yet"
        need = self.reference.threshold
        if self.have >= need:
            return f"{self.have} of {need} shares: enough"
        return f"{self.have} of {need} shares, {need - self.have} more needed"

    # -- one card at a time

    def add_text(self, text: str, source: str, *, holder: str | None = None, expect_x: int | None = None) -> Answer:
        """A share typed or pasted as its text form: a typo is refused, named by its line."""
        from keyceremony.shares.text import from_text

        try:
            payload = from_text(text, source=source)
        except ShareFormatError as err:
            return self._refuse(Outcome.UNREADABLE, source, f"{err}; type it again", err)
        return self.add(source, payload, holder=holder, expect_x=expect_x)

    def unreadable(self, source: str, error: KeyCeremonyError) -> Answer:
        """Record a card that could not be read at all (no code found, not a share file)."""
        return self._refuse(Outcome.UNREADABLE, source, str(error), error)

    def add(
        self, source: str, payload: SharePayload, *, holder: str | None = None, expect_x: int | None = None
    ) -> Answer:
        """Check one share and keep it if it belongs; answer at once.

        ``expect_x``: the share number this card must carry (a scan-back of card x).
        """
        try:
            verify_share(payload, source=source)
        except ShareSignatureError as err:
            return self._refuse(
                Outcome.BAD_SIGNATURE,
                source,
                f"{err}. It claims to be share {payload.x} of set {format_set_id(payload.set_id)}, "
                f"fingerprint {format_fingerprint(payload.fingerprint())}",
                err,
                payload,
            )
        fp = payload.fingerprint()
        anchor = self.expected_fingerprint
        if anchor is None and self.reference is not None:
            anchor = self.reference.fingerprint()
        if anchor is not None and fp != anchor:
            foreign = ForeignShare(
                f"{source} is share {payload.x} of {describe_set(payload)}, fingerprint "
                f"{format_fingerprint(fp)}; the set being collected has fingerprint "
                f"{format_fingerprint(anchor)}"
                + (" (recorded in the paper log)" if self.expected_fingerprint is not None else "")
                + ". Its set key differs: it is not a card of this set"
                + ("; set it aside" if self.expected_fingerprint is not None else
                   "; without the set fingerprint from the paper log, which set is yours cannot be told")
            )
            if self.expected_fingerprint is None:
                self.others.append((source, payload))
            return self._refuse(Outcome.OTHER_SET, source, str(foreign), foreign, payload)
        if expect_x is not None and payload.x != expect_x:
            wrong = ForeignShare(f"{source} is share {payload.x}, not share {expect_x}; check which card is which")
            return self._refuse(Outcome.NOT_EXPECTED, source, str(wrong), wrong, payload)
        if payload.x in self.accepted:
            first_source, first = self.accepted[payload.x]
            same = first.to_bytes() == payload.to_bytes()
            kind = "the same share as" if same else "a different share with the same number as"
            duplicate = DuplicateShare(
                f"{source} is {kind} {first_source} (share {payload.x} of {payload.count}); "
                "each share counts once, bring a different one"
            )
            return self._refuse(Outcome.DUPLICATE, source, str(duplicate), duplicate, payload)
        if self.reference is None:
            self.reference = payload
        self.accepted[payload.x] = (source, payload)
        who = holder or self.holders.get(payload.x)
        held = f" (custodian {who})" if who else ""
        answer = Answer(
            Outcome.ACCEPTED,
            source,
            f"{source}: accepted as share {payload.x} of set {format_set_id(payload.set_id)}{held}; "
            f"{self.status()}",
            payload.x,
            format_set_id(payload.set_id),
            format_fingerprint(fp),
            who,
            self.have,
            self.threshold,
        )
        self.answers.append(answer)
        return answer

    def _refuse(
        self,
        outcome: Outcome,
        source: str,
        message: str,
        error: KeyCeremonyError,
        payload: SharePayload | None = None,
    ) -> Answer:
        answer = Answer(
            outcome,
            source,
            f"{message} [refused; {self.status()}]",
            payload.x if payload is not None else None,
            format_set_id(payload.set_id) if payload is not None else None,
            format_fingerprint(payload.fingerprint()) if payload is not None else None,
            None,
            self.have,
            self.threshold,
            error,
            message,
        )
        self.answers.append(answer)
        return answer
