# Block-sparse attention bindings (included by _core.pyx).


def sparse_f32_variants():
    """[(name, isa, runs_here)] for every compiled sparse float32 kernel, best first."""
    return [(fa_sparse_f32_variants[i].name.decode(),
             ISA_NAMES[<int>fa_sparse_f32_variants[i].isa],
             bool(fa_cpu_has(fa_sparse_f32_variants[i].isa)))
            for i in range(fa_sparse_f32_nvariants)]


def sparse_f32_pick(str cap):
    """Index of the sparse float32 variant dispatch picks under the ISA cap."""
    return fa_sparse_f32_pick(_isa_from_name(cap))


def sparse_f32(q, k, v, out, mask, float scale, ptrdiff_t band_lo, ptrdiff_t band_hi,
               indptr, indices, layout_of, size_t block_q, size_t block_k,
               q_global, k_global, ptrdiff_t global_hi, size_t variant, size_t nthreads):
    """Block-sparse attention over 4-d float32 arrays (as dense_f32). indptr is an int32
    (nlayouts, nqblocks + 1) array, indices int32 (nnz,), layout_of int32 (batch * heads,),
    q_global / k_global uint8 (lq,) / (lk,) or None. The C side validates every index."""
    cdef const float[:, :, :, :] qv = q
    cdef const float[:, :, :, :] kv = k
    cdef const float[:, :, :, :] vv = v
    cdef float[:, :, :, :] ov = out
    cdef const float[:, :, :, :] mv
    cdef const int32_t[:, ::1] ptrv = indptr
    cdef const int32_t[::1] idxv = indices
    cdef const int32_t[::1] ofv = layout_of
    cdef const unsigned char[::1] qgv
    cdef const unsigned char[::1] kgv
    cdef int32_t no_index = 0
    cdef fa_sparse_f32_params p
    memset(&p, 0, sizeof(p))
    if out.size == 0 or k.size == 0:
        return
    p.attn.q = &qv[0, 0, 0, 0]
    p.attn.k = &kv[0, 0, 0, 0]
    p.attn.v = &vv[0, 0, 0, 0]
    p.attn.out = &ov[0, 0, 0, 0]
    p.attn.batch, p.attn.heads, p.attn.lq, p.attn.dv = ov.shape[0], ov.shape[1], ov.shape[2], ov.shape[3]
    p.attn.kv_heads, p.attn.lk, p.attn.d = kv.shape[1], kv.shape[2], kv.shape[3]
    _strides3(p.attn.q_stride, q, "q")
    _strides3(p.attn.k_stride, k, "k")
    _strides3(p.attn.v_stride, v, "v")
    _strides3(p.attn.out_stride, out, "out")
    if mask is not None:
        mv = mask
        p.attn.mask = &mv[0, 0, 0, 0]
        _strides3(p.attn.mask_stride, mask, "mask")
    p.attn.scale = scale
    p.attn.band_lo = band_lo
    p.attn.band_hi = band_hi
    if ofv.shape[0] != ov.shape[0] * ov.shape[1]:
        raise ValueError(f"layout_of has {ofv.shape[0]} entries for {ov.shape[0] * ov.shape[1]} "
                         "(batch, head) pairs")
    p.layout.nlayouts = ptrv.shape[0]
    p.layout.block_q = block_q
    p.layout.block_k = block_k
    p.layout.nqblocks = ptrv.shape[1] - 1 if ptrv.shape[1] > 0 else 0
    p.layout.nkblocks = (p.attn.lk + block_k - 1) // block_k if block_k > 0 else 0
    p.layout.indptr = &ptrv[0, 0] if ptrv.shape[0] > 0 and ptrv.shape[1] > 0 else NULL
    p.layout.nnz = idxv.shape[0]
    p.layout.indices = &idxv[0] if idxv.shape[0] > 0 else &no_index
    p.layout.layout_of = &ofv[0]
    if q_global is not None:
        qgv = q_global
        if <size_t>qgv.shape[0] != p.attn.lq:
            raise ValueError(f"q_global has {qgv.shape[0]} flags for {p.attn.lq} queries")
        p.layout.q_global = &qgv[0]
    if k_global is not None:
        kgv = k_global
        if <size_t>kgv.shape[0] != p.attn.lk:
            raise ValueError(f"k_global has {kgv.shape[0]} flags for {p.attn.lk} keys")
        p.layout.k_global = &kgv[0]
    p.layout.global_hi = global_hi
    cdef size_t per_thread = fa_sparse_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_sparse_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
