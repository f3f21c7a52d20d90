"""Read share QR codes from files a person hands us: PDFs, scans and phone photos.

This module knows about files and what to tell a person when one cannot be read; the pixel
work is in ``raster`` (PDF pages) and ``qrscan`` (QR decoding), the only modules that import
pypdfium2 and pyzbar. PIL is used here only to open images.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import NoReturn

from PIL import Image, ImageOps, UnidentifiedImageError

from keyceremony.cards.model import NO_CODE_PAGE_NOTE
from keyceremony.cards.qrscan import decode_qr
from keyceremony.cards.raster import pdf_text, render_pdf
from keyceremony.errors import InputTooLarge, ScanError

__all__ = ["read_qr_texts", "PDF_DPI", "MAX_SCAN_BYTES", "MAX_IMAGE_PIXELS", "MAX_IMAGE_FRAMES"]

#: Resolution PDF pages are rendered at: an 88 mm QR code of version 13 gets ~9 px per module.
PDF_DPI = 200

# Limits on a PDF or image handed in (docs/share-cards.md §5); a PDF's pages are limited by
# ``raster``. Each is checked before the pixels are decoded.
#: Largest PDF or image file: an A3 scan at 600 dpi saved uncompressed is 70 MB grey, 210 MB colour.
MAX_SCAN_BYTES = 256 << 20
#: Most pixels in an image, all its frames together: a 50-megapixel phone photo, an A3 scan at
#: 600 dpi (70 million) fit. Reading 100 million pixels in which no code is found takes ~15 s.
MAX_IMAGE_PIXELS = 100_000_000
#: Most frames (pages) of a multi-frame image (TIFF, GIF, WebP, APNG).
MAX_IMAGE_FRAMES = 16

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
    or if no QR code is found in it; ``InputTooLarge`` if it is over a limit (``MAX_SCAN_BYTES``,
    ``MAX_IMAGE_PIXELS``, ``MAX_IMAGE_FRAMES``, and ``raster``'s for PDF pages).

    >>> read_qr_texts("card-3.pdf")   # doctest: +SKIP
    ['KC1:...']
    """
    p = Path(path)
    name = str(path)
    try:
        with p.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(1024)
    except FileNotFoundError:
        raise ScanError(f"{name}: file not found; check the name and folder") from None
    except IsADirectoryError:
        raise ScanError(f"{name} is a folder; give the PDF or image file of one card") from None
    except OSError as err:
        raise ScanError(f"cannot read {name}: {err.strerror or err}") from None
    if not head:
        raise ScanError(f"{name} is empty; scan or export the card again")
    if size > MAX_SCAN_BYTES:
        raise InputTooLarge.file_size(
            size, MAX_SCAN_BYTES, "a card's PDF or image",
            "give the card's own PDF, or a scan or photo of it saved as PNG or JPEG at 300 dpi or less", source=name,
        )  # fmt: skip

    if b"%PDF-" in head:  # the PDF spec allows junk before the header (ISO 32000-1 §7.5.2)
        pages = render_pdf(p, dpi=PDF_DPI)
        # A backup card's page 2 says it has no code: searching it would only cost ~0.5 s.
        pages = [page for page, text in zip(pages, pdf_text(p), strict=True) if NO_CODE_PAGE_NOTE not in text]
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


_PIXELS_ADVICE = (
    "scan the card at 300 dpi or less, or photograph it at the camera's usual resolution, one card "
    "per file"
)


def _open_image_frames(path: Path, name: str) -> list[Image.Image]:
    """Every frame of an image, upright; its size and frames are checked before each is decoded."""
    try:
        with warnings.catch_warnings():
            # Pillow's own warning for large images; the limits below refuse them instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                frames: list[Image.Image] = []
                pixels = 0
                for index in range(MAX_IMAGE_FRAMES + 1):
                    if index:
                        try:
                            image.seek(index)
                        except EOFError:
                            break
                    if index == MAX_IMAGE_FRAMES:
                        raise InputTooLarge(
                            f"the image has more than {MAX_IMAGE_FRAMES} frames (pages); keyceremony reads at "
                            f"most {MAX_IMAGE_FRAMES} from one file (frame count limit); give one scan or photo "
                            "per card",
                            limit="frame count", found=index + 1, allowed=MAX_IMAGE_FRAMES, source=name,
                        )
                    width, height = image.size
                    pixels += width * height
                    if pixels > MAX_IMAGE_PIXELS:
                        _too_many_pixels(name, pixels, f"{width:,} × {height:,}" if not index else None)
                    frame = ImageOps.exif_transpose(image)  # a copy, upright
                    frame.load()
                    frames.append(frame)
                return frames
    except UnidentifiedImageError:
        raise ScanError(
            f"{name} is neither a PDF nor an image file that can be opened; give a PDF, or a "
            "PNG, JPEG or TIFF photo or scan of the card") from None
    except Image.DecompressionBombError as err:  # larger than Pillow opens at all
        found = re.search(r"\((\d+) pixels\)", str(err))
        _too_many_pixels(name, int(found.group(1)) if found else MAX_IMAGE_PIXELS + 1, None)
    except (OSError, SyntaxError, ValueError) as err:
        raise ScanError(
            f"{name} could not be read as an image ({err}); it may be truncated or damaged: "
            "export or photograph the card again") from None


def _too_many_pixels(name: str, pixels: int, dimensions: str | None) -> NoReturn:
    what = f"{pixels:,} pixels" + (f" ({dimensions})" if dimensions else "")
    raise InputTooLarge(
        f"the image is {what}, more than the {MAX_IMAGE_PIXELS:,} keyceremony reads from one file, all "
        f"its frames together (pixel count limit); {_PIXELS_ADVICE}",
        limit="pixel count", found=pixels, allowed=MAX_IMAGE_PIXELS, source=name,
    ) from None
