# Dense float32 attention bindings (included by _core.pyx).

OPS["dense-f32"] = _op_table(fa_dense_f32_variants, fa_dense_f32_nvariants)


cdef int _fill_dense_f32(fa_dense_f32_params *p, q, k, v, out, mask, float scale,
                         ptrdiff_t band_lo, ptrdiff_t band_hi) except -1:
    """Points p at the arrays (which the caller keeps alive for the call)."""
    p.q = _f32_4d(q, p.q_stride, &p.q_len, "q")
    p.k = _f32_4d(k, p.k_stride, &p.k_len, "k")
    p.v = _f32_4d(v, p.v_stride, &p.v_len, "v")
    p.out = _f32_4d_out(out, p.out_stride, &p.out_len, "out")
    if mask is not None:
        p.mask = _f32_4d(mask, p.mask_stride, &p.mask_len, "mask")
    p.batch, p.heads, p.lq, p.dv = out.shape
    _, p.kv_heads, p.lk, p.d = k.shape
    p.scale, p.band_lo, p.band_hi = scale, band_lo, band_hi
    return 0


def dense_f32(q, k, v, out, mask, float scale, ptrdiff_t band_lo, ptrdiff_t band_hi,
              size_t variant, size_t nthreads):
    """out[b,h] = attention(q[b,h], k[b,h'], v[b,h']) with 4-d float32 arrays whose last
    axis is contiguous; mask is a 4-d additive float32 array (broadcast strides allowed)
    or None. Shapes are validated by the caller; the C side checks what memory needs."""
    cdef fa_dense_f32_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_f32(&p, q, k, v, out, mask, scale, band_lo, band_hi)
    cdef size_t per_thread = fa_dense_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_dense_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
