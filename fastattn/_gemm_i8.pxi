# int8-weight GEMM bindings (included by _core.pyx).

OPS["gemm-i8"] = _op_table(fa_gemm_i8_variants, fa_gemm_i8_nvariants)
GEMM_I8_NR = FA_GEMM_I8_NR
GEMM_I8_KALIGN = FA_GEMM_I8_KALIGN
GEMM_I8_KMAX = FA_GEMM_I8_KMAX


def gemm_i8(x, xq, x_scale, x_sum, w, w_scale, bias, out, size_t n, size_t k, size_t variant,
            size_t nthreads):
    """out (m, n) = int8 GEMM of the rows of x (m, k) float32 with a contiguous last axis,
    quantised into xq (m, kp), x_scale (m,), x_sum (m,); x None: xq, x_scale, x_sum are
    inputs. w: packed int8 panels (C-contiguous), w_scale and bias: float32 of n rounded
    up to GEMM_I8_NR. out: float32 (m, n), last axis contiguous. The C side checks every
    length against the sizes."""
    cdef const float[:, :] xv
    cdef signed char[:, ::1] qv = xq
    cdef float[::1] sv = x_scale
    cdef int32_t[::1] mv = x_sum
    cdef const signed char[::1] wv = w.reshape(-1)
    cdef const float[::1] wsv = w_scale
    cdef const float[::1] bv = bias
    cdef float[:, :] ov = out
    cdef fa_gemm_i8_params p
    memset(&p, 0, sizeof(p))
    p.m, p.n, p.k, p.kp = qv.shape[0], n, k, qv.shape[1]
    if x is not None:
        xv = x
        _outer_strides(&p.x_stride, xv.shape, xv.strides, 2, 4, "x")
        p.x = &xv[0, 0] if not _empty(xv.shape, 2) else NULL
        p.x_len = _span(xv.shape, xv.strides, 2, 4)
    _outer_strides(&p.out_stride, ov.shape, ov.strides, 2, 4, "out")
    p.out = &ov[0, 0] if not _empty(ov.shape, 2) else NULL
    p.out_len = _span(ov.shape, ov.strides, 2, 4)
    p.xq = <int8_t *>&qv[0, 0] if not _empty(qv.shape, 2) else NULL
    p.xq_len = qv.shape[0] * qv.shape[1]
    p.x_scale = &sv[0] if sv.shape[0] else NULL
    p.x_scale_len = sv.shape[0]
    p.x_sum = &mv[0] if mv.shape[0] else NULL
    p.x_sum_len = mv.shape[0]
    p.w = <const int8_t *>&wv[0] if wv.shape[0] else NULL
    p.w_len = wv.shape[0]
    p.w_scale = &wsv[0] if wsv.shape[0] else NULL
    p.w_scale_len = wsv.shape[0]
    p.bias = &bv[0] if bv.shape[0] else NULL
    p.bias_len = bv.shape[0]
    cdef size_t per_thread = fa_gemm_i8_workspace_size()
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_gemm_i8(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
