"""Read share QR codes from files a person hands us: PDFs, scans and phone photos.

This module knows about files and what to tell a person when one cannot be read; the pixel
work is in ``raster`` (PDF pages) and ``qrscan`` (QR decoding), the only modules that import
pypdfium2 and pyzbar. PIL is used here only to open images.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from keyceremony.cards.qrscan import decode_qr
from keyceremony.cards.raster import render_pdf
from keyceremony.errors import ScanError

__all__ = ["read_qr_texts", "PDF_DPI"]

#: Resolution PDF pages are rendered at: an 88 mm QR code of version 13 gets ~9 px per module.
PDF_DPI = 200

_HOW_TO_FIX = (
    "photograph the whole card flat, in even light, filling most of the frame, "
    "or type the text lines with `keyceremony combine --type`")


def read_qr_texts(path: str | os.PathLike[str], *, min_codes: int = 1) -> list[str]:
    """The QR texts in a PDF (every page) or an image file (every frame), in reading order.

    ``min_codes``: keep trying clean-ups of a page until that many codes are found on it
    (``qrscan.decode_qr``); a backup's cards carry two.

    The file type is decided by its content, not its name: ``%PDF-`` files are rendered at
    200 dpi with ``raster.render_pdf``; anything else is opened with Pillow (PNG, JPEG, TIFF,
    BMP, GIF, WebP, ...). Phone photos are turned upright from their EXIF orientation first.

    Raises ``ScanError`` naming the file if it is missing, unreadable or not a PDF or image,
    or if no QR code is found in it.

    >>> read_qr_texts("card-3.pdf")   # doctest: +SKIP
    ['KC1:...']
    """
    p = Path(path)
    name = str(path)
    try:
        with p.open("rb") as f:
            head = f.read(1024)
    except FileNotFoundError:
        raise ScanError(f"{name}: file not found; check the name and folder") from None
    except IsADirectoryError:
        raise ScanError(f"{name} is a folder; give the PDF or image file of one card") from None
    except OSError as err:
        raise ScanError(f"cannot read {name}: {err.strerror or err}") from None
    if not head:
        raise ScanError(f"{name} is empty; scan or export the card again")

    if b"%PDF-" in head:  # the PDF spec allows junk before the header (ISO 32000-1 §7.5.2)
        pages = render_pdf(p, dpi=PDF_DPI)
    else:
        pages = _open_image_frames(p, name)

    texts: list[str] = []
    for page in pages:
        for text in decode_qr(page, min_codes=min_codes):
            if text not in texts:
                texts.append(text)
    if not texts:
        what = "no QR code found in"
        if len(pages) > 1:
            what = f"no QR code found on any of the {len(pages)} pages of"
        raise ScanError(f"{what} {name}: {_HOW_TO_FIX}")
    return texts


def _open_image_frames(path: Path, name: str) -> list[Image.Image]:
    try:
        with Image.open(path) as image:
            frames = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                frame = ImageOps.exif_transpose(image)  # a copy, upright
                frame.load()
                frames.append(frame)
            return frames
    except UnidentifiedImageError:
        raise ScanError(
            f"{name} is neither a PDF nor an image file that can be opened; give a PDF, or a "
            "PNG, JPEG or TIFF photo or scan of the card") from None
    except Image.DecompressionBombError:
        raise ScanError(
            f"{name} is too large an image to read safely; resize it below 80 megapixels"
        ) from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ScanError(
            f"{name} could not be read as an image ({err}); it may be truncated or damaged: "
            "export or photograph the card again") from None
