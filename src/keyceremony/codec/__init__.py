"""Encodings with no key material of their own: base32, canonical JSON, PGP words, fingerprints.

- :mod:`.base32` — RFC 4648 base32, vectorized for large share texts;
- :mod:`.canonical_json` — the RFC 8785 subset transcripts and state files are written in;
- :mod:`.pgp_words` — the PGP word list, for fingerprints read aloud;
- :mod:`.fingerprint` — 16-byte fingerprints written as hex groups or words, and read back.

Standard library and :mod:`keyceremony.errors` only.
"""
