"""The typeable text form of a share payload (docs/share-format.md §5).

    keyceremony share v1
    # comment lines: what the share is (informational; the payload is authoritative)
    01  JNBV GAIB 7SAV 3RRQ 4EHW PQAA  K3D
    02  ...

Each data line is a line number, 24 base32 characters (15 payload bytes) in groups of four, and
a 3-character check: CRC-15 (the CAN polynomial 0x4599) over the line number as 32 bits followed
by the line's characters as 5-bit base32 values. A CRC of degree 15 detects every error burst of
at most 15 bits, so any single mistyped character (5 bits) and any swap of two neighbouring
characters (10 bits) is caught and pinned to its line; a line typed in the wrong place changes
the line number and is caught too. Encoding and checking are vectorized over lines, so a share of
a 256 MiB secret (18 million lines) is written and read in seconds. numpy is imported only by the
functions that use it: a text of a few lines (one share, as ``verify-share`` reads) is checked line
by line with the standard library, with the same verdicts, and does not pay numpy's start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keyceremony.codec import base32
from keyceremony.errors import LocatedError, ShareFormatError
from keyceremony.shares.payload import SharePayload, encoded_length

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

HEADER = "keyceremony share v1"
CHARS_PER_LINE = 24
BYTES_PER_LINE = 15
GROUP = 4
CHECK_CHARS = 3
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 §6
_CRC_POLY = 0x4599  # x^15 + x^14 + x^10 + x^8 + x^7 + x^4 + x^3 + 1
_CRC_BITS = 15
# Characters people confuse with base32 ones; accepted on input, never written.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B", "9": "G"})


@dataclass(frozen=True)
class TextKind:
    """A format written as checked lines: its header line, what to call it, its error class.

    Shares and backup packages (docs/backup-package.md §5) share the line codec below.
    """

    header: str
    noun: str  # "share"
    error: type[LocatedError]
    whole: str  # what a file of this kind is called: "share file"


SHARE_TEXT = TextKind(HEADER, "share", ShareFormatError, "share file")


def _crc_update(crc: int, value: int, nbits: int) -> int:
    for i in range(nbits - 1, -1, -1):
        top = ((crc >> (_CRC_BITS - 1)) ^ (value >> i)) & 1
        crc = (crc << 1) & 0x7FFF
        if top:
            crc ^= _CRC_POLY & 0x7FFF
    return crc


def line_check(number: int, chars: str) -> str:
    """The 3-character check of one data line (initial value 0, no final XOR)."""
    crc = _crc_update(0, number, 32)
    for c in chars.encode("ascii"):
        crc = _crc_update(crc, _ALPHABET.index(c), 5)
    return _symbols_to_text(crc, CHECK_CHARS)


def _symbols_to_text(value: int, count: int) -> str:
    return "".join(chr(_ALPHABET[(value >> (5 * (count - 1 - i))) & 31]) for i in range(count))


# --- vectorized checks over many full lines ----------------------------------------------------
# The CRC with zero start is linear over GF(2): the check of a line is the XOR of one
# contribution per (position, value) of its characters and per set bit of its line number.


def _contributions() -> tuple[NDArray[np.uint16], NDArray[np.uint16]]:
    import numpy as np  # numpy only where lines are handled in bulk (module docstring)

    total_bits = 32 + 5 * CHARS_PER_LINE
    per_bit = []
    for bit in range(total_bits):  # contribution of a lone 1 at stream bit `bit`
        crc = 0
        for i in range(total_bits):
            crc = _crc_update(crc, 1 if i == bit else 0, 1)
        per_bit.append(crc)
    number = np.array(per_bit[31::-1], dtype=np.uint16)  # number bit b at stream bit 31 - b
    chars = np.zeros((CHARS_PER_LINE, 32), dtype=np.uint16)
    for pos in range(CHARS_PER_LINE):
        for value in range(32):
            acc = 0
            for b in range(5):
                if value >> (4 - b) & 1:
                    acc ^= per_bit[32 + 5 * pos + b]
            chars[pos, value] = acc
    return number, chars


_TABLES: tuple[NDArray[np.uint16], NDArray[np.uint16]] | None = None


def _checks(numbers: NDArray[np.uint32], values: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """CRC-15 of full lines: numbers (R,) uint32, values (R, 24) in 0..31 -> (R,) uint16.

    One table look-up per pair of characters (a 10-bit index), indexed by share characters,
    which are public once written down.
    """
    import numpy as np

    global _TABLES
    if _TABLES is None:
        _TABLES = _pair_tables(*_contributions())
    number_table, pair_table = _TABLES
    v = values.astype(np.uint16)
    crc = np.zeros(values.shape[0], dtype=np.uint16)
    for pair in range(CHARS_PER_LINE // 2):
        crc ^= pair_table[pair][(v[:, 2 * pair] << 5) | v[:, 2 * pair + 1]]
    for b in range(int(numbers.max(initial=0)).bit_length()):
        crc ^= ((numbers >> b) & 1).astype(np.uint16) * number_table[b]
    return crc


def _pair_tables(
    number: NDArray[np.uint16], chars: NDArray[np.uint16]
) -> tuple[NDArray[np.uint16], NDArray[np.uint16]]:
    pairs = chars[0::2, :, None] ^ chars[1::2, None, :]  # (12, 32, 32)
    return number, pairs.reshape(CHARS_PER_LINE // 2, 1024)


def _values(chars: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """ASCII base32 characters to their 5-bit values; 255 for anything else."""
    return base32.values()[chars]


def _check_text(crc: NDArray[np.uint16]) -> NDArray[np.uint8]:
    import numpy as np

    out = np.empty((crc.shape[0], CHECK_CHARS), dtype=np.uint8)
    for i in range(CHECK_CHARS):
        v = ((crc >> (5 * (CHECK_CHARS - 1 - i))) & 31).astype(np.uint8)
        out[:, i] = base32.alphabet()[v]
    return out


# --- encoding ------------------------------------------------------------------------------------


def to_text(payload: SharePayload, comments: list[str] | None = None) -> str:
    """The canonical text form: header, '# ' comment lines, numbered data lines."""
    return encode_text(payload, comments).decode("utf-8")  # comments may carry a non-ASCII label


def encode_text(payload: SharePayload, comments: list[str] | None = None) -> bytes:
    """``to_text`` as UTF-8 bytes, built without per-line Python work (large shares)."""
    return b"".join(iter_text(payload, comments))


def iter_text(payload: SharePayload, comments: list[str] | None = None) -> Iterator[bytes]:
    """``encode_text`` in pieces of at most a few MB, for writing a large share to a file
    without holding its whole text (about 3.1 times the share) in memory."""
    return iter_lines(payload.to_bytes(), HEADER, comments)


def encode_lines(data: bytes, header: str, comments: list[str] | None = None) -> bytes:
    """``header``, '# ' comment lines, then ``data`` as numbered, checked base32 lines."""
    return b"".join(iter_lines(data, header, comments))


def iter_lines(data: bytes, header: str, comments: list[str] | None = None) -> Iterator[bytes]:
    """``encode_lines`` in pieces: the head, then blocks of full lines, then the last line."""
    chars = -(-len(data) * 8 // 5)  # unpadded base32 (RFC 4648 §6)
    nlines = -(-chars // CHARS_PER_LINE)
    width = max(2, len(str(nlines)))
    yield ("\n".join([header] + [f"# {c}" for c in (comments or [])]) + "\n").encode("utf-8")
    full = len(data) // LINE_BYTES  # a full line is 24 characters = 120 bits = 15 bytes
    view = memoryview(data)
    for lo in range(0, full, _LINES_PER_PIECE):
        hi = min(lo + _LINES_PER_PIECE, full)
        yield _full_lines(base32.symbols(view[lo * LINE_BYTES : hi * LINE_BYTES]), hi - lo, width, first=lo + 1)
    if len(data) % LINE_BYTES:
        tail = base32.encode(view[full * LINE_BYTES :]).decode("ascii")
        yield (format_line(full + 1, tail, width) + "\n").encode("ascii")


def format_line(number: int, chars: str, width: int) -> str:
    groups = " ".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))
    return f"{number:0{width}d}  {groups}  {line_check(number, chars)}"


_LINES_PER_CHUNK = 1 << 14  # keeps every intermediate array in the CPU cache
_LINES_PER_PIECE = 1 << 16  # lines per piece of ``iter_lines``: 983,040 bytes of data, ~2.6 MB of text
LINE_BYTES = CHARS_PER_LINE * 5 // 8


def _full_lines(values: NDArray[np.uint8], count: int, width: int, *, first: int = 1) -> bytes:
    """Canonical data lines first..first+count-1 from their characters' 5-bit values,
    (count * 24,)."""
    import numpy as np

    groups = CHARS_PER_LINE // GROUP
    line_len = width + 2 + CHARS_PER_LINE + (groups - 1) + 2 + CHECK_CHARS + 1
    out = np.full((count, line_len), ord(" "), dtype=np.uint8)
    out[:, -1] = ord("\n")
    grid = values.reshape(count, CHARS_PER_LINE)
    for lo in range(0, count, _LINES_PER_CHUNK):
        hi = min(lo + _LINES_PER_CHUNK, count)
        block, rows = grid[lo:hi], out[lo:hi]
        numbers = np.arange(first + lo, first + hi, dtype=np.uint32)
        for i in range(width):  # decimal digits, least significant last
            rows[:, width - 1 - i] = 48 + (numbers // np.uint32(10**i)) % np.uint32(10)
        chars = base32.alphabet()[block]
        col = width + 2
        for g in range(groups):
            rows[:, col : col + GROUP] = chars[:, g * GROUP : (g + 1) * GROUP]
            col += GROUP + 1
        rows[:, col + 1 : col + 1 + CHECK_CHARS] = _check_text(_checks(numbers, block))
    return out.tobytes()


# --- decoding ------------------------------------------------------------------------------------

_LINE = re.compile(r"^\s*(\d+)\s*[:.]?\s+(.*\S)\s*$")


def from_text(text: str | bytes, *, source: str | None = None) -> SharePayload:
    """Parse the text form; raises ShareFormatError naming the line that is wrong.

    Lenient where it cannot hide a mistake: case, spacing, and the look-alikes 0/O, 1/I, 8/B,
    9/G are accepted; every line must carry its check and the line numbers must run 1, 2, 3...
    """
    chars, last_line = decode_lines(text, SHARE_TEXT, source=source)
    payload = decode_line_chars(chars, SHARE_TEXT, source=source, last_line=last_line)
    return _payload(payload, source, -(-len(chars) // CHARS_PER_LINE))  # data lines, as on the card


def decode_line_chars(chars: bytes, kind: TextKind, *, source: str | None, last_line: int) -> bytes:
    """The bytes of the base32 characters ``decode_lines`` returned; raises ``kind.error`` naming
    the last data line (file line ``last_line``) unless they are the canonical encoding."""
    try:
        return base32.decode(chars)
    except base32.Base32Error as err:
        if err.reason == "padding":
            raise kind.error(
                "the last character of the last data line is one keyceremony never writes there: the "
                f"unused bits of a {kind.noun}'s last character must be zero (docs/share-format.md §5). "
                "The line was altered or misread; compare it with the card",
                source=source,
                line=last_line,
            ) from None
        if err.reason == "character":  # not from decode_lines, which checks every character
            raise kind.error(f"the data holds a character that is not a {kind.noun} character", source=source) from None
        raise kind.error(
            "the last line has an impossible number of characters; check it was typed completely",
            source=source,
            line=last_line,
        ) from None


def decode_lines(text: str | bytes, kind: TextKind, *, source: str | None = None) -> tuple[bytes, int]:
    """The base32 characters of a checked-lines text of ``kind``, and the file line of its last
    data line; raises ``kind.error`` naming the line that is wrong."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    fast = _fast_decode(raw, source, kind)
    return fast if fast is not None else _slow_decode(raw, source, kind)


def _header_end(raw: bytes, source: str | None, kind: TextKind = SHARE_TEXT) -> tuple[int, int]:
    """Byte offset and file line number where the data lines start; checks the header line."""
    pos, line_no = 0, 0
    while True:
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end + 1
        line_no += 1
        line = raw[pos:end].decode("utf-8", "replace").strip()
        if line or end >= len(raw):
            break
        pos = end
    if not line:
        raise kind.error(f"the file is empty; it should hold a keyceremony {kind.noun}", source=source)
    first = line.lower()
    if first != kind.header:
        match = re.fullmatch(re.escape(kind.header[:-1]) + r"(\d+)", first)
        if match:
            raise kind.error(
                f"{kind.noun} text version {match.group(1)} is not supported (this keyceremony reads "
                f"v{kind.header[-1]}); use a newer keyceremony",
                source=source,
                line=line_no,
            )
        raise kind.error(
            f"the first line should read '{kind.header}'; this is not a keyceremony {kind.whole}",
            source=source,
            line=line_no,
        )
    pos = end
    while pos < len(raw):  # comment lines
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end + 1
        if not raw[pos:end].lstrip().startswith(b"#"):
            break
        pos, line_no = end, line_no + 1
    return pos, line_no + 1


def _payload(data: bytes, source: str | None, last_data_line: int) -> SharePayload:
    try:
        return SharePayload.from_bytes(data, source=source)
    except ShareFormatError as err:
        if "truncated" in str(err):
            raise ShareFormatError(
                f"the share ends after data line {last_data_line} but is not complete; lines are missing "
                "at the end (truncated file or card)",
                source=source,
            ) from None
        raise


def _fast_decode(raw: bytes, source: str | None, kind: TextKind = SHARE_TEXT) -> tuple[bytes, int] | None:
    """Canonical files (as written by ``encode_text``): all full lines checked at once.

    A line that fails its check is found here and named by the line-by-line parser, so a typo in
    a share of millions of lines is reported in seconds. Returns None whenever the layout is not
    canonical; the line-by-line path then reads (or rejects) the whole file.
    """
    try:
        start, first_line = _header_end(raw, None, kind)
    except kind.error:
        return None
    if len(raw) <= start or not raw.endswith(b"\n"):
        return None
    # Offsets into raw, not slices of it: a large share's text is hundreds of MB.
    last_start = max(raw.rfind(b"\n", start, len(raw) - 1) + 1, start)  # start: one data line
    full_len, last = last_start - start, raw[last_start:-1]
    width = raw.find(b" ", start, last_start) - start
    groups = CHARS_PER_LINE // GROUP
    line_len = width + 2 + CHARS_PER_LINE + (groups - 1) + 2 + CHECK_CHARS + 1
    if width < 2 or not full_len or full_len % line_len:
        return None
    count = full_len // line_len
    cols = [width + 2 + g * (GROUP + 1) + i for g in range(groups) for i in range(GROUP)]
    gaps = [c for c in range(width, line_len - 1 - CHECK_CHARS) if c not in cols]  # must be spaces
    layout = _Layout(start, count, line_len, width, cols, gaps)
    chars, first = _rows_one_by_one(raw, layout) if count <= _SMALL_LINES else _rows_vectorized(raw, layout)
    if first is not None:
        line = raw[start + first * line_len : start + (first + 1) * line_len].decode("ascii", "replace")
        _clean_line(first + 1, line, source, first_line + first, kind)  # raises, naming the line
        return None  # the lenient parser accepts it: let the slow path decide
    try:
        tail = _clean_line(count + 1, last.decode("ascii"), None, first_line + count, kind)
    except (kind.error, UnicodeDecodeError):
        return None
    return chars + tail.encode("ascii"), first_line + count


#: Full lines up to which ``_fast_decode`` checks line by line without numpy (about 7 ms at the
#: limit, where importing numpy takes about 55 ms): a share of a secret of up to about 3.8 KB.
_SMALL_LINES = 256


@dataclass(frozen=True)
class _Layout:
    """Where the full data lines of a canonical text are: from byte ``start``, ``count`` lines of
    ``line_len`` bytes, a ``width``-digit number, characters at ``cols``, spaces at ``gaps``."""

    start: int
    count: int
    line_len: int
    width: int
    cols: list[int]
    gaps: list[int]


def _rows_vectorized(raw: bytes, at: _Layout) -> tuple[bytes, int | None]:
    """The characters of the full lines, and the first line (0-based) that is not canonical or
    fails its check, or None; in chunks, a chunk's checks compared once its layout is right."""
    import numpy as np

    grid = np.frombuffer(raw, dtype=np.uint8, count=at.count * at.line_len, offset=at.start)
    grid = grid.reshape(-1, at.line_len)
    width, line_len = at.width, at.line_len
    chars = np.empty((at.count, CHARS_PER_LINE), dtype=np.uint8)
    for lo in range(0, at.count, _LINES_PER_CHUNK):
        rows = grid[lo : lo + _LINES_PER_CHUNK]
        numbers = np.arange(lo + 1, lo + rows.shape[0] + 1, dtype=np.uint32)
        expected = np.empty((rows.shape[0], width), dtype=np.uint8)
        for i in range(width):
            expected[:, width - 1 - i] = 48 + (numbers // np.uint32(10**i)) % np.uint32(10)
        block = chars[lo : lo + rows.shape[0]]
        block[:] = rows[:, at.cols]
        values = _values(block)
        bad = (
            (rows[:, :width] != expected).any(axis=1)
            | (rows[:, at.gaps] != 32).any(axis=1)
            | (rows[:, -1] != 10)
            | (values == 255).any(axis=1)
        )
        if not bad.any():
            checks = _check_text(_checks(numbers, values))
            bad = (checks != rows[:, line_len - 1 - CHECK_CHARS : -1]).any(axis=1)
        if bad.any():
            return b"", lo + int(np.flatnonzero(bad)[0])
    return chars.tobytes(), None


def _rows_one_by_one(raw: bytes, at: _Layout) -> tuple[bytes, int | None]:
    """``_rows_vectorized`` for at most ``_LINES_PER_CHUNK`` lines (one chunk), with the standard
    library: the same line found, the checks compared only when every line's layout is right."""
    rows = [raw[at.start + r * at.line_len : at.start + (r + 1) * at.line_len] for r in range(at.count)]
    chars = [bytes(row[c] for c in at.cols) for row in rows]
    modulus = 10**at.width  # the vectorized path writes the number's last ``width`` digits

    def laid_out(r: int) -> bool:
        row = rows[r]
        return (
            row[: at.width] == b"%0*d" % (at.width, (r + 1) % modulus)
            and all(row[c] == 32 for c in at.gaps)
            and row[-1] == 10
            and not chars[r].translate(None, base32.ALPHABET_BYTES)
        )

    def checked(r: int) -> bool:
        return line_check(r + 1, chars[r].decode("ascii")).encode("ascii") == rows[r][-1 - CHECK_CHARS : -1]

    first = next((r for r in range(at.count) if not laid_out(r)), None)
    if first is None:
        first = next((r for r in range(at.count) if not checked(r)), None)
    return (b"" if first is not None else b"".join(chars)), first


def lines_needed(typed_lines: list[str]) -> int | None:
    """How many data lines a share needs in all, from its first typed (and checked) lines;
    None until its header has been typed."""
    total = encoded_length(typed_prefix(typed_lines))
    if total is None:
        return None
    total_chars = -(-total * 8 // 5)  # unpadded base32 (RFC 4648 §6)
    return -(-total_chars // CHARS_PER_LINE)


def typed_prefix(typed_lines: list[str]) -> bytes:
    """The payload bytes the first typed (and checked) lines hold, as far as whole bytes go."""
    chars = "".join(_clean_line(n, line, None, n) for n, line in enumerate(typed_lines, 1))
    try:
        return base32.decode(chars[: len(chars) // 8 * 8].encode("ascii"))
    except ValueError:
        return b""


def line_check_error(line: str, expected: int) -> str | None:
    """Why one typed data line is wrong, or None: for checking lines as they are typed."""
    try:
        _clean_line(expected, line, None, expected)
    except LocatedError as err:
        return str(err).split(": ", 1)[-1]
    return None


def _slow_decode(raw: bytes, source: str | None, kind: TextKind = SHARE_TEXT) -> tuple[bytes, int]:
    start, first_line = _header_end(raw, source, kind)
    try:
        text = raw[start:].decode("utf-8")
    except UnicodeDecodeError:
        raise kind.error(
            f"the file is not text; give the {kind.noun}'s .txt file, a card .pdf or a photo of a card",
            source=source,
        ) from None
    data_lines = [
        (i, line)
        for i, line in enumerate(text.splitlines(), first_line)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not data_lines:
        raise kind.error(f"the {kind.noun} has no data lines after its first line", source=source)
    # Every line's own check first, then the lengths: a stray line after the last one is named
    # itself, not the genuine (short) last line before it.
    cleaned = [_clean_line(n, line, source, file_line, kind) for n, (file_line, line) in enumerate(data_lines, 1)]
    out = []
    for expected, ((file_line, _), chars) in enumerate(zip(data_lines, cleaned, strict=True), 1):
        if expected < len(data_lines) and len(chars) != CHARS_PER_LINE:
            raise kind.error(
                f"data line {expected} has {len(chars)} characters where {CHARS_PER_LINE} are expected; "
                "a character is missing or extra on this line",
                source=source,
                line=file_line,
            )
        out.append(chars)
    return "".join(out).encode("ascii"), data_lines[-1][0]


def _clean_line(
    expected: int, line: str, source: str | None, file_line: int, kind: TextKind = SHARE_TEXT
) -> str:
    match = _LINE.match(line)
    if not match:
        raise kind.error(
            "this line should start with its line number, then the characters, then the check",
            source=source,
            line=file_line,
        )
    number = int(match.group(1))
    if number != expected:
        raise kind.error(
            f"expected data line {expected} here but found line {number}; lines are missing, "
            "repeated or out of order",
            source=source,
            line=file_line,
        )
    tokens = match.group(2).upper().translate(_LOOKALIKES).split()
    if len(tokens) < 2:
        raise kind.error("the line has no check at its end", source=source, line=file_line)
    check, chars = tokens[-1], "".join(tokens[:-1])
    bad = next((c for c in chars + check if c.encode() not in _ALPHABET or len(c.encode()) != 1), None)
    if bad is not None:
        raise kind.error(
            f"'{bad}' is not a {kind.noun} character (only A-Z and 2-7 are used); check this line "
            "against the card",
            source=source,
            line=file_line,
        )
    if len(check) != CHECK_CHARS or len(chars) > CHARS_PER_LINE:
        raise kind.error(
            f"the line should end with a {CHECK_CHARS}-character check after at most "
            f"{CHARS_PER_LINE} characters; check the spacing against the card",
            source=source,
            line=file_line,
        )
    if line_check(number, chars) != check:
        raise kind.error(
            f"data line {number} does not match its check '{check}': a character on this line "
            "was mistyped or misread; compare it with the card",
            source=source,
            line=file_line,
        )
    return chars


# --- the QR code's text ------------------------------------------------------------------------


def to_qr_text(payload: SharePayload) -> str:
    """Base32 without padding: only QR alphanumeric-mode characters (docs/share-format.md §6)."""
    return base32.encode(payload.to_bytes()).decode("ascii")


def from_qr_text(text: str, *, source: str | None = None) -> SharePayload:
    """Parse a QR code's text; raises ShareFormatError unless it is the canonical base32 of a
    share payload (docs/share-format.md §6). Surrounding white space and lower case are accepted."""
    remedy = "type the card's text lines instead, or use the share file"
    data = decode_qr_text(text, SHARE_TEXT, remedy, source=source)
    return SharePayload.from_bytes(data, source=source)


def decode_qr_text(text: str, kind: TextKind, remedy: str, *, source: str | None = None) -> bytes:
    """The bytes of a QR code's base32 text (upper or lower case, white space around it);
    raises ``kind.error`` saying what is wrong, and ``remedy``, unless it is the canonical
    unpadded encoding (docs/share-format.md §6)."""
    noun, error = kind.noun, kind.error
    chars = text.strip().upper()
    bad = next((c for c in chars if len(c.encode()) != 1 or c.encode() not in _ALPHABET), None)
    if not chars or bad is not None:
        what = "it is empty" if not chars else f"unexpected character {bad!r}"
        raise error(f"the QR code does not hold a keyceremony {noun} ({what})", source=source)
    try:
        return base32.decode(chars.encode("ascii"))
    except base32.Base32Error as err:
        if err.reason == "padding":
            raise error(
                f"the QR code's {noun} data is cut short or altered: its last character is not the "
                f"canonical base32 of any data (its unused bits must be zero, RFC 4648 §3.5); {remedy}",
                source=source,
            ) from None
        raise error(
            f"the QR code's {noun} data is cut short ({len(chars)} characters is not a base32 length); {remedy}",
            source=source,
        ) from None
