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


cdef int32_t _NO_INDEX = 0


cdef int _fill_layout(fa_sparse_layout *l, size_t lq, size_t lk, size_t batch_heads, indptr,
                      indices, layout_of, size_t block_q, size_t block_k, q_global, k_global,
                      ptrdiff_t global_hi) except -1:
    """Points l at the layout arrays (which the caller keeps alive for the call); the C side
    validates every index."""
    cdef const int32_t[:, ::1] ptrv = indptr
    cdef const int32_t[::1] idxv = indices
    cdef const int32_t[::1] ofv = layout_of
    cdef const unsigned char[::1] qgv
    cdef const unsigned char[::1] kgv
    if <size_t>ofv.shape[0] != batch_heads:
        raise ValueError(f"layout_of has {ofv.shape[0]} entries for {batch_heads} "
                         "(batch, head) pairs")
    l.nlayouts = ptrv.shape[0]
    l.block_q = block_q
    l.block_k = block_k
    l.nqblocks = ptrv.shape[1] - 1 if ptrv.shape[1] > 0 else 0
    l.nkblocks = (lk + block_k - 1) // block_k if block_k > 0 else 0
    l.indptr = &ptrv[0, 0] if ptrv.shape[0] > 0 and ptrv.shape[1] > 0 else NULL
    l.nnz = idxv.shape[0]
    l.indices = &idxv[0] if idxv.shape[0] > 0 else &_NO_INDEX
    l.layout_of = &ofv[0]
    if q_global is not None:
        qgv = q_global
        if <size_t>qgv.shape[0] != lq:
            raise ValueError(f"q_global has {qgv.shape[0]} flags for {lq} queries")
        l.q_global = &qgv[0]
    if k_global is not None:
        kgv = k_global
        if <size_t>kgv.shape[0] != lk:
            raise ValueError(f"k_global has {kgv.shape[0]} flags for {lk} keys")
        l.k_global = &kgv[0]
    l.global_hi = global_hi
    return 0


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
    _fill_layout(&p.layout, p.attn.lq, p.attn.lk, p.attn.batch * p.attn.heads, indptr, indices,
                 layout_of, block_q, block_k, q_global, k_global, global_hi)
    cdef size_t per_thread = fa_sparse_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads)
    cdef fa_status status
    with nogil:
        status = fa_sparse_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
