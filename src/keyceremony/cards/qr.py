"""QR code modules for a share card. The only module that imports ``qrcode`` (docs/architecture.md §3).

The payload is put in one alphanumeric-mode segment at error-correction level Q, as
docs/share-format.md §6 says: base32 text in alphanumeric mode costs about 10 % more capacity than
bytes, avoids zbar's charset guessing, and can be typed by hand. ``qrcode`` would silently fall
back to byte mode for characters outside the alphanumeric set, so we check them first and name
the culprit.
"""

from __future__ import annotations

import qrcode  # type: ignore[import-untyped]  # qrcode ships no types
from qrcode.constants import ERROR_CORRECT_Q  # type: ignore[import-untyped]  # qrcode ships no types
from qrcode.exceptions import DataOverflowError  # type: ignore[import-untyped]  # qrcode ships no types
from qrcode.util import MODE_ALPHA_NUM, QRData  # type: ignore[import-untyped]  # qrcode ships no types

from keyceremony.cards.model import first_non_qr_alphanumeric

__all__ = ["qr_matrix"]

#: Alphanumeric capacity of a version 40 symbol at level Q (ISO/IEC 18004:2015 Table 7).
MAX_ALPHANUMERIC_Q = 2420


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of the smallest QR code (EC level Q, alphanumeric mode) holding *text*.

    Row-major, ``True`` is dark. There is no quiet zone in the matrix: whoever draws it must
    leave 4 light modules on every side (ISO/IEC 18004 §6.3.8).

    Raises ``ValueError`` if *text* is empty, contains a character outside
    ``0-9 A-Z space $ % * + - . / :`` (naming the first one), or is too long for a QR code.

    >>> m = qr_matrix("KC1:HELLO")
    >>> len(m), len(m[0])   # version 1 is 21 x 21
    (21, 21)
    """
    if not isinstance(text, str):
        raise ValueError(f"QR text must be a str, got {type(text).__name__}")
    if not text:
        raise ValueError("QR text must not be empty")
    bad = first_non_qr_alphanumeric(text)
    if bad is not None:
        raise ValueError(
            f"character {bad} of the QR text ({text[bad]!r}) cannot be encoded in QR "
            "alphanumeric mode; only 0-9, A-Z, space and $ % * + - . / : can")
    if len(text) > MAX_ALPHANUMERIC_Q:
        raise ValueError(
            f"QR text of {len(text)} characters is too long: a QR code at level Q holds at most "
            f"{MAX_ALPHANUMERIC_Q}")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0)
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM), optimize=0)
    try:
        code.make(fit=True)
    except DataOverflowError:
        raise ValueError(
            f"QR text of {len(text)} characters is too long for a QR code at level Q") from None
    return [[bool(cell) for cell in row] for row in code.get_matrix()]
