"""The ceremony's state file: what ``keyceremony run`` needs to resume, and nothing secret.

``DIR/state.json`` is one canonical-JSON object (docs/transcript.md §4), replaced atomically
(written to a temporary file, fsynced, renamed over the old one, directory fsynced), so after a
crash it is either the old or the new version, never a mix. It holds the ceremony id, which
template (and its SHA-256) and back end the ceremony runs with, and the *public* fingerprints of
the ceremony key and of every key it was resumed with; the last are what lets ``run`` verify
its own transcript after a resume with a new software key (docs/transcript.md §7).

The transcript, not this file, says where the ceremony stopped: the engine reads progress from
the transcript's entries. The state is checked with the transcript's secrets guard
(:func:`~keyceremony.transcript.check_public_data`) before every write, and holds only strings,
integers, booleans and lists: no key, share, PIN or wrapping key can be put in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from keyceremony.atomic_file import write_atomically
from keyceremony.codec import canonical_json
from keyceremony.errors import CeremonyError, NonCanonicalJSON
from keyceremony.transcript import check_public_data

FORMAT = "keyceremony ceremony state v1"
STATE_FILE = "state.json"
TRANSCRIPT_FILE = "transcript.jsonl"
REPORT_FILE = "report.txt"
CARDS_DIR = "cards"


@dataclass
class CeremonyState:
    """Everything here is public; see the module docstring."""

    ceremony_id: str
    template_name: str
    template_sha256: str
    template_source: str
    backend: str  # "soft" or "pkcs11"
    token_label: str | None
    fingerprint: str  # hex, the first ceremony key's
    later_fingerprints: list[str] = field(default_factory=list)  # hex, in order of the key changes
    answers_sha256: str = ""
    status: str = "open"  # "open", "sealed", "aborted" (sealed unfinished)
    completed_steps: list[str] = field(default_factory=list)
    runs: int = 1
    last_error: str | None = None
    rehearsal: bool = False
    test_hooks: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, obj: object, source: str) -> CeremonyState:
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise CeremonyError(f"{source}: not a keyceremony ceremony state file ({FORMAT})")
        body = {k: v for k, v in obj.items() if k != "format"}
        try:
            return cls(**body)
        except TypeError as err:
            raise CeremonyError(
                f"{source}: the state file is damaged ({err}); keep it and the transcript as evidence"
            ) from None


def state_path(directory: Path) -> Path:
    return directory / STATE_FILE


def load_state(directory: Path) -> CeremonyState | None:
    """The state in ``directory``, or None if there is none. Raises CeremonyError if damaged."""
    path = state_path(directory)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CeremonyError(f"{path}: cannot read the ceremony state: {err.strerror}") from None
    try:
        obj = canonical_json.decode(raw.rstrip(b"\n"))
    except NonCanonicalJSON as err:
        raise CeremonyError(f"{path}: the ceremony state is damaged or was edited ({err})") from None
    return CeremonyState.from_json(obj, str(path))


def save_state(directory: Path, state: CeremonyState) -> None:
    """Replace the state file atomically and durably. Refuses anything that looks secret."""
    obj = check_public_data(state.to_json(), field="state")
    data = canonical_json.encode(obj) + b"\n"
    write_atomically(state_path(directory), data, mode=0o644)
