"""What the ceremony screen needs to start (or resume) a ceremony: :class:`CeremonyLaunch`.

The set-up screen (forms) and the run-from-a-file screen both end in one of these, and the
ceremony screen turns it into the engine's ports. Nothing in it is secret: the PIN, if any, is
inside ``keys`` (a :class:`~keyceremony.ceremony.adapters.Pkcs11Keys` forgets it once the token
is opened) and never in ``answers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyceremony.ceremony.answers import Answers
    from keyceremony.ceremony.ports import KeyBackendFactory
    from keyceremony.ceremony.template import Template


@dataclass(frozen=True)
class CeremonyLaunch:
    """A ceremony ready to run in ``out``.

    ``answers``: the people, the key store, the rehearsal and the anchors (from the set-up forms
    or an answers file). ``interactive``: True asks every step's questions on the screen (who
    is present, confirmations, scans, bags, cards presented), with what ``answers`` holds as
    the defaults; False takes them from ``answers`` as ``keyceremony run`` does.
    ``answers_path``: where the answers were read from or saved (for Resume), if anywhere.
    """

    template: Template
    answers: Answers
    out: Path
    keys: KeyBackendFactory
    interactive: bool = True
    answers_path: Path | None = None
