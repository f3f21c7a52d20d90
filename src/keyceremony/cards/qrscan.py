"""Find and decode QR codes in an image. The only module that imports ``pyzbar`` (docs/architecture.md §3).

zbar reads clean renders directly; real scans and phone photos sometimes need help. ``decode_qr``
tries the image as it is, then a short, fixed list of clean-ups, cheapest first, and stops at the
first one that finds a QR code. Each attempt costs one zbar pass, which is dominated by the pixel
count (docs/share-cards.md §4), so big photos are downscaled before the heavier clean-ups.

A backup's card carries two codes. When the attempts find one of them but not the other, a second
look paints the found code out and decodes the image at exactly twice its size; in the stress runs
of docs/share-cards.md §3.1 that read the missing code every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple, cast

from PIL import Image, ImageDraw, ImageFilter, ImageOps
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

__all__ = ["decode_qr"]

#: Longest side, in pixels, that the clean-ups work at: ~1600 px keeps a card's QR code at
#: several pixels per module while keeping a zbar pass near 50 ms.
WORKING_SIZE = 1600
_SMALL_ROTATIONS = (-4.0, 4.0)
#: Largest image the second look enlarges: a 150 dpi page doubled (A4: 9.4 million pixels, one
#: zbar pass ~0.3 s).
SECOND_LOOK_PIXELS = 12_000_000


def decode_qr(image: Image.Image, *, min_codes: int = 1) -> list[str]:
    """The texts of the QR codes found in *image*, top to bottom, left to right; ``[]`` if none.

    Tries the image as it is, then: downscaled to at most 1600 px, autocontrast, a global
    (Otsu) threshold, sharpening, a median filter (JPEG noise), upscaling small images, and
    small rotations. Stops as soon as ``min_codes`` different codes were found (a backup's card
    carries two, and the smaller one may need a clean-up the larger one did not); codes found by
    different attempts are merged. If every attempt leaves some but fewer than ``min_codes``
    codes, a second look paints the found ones out and tries again at twice the size.

    The texts are decoded as UTF-8 (zbar's output encoding); share payloads are ASCII.

    >>> decode_qr(render_pdf(render_card_pdf(card))[0])   # doctest: +SKIP
    ['KC1:...']
    """
    if not isinstance(image, Image.Image):
        raise ValueError(f"decode_qr needs a PIL image, got {type(image).__name__}")
    texts: list[str] = []
    first_find: tuple[Image.Image, list[_Found]] | None = None
    for candidate in _attempts(image):
        found = _zbar(candidate)
        texts += [f.text for f in found if f.text not in texts]
        if len(texts) >= min_codes:
            return texts
        if found and first_find is None:
            first_find = (candidate, found)
    if first_find is not None:
        for candidate in _second_look(*first_find):
            texts += [f.text for f in _zbar(candidate) if f.text not in texts]
            if len(texts) >= min_codes:
                break
    return texts


class _Found(NamedTuple):
    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom in the image it was found in


def _zbar(image: Image.Image) -> list[_Found]:
    results = zbar_decode(image, symbols=[ZBarSymbol.QRCODE])
    results = sorted(results, key=lambda r: (r.rect.top, r.rect.left))
    found: list[_Found] = []
    for r in results:
        text = r.data.decode("utf-8", errors="replace")
        if all(f.text != text for f in found):
            xs, ys = [p.x for p in r.polygon], [p.y for p in r.polygon]
            found.append(_Found(text, (min(xs), min(ys), max(xs), max(ys))))
    return found


def _second_look(image: Image.Image, found: list[_Found]) -> Iterator[Image.Image]:
    """*image* with the codes already *found* painted white, at exactly twice the size, then
    thresholded (docs/share-cards.md §3.1 has the measurements behind this choice)."""
    erased = _grayscale(image).copy()
    draw = ImageDraw.Draw(erased)
    for f in found:
        margin = max(4, (f.box[2] - f.box[0]) // 20)  # the symbol's edge and a bit of quiet zone
        draw.rectangle((f.box[0] - margin, f.box[1] - margin, f.box[2] + margin, f.box[3] + margin), fill=255)
    if 4 * erased.width * erased.height <= SECOND_LOOK_PIXELS:
        yield erased.resize((erased.width * 2, erased.height * 2), Image.Resampling.LANCZOS)
    else:  # a large scan or photo: its modules are big enough already
        erased = _fit(erased, 2 * WORKING_SIZE)
        yield erased
    yield _otsu_threshold(erased)


def _attempts(image: Image.Image) -> Iterator[Image.Image]:
    """The image as it is, then clean-ups, cheapest and most likely first (all lazy)."""
    yield image
    gray = _grayscale(image)
    work = _fit(gray, WORKING_SIZE)
    if work is not gray:
        yield work
    steps: tuple[Callable[[Image.Image], Image.Image], ...] = (
        lambda im: ImageOps.autocontrast(im, cutoff=1),
        _otsu_threshold,
        lambda im: im.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0)),
        lambda im: _otsu_threshold(im.filter(ImageFilter.MedianFilter(3))),
    )
    for step in steps:
        yield step(work)
    if max(work.size) < WORKING_SIZE // 2:
        bigger = work.resize((work.width * 2, work.height * 2), Image.Resampling.LANCZOS)
        yield bigger
        yield _otsu_threshold(bigger)
    for angle in _SMALL_ROTATIONS:
        yield work.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def _grayscale(image: Image.Image) -> Image.Image:
    if image.mode == "L":
        return image
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit and float scans: stretch to 8 bits (a plain convert("L") clips at 255).
        low, high = cast("tuple[float, float]", image.getextrema())  # one band: (min, max)
        scale = 255 / (high - low) if high > low else 1.0
        return image.point(lambda v: (v - low) * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels become white paper, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    return image.convert("L")


def _fit(image: Image.Image, longest: int) -> Image.Image:
    """*image* downscaled so its longest side is at most *longest* (the same object if it is)."""
    if max(image.size) <= longest:
        return image
    scale = longest / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _otsu_threshold(image: Image.Image) -> Image.Image:
    """Black and white at the threshold that best separates the histogram (Otsu, 1979)."""
    histogram = image.histogram()[:256]
    total = sum(histogram)
    sum_all = sum(i * h for i, h in enumerate(histogram))
    best_t, best_var = 127, -1.0
    weight_b = sum_b = 0
    for t in range(256):
        weight_b += histogram[t]
        if weight_b == 0:
            continue
        weight_f = total - weight_b
        if weight_f == 0:
            break
        sum_b += t * histogram[t]
        mean_b = sum_b / weight_b
        mean_f = (sum_all - sum_b) / weight_f
        between = weight_b * weight_f * (mean_b - mean_f) ** 2
        if between > best_var:
            best_var, best_t = between, t
    return image.point(lambda v: 255 if v > best_t else 0)
