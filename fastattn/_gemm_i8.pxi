# int8-weight GEMM bindings (included by _core.pyx).

GEMM_I8_NR = FA_GEMM_I8_NR
GEMM_I8_KALIGN = FA_GEMM_I8_KALIGN
GEMM_I8_KMAX = FA_GEMM_I8_KMAX


def gemm_i8_variants():
    """[(name, isa, runs_here)] for every compiled int8 GEMM kernel, best first."""
    return [(fa_gemm_i8_variants[i].name.decode(), ISA_NAMES[<int>fa_gemm_i8_variants[i].isa],
             bool(fa_cpu_has(fa_gemm_i8_variants[i].isa)))
            for i in range(fa_gemm_i8_nvariants)]


def gemm_i8_pick(str cap):
    """Index of the int8 GEMM variant dispatch picks under the ISA cap."""
    return fa_gemm_i8_pick(_isa_from_name(cap))


def gemm_i8(x, xq, x_scale, x_sum, w, w_scale, bias, out, size_t n, size_t k, size_t variant,
            size_t nthreads):
    """out (m, n) = int8 GEMM of the rows of x (m, k) float32 with a contiguous last axis,
    quantised into xq (m, kp), x_scale (m,), x_sum (m,); x None: xq, x_scale, x_sum are
    inputs. w: packed int8 panels (C-contiguous), w_scale and bias: float32 of n rounded
    up to GEMM_I8_NR. out: float32 (m, n), last axis contiguous."""
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
    if out.size == 0:
        return
    if x is not None:
        xv = x
        if xv.shape[1] > 1 and xv.strides[1] != 4:
            raise ValueError("x: the last axis must be contiguous float32")
        p.x = &xv[0, 0]
        p.x_stride = xv.strides[0] // 4
    if ov.shape[1] > 1 and ov.strides[1] != 4:
        raise ValueError("out: the last axis must be contiguous float32")
    p.xq = <int8_t *>&qv[0, 0]
    p.x_scale = &sv[0]
    p.x_sum = &mv[0]
    p.w = <const int8_t *>&wv[0]
    p.w_scale = &wsv[0]
    p.bias = &bv[0]
    p.out = &ov[0, 0]
    p.m, p.n, p.k, p.kp = qv.shape[0], n, k, qv.shape[1]
    p.out_stride = ov.strides[0] // 4
    cdef size_t panels = (n + FA_GEMM_I8_NR - 1) // FA_GEMM_I8_NR
    if (wv.shape[0] != panels * p.kp * FA_GEMM_I8_NR or wsv.shape[0] < panels * FA_GEMM_I8_NR
            or bv.shape[0] < panels * FA_GEMM_I8_NR or ov.shape[0] != qv.shape[0]
            or ov.shape[1] != n or sv.shape[0] != qv.shape[0] or mv.shape[0] != qv.shape[0]
            or (x is not None and (xv.shape[0] != qv.shape[0] or xv.shape[1] != k))):
        raise ValueError("gemm_i8: inconsistent array sizes")
    cdef fa_status status
    with nogil:
        status = fa_gemm_i8(&p, variant, nthreads)
    _check(status)
