"""keyceremony: Shamir-split key backup and disaster recovery, run as an in-person ceremony.

The packages and the way their imports point are described in docs/architecture.md. The GF(256)
core is :mod:`keyceremony.core.shamir`; ``from keyceremony import shamir`` still gives it, loaded
on first use so that importing the package (and ``keyceremony --help``) stays cheap.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

# Old flat names kept for the public API README shows (``from keyceremony import shamir``).
_REEXPORTS = {"shamir": "keyceremony.core.shamir", "gf256": "keyceremony.core.gf256"}


def __getattr__(name: str) -> ModuleType:
    if name in _REEXPORTS:
        return importlib.import_module(_REEXPORTS[name])
    raise AttributeError(f"module 'keyceremony' has no attribute {name!r}")
