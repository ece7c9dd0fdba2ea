# Low-rank attention bindings: linear, Performer, Linformer, and the float32 peak loop
# (included by _core.pyx).

OPS["linear-f32"] = _op_table(fa_linear_f32_variants, fa_linear_f32_nvariants)
OPS["performer-f32"] = _op_table(fa_performer_f32_variants, fa_performer_f32_nvariants)
OPS["linformer-f32"] = _op_table(fa_linformer_f32_variants, fa_linformer_f32_nvariants)
LOWRANK_CHUNK = FA_LOWRANK_CHUNK
LINFORMER_KC = FA_LINFORMER_KC
LOWRANK_PAD_ROWS = FA_LOWRANK_PAD_ROWS


def f32_peak_loop(unsigned long long iters, str isa=None):
    """Runs the float32 FMA peak loop of `isa` (None: the best this CPU runs); returns the
    floating-point operations done, 0 when `isa` has no such loop or this CPU lacks it."""
    cdef float sink = 0
    cdef uint64_t flops
    cdef fa_isa which = _isa_from_name(isa)
    with nogil:
        if isa is None:
            flops = fa_f32_peak_loop(iters, &sink)
        else:
            flops = fa_f32_peak_loop_isa(which, iters, &sink)
    return flops


cdef const float *_f32_rows(const float[:, ::1] x, ptrdiff_t *row_stride,
                            size_t *length) except? NULL:
    """A 2-d float32 matrix with contiguous rows: its first element, row stride, length."""
    row_stride[0] = x.strides[0] // 4
    length[0] = _span(x.shape, x.strides, 2, 4)
    if _empty(x.shape, 2):
        return NULL
    return &x[0, 0]


def linear_f32_gemm(const float[::1] kft, const float[::1] v, const float[::1] qf,
                    float[::1] s, float[::1] num, size_t d, size_t dv, size_t lk, size_t lq,
                    size_t variant):
    """The GEMM parts of one head of linear attention alone (fa_linear_f32_gemm in
    fastattn/linear.h: its layouts, padding rows and sizes), on the calling thread: s gets
    the state phi(K)ᵀ V, num the readout phi(Q) S."""
    cdef fa_linear_f32_gemm_params p
    memset(&p, 0, sizeof(p))
    p.d, p.dv, p.lk, p.lq = d, dv, lk, lq
    p.kft, p.kft_len = &kft[0], kft.shape[0]
    p.v, p.v_len = &v[0], v.shape[0]
    p.qf, p.qf_len = &qf[0], qf.shape[0]
    p.s, p.s_len = &s[0], s.shape[0]
    p.num, p.num_len = &num[0], num.shape[0]
    cdef size_t size = fa_linear_f32_gemm_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(size)
    cdef fa_status status
    with nogil:
        status = fa_linear_f32_gemm(&p, variant, &ws[0], size)
    _check(status)


def performer_f32_gemm(const float[::1] w, const float[::1] kct, const float[::1] v,
                       const float[::1] q, float[::1] s, float[::1] num, size_t d, size_t dv,
                       size_t m, size_t lk, size_t lq, size_t variant):
    """The GEMM parts of one head of Performer alone (fa_performer_f32_gemm in
    fastattn/performer.h: its layouts, padding rows and sizes), on the calling thread."""
    cdef fa_performer_f32_gemm_params p
    memset(&p, 0, sizeof(p))
    p.d, p.dv, p.m, p.lk, p.lq = d, dv, m, lk, lq
    p.w, p.w_len = &w[0], w.shape[0]
    p.kct, p.kct_len = &kct[0], kct.shape[0]
    p.v, p.v_len = &v[0], v.shape[0]
    p.q, p.q_len = &q[0], q.shape[0]
    p.s, p.s_len = &s[0], s.shape[0]
    p.num, p.num_len = &num[0], num.shape[0]
    cdef size_t size = fa_performer_f32_gemm_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(size)
    cdef fa_status status
    with nogil:
        status = fa_performer_f32_gemm(&p, variant, &ws[0], size)
    _check(status)


def linformer_f32_gemm(const float[::1] e, const float[::1] kb, const float[::1] vb,
                       const float[::1] q, float[::1] kp, float[::1] vp, float[::1] out,
                       size_t d, size_t dv, size_t r, size_t lk, size_t lq, size_t variant):
    """The GEMM parts of one head of Linformer alone (fa_linformer_f32_gemm in
    fastattn/linformer.h: its layouts, padding rows and sizes), on the calling thread."""
    cdef fa_linformer_f32_gemm_params p
    memset(&p, 0, sizeof(p))
    p.d, p.dv, p.r, p.lk, p.lq = d, dv, r, lk, lq
    p.e, p.e_len = &e[0], e.shape[0]
    p.kb, p.kb_len = &kb[0], kb.shape[0]
    p.vb, p.vb_len = &vb[0], vb.shape[0]
    p.q, p.q_len = &q[0], q.shape[0]
    p.kp, p.kp_len = &kp[0], kp.shape[0]
    p.vp, p.vp_len = &vp[0], vp.shape[0]
    p.out, p.out_len = &out[0], out.shape[0]
    cdef size_t size = fa_linformer_f32_gemm_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(size)
    cdef fa_status status
    with nogil:
        status = fa_linformer_f32_gemm(&p, variant, &ws[0], size)
    _check(status)


def linear_f32(q, k, v, out, int feature_map, ptrdiff_t band_hi, size_t variant,
               size_t nthreads):
    """Linear attention over 4-d float32 arrays (as dense_f32); feature_map 0 = elu+1,
    1 = relu; band_hi: key j visible to query i iff j - i <= band_hi."""
    cdef fa_linear_f32_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_f32(&p.attn, q, k, v, out, None, 1.0, -FA_BAND_NONE, band_hi)
    p.feature_map = <fa_feature_map>feature_map
    cdef size_t per_thread = fa_linear_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_linear_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)


def performer_f32(q, k, v, out, features, float scale, ptrdiff_t band_hi, size_t variant,
                  size_t nthreads):
    """FAVOR+ attention over 4-d float32 arrays; features is an (m, d) float32 matrix with
    contiguous rows."""
    cdef fa_performer_f32_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_f32(&p.attn, q, k, v, out, None, scale, -FA_BAND_NONE, band_hi)
    p.features = _f32_rows(features, &p.features_rs, &p.features_len)
    p.m = features.shape[0]
    cdef size_t per_thread = fa_performer_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_performer_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)


def linformer_f32(q, k, v, out, proj_k, proj_v, float scale, size_t variant, size_t nthreads):
    """Linformer attention over 4-d float32 arrays; proj_k / proj_v are (r, lk) float32
    matrices with contiguous rows (proj_v may be proj_k)."""
    cdef fa_linformer_f32_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_f32(&p.attn, q, k, v, out, None, scale, -FA_BAND_NONE, FA_BAND_NONE)
    p.proj_k = _f32_rows(proj_k, &p.proj_k_rs, &p.proj_k_len)
    p.proj_v = _f32_rows(proj_v, &p.proj_v_rs, &p.proj_v_len)
    p.r = proj_k.shape[0]
    cdef size_t per_thread = fa_linformer_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_linformer_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
