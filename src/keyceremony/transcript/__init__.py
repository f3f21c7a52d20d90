"""The signed, hash-chained ceremony transcript (docs/transcript.md).

A transcript is a JSON Lines file. Each line is one entry in canonical JSON
(:mod:`keyceremony.codec.canonical_json`): its sequence number, UTC time, step, actors, event and
public data, the SHA-256 of the previous line, and an Ed25519 signature by the ceremony key. The
first entry opens the ceremony and carries the key; the last seals it, after which the private
key is destroyed and nothing can be added.

- :mod:`.values` — format constants, times, ceremony ids, hashes and name checks;
- :mod:`.guard` — the secrets guard: ``looks_secret``, ``check_public_data``;
- :mod:`.model` — ``Actor``, ``CeremonyMeta``, ``Entry``;
- :mod:`.requirements` — what a template requires: ``StepRequirement``, ``TemplateRequirements``;
- :mod:`.verify` — ``verify_transcript`` and the ``VerifiedTranscript`` it returns;
- :mod:`.writer` — ``TranscriptWriter``: create, append, seal, resume;
- :mod:`.signer` — the ceremony key (``Signer`` protocol, ``SoftSigner``) and its fingerprint;
- :mod:`.report` — the auditor's report model, drawn to PDF by :mod:`keyceremony.cards.pdf`.

The names below are the package's public API; import them from here, not from the module that
defines them, so the modules can be reshaped without touching their users. Standard library and
``cryptography`` only.
"""

from keyceremony.transcript.guard import check_public_data, looks_secret
from keyceremony.transcript.model import Actor, CeremonyMeta, Entry
from keyceremony.transcript.requirements import StepRequirement, TemplateRequirements
from keyceremony.transcript.values import (
    REASONS,
    RESUMED,
    SIGNATURE_CONTEXT,
    format_time,
    genesis_hash,
    line_hash,
    new_ceremony_id,
    parse_time,
    utc_now,
)
from keyceremony.transcript.verify import Anchor, KeyAnchor, VerifiedTranscript, split_lines, verify_transcript
from keyceremony.transcript.writer import TranscriptWriter

__all__ = [
    "Anchor",
    "KeyAnchor",
    "REASONS",
    "RESUMED",
    "SIGNATURE_CONTEXT",
    "Actor",
    "CeremonyMeta",
    "Entry",
    "StepRequirement",
    "TemplateRequirements",
    "TranscriptWriter",
    "VerifiedTranscript",
    "check_public_data",
    "format_time",
    "genesis_hash",
    "line_hash",
    "looks_secret",
    "new_ceremony_id",
    "parse_time",
    "split_lines",
    "utc_now",
    "verify_transcript",
]
