"""README's tour and the docs' examples run as pasted, in order, from an empty folder, and print
what the documents show (scripts/run_doc_examples.py; `make test` runs this file)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_doc_examples", ROOT / "scripts" / "run_doc_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


runner = _runner()


def _needs(tool: str, package: str) -> None:
    """A real part the examples use is not installed: fail under CI (CI=true), else skip."""
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed, and CI=true requires it: apt-get install {package}", pytrace=False)
        pytest.skip(f"{tool} is not installed (apt-get install {package})")


@pytest.mark.parametrize("document", runner.DOCUMENTS)
def test_the_documents_examples_run_as_pasted(document):
    _needs("pdftoppm", "poppler-utils")
    if document == "README.md":
        _needs("softhsm2-util", "softhsm2")
    seconds = runner.run_document(ROOT / document)
    assert seconds < 60


@pytest.mark.parametrize("document", runner.DOCUMENTS)
def test_every_shell_block_runs_or_is_excluded_with_a_reason(document):
    text = (ROOT / document).read_text(encoding="utf-8")
    assert any(block.kind == "run" for block in runner.blocks(text))
    for line, first in runner.unmarked_shell_blocks(text):
        assert runner.exclusion(document, first), f"{document}:{line}: mark this block to run, or list it in EXCLUDED"


def test_every_exclusion_names_exactly_one_block():
    for document, start in runner.EXCLUDED:
        text = (ROOT / document).read_text(encoding="utf-8")
        assert len([f for _, f in runner.unmarked_shell_blocks(text) if f.startswith(start)]) == 1, (document, start)


def test_shown_output_matches_by_shape_where_values_change_at_every_run():
    shown = ["Wrote 5 shares of set f301747b-0a15adc6 ('Payments KEK', any 3 of 5, 32-byte secret) to shares/",
             "...",
             "Set fingerprint: 5B30 C4FC 14CE 9AD9 DD2B 2C42 AC33 5521"]
    actual = ("Wrote 5 shares of set fd1252c7-c1e58aaa ('Payments KEK', any 3 of 5, 32-byte secret) to shares/\n"
              "  card-1.pdf: OK\n"
              "Set fingerprint: 0A30 C4FC 14CE 9AD9 DD2B 2C42 AC33 55FF\n")
    assert runner.check_output(shown, actual) is None
    # Only the shapes are free: other text, the order and a missing line are each caught.
    assert runner.check_output([shown[0].replace("3 of 5", "2 of 5")], actual) is not None
    assert runner.check_output([shown[2], shown[0]], actual) is not None
    assert runner.check_output(shown[:1], "") is not None
    assert runner.check_output(["check 'CAL': a typo"], "check 'SWM': a typo") is None
    assert runner.check_output(["check 'CAL': a typo"], "check 'swm': a typo") is not None
    assert runner.check_output(["intact and sealed; ..."], "intact and sealed; 36 entries") is None


def test_a_failing_example_or_a_wrong_output_is_named_with_its_line(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- doc-example: run -->\n```sh\necho hello\nfalse\necho never\n```\n")
    with pytest.raises(SystemExit, match=r"doc.md:2: this block failed"):
        runner.run_document(doc)
    doc.write_text("<!-- doc-example: run -->\n```sh\necho hello\n```\n\n"
                   "<!-- doc-example: output -->\n```\ngoodbye\n```\n")
    with pytest.raises(SystemExit, match=r"doc.md:2: this line is not in the output.*goodbye"):
        runner.run_document(doc)
    doc.write_text("<!-- doc-example: run -->\n```sh\nX=1\n```\n\n<!-- doc-example: session -->\n```\n"
                   "$ echo \"x is $X\"; false\nx is 1\n$ echo after\nafter\n```\n")
    runner.run_document(doc)  # variables carry over; a session command may fail
