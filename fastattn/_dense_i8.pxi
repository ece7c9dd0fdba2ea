# Dense int8 attention, int8 quantisation and the int8 peak loop bindings (included by
# _core.pyx).

OPS["dense-i8"] = _op_table(fa_dense_i8_variants, fa_dense_i8_nvariants)
OPS["quant-i8"] = _op_table(fa_quant_i8_variants, fa_quant_i8_nvariants)


# The int8 params structs: the same fields (their scales' granularity aside), filled by one
# helper.
ctypedef fused i8_params:
    fa_dense_i8_params
    fa_decode_i8_params


cdef int _fill_i8(i8_params *p, q, k, k_scale, v, v_scale, out, mask, float scale,
                  ptrdiff_t band_lo, ptrdiff_t band_hi) except -1:
    """Points p at the arrays (which the caller keeps alive for the call)."""
    p.q = _f32_4d(q, p.q_stride, &p.q_len, "q")
    p.k = _i8_4d(k, p.k_stride, &p.k_len, "k")
    p.v = _i8_4d(v, p.v_stride, &p.v_len, "v")
    p.k_scale = _f32_3d(k_scale, p.k_scale_stride, &p.k_scale_len, "k_scale")
    p.v_scale = _f32_3d(v_scale, p.v_scale_stride, &p.v_scale_len, "v_scale")
    p.out = _f32_4d_out(out, p.out_stride, &p.out_len, "out")
    if mask is not None:
        p.mask = _f32_4d(mask, p.mask_stride, &p.mask_len, "mask")
    p.batch, p.heads, p.lq, p.dv = out.shape
    _, p.kv_heads, p.lk, p.d = k.shape
    p.scale, p.band_lo, p.band_hi = scale, band_lo, band_hi
    return 0


cdef int _fill_dense_i8(fa_dense_i8_params *p, q, size_t q_block, k, k_scale, size_t k_block,
                        v, v_scale, out, mask, float scale, ptrdiff_t band_lo,
                        ptrdiff_t band_hi) except -1:
    _fill_i8(p, q, k, k_scale, v, v_scale, out, mask, scale, band_lo, band_hi)
    p.q_block, p.k_block = q_block, k_block
    return 0


def dense_i8(q, size_t q_block, k, k_scale, size_t k_block, v, v_scale, out, mask,
             float scale, ptrdiff_t band_lo, ptrdiff_t band_hi, size_t variant, size_t nthreads,
             float q_limit=0.0):
    """out[b,h] = int8 attention of q[b,h], k[b,h'], v[b,h']: q a 4-d float32 array (quantised
    inside per block of q_block rows), k and v 4-d int8 arrays whose last axis is contiguous
    (other axes any strides, 0 broadcasts), 3-d float32 scales (last axis contiguous), 4-d
    float32 out, mask as for dense_f32. Shapes are validated by the caller; the C side checks
    what memory needs, the scales' lengths included. q must be finite, unless q_limit is
    nonzero: then False (out unfinished) when a block of q has max |q| >= q_limit or is not
    finite, which the caller checks itself; else True."""
    cdef fa_dense_i8_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_i8(&p, q, q_block, k, k_scale, k_block, v, v_scale, out, mask, scale, band_lo,
                   band_hi)
    p.q_limit = q_limit
    cdef size_t per_thread = fa_dense_i8_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_dense_i8(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    if status == FA_ERR_RANGE and q_limit != 0:
        return False
    _check(status)
    return True


def i8_peak_loop(unsigned long long iters):
    """Runs the int8 multiply-accumulate peak loop; returns the number of MACs done."""
    cdef int32_t sink = 0
    cdef uint64_t macs
    with nogil:
        macs = fa_i8_peak_loop(iters, &sink)
    return macs


def i8_quantize(x, str kind, size_t block, bint smooth, data, scale, mean, size_t variant,
                size_t nthreads):
    """Quantises x (outer, len, d) C-contiguous float32 into data (outer, len, d) int8 and
    scale ((outer, nblocks) for keys, (outer, d) for values), and mean (outer, d) when
    smoothing keys, with quant-i8 variant `variant` (its index) on `nthreads` threads (one
    matrix each, or token ranges of fewer matrices). Raises ValueError when x is not finite."""
    cdef const float[:, :, ::1] xv = x
    cdef signed char[:, :, ::1] dv = data
    cdef float[:, ::1] sv = scale
    cdef float[:, ::1] mv
    cdef float *mp = NULL
    cdef size_t outer = xv.shape[0], length = xv.shape[1], d = xv.shape[2], mean_len = 0
    cdef size_t x_len = xv.shape[0] * xv.shape[1] * xv.shape[2]
    cdef size_t data_len = dv.shape[0] * dv.shape[1] * dv.shape[2]
    cdef size_t scale_len = sv.shape[0] * sv.shape[1]
    cdef fa_status status
    if x_len == 0 or data_len == 0 or scale_len == 0:
        raise ValueError("i8_quantize: an empty array")
    if mean is not None:
        mv = mean
        mp = &mv[0, 0]
        mean_len = mv.shape[0] * mv.shape[1]
    if kind == "key":
        with nogil:
            status = fa_i8_quantize_keys(&xv[0, 0, 0], x_len, outer, length, d, block, smooth,
                                         <int8_t *>&dv[0, 0, 0], data_len, &sv[0, 0], scale_len,
                                         mp, mean_len, variant, nthreads)
    else:
        with nogil:
            status = fa_i8_quantize_values(&xv[0, 0, 0], x_len, outer, length, d,
                                           <int8_t *>&dv[0, 0, 0], data_len, &sv[0, 0],
                                           scale_len, variant, nthreads)
    _check(status)
