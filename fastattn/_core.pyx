# cython: language_level=3
"""Bindings of the C kernels: typed memoryviews in, status codes out.

No element loops and no ISA logic here: the C side validates, dispatches and
computes; this layer only turns arrays into pointers and statuses into
exceptions. The GIL is released for every kernel call.
"""
from libc.string cimport memset
from libc.stddef cimport ptrdiff_t

from fastattn._capi cimport *

# Indexed by the C enum fa_isa (values stable, new ISAs appended).
ISA_NAMES = ("scalar", "avx2", "neon", "neondot", "avx512vnni")
BAND_NONE = FA_BAND_NONE
MAX_THREADS = FA_MAX_THREADS


class KernelError(RuntimeError):
    """A C kernel returned an error status."""


cdef int _check(fa_status status) except -1:
    if status == FA_OK:
        return 0
    text = fa_status_text(status).decode()
    if status == 1 or status == 2:
        raise ValueError(text)
    raise KernelError(text)


cdef fa_isa _isa_from_name(str name) except *:
    """The ISA called `name`; None (as a cap: no cap) is FA_ISA_COUNT."""
    if name is None:
        return FA_ISA_COUNT
    if name not in ISA_NAMES:
        raise ValueError(f"unknown ISA {name!r}; expected one of {ISA_NAMES}")
    cdef int index = ISA_NAMES.index(name)
    return <fa_isa>index


def cpu_features():
    """{isa name: whether this CPU and OS run it}, read at run time."""
    return {ISA_NAMES[i]: bool(fa_cpu_has(<fa_isa>i)) for i in range(FA_ISA_COUNT)}


def isa_allowed(str isa, str cap):
    return bool(fa_isa_allowed(_isa_from_name(isa), _isa_from_name(cap)))


include "_dense.pxi"
include "_sparse.pxi"
include "_dense_i8.pxi"
include "_sparse_i8.pxi"
include "_gemm_i8.pxi"
