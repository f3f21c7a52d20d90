"""Shares as data: the signed payload, its text and QR forms, and share sets (docs/share-format.md).

- :mod:`.payload` — ``SharePayload``, the binary share (magic, version, set id, signature);
- :mod:`.text` — the typeable text form with per-line checks, and the QR text;
- :mod:`.shareset` — make a signed set from a secret, verify shares, recover the secret
  (sets aside duplicates, foreign and altered shares with the reason).

Built on :mod:`keyceremony.core` and :mod:`keyceremony.codec`; no file, card or HSM access.
"""
