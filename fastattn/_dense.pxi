# Dense attention bindings (included by _core.pyx).


def dense_f32_variants():
    """[(name, isa, runs_here)] for every compiled dense float32 kernel, best first."""
    return [(fa_dense_f32_variants[i].name.decode(), ISA_NAMES[<int>fa_dense_f32_variants[i].isa],
             bool(fa_cpu_has(fa_dense_f32_variants[i].isa)))
            for i in range(fa_dense_f32_nvariants)]


def dense_f32_pick(str cap):
    """Index of the dense float32 variant dispatch picks under the ISA cap."""
    return fa_dense_f32_pick(_isa_from_name(cap))


cdef int _strides3(ptrdiff_t *dst, x, str name) except -1:
    """Element strides of the three outer axes; the last axis must be contiguous."""
    if x.shape[3] > 1 and x.strides[3] != 4:
        raise ValueError(f"{name}: the last axis must be contiguous float32")
    dst[0] = x.strides[0] // 4
    dst[1] = x.strides[1] // 4
    dst[2] = x.strides[2] // 4
    return 0


def dense_f32(q, k, v, out, mask, float scale, ptrdiff_t band_lo, ptrdiff_t band_hi,
              size_t variant, size_t nthreads):
    """out[b,h] = attention(q[b,h], k[b,h'], v[b,h']) with 4-d float32 arrays whose last
    axis is contiguous; mask is a 4-d additive float32 array (broadcast strides allowed)
    or None. Shapes are validated by the caller; the C side checks them again."""
    cdef const float[:, :, :, :] qv = q
    cdef const float[:, :, :, :] kv = k
    cdef const float[:, :, :, :] vv = v
    cdef float[:, :, :, :] ov = out
    cdef const float[:, :, :, :] mv
    cdef fa_dense_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0 or k.size == 0:
        return
    p.q = &qv[0, 0, 0, 0]
    p.k = &kv[0, 0, 0, 0]
    p.v = &vv[0, 0, 0, 0]
    p.out = &ov[0, 0, 0, 0]
    p.batch, p.heads, p.lq, p.dv = ov.shape[0], ov.shape[1], ov.shape[2], ov.shape[3]
    p.kv_heads, p.lk, p.d = kv.shape[1], kv.shape[2], kv.shape[3]
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
    cdef size_t per_thread = fa_dense_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_dense_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
