"""What a ceremony template requires of a transcript: steps in order, with roles (docs/transcript.md §8.3).

:func:`~keyceremony.transcript.verify.verify_transcript` checks a transcript against
:class:`TemplateRequirements`; ``keyceremony transcript verify --requirements FILE`` reads them
from JSON with :meth:`TemplateRequirements.from_json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from keyceremony.transcript.values import CEREMONY_STEP, JSONValue, check_name


@dataclass(frozen=True)
class StepRequirement:
    """A step the template requires, with the roles that must take part in it.

    ``roles`` pairs a role with the least number of distinct people in that role who must appear
    among the actors of the step's entries: ``StepRequirement("split", {"custodian": 3})``.
    """

    step: str
    roles: tuple[tuple[str, int], ...] = ()

    def __init__(self, step: str, roles: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        """``roles``: a mapping of role to count, or (role, count) pairs; kept as pairs."""
        check_name("a required step", step)
        if step == CEREMONY_STEP:
            raise ValueError(f"'{CEREMONY_STEP}' is reserved for the transcript's own entries")
        items = tuple(roles.items()) if isinstance(roles, Mapping) else tuple(tuple(r) for r in roles)
        pairs: list[tuple[str, int]] = []
        for role, count in items:
            name = check_name("a required role", role)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"the count for role '{role}' must be a positive integer")
            pairs.append((name, count))
        if len({role for role, _ in pairs}) != len(pairs):
            raise ValueError(f"step '{step}' lists a role twice")
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "roles", tuple(pairs))

    def to_json(self) -> dict[str, JSONValue]:
        roles: dict[str, JSONValue] = dict(self.roles)
        return {"step": self.step, "roles": roles}

    @classmethod
    def from_json(cls, obj: object) -> StepRequirement:
        if not isinstance(obj, dict) or not set(obj) <= {"step", "roles"} or "step" not in obj:
            raise ValueError('a step requirement is {"step": NAME, "roles": {ROLE: COUNT, ...}}')
        roles = obj.get("roles", {})
        if not isinstance(roles, dict):
            raise ValueError("'roles' must map role names to counts")
        return cls(obj["step"], tuple(roles.items()))


@dataclass(frozen=True)
class TemplateRequirements:
    """The steps a ceremony template requires, in order (docs/transcript.md §8.3).

    >>> TemplateRequirements.from_json({"steps": [{"step": "generate-key", "roles": {"witness": 2}},
    ...                                          {"step": "split"}]}).steps[1]
    StepRequirement(step='split', roles=())
    """

    steps: tuple[StepRequirement, ...]

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        if not all(isinstance(s, StepRequirement) for s in steps):
            raise ValueError("steps must be StepRequirement values")
        if len({s.step for s in steps}) != len(steps):
            raise ValueError("a step is required twice")
        object.__setattr__(self, "steps", steps)

    def to_json(self) -> dict[str, JSONValue]:
        return {"steps": [s.to_json() for s in self.steps]}

    @classmethod
    def from_json(cls, obj: object) -> TemplateRequirements:
        """Raises ValueError saying what is wrong."""
        if not isinstance(obj, dict) or set(obj) != {"steps"} or not isinstance(obj["steps"], list):
            raise ValueError('template requirements are {"steps": [{"step": NAME, "roles": {...}}, ...]}')
        return cls(tuple(StepRequirement.from_json(s) for s in obj["steps"]))
