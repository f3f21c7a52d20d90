"""``python -m bench [--quick] [--only ours|peers|tui|startup]``: print the Markdown report on stdout.

Progress goes to stderr, so ``python -m bench > report.md`` keeps only the report.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import machine, ours, peers, startup, tui
from bench.table import figures_table, peers_table
from bench.timing import FULL, QUICK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and smaller peer inputs")
    parser.add_argument(
        "--only", choices=("ours", "peers", "tui", "startup"),
        help="measure only our figures, only the peers', only the terminal UI's, or only the commands' start-up",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()

    sections = [machine.header(plan)]  # first, so its load average is the one at start
    ours.progress("machine reference")
    sections.append("## Machine reference\n\n" + figures_table(machine.reference_figures(plan)))
    if args.only in (None, "ours"):
        sections.append(
            "## keyceremony (`keyceremony.core.shamir`)\n\n"
            "Throughput counts secret bytes. \"combine k shares\" is `combine(shares[-k:])`, which "
            "checks nothing; \"checked combine\" is `combine(all n, threshold=k)`, which also verifies "
            "the other n − k shares.\n\n" + figures_table(ours.figures(plan))
        )
    if args.only in (None, "peers"):
        sections.append(
            "## Peers, measured in this run\n\n"
            "\"ours, same input\" runs `keyceremony.core.shamir` on the peer's input (for pycryptodome's "
            "16-byte chunks: `split_many` / `combine_many` of the same chunks). \"ours faster by\" is "
            "the ratio of the two figures: the number to compare between machines.\n\n"
            + peers_table(peers.figures(plan))
        )
    if args.only in (None, "tui"):
        sections.append(
            "## Terminal UI (`keyceremony.tui`)\n\n"
            "In tmux: the installed command in a window of 80x24, from launching it (or from the key) to the "
            "screen on the window. In the pilot (`App.run_test`, 80x24): from the key event to the first refresh "
            "of the new screen. In a terminal Escape waits 100 ms more (`ESCDELAY`) to tell a lone Escape from "
            "a key's escape sequence. Medians; details in bench/tui.py.\n\n" + figures_table(tui.figures(plan))
        )
    if args.only in (None, "startup"):
        sections.append(
            "## Start-up (whole `keyceremony` commands)\n\n"
            "Each command is a new process, `python -m keyceremony ...`, timed from start to exit (wall clock) on "
            "a copy of `src/`: with its bytecode compiled first, as after `pip install`, and with no bytecode "
            "cache (`PYTHONDONTWRITEBYTECODE=1`: every run compiles keyceremony's modules). The share files are "
            "made once by `keyceremony split` (3 of 5, a 32-byte secret). Details in bench/startup.py.\n\n"
            + figures_table(startup.figures(plan))
        )
    sections.append(f"_Measured in {time.perf_counter() - started:.0f} s._")
    print("\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
