"""Benchmark harness for keyceremony's GF(256) Shamir core: ``make bench`` / ``python -m bench``.

A measuring tool, not a test: it asserts nothing and prints one Markdown report of figures all
taken in the same run (ours, the peers and the machine's reference), see docs/benchmarks.md.
"""
