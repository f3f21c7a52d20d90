"""The Textual terminal UI, a second driver of :mod:`keyceremony.ceremony` (docs/tui.md).

The only package that imports ``textual`` (docs/architecture.md §3); this ``__init__`` imports
nothing, so importing ``keyceremony.tui`` costs nothing until :func:`keyceremony.tui.app.run_app`.
"""
