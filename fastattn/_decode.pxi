# Decode bindings (included by _core.pyx): a short query block against a key/value cache.

DECODE_SPLIT = FA_DECODE_SPLIT
DECODE_TILE = FA_DECODE_TILE


cdef _variant_rows(const fa_decode_variant *table, size_t n):
    return [(table[i].name.decode(), ISA_NAMES[<int>table[i].isa], bool(fa_cpu_has(table[i].isa)))
            for i in range(n)]


def decode_f32_variants():
    """[(name, isa, runs_here)] for every compiled float32 decode kernel, best first."""
    return _variant_rows(fa_decode_f32_variants, fa_decode_f32_nvariants)


def decode_i8_variants():
    """[(name, isa, runs_here)] for every compiled int8 decode kernel, best first."""
    return _variant_rows(fa_decode_i8_variants, fa_decode_i8_nvariants)


def decode_f32_pick(str cap):
    return fa_decode_f32_pick(_isa_from_name(cap))


def decode_i8_pick(str cap):
    return fa_decode_i8_pick(_isa_from_name(cap))


def decode_f32(q, k, v, size_t lk, out, mask, float scale, ptrdiff_t band_lo, ptrdiff_t band_hi,
               size_t variant, size_t nthreads):
    """out[b,h] = attention of q[b,h] to the first lk keys/values of k[b,h'], v[b,h']: 4-d
    float32 arrays with a contiguous last axis (k and v may hold more rows than lk, e.g. a
    cache's capacity; lk = 0 gives zeros); mask 4-d additive float32 over (.., lk) or None."""
    cdef const float[:, :, :, :] qv = q
    cdef const float[:, :, :, :] kv = k
    cdef const float[:, :, :, :] vv = v
    cdef float[:, :, :, :] ov = out
    cdef const float[:, :, :, :] mv
    cdef fa_dense_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    if lk > <size_t>kv.shape[2] or lk > <size_t>vv.shape[2]:
        raise ValueError(f"lk={lk} exceeds the key/value rows {k.shape[2]}")
    p.q = &qv[0, 0, 0, 0]
    p.k = &kv[0, 0, 0, 0]
    p.v = &vv[0, 0, 0, 0]
    p.out = &ov[0, 0, 0, 0]
    p.batch, p.heads, p.lq, p.dv = ov.shape[0], ov.shape[1], ov.shape[2], ov.shape[3]
    p.kv_heads, p.lk, p.d = kv.shape[1], lk, kv.shape[3]
    _strides3(p.q_stride, q, "q")
    _strides3(p.k_stride, k, "k")
    _strides3(p.v_stride, v, "v")
    _strides3(p.out_stride, out, "out")
    if mask is not None:
        mv = mask
        p.mask = &mv[0, 0, 0, 0]
        _strides3(p.mask_stride, mask, "mask")
    p.scale = scale
    p.band_lo = band_lo
    p.band_hi = band_hi
    cdef size_t size = fa_decode_f32_workspace_size(&p, nthreads)
    cdef unsigned char[::1] ws = bytearray(size)
    cdef fa_status status
    with nogil:
        status = fa_decode_f32(&p, variant, nthreads, &ws[0], size)
    _check(status)


cdef int _token_scale_strides(ptrdiff_t *dst, x, str name) except -1:
    """Element strides of the batch and head axes of a 3-d per-token float32 scale array."""
    if x.shape[2] > 1 and x.strides[2] != 4:
        raise ValueError(f"{name}: the token axis must be contiguous float32")
    dst[0] = x.strides[0] // 4
    dst[1] = x.strides[1] // 4
    return 0


def decode_i8(q, k, k_scale, v, v_scale, size_t lk, out, mask, float scale, ptrdiff_t band_lo,
              ptrdiff_t band_hi, size_t variant, size_t nthreads):
    """The int8-cache decode: q 4-d finite float32, k and v 4-d int8 in [-127, 127] with
    per-token float32 scales k_scale, v_scale (3-d, token axis contiguous); the first lk
    tokens are attended. Other arguments as for decode_f32."""
    cdef const float[:, :, :, :] qv = q
    cdef const signed char[:, :, :, :] kv = k
    cdef const signed char[:, :, :, :] vv = v
    cdef const float[:, :, :] ksv = k_scale
    cdef const float[:, :, :] vsv = v_scale
    cdef float[:, :, :, :] ov = out
    cdef const float[:, :, :, :] mv
    cdef fa_decode_i8_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    if lk > <size_t>kv.shape[2] or lk > <size_t>vv.shape[2] or lk > <size_t>ksv.shape[2] \
            or lk > <size_t>vsv.shape[2]:
        raise ValueError(f"lk={lk} exceeds the key/value rows {k.shape[2]}")
    p.q = &qv[0, 0, 0, 0]
    p.k = <const int8_t *>&kv[0, 0, 0, 0]
    p.v = <const int8_t *>&vv[0, 0, 0, 0]
    p.k_scale = &ksv[0, 0, 0]
    p.v_scale = &vsv[0, 0, 0]
    p.out = &ov[0, 0, 0, 0]
    p.batch, p.heads, p.lq, p.dv = ov.shape[0], ov.shape[1], ov.shape[2], ov.shape[3]
    p.kv_heads, p.lk, p.d = kv.shape[1], lk, kv.shape[3]
    _strides3(p.q_stride, q, "q")
    _strides_i8(p.k_stride, k, "k")
    _strides_i8(p.v_stride, v, "v")
    _strides3(p.out_stride, out, "out")
    _token_scale_strides(p.k_scale_stride, k_scale, "k_scale")
    _token_scale_strides(p.v_scale_stride, v_scale, "v_scale")
    if mask is not None:
        mv = mask
        p.mask = &mv[0, 0, 0, 0]
        _strides3(p.mask_stride, mask, "mask")
    p.scale = scale
    p.band_lo = band_lo
    p.band_hi = band_hi
    cdef size_t size = fa_decode_i8_workspace_size(&p, nthreads)
    cdef unsigned char[::1] ws = bytearray(size)
    cdef fa_status status
    with nogil:
        status = fa_decode_i8(&p, variant, nthreads, &ws[0], size)
    _check(status)


def read_sweep(buf, size_t nthreads):
    """Reads the whole 64-byte aligned uint8 buffer once on nthreads threads (its size a
    multiple of 64 * nthreads); returns a checksum. The benchmarks' bandwidth meter."""
    cdef const unsigned char[::1] b = buf
    cdef uint64_t total
    with nogil:
        total = fa_read_sweep(&b[0], b.shape[0], nthreads)
    return total
