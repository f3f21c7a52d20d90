"""Random polynomial coefficients for the split (docs/core.md §4).

Small requests come straight from the injected ``randbytes`` (default ``os.urandom``). Large
ones draw a 256-bit key from it and expand it with AES-256 in counter mode, the construction at
the heart of NIST SP 800-90A's CTR_DRBG: a fresh key per split, counter blocks starting at 0,
and far fewer than 2^64 blocks per key. Any offset of the stream can be produced on its own, so
threads fill their blocks independently and the result does not depend on scheduling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

_DIRECT_MAX = 64 * 1024  # bytes; above this the OS is asked for a seed only


class CoefficientStream:
    """``total`` pseudo-random bytes, addressable by offset, wipeable."""

    def __init__(self, randbytes: Callable[[int], bytes], total: int):
        self._total = total
        self._local = threading.local()
        if total <= _DIRECT_MAX:
            self._direct: bytearray | None = bytearray(randbytes(total)) if total else bytearray()
            self._key: bytearray | None = None
        else:
            self._direct = None
            self._key = bytearray(randbytes(32))
        if (self._direct is not None and len(self._direct) != total) or (
            self._key is not None and len(self._key) != 32
        ):
            raise ValueError("randbytes returned the wrong number of bytes")

    def fill(self, out: NDArray[np.uint8], offset: int, count: int) -> None:
        """out[:count] = stream[offset : offset + count]; out[count:] = 0."""
        if offset + count > self._total:
            raise ValueError("read past the end of the coefficient stream")
        out[count:] = 0
        if self._direct is not None:
            out[:count] = np.frombuffer(self._direct, dtype=np.uint8, count=count, offset=offset)
            return
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        skip = offset % 16
        need = skip + count
        counter = (offset // 16).to_bytes(16, "big")  # SP 800-90A CTR: V starts at 0
        assert self._key is not None  # set whenever _direct is None (__init__)
        enc = Cipher(algorithms.AES(bytes(self._key)), modes.CTR(counter)).encryptor()
        if skip == 0 and out.shape[0] >= count + 15:
            # straight into the caller's block
            enc.update_into(self._zeros(count), out)  # type: ignore[arg-type]  # any writable buffer works
            out[count:] = 0
            return
        temp = np.zeros(need + 16, dtype=np.uint8)  # update_into wants block_size - 1 spare bytes
        enc.update_into(self._zeros(need), temp)  # type: ignore[arg-type]  # any writable buffer works
        out[:count] = temp[skip:need]
        temp.fill(0)

    def _zeros(self, need: int) -> memoryview:
        local = self._local
        if getattr(local, "size", 0) < need:
            local.zeros = bytes(need)
            local.size = need
        return memoryview(local.zeros)[:need]

    def wipe(self) -> None:
        if self._direct is not None:
            self._direct[:] = bytes(len(self._direct))
        if self._key is not None:
            self._key[:] = bytes(32)
