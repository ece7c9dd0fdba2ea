# Dense int8 attention bindings (included by _core.pyx).


def dense_i8_variants():
    """[(name, isa, runs_here)] for every compiled dense int8 kernel, best first."""
    return [(fa_dense_i8_variants[i].name.decode(), ISA_NAMES[<int>fa_dense_i8_variants[i].isa],
             bool(fa_cpu_has(fa_dense_i8_variants[i].isa)))
            for i in range(fa_dense_i8_nvariants)]


def dense_i8_pick(str cap):
    """Index of the dense int8 variant dispatch picks under the ISA cap."""
    return fa_dense_i8_pick(_isa_from_name(cap))


cdef int _strides_i8(ptrdiff_t *dst, x, str name) except -1:
    """Element (= byte) strides of the three outer axes of a 4-d int8 array."""
    if x.shape[3] > 1 and x.strides[3] != 1:
        raise ValueError(f"{name}: the last axis must be contiguous int8")
    dst[0], dst[1], dst[2] = x.strides[0], x.strides[1], x.strides[2]
    return 0


cdef int _strides_scale(ptrdiff_t *dst, x, str name) except -1:
    """Element strides of the batch and head axes of a 3-d float32 scale array."""
    if x.shape[2] > 1 and x.strides[2] != 4:
        raise ValueError(f"{name}: the last axis must be contiguous float32")
    dst[0] = x.strides[0] // 4
    dst[1] = x.strides[1] // 4
    return 0


cdef int _fill_dense_i8(fa_dense_i8_params *p, q, size_t q_block, k, k_scale, size_t k_block,
                        v, v_scale, out, mask, float scale, ptrdiff_t band_lo,
                        ptrdiff_t band_hi) except -1:
    """Points p at the arrays (which the caller keeps alive for the call)."""
    cdef const float[:, :, :, :] qv = q
    cdef const signed char[:, :, :, :] kv = k
    cdef const signed char[:, :, :, :] vv = v
    cdef const float[:, :, :] ksv = k_scale
    cdef const float[:, :, :] vsv = v_scale
    cdef float[:, :, :, :] ov = out
    cdef const float[:, :, :, :] mv
    p.q = &qv[0, 0, 0, 0]
    p.k = <const int8_t *>&kv[0, 0, 0, 0]
    p.v = <const int8_t *>&vv[0, 0, 0, 0]
    p.k_scale = &ksv[0, 0, 0]
    p.v_scale = &vsv[0, 0, 0]
    p.out = &ov[0, 0, 0, 0]
    p.batch, p.heads, p.lq, p.dv = ov.shape[0], ov.shape[1], ov.shape[2], ov.shape[3]
    p.kv_heads, p.lk, p.d = kv.shape[1], kv.shape[2], kv.shape[3]
    p.q_block, p.k_block = q_block, k_block
    _strides3(p.q_stride, q, "q")
    _strides_i8(p.k_stride, k, "k")
    _strides_i8(p.v_stride, v, "v")
    _strides3(p.out_stride, out, "out")
    _strides_scale(p.k_scale_stride, k_scale, "k_scale")
    _strides_scale(p.v_scale_stride, v_scale, "v_scale")
    if mask is not None:
        mv = mask
        p.mask = &mv[0, 0, 0, 0]
        _strides3(p.mask_stride, mask, "mask")
    p.scale = scale
    p.band_lo = band_lo
    p.band_hi = band_hi
    return 0


def dense_i8(q, size_t q_block, k, k_scale, size_t k_block, v, v_scale, out, mask,
             float scale, ptrdiff_t band_lo, ptrdiff_t band_hi, size_t variant, size_t nthreads):
    """out[b,h] = int8 attention of q[b,h], k[b,h'], v[b,h']: q a 4-d finite float32 array
    (quantised inside per block of q_block rows), k and v 4-d int8 arrays whose last axis is
    contiguous (other axes any strides, 0 broadcasts), 3-d float32 scales (last axis
    contiguous), 4-d float32 out, mask as for dense_f32. Shapes are validated by the caller;
    the C side checks them again."""
    cdef fa_dense_i8_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0 or k.size == 0:
        return
    _fill_dense_i8(&p, q, q_block, k, k_scale, k_block, v, v_scale, out, mask, scale, band_lo,
                   band_hi)
    cdef size_t per_thread = fa_dense_i8_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_dense_i8(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)


def i8_peak_loop(unsigned long long iters):
    """Runs the int8 multiply-accumulate peak loop; returns the number of MACs done."""
    cdef int32_t sink = 0
    cdef uint64_t macs
    with nogil:
        macs = fa_i8_peak_loop(iters, &sink)
    return macs


def i8_quantize(x, str kind, size_t block, bint smooth, data, scale, mean):
    """Quantises x (outer, len, d) C-contiguous float32 into data (outer, len, d) int8 and
    scale ((outer, nblocks) for keys, (outer, d) for values), and mean (outer, d) when
    smoothing keys. Raises ValueError when x is not finite."""
    cdef const float[:, :, ::1] xv = x
    cdef signed char[:, :, ::1] dv = data
    cdef float[:, ::1] sv = scale
    cdef float[:, ::1] mv
    cdef float *mp = NULL
    cdef size_t outer = xv.shape[0], length = xv.shape[1], d = xv.shape[2]
    cdef fa_status status
    if mean is not None:
        mv = mean
        mp = &mv[0, 0]
    if kind == "key":
        with nogil:
            status = fa_i8_quantize_keys(&xv[0, 0, 0], outer, length, d, block, smooth,
                                         <int8_t *>&dv[0, 0, 0], &sv[0, 0], mp)
    else:
        with nogil:
            status = fa_i8_quantize_values(&xv[0, 0, 0], outer, length, d,
                                           <int8_t *>&dv[0, 0, 0], &sv[0, 0])
    _check(status)
