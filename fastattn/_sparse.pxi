# Block-sparse float32 attention bindings (included by _core.pyx).

OPS["sparse-f32"] = _op_table(fa_sparse_f32_variants, fa_sparse_f32_nvariants)

cdef int32_t _NO_INDEX = 0


cdef int _fill_layout(fa_sparse_layout *l, size_t lk, indptr, indices, layout_of,
                      size_t block_q, size_t block_k, q_global, k_global,
                      ptrdiff_t global_hi) except -1:
    """Points l at the layout arrays (which the caller keeps alive for the call), with their
    lengths; the C side checks every length and index."""
    cdef const int32_t[:, ::1] ptrv = indptr
    cdef const int32_t[::1] idxv = indices
    cdef const int32_t[::1] ofv = layout_of
    cdef const unsigned char[::1] qgv
    cdef const unsigned char[::1] kgv
    l.nlayouts = ptrv.shape[0]
    l.block_q, l.block_k = block_q, block_k
    l.nqblocks = ptrv.shape[1] - 1 if ptrv.shape[1] > 0 else 0
    l.nkblocks = (lk + block_k - 1) // block_k if block_k > 0 else 0
    l.indptr_len = ptrv.shape[0] * ptrv.shape[1]
    l.indptr = &ptrv[0, 0] if l.indptr_len > 0 else NULL
    l.nnz = idxv.shape[0]
    l.indices = &idxv[0] if idxv.shape[0] > 0 else &_NO_INDEX
    l.layout_of_len = ofv.shape[0]
    l.layout_of = &ofv[0] if ofv.shape[0] > 0 else NULL
    if q_global is not None:
        qgv = q_global
        l.q_global_len = qgv.shape[0]
        l.q_global = &qgv[0] if qgv.shape[0] > 0 else &_EMPTY_FLAGS[0]
    if k_global is not None:
        kgv = k_global
        l.k_global_len = kgv.shape[0]
        l.k_global = &kgv[0] if kgv.shape[0] > 0 else &_EMPTY_FLAGS[0]
    l.global_hi = global_hi
    return 0


cdef unsigned char _EMPTY_FLAGS[1]


def sparse_f32(q, k, v, out, mask, float scale, ptrdiff_t band_lo, ptrdiff_t band_hi,
               indptr, indices, layout_of, size_t block_q, size_t block_k,
               q_global, k_global, ptrdiff_t global_hi, size_t variant, size_t nthreads):
    """Block-sparse attention over 4-d float32 arrays (as dense_f32). indptr is an int32
    (nlayouts, nqblocks + 1) array, indices int32 (nnz,), layout_of int32 (batch * heads,),
    q_global / k_global uint8 (lq,) / (lk,) or None. The C side validates every index."""
    cdef fa_sparse_f32_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_f32(&p.attn, q, k, v, out, mask, scale, band_lo, band_hi)
    _fill_layout(&p.layout, p.attn.lk, indptr, indices, layout_of, block_q, block_k,
                 q_global, k_global, global_hi)
    cdef size_t per_thread = fa_sparse_f32_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_sparse_f32(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    _check(status)
