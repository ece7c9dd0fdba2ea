"""Float32 output arrays of the ops: 64-byte aligned, and large ones recycled.

An output of at least ``BLOCK_MIN`` bytes lives in a `fastattn._core.OutputBlock`
(fastattn/_outputs.pxi says why and how): when the caller drops the array and every view
of it, its memory waits in a small idle list and the next output of the same size reuses
it, instead of glibc giving fresh pages the OS must zero (6-8 ms a call for the 32 MiB
output of B=1 H=8 L=16384 D=64 here). ``FASTATTN_OUTPUT_CACHE_MB`` (default 64) caps the
idle bytes; 0 turns recycling off. Smaller outputs are plain ``np.empty`` arrays.
"""

from __future__ import annotations

import math

import numpy as np

from fastattn import _core
from fastattn._env import env_int

BLOCK_MIN = 1 << 20
DEFAULT_CACHE_MB = 64


def _configure() -> None:
    """Sets the idle limit from FASTATTN_OUTPUT_CACHE_MB (a bad value warns and keeps the
    default); run once, at import."""
    megabytes = env_int("FASTATTN_OUTPUT_CACHE_MB", 0, fallback=f"using {DEFAULT_CACHE_MB}")
    _core.set_output_cache_limit((DEFAULT_CACHE_MB if megabytes is None else megabytes) << 20)


def empty(shape: tuple) -> np.ndarray:
    """An uninitialised C-order float32 array of `shape`, recycled when large (see above)."""
    nbytes = 4 * math.prod(shape)
    if nbytes < BLOCK_MIN:
        return np.empty(shape, dtype=np.float32)
    return np.frombuffer(_core.OutputBlock(nbytes), dtype=np.float32).reshape(shape)


def zeros(shape: tuple) -> np.ndarray:
    """A C-order float32 array of zeros of `shape` starting on a 64-byte line, as the
    kernels' workspace buffers and outputs do (NumPy's large arrays start 16 bytes into
    one): for the operands of the ``gemm_parts_call`` measurements."""
    size = math.prod(shape)
    raw = np.zeros(size + 16, dtype=np.float32)
    start = (-raw.ctypes.data % 64) // 4
    return raw[start:start + size].reshape(shape)


_configure()
