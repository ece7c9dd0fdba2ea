# Low-rank attention bindings: linear, Performer, Linformer (included by _core.pyx).

LOWRANK_CHUNK = FA_LOWRANK_CHUNK
LINFORMER_KC = FA_LINFORMER_KC


def linear_f32_variants():
    """[(name, isa, runs_here)] for every compiled linear-attention kernel, best first."""
    return [(fa_linear_f32_variants[i].name.decode(),
             ISA_NAMES[<int>fa_linear_f32_variants[i].isa],
             bool(fa_cpu_has(fa_linear_f32_variants[i].isa)))
            for i in range(fa_linear_f32_nvariants)]


def linear_f32_pick(str cap):
    return fa_linear_f32_pick(_isa_from_name(cap))


def performer_f32_variants():
    """[(name, isa, runs_here)] for every compiled Performer kernel, best first."""
    return [(fa_performer_f32_variants[i].name.decode(),
             ISA_NAMES[<int>fa_performer_f32_variants[i].isa],
             bool(fa_cpu_has(fa_performer_f32_variants[i].isa)))
            for i in range(fa_performer_f32_nvariants)]


def performer_f32_pick(str cap):
    return fa_performer_f32_pick(_isa_from_name(cap))


def linformer_f32_variants():
    """[(name, isa, runs_here)] for every compiled Linformer kernel, best first."""
    return [(fa_linformer_f32_variants[i].name.decode(),
             ISA_NAMES[<int>fa_linformer_f32_variants[i].isa],
             bool(fa_cpu_has(fa_linformer_f32_variants[i].isa)))
            for i in range(fa_linformer_f32_nvariants)]


def linformer_f32_pick(str cap):
    return fa_linformer_f32_pick(_isa_from_name(cap))


def f32_peak_loop(unsigned long long iters):
    """Runs the float32 FMA peak loop; returns the floating-point operations done."""
    cdef float sink = 0
    cdef unsigned long long flops
    with nogil:
        flops = fa_f32_peak_loop(iters, &sink)
    return flops


cdef int _fill_attn(fa_dense_f32_params *a, q, k, v, out, float scale,
                    ptrdiff_t band_hi) except -1:
    """The shared attention fields from 4-d float32 arrays (contiguous last axis)."""
    cdef const float[:, :, :, :] qv = q
    cdef const float[:, :, :, :] kv = k
    cdef const float[:, :, :, :] vv = v
    cdef float[:, :, :, :] ov = out
    a.q = &qv[0, 0, 0, 0]
    a.k = &kv[0, 0, 0, 0]
    a.v = &vv[0, 0, 0, 0]
    a.out = &ov[0, 0, 0, 0]
    a.batch, a.heads, a.lq, a.dv = ov.shape[0], ov.shape[1], ov.shape[2], ov.shape[3]
    a.kv_heads, a.lk, a.d = kv.shape[1], kv.shape[2], kv.shape[3]
    _strides3(a.q_stride, q, "q")
    _strides3(a.k_stride, k, "k")
    _strides3(a.v_stride, v, "v")
    _strides3(a.out_stride, out, "out")
    a.scale = scale
    a.band_lo = -FA_BAND_NONE
    a.band_hi = band_hi
    return 0


def linear_f32(q, k, v, out, int feature_map, ptrdiff_t band_hi, size_t variant,
               size_t nthreads):
    """Linear attention over 4-d float32 arrays (as dense_f32); feature_map 0 = elu+1,
    1 = relu; band_hi: key j visible to query i iff j - i <= band_hi."""
    cdef fa_linear_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    _fill_attn(&p.attn, q, k, v, out, 1.0, band_hi)
    p.feature_map = <fa_feature_map>feature_map
    cdef size_t per_thread = fa_linear_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_linear_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)


def performer_f32(q, k, v, out, features, float scale, ptrdiff_t band_hi, size_t variant,
                  size_t nthreads):
    """FAVOR+ attention over 4-d float32 arrays; features is an (m, d) float32 array with a
    contiguous last axis."""
    cdef const float[:, ::1] wv = features
    cdef fa_performer_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    _fill_attn(&p.attn, q, k, v, out, scale, band_hi)
    p.features = &wv[0, 0]
    p.features_rs = wv.strides[0] // 4
    p.m = wv.shape[0]
    if <size_t>wv.shape[1] != p.attn.d:
        raise ValueError(f"features have {wv.shape[1]} columns for d = {p.attn.d}")
    cdef size_t per_thread = fa_performer_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_performer_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)


def linformer_f32(q, k, v, out, proj_k, proj_v, float scale, size_t variant, size_t nthreads):
    """Linformer attention over 4-d float32 arrays; proj_k / proj_v are (r, lk) float32
    arrays with a contiguous last axis (proj_v may be proj_k)."""
    cdef const float[:, ::1] ev = proj_k
    cdef const float[:, ::1] fv = proj_v
    cdef fa_linformer_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0:
        return
    _fill_attn(&p.attn, q, k, v, out, scale, FA_BAND_NONE)
    if (<size_t>ev.shape[1] != p.attn.lk or <size_t>fv.shape[1] != p.attn.lk
            or fv.shape[0] != ev.shape[0]):
        raise ValueError(f"projections {tuple(proj_k.shape)} / {tuple(proj_v.shape)} do not "
                         f"match lk = {p.attn.lk}")
    p.proj_k = &ev[0, 0]
    p.proj_v = &fv[0, 0]
    p.proj_k_rs = ev.strides[0] // 4
    p.proj_v_rs = fv.strides[0] // 4
    p.r = ev.shape[0]
    cdef size_t per_thread = fa_linformer_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_linformer_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
