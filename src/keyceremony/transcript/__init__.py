"""The signed, hash-chained ceremony transcript (docs/transcript.md).

- :mod:`.model` — entries, actors, the secrets guard, the writer and the verifier;
- :mod:`.signer` — the ceremony key (``Signer`` protocol, ``SoftSigner``) and its fingerprint;
- :mod:`.report` — the auditor's report model, drawn to PDF by :mod:`keyceremony.cards.pdf_render`.

The names below are the package's public API; import them from here, not from the module that
defines them, so the modules can be reshaped without touching their users. Standard library and
``cryptography`` only.
"""

from keyceremony.transcript.verify import (
    REASONS,
    RESUMED,
    SIGNATURE_CONTEXT,
    Actor,
    CeremonyMeta,
    Entry,
    StepRequirement,
    TemplateRequirements,
    TranscriptWriter,
    VerifiedTranscript,
    check_public_data,
    format_time,
    genesis_hash,
    line_hash,
    looks_secret,
    new_ceremony_id,
    parse_time,
    split_lines,
    utc_now,
    verify_transcript,
)

__all__ = [
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
