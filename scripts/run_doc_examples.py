"""Run the examples of README.md and docs/ as pasted, in order, and check the output they show.

A block runs only when the line before its fence is a marker (other blocks are illustrative):

- ``<!-- doc-example: run -->`` before a ```` ```sh ```` block: its lines run as they are, in one
  ``bash -euo pipefail`` per document (so variables and ``cd`` carry to the next block);
- ``<!-- doc-example: output -->`` before a plain ```` ``` ```` block: its lines must appear, in this
  order, in the output (stdout and stderr) of the run block before it;
- ``<!-- doc-example: session -->`` before a plain ```` ``` ```` block of ``$ command`` lines, each
  followed by its output: each command runs (it may fail: error messages are examples too) and
  its output must hold the lines shown after it, in order.

In shown output, ``...`` (or ``…``) stands for any text, a line of only ``...`` for any lines, and
values that differ at every run match their shape: share set and ceremony ids (``f301747b-0a15adc6``),
fingerprints in hex groups (``69C2 B5D3 … B19C``) and their 16 words, check values (``98F3A8``),
a data line's check (``'CAL'``) and times.

Each document runs in its own empty temporary folder holding only what a checkout has at its root
and the examples use: ``.venv`` (the virtualenv running this script) and ``examples/``; the
virtualenv's ``bin`` comes first on PATH, as after ``. .venv/bin/activate``.
Usage: ``python scripts/run_doc_examples.py [FILE.md ...]``; exits non-zero on the first failure.

Shell blocks of these documents that do not run are listed in EXCLUDED with the reason (a test
checks that every other shell block is marked). Documents not run, and why:

- docs/hsm.md: its command block comes before the SoftHSM2 set-up it needs; README's "Back up an
  HSM key" runs the same commands (backup, recover into a token, a drill) against SoftHSM2;
- docs/benchmarks.md: ``make bench`` takes minutes;
- docs/share-format.md, backup-package.md, transcript.md, architecture.md: specification
  examples (no commands), checked by tests/test_spec_examples.py and the transcript tests;
  auditor-guide.md's Python checker is run by tests/transcript/test_transcript.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "docs/auditor-guide.md", "docs/ceremony-guide.md", "docs/share-cards.md")
# Shell blocks left out on purpose: (document, the start of the block's first line) and the reason.
EXCLUDED = {
    ("README.md", "make demo"): "`make test` is what runs this; `make demo` is run by tests/test_demo.py",
    ("README.md", "keyceremony combine --type"): "interactive: a person types the cards' lines",
    ("docs/auditor-guide.md", "keyceremony transcript verify transcript.jsonl"):
        "needs a transcript resumed with a new key after a crash (--later-fingerprint)",
    ("docs/ceremony-guide.md", "export KEYCEREMONY_PIN=..."):
        "a real ceremony's command: answers.toml, a PIN and /run/ceremony are the reader's",
}
SHELL_FENCES = ("```sh", "```bash", "```console", "```shell")
MARKER = re.compile(r"<!-- doc-example: (run|output|session) -->")
# Shapes of values that change at every run, each matched by its shape instead of its value.
SHAPES = (
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{8}\b"), r"[0-9a-f]{8}-[0-9a-f]{8}"),
    (re.compile(r"\b[0-9A-F]{4}(?: [0-9A-F]{4}){7}\b"), r"[0-9A-F]{4}(?: [0-9A-F]{4}){7}"),
    (re.compile(r"(?<=in words: )[A-Za-z]+(?: [A-Za-z]+){15}"), r"[A-Za-z]+(?: [A-Za-z]+){15}"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"), r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"),
    (re.compile(r"\b[0-9A-F]{6}\b"), r"[0-9A-F]{6}"),
    (re.compile(r"'[A-Z2-7]{3}'"), r"'[A-Z2-7]{3}'"),
)
WILDCARD = re.compile(r"\.\.\.|…")


@dataclass
class Block:
    kind: str  # run, output or session
    line: int  # the fence's line number in the document
    lines: list[str]


@dataclass
class Step:
    """What one bash run executes: a run block, or one command of a session block."""

    line: int
    script: str
    expected: list[str] = field(default_factory=list)
    may_fail: bool = False


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        marker = MARKER.fullmatch(lines[i].strip())
        if marker and i + 1 < len(lines) and lines[i + 1].lstrip().startswith("```"):
            end = next(j for j in range(i + 2, len(lines)) if lines[j].lstrip().startswith("```"))
            body = textwrap.dedent("\n".join(lines[i + 2 : end]))  # a block inside a list item is indented
            found.append(Block(marker.group(1), i + 2, body.splitlines()))
            i = end
        i += 1
    return found


def unmarked_shell_blocks(text: str) -> list[tuple[int, str]]:
    """The shell blocks without a marker: (fence line number, first line), for the test that
    checks each of them is in EXCLUDED."""
    lines = text.splitlines()
    found: list[tuple[int, str]] = []
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            if not fenced and line.strip() in SHELL_FENCES and not (i and MARKER.fullmatch(lines[i - 1].strip())):
                found.append((i + 1, lines[i + 1].strip() if i + 1 < len(lines) else ""))
            fenced = not fenced
    return found


def exclusion(document: str, first: str) -> str | None:
    """Why the unmarked shell block of ``document`` starting with ``first`` does not run, if listed."""
    return next((why for (doc, start), why in EXCLUDED.items() if doc == document and first.startswith(start)), None)


def steps(found: list[Block], name: str) -> list[Step]:
    out: list[Step] = []
    for block in found:
        if block.kind == "run":
            out.append(Step(block.line, "\n".join(block.lines)))
        elif block.kind == "output":
            if not out or out[-1].may_fail or out[-1].expected:
                raise SystemExit(f"{name}:{block.line}: an output block must follow a run block")
            out[-1].expected = block.lines
        else:
            for n, text in enumerate(block.lines, start=block.line + 1):
                if text.startswith("$ "):
                    out.append(Step(n, text[2:], may_fail=True))
                elif not out or not out[-1].may_fail:
                    raise SystemExit(f"{name}:{n}: a session block starts with a '$ ' command")
                else:
                    out[-1].expected.append(text)
    return out


def pattern(shown: str) -> re.Pattern[str]:
    """A regular expression for one line of shown output (see the module's docstring)."""
    parts: list[str] = []
    for piece in WILDCARD.split(shown.strip()):
        spans: list[tuple[int, int, str]] = []
        for shape, regex in SHAPES:
            for match in shape.finditer(piece):
                if not any(s < match.end() and match.start() < e for s, e, _ in spans):
                    spans.append((match.start(), match.end(), regex))
        at, out = 0, ""
        for start, end, regex in sorted(spans):
            out += re.escape(piece[at:start]) + regex
            at = end
        parts.append(out + re.escape(piece[at:]))
    return re.compile(".*".join(parts))


def check_output(expected: list[str], actual: str) -> str | None:
    """None if the shown lines appear in order in ``actual``, else what is missing."""
    got = [line.strip() for line in actual.splitlines()]
    at = 0
    for shown in expected:
        if WILDCARD.fullmatch(shown.strip()) or not shown.strip():
            continue
        regex = pattern(shown)
        while at < len(got) and not regex.fullmatch(got[at]):
            at += 1
        if at == len(got):
            return f"this line is not in the output (in this order): {shown.strip()}"
        at += 1
    return None


def run_document(path: Path) -> float:
    """Run one document's examples in an empty folder; raise SystemExit naming the first failure."""
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    todo = steps(blocks(path.read_text(encoding="utf-8")), name)
    if not todo:
        raise SystemExit(f"{name}: no runnable example (<!-- doc-example: run -->)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="doc-examples-") as tmp:
        work = Path(tmp)
        (work / ".venv").symlink_to(sys.prefix)
        (work / "examples").symlink_to(ROOT / "examples")
        # One shell for the document; each step's output between markers, stderr with stdout.
        script = ["exec 2>&1"]
        for n, step in enumerate(todo):
            script.append(f"echo '@@step {n}@@'")
            script.append(f"( set +e; {step.script}\n) || echo \"@@exit $?@@\"" if step.may_fail else step.script)
        script.append("echo '@@done@@'")
        env = {k: v for k, v in os.environ.items() if k not in ("SOFTHSM2_CONF", "KEYCEREMONY_PIN")}
        env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(script)], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
        outputs = re.split(r"^@@step \d+@@\n", done.stdout, flags=re.M)[1:]
        for n, step in enumerate(todo):
            output = outputs[n] if n < len(outputs) else ""
            output = output.split("@@done@@\n")[0]
            where = f"{name}:{step.line}"
            if n == len(outputs) - 1 and "@@done@@" not in done.stdout:
                raise SystemExit(f"{where}: this block failed (exit {done.returncode}):\n{step.script}\n"
                                 f"--- its output:\n{output}")
            problem = check_output(step.expected, output)
            if problem:
                raise SystemExit(f"{where}: {problem}\n--- the command:\n{step.script}\n--- its output:\n{output}")
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    for name in argv or DOCUMENTS:
        seconds = run_document((ROOT / name).resolve())
        print(f"{name}: every example ran as pasted and printed what it shows ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
