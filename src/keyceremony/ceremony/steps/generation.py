"""The key-generation steps: generate the key, split it and print the cards, read them back, hand them over
(docs/ceremony-guide.md §8.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from keyceremony.ceremony.ports import (
    CardHoldersRequest,
    HandOverRequest,
    ProgressTask,
    ScanBackRequest,
)
from keyceremony.ceremony.steps.context import (
    StepContext,
    StepHandler,
    key_algorithm,
    relative_path,
    step_id_of,
    store_name,
)
from keyceremony.errors import CeremonyCancelled, CeremonyError, KeyCeremonyError
from keyceremony.keys.backup_package import format_kcv
from keyceremony.transcript import Entry

MAX_READS = 5  # reads of one card at the scan-back before the step stops

# --- key generation ---------------------------------------------------------------------------------


class GenerateKey(StepHandler):
    kind = "generate-key"

    def run(self, ctx: StepContext) -> None:
        p = ctx.params
        algorithm = key_algorithm(p.algorithm)
        backend = ctx.backend
        ours = any(e.event == "generating" and e.data.get("key_label") == p.key_label for e in ctx.entries())
        if backend.count_objects(p.key_label):
            if not ours:  # a key this ceremony did not make: never touch it
                raise CeremonyError(
                    f"{store_name(ctx)} already holds a key labelled '{p.key_label}'; a ceremony never "
                    "replaces a key. Choose another key_label in the template, or delete the old "
                    "key deliberately, then run again"
                )
            old = backend.find(p.key_label, algorithm=algorithm)
            kcv = backend.key_check_value(old)
            backend.destroy(old)
            ctx.append(
                "discarded",
                {"key_label": p.key_label, "kcv": kcv, "store": store_name(ctx),
                 "reason": "made before the interruption and never backed up, so it was deleted; a new key is made"},
            )  # fmt: skip
        ctx.progress(
            ProgressTask.KEY_STORE, 0, 1, f"generating key '{p.key_label}' in the {store_name(ctx)}", finished=False
        )
        ctx.append("generating", {"key_label": p.key_label, "algorithm": p.algorithm, "store": store_name(ctx)})
        key = ctx.keys.generate_key(backend, p.key_label, algorithm)
        ctx.material["key"] = key
        kcv = backend.key_check_value(key)
        ctx.append(
            "key-generated",
            {"key_label": p.key_label, "algorithm": p.algorithm, "kcv": kcv, "store": store_name(ctx),
             "persistent": ctx.keys.persistent, "sensitive": True, "export": "wrapped only"},
        )  # fmt: skip
        ctx.progress(ProgressTask.KEY_STORE, 1, 1, f"key '{p.key_label}' generated, check value {format_kcv(kcv)}")
        ctx.complete({"kcv": kcv})

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        if not ctx.keys.persistent or not any(e.event == "key-generated" for e in prior):
            return False
        p = ctx.params
        key = ctx.backend.find(p.key_label, algorithm=key_algorithm(p.algorithm))
        ctx.material["key"] = key
        ctx.complete({"kcv": ctx.backend.key_check_value(key), "found_after_interruption": True})
        return True


class SplitAndPrint(StepHandler):
    kind = "split-and-print"

    def rewind_reason(self, ctx: StepContext) -> str | None:
        if ctx.material.get("key") is not None:
            return None
        p = ctx.params
        if ctx.keys.persistent:
            ctx.material["key"] = ctx.backend.find(p.key_label, algorithm=key_algorithm(p.algorithm))
            return None
        return (
            f"the key '{p.key_label}' generated in this step existed only in the memory of the "
            "program, which stopped before the key was backed up; it is lost (it was never "
            "written anywhere and has no backup), so a new key is generated"
        )

    def run(self, ctx: StepContext) -> None:
        from keyceremony.codec.fingerprint import format_fingerprint as format_key_fingerprint
        from keyceremony.codec.pgp_words import to_words
        from keyceremony.keys.backup_package import format_package_fingerprint
        from keyceremony.recipes.backup import make_backup
        from keyceremony.shares.shareset import format_fingerprint, format_set_id

        p = ctx.params
        key = ctx.material.get("key")
        if key is None:  # pragma: no cover - the engine rewinds first
            raise CeremonyError(f"step '{ctx.step.id}': the key to back up is not available")
        custodians = ctx.custodians()
        holders = list(ctx.prompter.card_holders(CardHoldersRequest(ctx.info, p.shares, tuple(custodians))))
        check_card_holders(ctx.step.id, holders, p.shares, custodians)
        printer = ctx.ports.printer
        earlier = [path.name for path in printer.printed_files()]
        printer.shred(list(printer.printed_files()))  # cards of an attempt cut short: not recorded
        ctx.progress(ProgressTask.KEY_STORE, 0, 1, "wrapping the key for its backup", finished=False)
        backup = make_backup(ctx.backend, key, p.threshold, p.shares, randbytes=ctx.ports.randbytes)
        try:
            ctx.progress(ProgressTask.KEY_STORE, 1, 1, "key wrapped; the wrapping key is split")

            def card_done(done: int, total: int) -> None:
                ctx.progress(ProgressTask.PRINT_CARD, done, total, f"card {done} of {total} written and read back")

            cards = printer.print_backup(
                backup, custodians=holders, paper=p.paper,
                ceremony_fingerprint=format_key_fingerprint(ctx.engine.fingerprint), on_card=card_done,
                owner=ctx.engine.owner, contact=ctx.engine.contact,
            )  # fmt: skip
            share, package = backup.shares[0], backup.package
            data = {
                "key_label": package.label,
                "algorithm": package.algorithm.value,
                "kcv": package.key_check_value,
                "set_id": format_set_id(share.set_id),
                "set_fingerprint": format_fingerprint(share.fingerprint()),
                "set_fingerprint_words": " ".join(to_words(share.fingerprint())),
                "package_fingerprint": format_package_fingerprint(package.fingerprint()),
                "threshold": p.threshold,
                "count": p.shares,
                "wrap_mechanism": "RFC 5649 under a fresh 256-bit wrapping key, wiped after the split",
                "package_file": relative_path(printer.directory / "package.kcb", ctx.engine.out_dir),
            }
        finally:
            del backup  # drop our reference to the shares (bytes: freed, not overwritten; docs/core.md §6)
        if earlier:
            data["earlier_card_files_removed"] = earlier
        ctx.append("shares-made", data)
        for card in cards:
            ctx.append(
                "card-printed",
                {"share_number": card.share_number, "holder": card.custodian,
                 "card_file": relative_path(card.path, ctx.engine.out_dir), "readback": card.readback},
            )  # fmt: skip
        ctx.say(
            f"Share set {data['set_id']}, fingerprint {data['set_fingerprint']}: read it aloud "
            f"({data['set_fingerprint_words']}) and write it in the paper log. Print the cards "
            f"in {relative_path(printer.directory, ctx.engine.out_dir)}/ now.",
            "fingerprint",
            what="share set",
            hex=data["set_fingerprint"],
            words=data["set_fingerprint_words"],
        )
        ctx.complete({"cards": p.shares, "set_id": data["set_id"]})

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        made = ctx.facts("shares-made", prior)
        if not made:
            return False
        facts = made[-1]
        done = {d["share_number"] for d in ctx.facts("card-printed", prior)}
        custodians = tuple(ctx.custodians())
        holders = list(ctx.prompter.card_holders(CardHoldersRequest(ctx.info, facts["count"], custodians)))
        for x in range(1, facts["count"] + 1):
            if x in done:
                continue
            path = ctx.ports.printer.card_path(x)
            share = _read_card(ctx, path, x, facts)
            del share
            ctx.append(
                "card-printed",
                {"share_number": x, "holder": holders[x - 1] if x <= len(holders) else None,
                 "card_file": relative_path(path, ctx.engine.out_dir),
                 "readback": "printed before the interruption; read back from the file after it"},
            )  # fmt: skip
        ctx.complete({"cards": facts["count"], "set_id": facts["set_id"]})
        return True


def _read_card(ctx: StepContext, source: Path, x: int, facts: Mapping[str, Any]) -> Any:
    """Read one card (or scan) and check it is share ``x`` of the recorded set, with the
    recorded package. Returns nothing secret to the caller's records; raises CeremonyError."""
    from keyceremony.keys.backup_package import format_package_fingerprint
    from keyceremony.shares.collector import ShareCollector

    if not Path(source).exists():
        raise CeremonyError(
            f"{source}: card {x} of set {facts['set_id']} is missing. It was printed before and "
            "is needed now; if it was deleted, this ceremony cannot finish: start a new one"
        )
    contents = ctx.ports.scanner.read(Path(source))
    shares = contents.shares
    if len(shares) != 1:
        raise CeremonyError(f"{source}: expected one share on card {x}, found {len(shares)}")
    name, share = shares[0]
    # One card judged on its own, against the set recorded in this ceremony (shares/collector.py);
    # the collector is dropped at once, so no more than this card's share stays in memory.
    recorded = bytes.fromhex("".join(str(facts["set_fingerprint"]).split()))
    answer = ShareCollector(expected_fingerprint=recorded).add(name, share, expect_x=x)
    if not answer.accepted:
        raise CeremonyError(f"{source}: {answer.reason}; do not hand it over")
    if not contents.packages:  # docs/share-cards.md §3.1
        raise CeremonyError(
            f"{source}: the backup package code (the smaller one, headed 'Backup package') was not "
            f"read from card {x}; scan or photograph the card again, flat and whole (300 dpi), and "
            "do not hand it over until it reads"
        )
    packages = [pkg for _, pkg in contents.packages
                if format_package_fingerprint(pkg.fingerprint()) == facts["package_fingerprint"]]  # fmt: skip
    if not packages:
        raise CeremonyError(f"{source}: card {x} does not carry this backup's package; do not hand it over")
    packages[0].verify(source=str(source))
    packages[0].check_shares(share, source=str(source))
    return share


class ScanBack(StepHandler):
    kind = "scan-back"

    def run(self, ctx: StepContext) -> None:
        facts = ctx.fact("shares-made", "split-and-print")
        for x in range(1, facts["count"] + 1):
            pdf = ctx.ports.printer.card_path(x)
            image, source = self.read_until_accepted(ctx, x, pdf, facts)
            how = ("the card's PDF rendered and decoded" if image is None
                   else "a scan or photo of the printed card decoded")  # fmt: skip
            ctx.progress(ProgressTask.SCAN_CARD, x, facts["count"], f"card {x} of {facts['count']} read back")
            ctx.append(
                "card-scanned",
                {"share_number": x, "source": source.name, "how": how, "set_id": facts["set_id"],
                 "signature_verified": True, "set_fingerprint_matches": True, "package_fingerprint_matches": True},
            )  # fmt: skip
        ctx.complete({"cards": facts["count"]})

    def read_until_accepted(
        self, ctx: StepContext, x: int, pdf: Path, facts: Mapping[str, Any]
    ) -> tuple[Path | None, Path]:
        """Ask for card ``x`` until it reads and checks (at most MAX_READS times); a refusal is
        answered at once, recorded, and only this card is asked for again."""
        problem: str | None = None
        for attempt in range(1, MAX_READS + 1):
            image = ctx.prompter.scan_back(ScanBackRequest(ctx.info, x, pdf, attempt, problem))
            source = Path(image) if image is not None else pdf
            try:
                share = _read_card(ctx, source, x, facts)
            except CeremonyCancelled:
                raise
            except KeyCeremonyError as err:
                problem = str(err)
                ctx.append("card-refused", {"share_number": x, "source": source.name, "attempt": attempt,
                                            "reason": problem})  # fmt: skip
                ctx.say(f"card {x}: {problem}. Bring it again", "card", accepted=False, share_number=x)
                continue
            del share
            ctx.say(f"card {x} read back: share {x} of set {facts['set_id']}", "card", accepted=True, share_number=x)
            return image, source
        raise CeremonyError(
            f"step '{ctx.step.id}': card {x} did not read back in {MAX_READS} attempts; the last: {problem}"
        )


def check_card_holders(step_id: str, holders: Sequence[str], shares: int, custodians: Sequence[str]) -> None:
    """One different custodian present per card, or CeremonyError (a screen checks the same)."""
    if len(holders) != shares or len(set(holders)) != shares or not set(holders) <= set(custodians):
        raise CeremonyError(
            f"step '{step_id}': name {shares} different custodians from the roll call, one "
            f"per card (custodians present: {', '.join(custodians) or 'none'})"
        )


class HandOver(StepHandler):
    kind = "hand-over"

    def run(self, ctx: StepContext) -> None:
        self.resume(ctx, [])

    def resume(self, ctx: StepContext, prior: list[Entry]) -> bool:
        facts = ctx.fact("shares-made", "split-and-print")
        planned = {
            d["share_number"]: d.get("holder")
            for d in ctx.facts("card-printed", ctx.entries(step_id_of(ctx, "split-and-print")))
        }
        holders = {d["share_number"]: d["holder"] for d in ctx.facts("card-received", prior)}
        custodians = ctx.custodians()
        for x in range(1, facts["count"] + 1):
            if x in holders:
                continue
            answer = ctx.prompter.hand_over(HandOverRequest(ctx.info, x, planned.get(x), f"card-{x}.pdf"))
            who = answer.custodian
            if who not in custodians:
                raise CeremonyError(
                    f"card {x}: '{who}' is not a custodian present at this step (present: {', '.join(custodians)})"
                )
            if who in holders.values():
                raise CeremonyError(
                    f"card {x}: {who} already holds card {_key_of(holders, who)}; each custodian holds one card"
                )
            if planned.get(x) and planned[x] != who:
                raise CeremonyError(
                    f"card {x} has '{planned[x]}' printed on it as its custodian, not '{who}'; hand it to {planned[x]}"
                )
            holders[x] = who
            ctx.append(
                "card-received",
                {"share_number": x, "holder": who, "bag_number": answer.bag, "card_checked": True},
            )
        ctx.complete({"holders": {str(x): holders[x] for x in sorted(holders)}})
        return True


def _key_of(mapping: Mapping[int, str], value: str) -> int:
    return next(k for k, v in mapping.items() if v == value)
