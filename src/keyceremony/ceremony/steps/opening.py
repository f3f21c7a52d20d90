"""The opening steps: roll call, preflight, and the administrator's confirmations (docs/ceremony-guide.md §8.4)."""

from __future__ import annotations

from keyceremony.ceremony.ports import RollCallRequest
from keyceremony.ceremony.quorum import roster_lines
from keyceremony.ceremony.steps.context import (
    StepContext,
    StepHandler,
    check_attendance,
)
from keyceremony.ceremony.template import CUSTODIAN
from keyceremony.errors import CeremonyError, KeyCeremonyError, PreflightFailed, QuorumNotMet
from keyceremony.transcript import Actor

# --- roll call, preflight, confirm --------------------------------------------------------------


class RollCall(StepHandler):
    kind = "roll-call"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.codec.fingerprint import fingerprint_words, format_fingerprint

        roles = tuple((r.name, r.title, r.min, r.max) for r in ctx.template.roles)
        people = tuple(dict.fromkeys(ctx.prompter.roll_call(RollCallRequest(ctx.info, roles))))
        declared = {r.name: r for r in ctx.template.roles}
        counts: dict[str, int] = {}
        for actor in people:
            if not isinstance(actor, Actor):
                raise ValueError("roll_call must return Actor values")
            if actor.role not in declared:
                raise CeremonyError(f"{actor}: the template has no role '{actor.role}' (roles: {', '.join(declared)})")
        for line in roster_lines(roles, people):
            names = line.names
            counts[line.role] = len(names)
            if len(names) < line.least:
                raise QuorumNotMet(
                    f"the roll call has {len(names)} {line.role}(s); this ceremony needs at least "
                    f"{line.least}. Bring them, then run the ceremony again"
                )
            if not line.met:
                raise CeremonyError(
                    f"the roll call has {len(names)} {line.role}(s) ({', '.join(names)}); this "
                    f"ceremony allows at most {line.most}"
                )
        if ctx.template.kind == "key-generation":  # custodians' names go on the cards
            for actor in people:
                problem = actor.role == CUSTODIAN and ctx.ports.printer.unprintable_name("custodian", actor.name)
                if problem:
                    raise CeremonyError(f"the roll call: {problem}. Correct the name, then run the ceremony again")
        ctx.present = check_attendance(ctx.step, people, people)
        ctx.engine.record_participants(people)
        fp = ctx.engine.fingerprint
        ctx.say(
            f"Ceremony key fingerprint: {format_fingerprint(fp)}. Read it aloud as words: "
            f"{fingerprint_words(fp)}. Write it in the paper log; witnesses check it.",
            "fingerprint",
            what="ceremony key",
            hex=format_fingerprint(fp),
            words=fingerprint_words(fp),
        )
        if ctx.step.confirm:
            ctx.confirm(ctx.step.id, ctx.step.confirm)
        ctx.append(
            "participants-recorded",
            {"roles": counts, "ceremony_key_fingerprint": format_fingerprint(fp),
             "fingerprint_read_aloud": bool(ctx.step.confirm)},
        )  # fmt: skip
        ctx.complete({"participants": len(people)})


class Preflight(StepHandler):
    kind = "preflight"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.ceremony.preflight import evaluate
        from keyceremony.transcript import format_time

        host = ctx.ports.host
        ctx.append(
            "host-recorded",
            {
                "system": dict(host.system()),
                "software": dict(host.software_versions()),
                "store": dict(ctx.keys.describe(ctx.backend)),
                "clock_utc": format_time(ctx.ports.clock()),
            },
        )
        try:
            hsm = (True, ctx.keys.check(ctx.backend))
        except KeyCeremonyError as err:
            hsm = (False, str(err))
        relaxed = ctx.engine.relaxed_checks
        policies = [(check, "warn" if check in relaxed else policy) for check, policy in ctx.step.checks]
        results = evaluate(host, policies, hsm)
        for r in results:
            ctx.append(
                f"check-{r.outcome}",
                {"check": r.check, "policy": r.policy, "relaxed_for_rehearsal": r.check in relaxed, "detail": r.detail},
            )
            if r.outcome == "warned":
                ctx.say(f"preflight check '{r.check}' warned: {r.detail}", "warning")
            elif r.outcome == "failed":  # a stop, not a warning: the step stops once all are said
                ctx.say(f"STOP: preflight check '{r.check}' failed: {r.detail}")
        failed = [r for r in results if r.outcome == "failed"]
        if failed:
            detail = "; ".join(f"{r.check}: {r.detail}" for r in failed)
            raise PreflightFailed(
                f"step '{ctx.step.id}': this machine is not fit for the ceremony ({detail}). Fix "
                "it and run the ceremony again: it resumes at the preflight"
            )
        ctx.complete({r.check: r.outcome for r in results})


class Confirm(StepHandler):
    kind = "confirm"

    def run(self, ctx: StepContext) -> None:
        question = ctx.step.confirm or f"{ctx.step.title}: done"
        ctx.confirm(ctx.step.id, question)
        ctx.complete({"confirmed": question})
