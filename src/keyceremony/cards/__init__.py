"""Printed share cards: their content, PDF drawing, QR codes made and scanned (docs/share-cards.md).

- :mod:`.model` — what a card says (``CardContent``), independent of how it is drawn;
- :mod:`.pdf` — draws cards and transcript reports (the only package importing ``reportlab``);
- :mod:`.qr` — QR matrices (the only importer of ``qrcode``);
- :mod:`.qrscan` — QR decoding with fall-backs (the only importer of ``pyzbar``);
- :mod:`.raster` — PDF pages to images (the only importer of ``pypdfium2``);
- :mod:`.scan_sources` — every QR text in a PDF or image file;
- :mod:`.share_cards` — write a set's cards, each rendered and read back before it counts.

Importing this package imports nothing; the outside libraries load when a card is drawn or read.
"""
