"""What the ceremony's paper log recorded, and the checks against it (docs/threat-model.md).

Every card, package and transcript is checked for internal consistency, but a complete
substituted set (its own set key, its own package, its own check value) is consistent too. Only
what a person wrote down at the ceremony tells ours from theirs: the share set's fingerprint,
the backup package's fingerprint, and the key check value. :class:`Anchors` holds whichever were
given; recoveries check against them, and say UNANCHORED when none was.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from keyceremony.codec.fingerprint import format_fingerprint
from keyceremony.errors import AnchorMismatch
from keyceremony.keys.backup_package import BackupPackage, format_kcv

_KCV = re.compile(r"[0-9a-f]{6}")


def parse_kcv(text: str) -> str:
    """A key check value as written down (``1A2B3C``, spaces ignored): 6 hex digits, lower case."""
    kcv = "".join(text.split()).lower()
    if not _KCV.fullmatch(kcv):
        raise ValueError(f"a key check value is 6 hex digits (as on the card: 1A2B3C), not {text!r}")
    return kcv


@dataclass(frozen=True)
class Anchors:
    """The fingerprints and check value from the paper log; any may be missing."""

    set_fingerprint: bytes | None = None
    package_fingerprint: bytes | None = None
    kcv: str | None = None  # 6 lower-case hex digits

    @property
    def any(self) -> bool:
        return bool(self.set_fingerprint or self.package_fingerprint or self.kcv)

    def names(self) -> tuple[str, ...]:
        """Which anchors were given, in words: ('set fingerprint', 'key check value')."""
        return tuple(
            name
            for name, value in (
                ("set fingerprint", self.set_fingerprint),
                ("package fingerprint", self.package_fingerprint),
                ("key check value", self.kcv),
            )
            if value
        )

    def check_package(self, package: BackupPackage, *, source: str) -> None:
        """Raise AnchorMismatch, naming what differs, unless the package is the recorded one."""
        if self.package_fingerprint is not None and not hmac.compare_digest(
            package.fingerprint(), self.package_fingerprint
        ):
            raise AnchorMismatch(
                f"{source}: the backup package's fingerprint {format_fingerprint(package.fingerprint())} is not "
                f"the one recorded in the paper log ({format_fingerprint(self.package_fingerprint)}); this is "
                "not the package made at that ceremony"
            )
        if self.kcv is not None and not hmac.compare_digest(package.key_check_value, self.kcv):
            raise AnchorMismatch(
                f"{source}: the backed-up key's check value {format_kcv(package.key_check_value)} is not the one "
                f"recorded in the paper log ({format_kcv(self.kcv)}); this backup holds another key"
            )
