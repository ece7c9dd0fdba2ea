# Output buffers of the ops: 64-byte aligned, and large ones recycled.
#
# Why: glibc serves an allocation of 32 MiB or more with fresh pages from the OS on every
# call (its adaptive mmap threshold stops growing at 32 MiB) and the OS zeroes them. At
# B=1 H=8 L=16384 D=64 the float32 output is 32 MiB, and its page faults cost 6-8 ms a
# call here: a fifth of a linear-attention call. Smaller outputs come back from glibc's
# heap already, but 16 bytes off a cache line, which costs 512-bit stores.
#
# How: a block is one aligned allocation owned by an OutputBlock object, which exports it
# through the buffer protocol. NumPy arrays made from it, and every view of them, keep the
# OutputBlock alive; when the last one goes, __dealloc__ hands the memory to a small idle
# list instead of freeing it, and the next output of the same byte size takes it from
# there. A block in use is never handed out twice: it is only reachable from the idle list
# after its owner is gone. The idle list holds at most _IDLE_SLOTS blocks and
# output_cache_limit() bytes (FASTATTN_OUTPUT_CACHE_MB, default 64; 0 turns recycling off),
# evicting its oldest blocks to make room for the newest.
# tracemalloc sees a block while it is in use, as it sees NumPy's own arrays.

from libc.stdint cimport uintptr_t
from libc.stdlib cimport malloc, free
from cpython.buffer cimport PyBUF_FORMAT

cdef extern from "Python.h":
    int PyTraceMalloc_Track(unsigned int domain, uintptr_t ptr, size_t size)
    int PyTraceMalloc_Untrack(unsigned int domain, uintptr_t ptr)

DEF _ALIGN = 64
DEF _IDLE_SLOTS = 4
cdef unsigned int _TRACE_DOMAIN = 0x46415454   # "FATT": fastattn's tracemalloc domain

cdef char *_idle_raw[_IDLE_SLOTS]
cdef size_t _idle_size[_IDLE_SLOTS]
cdef int _idle_count = 0
cdef size_t _idle_bytes = 0
cdef size_t _idle_limit = 0  # fastattn._outputs sets it at import


cdef char *_aligned(char *raw) noexcept nogil:
    return <char *>((<uintptr_t>raw + _ALIGN) & ~(<uintptr_t>(_ALIGN - 1)))


cdef void _drop_idle(int i) noexcept:
    """Removes idle block i, keeping the rest oldest first."""
    global _idle_count, _idle_bytes
    cdef int j
    _idle_bytes -= _idle_size[i]
    _idle_count -= 1
    for j in range(i, _idle_count):
        _idle_raw[j] = _idle_raw[j + 1]
        _idle_size[j] = _idle_size[j + 1]


cdef char *_take(size_t size) noexcept:
    """The raw allocation of an idle block of exactly `size` bytes, else a new one (NULL
    when out of memory). Its aligned start lies 1 to _ALIGN bytes into it."""
    cdef int i
    cdef char *raw
    for i in range(_idle_count - 1, -1, -1):  # the newest first
        if _idle_size[i] == size:
            raw = _idle_raw[i]
            _drop_idle(i)
            return raw
    return <char *>malloc(size + _ALIGN)


cdef void _give_back(char *raw, size_t size) noexcept:
    """Keeps a freed block for reuse, evicting the oldest idle ones to make room; frees it
    when it alone is over the limit."""
    global _idle_count, _idle_bytes
    if size > _idle_limit:
        free(raw)
        return
    while _idle_count == _IDLE_SLOTS or _idle_bytes + size > _idle_limit:
        free(_idle_raw[0])
        _drop_idle(0)
    _idle_raw[_idle_count] = raw
    _idle_size[_idle_count] = size
    _idle_count += 1
    _idle_bytes += size


cdef class OutputBlock:
    """`size` writable bytes at a 64-byte aligned address, recycled when this object goes
    (see the top of fastattn/_outputs.pxi). NumPy views it with np.frombuffer."""
    cdef char *raw
    cdef char *data
    cdef Py_ssize_t size
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]

    def __cinit__(self, Py_ssize_t size):
        if size < 1:
            raise ValueError(f"an output block needs at least 1 byte, got {size}")
        self.raw = _take(<size_t>size)
        if self.raw == NULL:
            raise MemoryError(f"cannot allocate an output of {size} bytes")
        self.data = _aligned(self.raw)
        self.size = size
        self.shape[0] = size
        self.strides[0] = 1
        PyTraceMalloc_Track(_TRACE_DOMAIN, <uintptr_t>self.data, <size_t>size)

    def __getbuffer__(self, Py_buffer *buf, int flags):
        buf.buf = self.data
        buf.obj = self
        buf.len = self.size
        buf.readonly = 0
        buf.itemsize = 1
        buf.format = <char *>"B" if flags & PyBUF_FORMAT else NULL
        buf.ndim = 1
        buf.shape = self.shape
        buf.strides = self.strides
        buf.suboffsets = NULL
        buf.internal = NULL

    def __releasebuffer__(self, Py_buffer *buf):
        pass

    def __dealloc__(self):
        if self.raw != NULL:
            PyTraceMalloc_Untrack(_TRACE_DOMAIN, <uintptr_t>self.data)
            _give_back(self.raw, <size_t>self.size)
            self.raw = NULL


def set_output_cache_limit(Py_ssize_t limit):
    """Bytes of idle output blocks kept for reuse (0: none); frees the oldest idle blocks
    until the rest fit."""
    global _idle_limit
    if limit < 0:
        raise ValueError(f"the output cache limit must be >= 0 bytes, got {limit}")
    _idle_limit = <size_t>limit
    while _idle_count > 0 and _idle_bytes > _idle_limit:
        free(_idle_raw[0])
        _drop_idle(0)


def output_cache_limit():
    """Bytes of idle output blocks kept for reuse."""
    return _idle_limit


def output_cache_idle():
    """(blocks, bytes) idle in the output cache now."""
    return _idle_count, _idle_bytes
