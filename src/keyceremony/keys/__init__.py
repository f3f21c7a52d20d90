"""Key back ends: generate or find a key, back it up wrapped, recover it with proof.

Modules, one concept each:

- :mod:`.model` — the public values (``KeyAlgorithm``, ``KeyInfo``, ``WrappedKey``, ``Canary``);
  standard library only, re-exported here.
- :mod:`.kcv` — key check values. :mod:`.signing` — public keys and signature formats.
- :mod:`.backend` — the ``KeyBackend`` interface; :mod:`.soft` — in-memory implementation;
  :mod:`.pkcs11_backend` — PKCS#11 tokens (the only importer of ``pkcs11``; import it lazily).
- :mod:`.recovery` — ``backup_key`` and ``recover_key``, shared by every back end.

This ``__init__`` imports only :mod:`.model`, so importing the package stays cheap.
"""

from keyceremony.keys.model import Canary, KeyAlgorithm, KeyInfo, WrappedKey, canary_plaintext

__all__ = ["Canary", "KeyAlgorithm", "KeyInfo", "WrappedKey", "canary_plaintext"]
