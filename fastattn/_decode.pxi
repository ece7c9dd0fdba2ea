# Decode bindings (included by _core.pyx): a short query block against a key/value cache.

from libc.stdlib cimport free, malloc

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


def read_sweep(buf, size_t nthreads):
    """Reads the whole 64-byte aligned uint8 buffer once on nthreads threads (its size a
    multiple of 64 * nthreads); returns a checksum. The benchmarks' bandwidth meter."""
    cdef const unsigned char[::1] b = buf
    cdef uint64_t total
    with nogil:
        total = fa_read_sweep(&b[0], b.shape[0], nthreads)
    return total
