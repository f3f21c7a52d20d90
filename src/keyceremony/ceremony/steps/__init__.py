"""What each kind of step does: one handler per step kind, grouped by phase (docs/ceremony-guide.md §8.4).

- :mod:`.context` — :class:`StepContext` (what a handler may use), :class:`StepHandler`, the
  attendance check, and the rules every handler keeps (its docstring);
- :mod:`.opening` — roll call, preflight, confirm;
- :mod:`.generation` — generate-key, split-and-print, scan-back, hand-over;
- :mod:`.recovery` — present-cards, recover, test-decrypt, report;
- :mod:`.closing` — destroy, seal.
"""

from keyceremony.ceremony.ports import StepKind
from keyceremony.ceremony.steps.closing import Destroy, Seal
from keyceremony.ceremony.steps.context import (
    COMPLETED,
    RESTARTED,
    StepContext,
    StepHandler,
    StepHost,
    ask_attendance,
    check_attendance,
)
from keyceremony.ceremony.steps.generation import GenerateKey, HandOver, ScanBack, SplitAndPrint
from keyceremony.ceremony.steps.opening import Confirm, Preflight, RollCall
from keyceremony.ceremony.steps.recovery import PresentCards, Recover, Report, TestDecrypt
from keyceremony.ceremony.template import STEP_KINDS

HANDLERS: dict[str, StepHandler] = {
    h.kind: h
    for h in (
        RollCall(),
        Preflight(),
        Confirm(),
        GenerateKey(),
        SplitAndPrint(),
        ScanBack(),
        HandOver(),
        PresentCards(),
        Recover(),
        TestDecrypt(),
        Report(),
        Destroy(),
        Seal(),
    )  # fmt: skip
}
assert set(HANDLERS) == set(STEP_KINDS) == set(StepKind), "every step kind has a handler"

__all__ = [
    "COMPLETED",
    "HANDLERS",
    "RESTARTED",
    "StepContext",
    "StepHandler",
    "StepHost",
    "ask_attendance",
    "check_attendance",
]
