"""Reserved for the Textual terminal UI, a second driver of :mod:`keyceremony.ceremony`.

It will be the only package that imports ``textual`` (docs/architecture.md).
"""
