# Decode bindings (included by _core.pyx): a short query block against a key/value cache.

from cpython.buffer cimport (PyBUF_RECORDS_RO, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)
from libc.stdint cimport uintptr_t
from libc.stdlib cimport free, malloc

import numpy

DECODE_SPLIT = FA_DECODE_SPLIT
DECODE_TILE = FA_DECODE_TILE
DECODE_BLOCK = FA_DECODE_BLOCK


OPS["decode-f32"] = _op_table(fa_decode_f32_variants, fa_decode_f32_nvariants)
OPS["decode-i8"] = _op_table(fa_decode_i8_variants, fa_decode_i8_nvariants)


def decode_f32(q, k, v, size_t lk, out, mask, float scale, ptrdiff_t band_lo, ptrdiff_t band_hi,
               size_t variant, size_t nthreads):
    """out[b,h] = attention of q[b,h] to the first lk keys/values of k[b,h'], v[b,h']: 4-d
    float32 arrays with a contiguous last axis (k and v may hold more rows than lk, e.g. a
    cache's capacity; lk = 0 gives zeros); mask 4-d additive float32 over (.., lk) or None."""
    cdef fa_dense_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    if lk > <size_t>k.shape[2] or lk > <size_t>v.shape[2]:
        raise ValueError(f"lk={lk} exceeds the key/value rows {k.shape[2]}")
    _fill_dense_f32(&p, q, k, v, out, mask, scale, band_lo, band_hi)
    p.lk = lk
    cdef size_t size = fa_decode_f32_workspace_size(&p, nthreads)
    cdef fa_status status
    # malloc, not a bytearray: no zero fill and no Python objects, which run cold after a
    # call that streamed the cache through L2
    cdef void *ws = malloc(size)
    if ws == NULL:
        raise MemoryError(f"decode workspace of {size} bytes")
    try:
        with nogil:
            status = fa_decode_f32(&p, variant, nthreads, ws, size)
    finally:
        free(ws)
    _check(status)


def decode_i8(q, k, k_scale, v, v_scale, size_t lk, out, mask, float scale, ptrdiff_t band_lo,
              ptrdiff_t band_hi, size_t variant, size_t nthreads):
    """The int8-cache decode: q 4-d finite float32; k int8 in [-127, 127] in groups of 16
    tokens (batch, kv_heads, groups, 64 * ceil(d / 4)) (token j, feature x at
    [j // 16, 64 * (x // 4) + 4 * (j % 16) + x % 4], zeros past d), v in groups of 4 tokens
    (batch, kv_heads, groups, 4 * dv) (token j, channel x at [j // 4, 4 * x + j % 4]), per-token
    float32 scales k_scale, v_scale (3-d, token axis contiguous, finite, v_scale > 0); the
    first lk tokens are attended; d is q's last axis. Other arguments as for decode_f32."""
    cdef fa_decode_i8_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    if (lk + 15) // 16 > <size_t>k.shape[2] or (lk + 3) // 4 > <size_t>v.shape[2] \
            or lk > <size_t>k_scale.shape[2] or lk > <size_t>v_scale.shape[2]:
        raise ValueError(f"lk={lk} exceeds the key/value rows {k.shape[2]}")
    _fill_i8(&p, q, k, k_scale, v, v_scale, out, mask, scale, band_lo, band_hi)
    p.lk, p.d = lk, q.shape[3]
    cdef size_t size = fa_decode_i8_workspace_size(&p, nthreads)
    cdef fa_status status
    # malloc, not a bytearray: no zero fill and no Python objects, which run cold after a
    # call that streamed the cache through L2
    cdef void *ws = malloc(size)
    if ws == NULL:
        raise MemoryError(f"decode workspace of {size} bytes")
    try:
        with nogil:
            status = fa_decode_i8(&p, variant, nthreads, ws, size)
    finally:
        free(ws)
    _check(status)


cdef class DecodeStore:
    """A KV cache's store as the decode kernels read it: the pointers, strides and lengths of
    its arrays (held here) taken once, not per call, and a workspace kept between calls (a
    call that finds it in use, from another thread, takes its own). A new store per
    allocation of the arrays. int8 when the scales are given (decode_i8's layout), else
    float32 (decode_f32's)."""
    cdef fa_decode_i8_params i8
    cdef fa_dense_f32_params f32
    cdef bint int8, busy
    cdef object arrays
    cdef size_t capacity, max_lq
    cdef void *ws
    cdef size_t ws_size

    def __cinit__(self, k, v, k_scale=None, v_scale=None, *, size_t d, size_t max_lq,
                  float scale):
        memset(&self.i8, 0, sizeof(self.i8))
        memset(&self.f32, 0, sizeof(self.f32))
        self.arrays = (k, v, k_scale, v_scale)
        self.int8 = k_scale is not None
        self.max_lq = max_lq
        if self.int8:
            self.i8.k = _i8_4d(k, self.i8.k_stride, &self.i8.k_len, "k")
            self.i8.v = _i8_4d(v, self.i8.v_stride, &self.i8.v_len, "v")
            self.i8.k_scale = _f32_3d(k_scale, self.i8.k_scale_stride, &self.i8.k_scale_len,
                                      "k_scale")
            self.i8.v_scale = _f32_3d(v_scale, self.i8.v_scale_stride, &self.i8.v_scale_len,
                                      "v_scale")
            self.i8.batch, self.i8.kv_heads = k.shape[0], k.shape[1]
            self.i8.d, self.i8.dv, self.i8.scale = d, v.shape[3] // 4, scale
            self.i8.band_lo = -FA_BAND_NONE
            self.capacity = min(16 * k.shape[2], 4 * v.shape[2], k_scale.shape[2],
                                v_scale.shape[2])
        else:
            self.f32.k = _f32_4d(k, self.f32.k_stride, &self.f32.k_len, "k")
            self.f32.v = _f32_4d(v, self.f32.v_stride, &self.f32.v_len, "v")
            self.f32.batch, self.f32.kv_heads = k.shape[0], k.shape[1]
            self.f32.d, self.f32.dv, self.f32.scale = d, v.shape[3], scale
            self.f32.band_lo = -FA_BAND_NONE
            self.capacity = min(k.shape[2], v.shape[2])

    def __dealloc__(self):
        free(self.ws)

    cdef fa_status _run(self, fa_decode_i8_params *p8, fa_dense_f32_params *p32, size_t variant,
                        size_t nthreads) except? FA_STATUS_COUNT:
        """Runs one call on the kept workspace (grown to fit), or on its own if in use."""
        cdef size_t size = (fa_decode_i8_workspace_size(p8, nthreads) if self.int8 else
                            fa_decode_f32_workspace_size(p32, nthreads))
        cdef bint shared = not self.busy  # the GIL makes this test-and-set one step
        cdef void *ws
        cdef fa_status status
        if shared and size > self.ws_size:
            free(self.ws)
            self.ws = malloc(size)
            self.ws_size = size if self.ws != NULL else 0
        ws = self.ws if shared else malloc(size)
        if ws == NULL:
            raise MemoryError(f"decode workspace of {size} bytes")
        self.busy = True
        try:
            with nogil:
                if self.int8:
                    status = fa_decode_i8(p8, variant, nthreads, ws, size)
                else:
                    status = fa_decode_f32(p32, variant, nthreads, ws, size)
        finally:
            if shared:
                self.busy = False
            else:
                free(ws)
        return status

    def run(self, q, out, size_t lk, mask, float scale, ptrdiff_t band_hi, size_t variant,
            size_t nthreads):
        """decode_i8 / decode_f32 of q (4-d float32, last axis contiguous) against the first
        lk tokens of the store into out, with mask (or None) and scale."""
        cdef fa_decode_i8_params p8 = self.i8
        cdef fa_dense_f32_params p32 = self.f32
        if out.size == 0:
            return
        if lk > self.capacity:
            raise ValueError(f"lk={lk} exceeds the store's {self.capacity} tokens")
        if self.int8:
            p8.q = _f32_4d(q, p8.q_stride, &p8.q_len, "q")
            p8.out = _f32_4d_out(out, p8.out_stride, &p8.out_len, "out")
            if mask is not None:
                p8.mask = _f32_4d(mask, p8.mask_stride, &p8.mask_len, "mask")
            p8.heads, p8.lq, p8.lk, p8.scale, p8.band_hi = (q.shape[1], q.shape[2], lk, scale,
                                                            band_hi)
        else:
            p32.q = _f32_4d(q, p32.q_stride, &p32.q_len, "q")
            p32.out = _f32_4d_out(out, p32.out_stride, &p32.out_len, "out")
            if mask is not None:
                p32.mask = _f32_4d(mask, p32.mask_stride, &p32.mask_len, "mask")
            p32.heads, p32.lq, p32.lk, p32.scale, p32.band_hi = (q.shape[1], q.shape[2], lk,
                                                                 scale, band_hi)
        _check(self._run(&p8, &p32, variant, nthreads))

    def attend(self, q, size_t lk, size_t variant, size_t nthreads):
        """The plain call, in a new float32 array: q a float32 ndarray (batch, heads, lq, d)
        with heads a multiple of kv_heads, 1 <= lq <= min(lk, max_lq), element strides,
        a contiguous last axis and (int8) finite values, against the first lk tokens, causal
        bottom-right, no mask, the store's scale. None, having computed nothing, for any
        other q: the caller's general path then validates it and names what is wrong."""
        cdef Py_buffer qb, ob
        cdef fa_decode_i8_params p8 = self.i8
        cdef fa_dense_f32_params p32 = self.f32
        cdef size_t batch = p8.batch if self.int8 else p32.batch
        cdef size_t kv_heads = p8.kv_heads if self.int8 else p32.kv_heads
        cdef size_t d = p8.d if self.int8 else p32.d
        cdef size_t dv = p8.dv if self.int8 else p32.dv
        cdef size_t heads, lq, i, length = 1
        cdef ptrdiff_t qs[3]
        cdef ptrdiff_t ost[3]
        cdef fa_status status
        if lk > self.capacity or nthreads == 0 or nthreads > FA_MAX_THREADS:
            return None
        PyObject_GetBuffer(q, &qb, PyBUF_RECORDS_RO)
        try:
            if (qb.ndim != 4 or qb.itemsize != 4 or qb.format == NULL or qb.format[0] != b'f'
                    or qb.format[1] != 0 or <uintptr_t>qb.buf % 4 != 0):
                return None
            heads, lq = qb.shape[1], qb.shape[2]
            if (<size_t>qb.shape[0] != batch or <size_t>qb.shape[3] != d or heads == 0
                    or heads % kv_heads != 0 or lq == 0 or lq > lk or lq > self.max_lq
                    or (qb.shape[3] > 1 and qb.strides[3] != 4)):
                return None
            for i in range(3):
                if qb.strides[i] < 0 or qb.strides[i] % 4 != 0:
                    return None
                qs[i] = qb.strides[i] // 4
                length += (qb.shape[i] - 1) * qs[i]
            length += qb.shape[3] - 1
            out = numpy.empty((batch, heads, lq, dv), numpy.float32)
            ost[0], ost[1], ost[2] = heads * lq * dv, lq * dv, dv
            PyObject_GetBuffer(out, &ob, PyBUF_WRITABLE)  # new and C-contiguous
            try:
                if self.int8:
                    p8.q, p8.q_len, p8.q_stride = <const float *>qb.buf, length, qs
                    p8.out, p8.out_len, p8.out_stride = <float *>ob.buf, ob.len // 4, ost
                    p8.heads, p8.lq, p8.lk, p8.band_hi = heads, lq, lk, lk - lq
                else:
                    p32.q, p32.q_len, p32.q_stride = <const float *>qb.buf, length, qs
                    p32.out, p32.out_len, p32.out_stride = <float *>ob.buf, ob.len // 4, ost
                    p32.heads, p32.lq, p32.lk, p32.band_hi = heads, lq, lk, lk - lq
                status = self._run(&p8, &p32, variant, nthreads)
            finally:
                PyBuffer_Release(&ob)
        finally:
            PyBuffer_Release(&qb)
        if status == FA_ERR_NONFINITE:
            return None
        _check(status)
        return out


def read_sweep(buf, size_t nthreads):
    """Reads the whole 64-byte aligned uint8 buffer once on nthreads threads (its size a
    multiple of 64 * nthreads); returns a checksum. The benchmarks' bandwidth meter."""
    cdef const unsigned char[::1] b = buf
    cdef uint64_t total
    with nogil:
        total = fa_read_sweep(&b[0], b.shape[0], nthreads)
    return total
