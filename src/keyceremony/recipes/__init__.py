"""Recipes: the safe, whole operations the front ends and the ceremony engine call.

- :mod:`.sources` — every share and backup package in the files a person names (share text,
  card PDFs, photos);
- :mod:`.backup` — back a key up (wrap, package, split, cards) and recover it with proof
  (check value and canary), for soft and PKCS#11 back ends.

They join :mod:`keyceremony.keys`, :mod:`keyceremony.shares` and :mod:`keyceremony.cards`;
nothing below imports them.
"""
