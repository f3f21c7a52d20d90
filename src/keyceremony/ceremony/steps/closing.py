"""The closing steps: destroy what must not outlive the ceremony, then seal the transcript
(docs/ceremony-guide.md §8.4)."""

from __future__ import annotations

from typing import Any

from keyceremony.ceremony.steps.context import (
    StepContext,
    StepHandler,
    relative_path,
    store_name,
)
from keyceremony.errors import CeremonyError

# --- destroy and seal --------------------------------------------------------------------------------


class Destroy(StepHandler):
    kind = "destroy"

    def run(self, ctx: StepContext) -> None:
        if ctx.step.confirm:  # what people destroy by hand (misprints, spoiled cards) comes first
            ctx.confirm(ctx.step.id, ctx.step.confirm)
        items: list[tuple[str, dict[str, Any]]] = []
        made_here = ctx.engine.made_in_this_run
        if ctx.template.kind == "key-generation":
            items.append(("destroyed", {
                "what": "backup wrapping key",
                "action": ("wiped in memory right after the split; it was never written anywhere"
                           if "split-and-print" in made_here else
                           "wiped in memory right after the split, by the program run that made it; "
                           "never written anywhere"),
            }))  # fmt: skip
            p = ctx.params
            if ctx.keys.persistent:
                items.append(
                    (
                        "kept",
                        {
                            "what": f"key '{p.key_label}'",
                            "store": store_name(ctx),
                            "action": "kept in the token: sensitive, extractable only wrapped",
                        },
                    )
                )
            else:
                key = ctx.material.pop("key", None)
                if key is not None:
                    ctx.backend.destroy(key)
                    action = "wiped from memory; the backup on the cards is now its only copy"
                else:
                    action = "gone with the program run that held it; the backup on the cards is its only copy"
                items.append(
                    ("destroyed", {"what": f"key '{p.key_label}' in the software key store", "action": action})
                )
            printer = ctx.ports.printer
            files = list(printer.printed_files())
            keep = ctx.step.card_files == "keep" or ctx.engine.keep_card_files
            names = [relative_path(f, ctx.engine.out_dir) for f in files]
            if keep:
                why = "kept (rehearsal)" if ctx.engine.keep_card_files else "kept, as the template says"
                items.append(("kept", {"what": "card PDF files", "files": names, "action": why}))
            else:
                printer.shred(files)
                # say only what happened: after a restart the files may already be gone
                action = ("overwritten with zeros and deleted" if names
                          else "none left to shred: no card PDF file was in the cards folder")  # fmt: skip
                items.append(("destroyed", {"what": "card PDF files", "files": names, "action": action}))
        else:
            inputs = ctx.material.pop("inputs", None)
            if inputs is not None:
                inputs.close()
            items.append(("destroyed", {
                "what": "wrapping key rebuilt from the cards",
                "action": "wiped in memory" if inputs is not None else "gone with the program run that held it",
            }))  # fmt: skip
            facts = ctx.fact("key-recovered", "recover")
            key = ctx.material.pop("recovered", None)
            if ctx.template.drill:
                label = key.label if key is not None else facts["key_label"]
                if key is not None:
                    ctx.backend.destroy(key)
                left = ctx.backend.count_objects(label)
                if left:
                    raise CeremonyError(
                        f"the drill copy '{label}' could not be removed ({left} object(s) left); delete it by hand"
                    )
                items.append(("destroyed", {
                    "what": f"drill copy '{label}'",
                    "action": ("deleted from " if key is not None
                               else "gone (it was a session or in-memory object) from ") + store_name(ctx),
                    "objects_left": left,
                }))  # fmt: skip
            else:
                if ctx.keys.persistent:
                    action = "kept: the recovered key" + ("" if facts["extractable"] else ", not extractable")
                else:
                    action = "kept only until this program ends: the software key store is memory (a rehearsal)"
                items.append(
                    ("kept", {"what": f"key '{facts['key_label']}'", "store": facts["store"], "action": action})
                )
        for event, data in items:
            ctx.append(event, data)
        ctx.complete({"items": len(items)})


class Seal(StepHandler):
    kind = "seal"

    def run(self, ctx: StepContext) -> None:
        count = len(ctx.engine.entries) + 2
        ctx.say(
            f"The transcript will be sealed with entry {count}; read the count aloud and write it in the paper log."
        )
        if ctx.step.confirm:
            ctx.confirm(ctx.step.id, ctx.step.confirm)
        ctx.append("sealing", {"entry_count": count})
        ctx.engine.seal(
            ctx.step, ctx.present, {"remarks": f"{ctx.template.title}: all steps done", "entry_count": count}
        )
