# cython: language_level=3
"""Bindings of the C kernels: arrays in, status codes out.

No element loops and no ISA logic here: the C side checks what memory safety needs,
dispatches and computes; this layer turns arrays into pointers, lengths and strides, and
statuses into exceptions (by the status's name). The GIL is released for every kernel call.
"""
from libc.string cimport memset
from libc.stddef cimport ptrdiff_t

from fastattn._capi cimport *

# Read from csrc/include/fastattn/isa.def through the C API: index = enum value.
ISA_NAMES = tuple(fa_isa_name(<fa_isa>i).decode() for i in range(FA_ISA_COUNT))
ISA_RANKS = {name: fa_isa_rank(<fa_isa>i) for i, name in enumerate(ISA_NAMES)}
ISA_ARCHS = {name: fa_isa_arch(<fa_isa>i).decode() for i, name in enumerate(ISA_NAMES)}
STATUS_NAMES = tuple(fa_status_name(<fa_status>i).decode() for i in range(FA_STATUS_COUNT))
# Query rows per block and keys per tile of the flash engines (fastattn/tiles.h); int8 jobs
# of job_rows rows share each packed key tile between their blocks of query_rows rows.
TILES = {"f32": {"query_rows": FA_F32_MQ, "keys": FA_F32_NK},
         "i8": {"query_rows": FA_I8_MB, "keys": FA_I8_NK, "job_rows": FA_I8_MQ}}
BAND_NONE = FA_BAND_NONE
MAX_THREADS = FA_MAX_THREADS


class KernelError(RuntimeError):
    """A C kernel failed for a reason other than its arguments (workspace, threads, CPU)."""


# Statuses that mean the arguments were wrong; every other failure is a KernelError.
_VALUE_ERRORS = frozenset({"FA_ERR_NULL", "FA_ERR_SHAPE", "FA_ERR_BOUNDS", "FA_ERR_INVALID",
                           "FA_ERR_LAYOUT", "FA_ERR_NONFINITE", "FA_ERR_OVERFLOW"})


cdef int _check(fa_status status) except -1:
    if status == FA_OK:
        return 0
    name = fa_status_name(status).decode()
    error = ValueError if name in _VALUE_ERRORS else KernelError
    raise error(f"{fa_status_text(status).decode()} ({name})")


cdef fa_isa _isa_from_name(str name) except *:
    """The ISA called `name`; None (as a cap: no cap) is FA_ISA_COUNT."""
    if name is None:
        return FA_ISA_COUNT
    cdef fa_isa isa = fa_isa_from_name(name.encode())
    if isa == FA_ISA_COUNT:
        raise ValueError(f"unknown ISA {name!r}; expected one of {ISA_NAMES}")
    return isa


def cpu_features():
    """{isa name: whether this CPU and OS run it}, detected once at run time."""
    return {name: bool(fa_cpu_has(<fa_isa>i)) for i, name in enumerate(ISA_NAMES)}


def isa_allowed(str isa, str cap):
    return bool(fa_isa_allowed(_isa_from_name(isa), _isa_from_name(cap)))


cdef class OpTable:
    """The compiled variants of one op, as its C table lists them (best first)."""
    cdef const fa_variant *table
    cdef size_t n

    def variants(self):
        """[(name, isa, runs_here)] for every compiled variant, best first."""
        return [(self.table[i].name.decode(), ISA_NAMES[<int>self.table[i].isa],
                 bool(fa_cpu_has(self.table[i].isa))) for i in range(self.n)]

    def pick(self, str cap):
        """Index of the variant dispatch picks under the ISA cap (None: no cap)."""
        return fa_variant_pick(self.table, self.n, _isa_from_name(cap))


cdef OpTable _op_table(const fa_variant *table, size_t n):
    cdef OpTable t = OpTable.__new__(OpTable)
    t.table, t.n = table, n
    return t


# Every op's table by name ("dense-f32", ...); each .pxi registers its own.
OPS = {}


cdef size_t _span(const Py_ssize_t *shape, const Py_ssize_t *strides, int ndim,
                  Py_ssize_t itemsize):
    """Elements from the first one to the last one a view reaches, plus one; 0 when empty.
    (A negative stride shrinks it, and the C side then rejects the call.)"""
    cdef Py_ssize_t reach = 0
    cdef int i
    for i in range(ndim):
        if shape[i] == 0:
            return 0
        reach += (shape[i] - 1) * (strides[i] // itemsize)
    return <size_t>(reach + 1) if reach >= 0 else 0


cdef int _outer_strides(ptrdiff_t *dst, const Py_ssize_t *shape, const Py_ssize_t *strides,
                        int ndim, Py_ssize_t itemsize, str name) except -1:
    """Element strides of the ndim - 1 outer axes; the last axis must be contiguous."""
    cdef int i
    if shape[ndim - 1] > 1 and strides[ndim - 1] != itemsize:
        raise ValueError(f"{name}: the last axis must be contiguous")
    for i in range(ndim - 1):
        dst[i] = strides[i] // itemsize
    return 0


cdef bint _empty(const Py_ssize_t *shape, int ndim):
    cdef int i
    for i in range(ndim):
        if shape[i] == 0:
            return True
    return False


# Each helper returns the address of x's first element (NULL when x is empty) and fills
# its outer element strides and its length in elements (from x itself: the C side checks
# them against the sizes of the call).
cdef const float *_f32_4d(const float[:, :, :, :] x, ptrdiff_t *strides, size_t *length,
                          str name) except? NULL:
    _outer_strides(strides, x.shape, x.strides, 4, 4, name)
    length[0] = _span(x.shape, x.strides, 4, 4)
    if _empty(x.shape, 4):
        return NULL
    return &x[0, 0, 0, 0]


cdef float *_f32_4d_out(float[:, :, :, :] x, ptrdiff_t *strides, size_t *length,
                        str name) except? NULL:
    # the typed argument has checked that x is writable
    return <float *>_f32_4d(x, strides, length, name)


cdef const int8_t *_i8_4d(const signed char[:, :, :, :] x, ptrdiff_t *strides, size_t *length,
                          str name) except? NULL:
    _outer_strides(strides, x.shape, x.strides, 4, 1, name)
    length[0] = _span(x.shape, x.strides, 4, 1)
    if _empty(x.shape, 4):
        return NULL
    return <const int8_t *>&x[0, 0, 0, 0]


cdef const float *_f32_3d(const float[:, :, :] x, ptrdiff_t *strides, size_t *length,
                          str name) except? NULL:
    _outer_strides(strides, x.shape, x.strides, 3, 4, name)
    length[0] = _span(x.shape, x.strides, 3, 4)
    if _empty(x.shape, 3):
        return NULL
    return &x[0, 0, 0]


include "_dense.pxi"
include "_sparse.pxi"
include "_dense_i8.pxi"
include "_sparse_i8.pxi"
include "_linear.pxi"
include "_decode.pxi"
include "_gemm_i8.pxi"
include "_outputs.pxi"
