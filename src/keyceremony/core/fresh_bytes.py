"""Large ``bytes`` results written in place by the GF(256) kernels (docs/core.md §3).

The public API returns shares and secrets as ``bytes``. Building them with ``ndarray.tobytes()``
copies every byte once more and, for tens of MiB, spends most of its time in page faults taken
one 4 KiB page at a time while holding the GIL. Instead, on CPython, we do what C extensions do:
``PyBytes_FromStringAndSize(NULL, n)`` returns a new, unshared bytes object whose contents the
caller fills before anyone else sees it. We ask the kernel for transparent huge pages on it and
let the worker threads write the results straight into it. Elsewhere we fall back to a copy.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

_MIN = 1 << 20  # below this the copy is cheap
_HUGE = 2 << 20

_new: Callable[[None, int], bytes] | None  # PyBytes_FromStringAndSize
_address: Callable[[bytes], int]  # PyBytes_AsString
_madvise: Callable[[int, int, int], int] | None

if platform.python_implementation() == "CPython":
    _new = ctypes.pythonapi.PyBytes_FromStringAndSize
    _new.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t)
    _new.restype = ctypes.py_object
    _address = ctypes.pythonapi.PyBytes_AsString
    _address.argtypes = (ctypes.py_object,)
    _address.restype = ctypes.c_void_p
    try:
        _madvise = ctypes.CDLL(None, use_errno=True).madvise
        _madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    except (OSError, AttributeError):
        _madvise = None
else:  # pragma: no cover - other interpreters
    _new = None


class OutputRow:
    """A row of results: ``array`` to write into, ``finish()`` to get the bytes."""

    def __init__(self, length: int):
        self._bytes: bytes | None = None
        if _new is not None and length >= _MIN:
            self._bytes = _new(None, length)
            address = _address(self._bytes)
            self.array: NDArray[np.uint8] = np.ctypeslib.as_array((ctypes.c_uint8 * length).from_address(address))
            _advise_huge(address, length)
        else:
            self.array = np.empty(length, dtype=np.uint8)

    def finish(self) -> bytes:
        if self._bytes is not None:
            result, self._bytes = self._bytes, None
            self.array = np.empty(0, dtype=np.uint8)  # drop the view before handing out
            return result
        return self.array.tobytes()


def _advise_huge(address: int, length: int) -> None:
    if _madvise is None:
        return
    start = -(-address // _HUGE) * _HUGE
    end = (address + length) // _HUGE * _HUGE
    if end > start:
        _madvise(start, end - start, getattr(mmap, "MADV_HUGEPAGE", 14))  # advice only
