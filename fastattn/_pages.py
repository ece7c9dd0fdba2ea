"""Zeroed buffers for stores that every call streams whole: on 64 bytes, and from 1 MiB on
transparent huge pages where the OS offers them.

A decode call reads its whole key/value cache once. NumPy's own buffers start 16 bytes
past a cache line, so every 64-byte load of a kernel spans two lines; and on 4 KiB pages
the stream takes a TLB miss and a restart of the hardware prefetcher (which stops at 4 KiB
boundaries) every 4 KiB. NumPy advises huge pages itself for allocations of 4 MiB or
more, but from its unaligned start, so up to the first 2 MiB stay on small pages.
Measured on this project's Sapphire Rapids machine (KVCache.attend, 1 thread, B=1 H=8
D=64 int8 at Lk=4096, whose 2 MiB key and value arrays NumPy leaves on small pages, CPU
time, block method, alternating processes, load 11-12): i8-avx512vnni 0.276-0.284 ms,
0.249-0.257 aligned on 64 bytes, 0.196-0.279 on huge pages; i8-avx2 0.296-0.324 ms
against 0.260-0.320.
"""

from __future__ import annotations

import mmap

import numpy as np

HUGE_PAGE = 2 << 20  # the x86-64 and aarch64 (4 KiB granule) transparent huge page
MIN_BYTES = 1 << 20  # smaller buffers: 64-byte aligned 4 KiB pages (a huge page would
# hold more than twice their bytes)
LINE = 64
_ADVICE = getattr(mmap, "MADV_HUGEPAGE", None)  # Linux only
_FLAGS = (getattr(mmap, "MAP_PRIVATE", 0) | mmap.MAP_ANONYMOUS
          if hasattr(mmap, "MAP_ANONYMOUS") else 0)  # Python 3.10 on


def zeros(shape: tuple, dtype) -> np.ndarray:
    """``np.zeros(shape, dtype)``, starting on a `LINE` boundary; of `MIN_BYTES` or more,
    where the OS offers transparent huge pages (Linux ``madvise``), a private anonymous
    mapping advised ``MADV_HUGEPAGE`` and starting on a `HUGE_PAGE` boundary (the pages come
    zeroed from the kernel, 2 MiB at a time when the system grants them, else 4 KiB pages).
    The array keeps its memory alive, which goes when the last view of it does."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw, align = None, HUGE_PAGE
    if _ADVICE is not None and _FLAGS and nbytes >= MIN_BYTES:
        try:
            mapping = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=_FLAGS)
            mapping.madvise(_ADVICE)
            raw = np.frombuffer(mapping, np.uint8)
        except (OSError, ValueError):  # no mapping or no advice: the plain allocation
            raw = None
    if raw is None:
        raw, align = np.zeros(nbytes + LINE, np.uint8), LINE
    start = -raw.ctypes.data % align
    return raw[start:start + nbytes].view(dtype).reshape(shape)
