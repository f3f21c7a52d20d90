"""The recovery and drill steps: cards presented, the key recovered, test-decrypted and reported
(docs/ceremony-guide.md §8.4)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keyceremony.ceremony.ports import PresentCardsRequest, PresentedCard, ProgressTask
from keyceremony.ceremony.steps.context import (
    StepContext,
    StepHandler,
    step_id_of,
    store_name,
)
from keyceremony.errors import CeremonyCancelled, CeremonyError, KeyCeremonyError, KeyCheckMismatch, ShareFormatError
from keyceremony.keys.backup_package import format_kcv
from keyceremony.recipes.sources import typed_contents
from keyceremony.transcript import Entry

MAX_ROUNDS = 10  # times the custodians are asked for more cards before the step stops

_USED = re.compile(r"^(?P<source>.*) \(share (?P<x>\d+)\)$")


def _used_shares(inputs: Any) -> dict[str, int]:
    """``RecoveryInputs.used`` ("card-1.pdf (share 1)") as {source: share number}."""
    out = {}
    for item in inputs.used:
        match = _USED.match(item)
        if match:
            out[match.group("source")] = int(match.group("x"))
    return out


# --- recovery and drills ----------------------------------------------------------------------------


def _gather(ctx: StepContext, sources: Sequence[str], typed: Sequence[tuple[str, Any]] = ()) -> Any:
    from keyceremony.recipes.backup import gather_recovery_inputs

    return gather_recovery_inputs(list(sources), anchors=ctx.engine.anchors, typed=typed)


def _typed_lost(ctx: StepContext) -> str | None:
    """Why the cards must be presented again: shares typed in were held only in memory."""
    if ctx.material.get("inputs") is not None:
        return None
    typed = ctx.fact("cards-accepted", "present-cards").get("cards_typed")
    if not typed:
        return None
    return (
        f"share(s) {', '.join(map(str, typed))} were typed in from their cards and held only in the memory "
        "of the program, which stopped; they were never written anywhere, so the cards are presented again"
    )


def _inputs_again(ctx: StepContext, why: str) -> Any:
    """Rebuild the wrapping key from the cards recorded at the present-cards step."""
    facts = ctx.fact("cards-accepted", "present-cards")
    lost = _typed_lost(ctx)
    if lost:
        raise CeremonyError(
            f"step '{ctx.step.id}': {lost}. This step cannot rebuild them: start a new ceremony in a new "
            "folder and present the cards again"
        )
    inputs = _gather(ctx, facts["sources"])
    ctx.material["inputs"] = inputs
    ctx.append("cards-read-again", {"reason": why, "cards_used": sorted(_used_shares(inputs).values())})
    return inputs


class PresentCards(StepHandler):
    kind = "present-cards"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.keys.backup_package import format_package_fingerprint
        from keyceremony.shares.shareset import format_fingerprint, format_set_id

        custodians = ctx.custodians()
        cards, refused = self.collect(ctx, tuple(custodians))
        old = ctx.material.pop("inputs", None)
        if old is not None:
            old.close()
        # a typed share is named by its label ("typed share #2") and read again from memory
        sources = [str(Path(c.path).resolve()) if c.text is None else str(c.path) for c in cards]
        typed = [share for c in cards if c.text is not None for share in typed_contents(c.text, str(c.path)).shares]
        files = [source for card, source in zip(cards, sources, strict=True) if card.text is None]
        inputs = _gather(ctx, files, typed)
        ctx.material["inputs"] = inputs
        used = _used_shares(inputs)
        for card, source in zip(cards, sources, strict=True):
            if source in used:
                ctx.append(
                    "card-presented",
                    {"share_number": used[source], "presented_by": card.custodian, "bag_number": card.bag,
                     "card_file": Path(source).name},
                )  # fmt: skip
        set_aside = refused + list(inputs.set_aside)
        if set_aside:
            ctx.append("cards-set-aside", {"reasons": set_aside})
        ref, package = inputs.reference, inputs.package
        ctx.append(
            "cards-accepted",
            {
                "set_id": format_set_id(ref.set_id),
                "set_fingerprint": format_fingerprint(ref.fingerprint()),
                "package_fingerprint": format_package_fingerprint(package.fingerprint()),
                "key_label": package.label,
                "algorithm": package.algorithm.value,
                "kcv": package.key_check_value,
                "threshold": ref.threshold,
                "cards_used": sorted(used.values()),
                "sources": [s for s in files if s in used],
                **({"cards_typed": sorted(used[name] for name, _ in typed if name in used)} if typed else {}),
                "anchored_by": list(inputs.anchors.names()),  # empty: UNANCHORED (docs/threat-model.md)
            },
        )
        if inputs.anchored:
            ctx.say(f"ANCHORED: the cards match the paper log's {', '.join(inputs.anchors.names())}.")
        else:
            ctx.say(
                "UNANCHORED: nothing from the paper log was given, so this proves the cards agree with each "
                "other, not that they are the ones made at the ceremony. Compare the set fingerprint "
                f"{format_fingerprint(ref.fingerprint())} and the key check value "
                f"{format_kcv(package.key_check_value)} with the paper log",
                "warning",
            )
        ctx.complete({"cards_used": len(used)})

    def collect(self, ctx: StepContext, custodians: tuple[str, ...]) -> tuple[list[PresentedCard], list[str]]:
        """Take the cards as they are presented and answer each at once (shares/collector.py);
        ask for more while fewer than the threshold are accepted. Returns the accepted cards
        and the reasons of the refused ones."""
        from keyceremony.shares.collector import ShareCollector

        collector = ShareCollector(expected_fingerprint=ctx.engine.anchors.set_fingerprint)
        accepted: list[PresentedCard] = []
        refused: list[str] = []
        for attempt in range(1, MAX_ROUNDS + 1):
            request = PresentCardsRequest(
                ctx.info,
                custodians,
                attempt,
                collector.status() if attempt > 1 else "",
                tuple(sorted(collector.accepted)),
            )
            for card in ctx.prompter.present_cards(request):
                if card.custodian is not None and card.custodian not in custodians:
                    raise CeremonyError(f"{card.path}: '{card.custodian}' is not a custodian present at this step")
                before = len(collector.answers)
                name = Path(card.path).name
                try:
                    contents = (ctx.ports.scanner.read(Path(card.path)) if card.text is None
                                else typed_contents(card.text, name))  # fmt: skip
                except CeremonyCancelled:
                    raise
                except KeyCeremonyError as err:
                    collector.unreadable(name, err)
                else:
                    if not contents.shares:
                        collector.unreadable(name, ShareFormatError(f"{name}: no share was found on it"))
                    for source, share in contents.shares:
                        collector.add(source, share, holder=card.custodian)
                answers = collector.answers[before:]
                for answer in answers:
                    facts = {k: v for k, v in (("share_number", answer.share_number),
                                               ("set_fingerprint", answer.set_fingerprint),
                                               ("holder", answer.holder)) if v is not None}  # fmt: skip
                    ctx.say(answer.message, "card", accepted=answer.accepted, outcome=answer.outcome.value,
                            have=answer.have, needed=answer.needed or 0, source=answer.source, **facts)  # fmt: skip
                    if not answer.accepted:
                        refused.append(answer.reason)
                if any(a.accepted for a in answers):
                    accepted.append(card)
                ctx.progress(ProgressTask.READ_CARD, collector.have, collector.threshold or 0, collector.status())
            if collector.ambiguous:  # never trust the first set seen (docs/threat-model.md)
                sets = sorted({answer.set_fingerprint or "" for answer in collector.answers if answer.set_fingerprint})
                raise CeremonyError(
                    f"step '{ctx.step.id}': cards of {len(sets)} different sets (set keys) were presented "
                    f"(fingerprints {', '.join(sets)}), and nothing from the paper log says which is yours. "
                    "Give [anchors] set_fingerprint in the answers (as written in the paper log of the ceremony "
                    "that made the cards), or bring only cards of your set; the ceremony resumes at this step"
                )
            if collector.complete:
                return accepted, refused
        raise CeremonyError(
            f"step '{ctx.step.id}': after {MAX_ROUNDS} rounds of cards, {collector.status()}; bring more "
            "cards of the set and run the ceremony again: it resumes at this step"
        )


class Recover(StepHandler):
    kind = "recover"

    def rewind_reason(self, ctx: StepContext) -> str | None:
        previous = ctx.template.steps[ctx.template.index(ctx.step.id) - 1]
        return _typed_lost(ctx) if previous.kind == "present-cards" else None

    def target(self, ctx: StepContext, package: Any) -> tuple[str, bool, bool]:
        from keyceremony.recipes.backup import DRILL_LABEL_PREFIX

        if ctx.template.drill:
            return DRILL_LABEL_PREFIX + ctx.ports.randbytes(4).hex(), False, False
        return ctx.params.key_label or package.label, True, ctx.params.extractable

    def run(self, ctx: StepContext) -> None:
        from keyceremony.keys.recovery import recover_key, verify_recovered_key

        inputs = ctx.material.get("inputs") or _inputs_again(
            ctx,
            "the wrapping key rebuilt from the cards was held only in memory and was lost "
            "when the program stopped; the cards recorded at the present-cards step are read again",
        )
        package = inputs.package
        label, persistent, extractable = self.target(ctx, package)
        ours = any(e.event == "recovering" and e.data.get("key_label") == label for e in ctx.entries())
        backend = ctx.backend
        key = None
        if persistent and backend.count_objects(label):
            if not ours:
                raise CeremonyError(
                    f"{store_name(ctx)} already holds a key labelled '{label}'; set key_label in the "
                    "template's [parameters] to recover under another label, or delete the old key"
                )
            key = backend.find(label, algorithm=package.algorithm)
            verify_recovered_key(backend, key, package.key_check_value, package.canary, package.public_key)
            ctx.append("found-after-interruption", {"key_label": label, "kcv": package.key_check_value})
        else:
            where = store_name(ctx)
            ctx.progress(ProgressTask.KEY_STORE, 0, 1, f"unwrapping key '{label}' into the {where}", finished=False)
            ctx.append("recovering", {"key_label": label, "store": where, "persistent": persistent})
            key = recover_key(
                backend, bytearray(inputs.wrapping_key), package.wrapped_key, package.key_check_value,
                package.canary, package.public_key, label, persistent, extractable=extractable,
            )  # fmt: skip
            ctx.progress(ProgressTask.KEY_STORE, 1, 1, f"key '{label}' unwrapped; check value and canary verified")
        ctx.material["recovered"] = key
        ctx.material["package"] = package
        ctx.append(
            "key-recovered",
            {"key_label": label, "backed_up_label": package.label, "algorithm": package.algorithm.value,
             "kcv": package.key_check_value, "kcv_matches": True, "canary_checked": True,
             "store": store_name(ctx), "persistent": persistent, "extractable": extractable,
             "drill": ctx.template.drill},
        )  # fmt: skip
        ctx.complete({"kcv": package.key_check_value})

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        recovered = ctx.facts("key-recovered", prior)
        if not recovered:
            return False
        ctx.complete({"kcv": recovered[-1]["kcv"]})
        return True


def _package_again(ctx: StepContext) -> Any:
    """The backup package (public) from the cards recorded at the present-cards step."""
    from keyceremony.keys.backup_package import format_package_fingerprint

    facts = ctx.fact("cards-accepted", "present-cards")
    for source in facts["sources"]:
        contents = ctx.ports.scanner.read(Path(source))
        for _, package in contents.packages:
            if format_package_fingerprint(package.fingerprint()) == facts["package_fingerprint"]:
                package.verify(source=source)
                return package
    raise CeremonyError("the backup package recorded at the present-cards step cannot be read again from its cards")


class TestDecrypt(StepHandler):
    kind = "test-decrypt"

    def run(self, ctx: StepContext) -> None:
        from keyceremony.keys.recovery import recover_key

        backend = ctx.backend
        facts = ctx.fact("key-recovered", "recover")
        key = ctx.material.get("recovered")
        package = ctx.material.get("package")
        if key is None and facts["persistent"] and ctx.keys.persistent:
            package = package or _package_again(ctx)
            key = backend.find(facts["key_label"], algorithm=package.algorithm)
        elif key is None:
            inputs = ctx.material.get("inputs") or _inputs_again(
                ctx,
                "the key recovered at the recover step was a throwaway copy in memory (or a "
                "session object) and was lost when the program stopped; the cards are read again",
            )
            package = inputs.package
            label, persistent, extractable = Recover().target(ctx, package)
            key = recover_key(
                backend, bytearray(inputs.wrapping_key), package.wrapped_key, package.key_check_value,
                package.canary, package.public_key, label, persistent, extractable=extractable,
            )  # fmt: skip
            ctx.append(
                "recovered-again", {"key_label": label, "kcv": package.key_check_value, "store": store_name(ctx)}
            )
        if key is None or package is None:  # pragma: no cover - every branch above sets both
            raise CeremonyError(f"step '{ctx.step.id}': the recovered key is not available")
        ctx.material["recovered"] = key
        ctx.material["package"] = package
        kcv = backend.key_check_value(key)
        if not hmac.compare_digest(kcv, package.key_check_value):
            raise KeyCheckMismatch(
                f"key '{key.label}': its check value {format_kcv(kcv)} is not the backed-up key's "
                f"{format_kcv(package.key_check_value)}; it is not the key that was backed up"
            )
        ctx.progress(ProgressTask.KEY_STORE, 0, 1, f"test-decrypting with key '{key.label}'", finished=False)
        backend.check_canary(key, package.canary, package.public_key)
        fresh = backend.make_canary(key, key.label)
        backend.check_canary(key, fresh, key.public_key or package.public_key)
        ctx.progress(ProgressTask.KEY_STORE, 1, 1, f"key '{key.label}' passed its test")
        where = store_name(ctx)
        canary = ("decrypted (AES-GCM) by the key inside " if package.algorithm.is_symmetric
                  else "signature verified, and a fresh challenge signed by the key inside ") + where  # fmt: skip
        ctx.append(
            "key-tested",
            {"key_label": key.label, "kcv": kcv, "kcv_matches": True, "canary": canary,
             "fresh_round_trip": "a new canary made and checked with the key: OK"},
        )  # fmt: skip
        ctx.complete({"kcv": kcv})


class Report(StepHandler):
    kind = "report"

    def run(self, ctx: StepContext) -> None:
        accepted = ctx.fact("cards-accepted", "present-cards")
        recovered = ctx.fact("key-recovered", "recover")
        presented = {str(d["share_number"]): d.get("presented_by") for d in
                     ctx.facts("card-presented", ctx.entries(step_id_of(ctx, "present-cards")))}  # fmt: skip
        tested = any(s.kind == "test-decrypt" for s in ctx.template.steps)
        drill = ctx.template.drill
        data = {
            "outcome": "PASSED" if drill else "RECOVERED",
            "drill": drill,
            "key_label": accepted["key_label"],
            "algorithm": accepted["algorithm"],
            "kcv": accepted["kcv"],
            "set_id": accepted["set_id"],
            "set_fingerprint": accepted["set_fingerprint"],
            "package_fingerprint": accepted["package_fingerprint"],
            "cards_used": accepted["cards_used"],
            "presented_by": presented,
            "store": recovered["store"],
            "tested": tested,
            "kept": (
                "nothing: the throwaway copy is deleted at the destroy step"
                if drill
                else f"key '{recovered['key_label']}' in {recovered['store']}"
            ),  # fmt: skip
        }
        ctx.append("drill-report" if drill else "recovery-report", data)
        ctx.say(
            f"{'Drill' if drill else 'Recovery'}: {data['outcome']}; key '{data['key_label']}', "
            f"check value {format_kcv(str(data['kcv']))}",
            "done",
        )
        ctx.complete({"outcome": data["outcome"]})
