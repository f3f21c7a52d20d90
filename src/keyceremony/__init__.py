"""keyceremony: Shamir-split key backup and disaster recovery, run as an in-person ceremony.

Layers (docs/architecture.md): front ends (``cli``, ``tui``) -> ceremony engine -> transcript,
cards, HSM adapters -> share format -> GF(256) core (``gf256``, ``shamir``).
"""

__version__ = "0.1.0"
