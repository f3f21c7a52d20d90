"""``keyceremony run TEMPLATE --answers FILE --out DIR``: a scripted driver of the ceremony engine.

Registered by ``keyceremony.cli.main`` with :func:`add_ceremony_commands`. Only the standard library
is imported at start-up; the engine, back ends and card libraries are imported when the command
runs, so ``keyceremony --help`` stays fast. The same ``--out DIR`` again resumes an interrupted ceremony at the step
where its transcript stops (docs/ceremony-guide.md §6).

Two **test-only hooks**, read from the environment and recorded in the transcript and report
when active (docs/ceremony-guide.md §9):

- ``KEYCEREMONY_TEST_SOFT_KEY=<hex>``: with the soft back end, the key-generation step imports
  this key instead of generating one, so tests can look for it in every file written;
- ``KEYCEREMONY_TEST_KILL_AT=<step>[/<event>]``: the process kills itself with SIGKILL right
  after that entry (by default the step's ``completed`` entry, or the seal) is on disk.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from keyceremony.cli.common import MODULE_ENV, PIN_ENV, Subcommands, add_command, add_json_flag, output_folder, read_pin
from keyceremony.cli.json_output import record
from keyceremony.cli.verbosity import detail

if TYPE_CHECKING:
    from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys
    from keyceremony.ceremony.answers import Answers
    from keyceremony.transcript import Entry

TEST_KEY_ENV = "KEYCEREMONY_TEST_SOFT_KEY"
KILL_ENV = "KEYCEREMONY_TEST_KILL_AT"


def add_ceremony_commands(subparsers: Subcommands) -> None:
    """Add ``run`` to the top-level ``subparsers``."""
    p = add_command(
        subparsers, "run",
        summary="run (or resume) a ceremony from a template, taking participants and confirmations from a file",
        description=(
            "Run a ceremony template as a signed, hash-chained transcript in DIR: key generation, "
            "recovery or a DR drill. Participants and confirmations come from the answers file. "
            "Running again with the same --out DIR resumes an interrupted ceremony at the step "
            "where it stopped. At the end the transcript is verified against the template and a "
            "report is written. To be asked each question on screen instead, use the terminal UI "
            "(`keyceremony`). See docs/ceremony-guide.md."
        ),
        examples=(
            "keyceremony run key-generation --answers answers.toml --out ceremony/",
            "keyceremony run key-generation --answers answers.toml --out ceremony/   # again: resumes",
            "keyceremony run dr-drill --answers drill.toml --out drill-2026-12/ --backend pkcs11 --token recovery",
        ),
    )
    p.add_argument("template", metavar="TEMPLATE",
                   help="a bundled template (key-generation, recovery, dr-drill) or the path of a template file")
    p.add_argument("--answers", required=True, metavar="FILE", help="the answers file (TOML)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the ceremony folder: transcript.jsonl, state.json, cards/, report.txt (new, or one to resume)")
    p.add_argument("--backend", choices=("soft", "pkcs11"), help="override the answers' [hsm] backend")
    p.add_argument("--module", metavar="PATH", help=f"the PKCS#11 module (else [hsm] module, else ${MODULE_ENV})")
    p.add_argument("--token", metavar="LABEL", help="the token's label (else [hsm] token)")
    p.add_argument("--pin-file", metavar="FILE", help=f"read the user PIN from FILE (else ${PIN_ENV}, else a prompt)")
    add_json_flag(p)
    p.set_defaults(run=_run)


def _keys(args: argparse.Namespace, answers: Answers) -> SoftKeys | Pkcs11Keys:
    from keyceremony.ceremony.adapters import Pkcs11Keys, SoftKeys
    from keyceremony.errors import UsageError

    kind = args.backend or ("pkcs11" if (args.module or args.token) else answers.hsm.backend)
    if kind == "soft":
        test_key = os.environ.get(TEST_KEY_ENV)
        if test_key:
            print(f"keyceremony: WARNING: {TEST_KEY_ENV} is set: a TEST HOOK imports a known key; "
                  "this is not a real ceremony", file=sys.stderr)
            try:
                return SoftKeys(test_key=bytes.fromhex(test_key))
            except ValueError:
                raise UsageError(f"{TEST_KEY_ENV} must be hex") from None
        return SoftKeys()
    if os.environ.get(TEST_KEY_ENV):
        raise UsageError(f"{TEST_KEY_ENV} works only with the soft back end")
    module = args.module or answers.hsm.module or os.environ.get(MODULE_ENV)
    token = args.token or answers.hsm.token
    if not module:
        raise UsageError(f"name the PKCS#11 module: --module PATH, [hsm] module in the answers, or ${MODULE_ENV}")
    if not token:
        raise UsageError("name the token: --token LABEL or [hsm] token in the answers")
    return Pkcs11Keys(module, token, read_pin(args.pin_file, token), wrap_mechanism=answers.hsm.wrap_mechanism)


def _kill_hook() -> Callable[[str, Entry], None] | None:
    target = os.environ.get(KILL_ENV)
    if not target:
        return None
    step, _, event = target.partition("/")

    def on_entry(step_id: str, entry: Entry) -> None:
        if step_id != step:
            return
        if (event and entry.event == event) or (not event and entry.event in ("completed", "sealed")):
            import signal

            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    return on_entry


def _run(args: argparse.Namespace) -> int:
    from keyceremony.ceremony.adapters import FileCardScanner, PdfCardPrinter
    from keyceremony.ceremony.answers import AnswersPrompter, load_answers
    from keyceremony.ceremony.engine import CeremonyEngine, CeremonyOptions, Ports
    from keyceremony.ceremony.preflight import LinuxHostFacts
    from keyceremony.ceremony.state import CARDS_DIR
    from keyceremony.ceremony.template import load_template

    t0 = time.perf_counter()
    record(args, folder=args.out, template=args.template)
    template = load_template(args.template)
    answers = load_answers(args.answers, template)
    keys = _keys(args, answers)
    out = output_folder(args.out)

    def say(text: str) -> None:  # each step as it runs; --quiet prints the final report only
        detail(text, flush=True)

    ports = Ports(
        prompter=AnswersPrompter(answers, template, say=say),
        keys=keys,
        host=LinuxHostFacts(),
        printer=PdfCardPrinter(out / CARDS_DIR, paper=getattr(template.parameters, "paper", "a4")),
        scanner=FileCardScanner(),
    )
    hook = _kill_hook()
    if hook is not None:
        ports.on_entry = hook
    options = CeremonyOptions(answers.title, answers.location, answers.rehearsal, answers.sha256, answers.anchors,
                              owner=answers.owner, contact=answers.contact)
    result = CeremonyEngine(template, out, ports, options).run()
    print(result.report, end="")
    seconds = time.perf_counter() - t0
    print(f"Report: {result.report_path}; ceremony finished in {seconds:.2f} s")
    from keyceremony.cli.json_output import ceremony_fields

    record(args, **ceremony_fields(result), seconds=round(seconds, 3))
    return 0
