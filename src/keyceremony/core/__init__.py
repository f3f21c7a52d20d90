"""The hazardous layer: Shamir's secret sharing over GF(256), vectorized with numpy (docs/core.md).

- :mod:`.gf256` — field arithmetic (AES polynomial 0x11B) on numpy arrays, no secret-indexed tables;
- :mod:`.shamir` — ``split``, ``combine``, ``split_many``, ``combine_many`` on raw bytes;
- :mod:`.coefficients` — the random polynomial coefficients (``os.urandom``, AES-256-CTR past 64 KiB);
- :mod:`.parallel` — blocks spread over the cores; :mod:`.fresh_bytes` — results written straight
  into new ``bytes`` objects.

These modules import numpy and the standard library only. Nothing here knows about share files,
cards or ceremonies; callers that want those use :mod:`keyceremony.shares`.
"""
