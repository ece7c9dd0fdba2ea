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


def block_means(x, size_t block, out):
    """out (B, H, ceil(L / block), D) float64, C-contiguous: the means of every block of rows
    of x, a 4-d float32 array with a contiguous last axis (the router's block summaries)."""
    cdef const float[:, :, :, :] xv = x
    cdef double[:, :, :, ::1] ov = out
    cdef size_t n[4]
    cdef ptrdiff_t s[3]
    cdef size_t length
    cdef const float *ptr = _f32_4d(xv, s, &length, "x")
    cdef int i
    for i in range(4):
        n[i] = xv.shape[i]
    if ov.shape[0] != n[0] or ov.shape[1] != n[1] or ov.shape[3] != n[3] or (
            block > 0 and ov.shape[2] != (n[2] + block - 1) // block):
        raise ValueError(f"out has shape {out.shape}, not (B, H, ceil(L / block), D) of x "
                         f"{x.shape} with block {block}")
    cdef size_t out_len = out.size
    cdef double *optr = &ov[0, 0, 0, 0] if out_len > 0 else NULL
    cdef fa_status status
    with nogil:
        status = fa_block_means_f32(ptr, length, n, s, block, optr, out_len)
    _check(status)


def route_select(scores, nvisible, diag, budget, size_t local_blocks, size_t sink_blocks,
                 indptr, indices, scratch):
    """The router's choice (sparse/route.c) written into indptr, an int32 (G, nq + 1) array,
    and indices, int32 (capacity,); returns the number of indices used. scores: C-contiguous
    float64 (G, nq, nk); nvisible (visible key blocks, a prefix), diag (the diagonal key
    block), budget (blocks to keep): int64 (nq,); scratch: float64 (at least 2 nk,)."""
    cdef const double[:, :, ::1] sv = scores
    cdef const int64_t[::1] visv = nvisible
    cdef const int64_t[::1] diagv = diag
    cdef const int64_t[::1] budv = budget
    cdef int32_t[:, ::1] pv = indptr
    cdef int32_t[::1] iv = indices
    cdef double[::1] wv = scratch
    cdef size_t groups = sv.shape[0], nq = sv.shape[1], nk = sv.shape[2]
    if visv.shape[0] != nq or diagv.shape[0] != nq or budv.shape[0] != nq:
        raise ValueError(f"nvisible, diag and budget must have {nq} entries")
    if pv.shape[0] != groups or pv.shape[1] != nq + 1:
        raise ValueError(f"indptr has shape {indptr.shape}, not ({groups}, {nq + 1})")
    cdef size_t nnz = 0
    cdef fa_status status
    with nogil:
        status = fa_route_select(&sv[0, 0, 0] if groups * nq * nk > 0 else NULL,
                                 groups * nq * nk, groups, nq, nk,
                                 &visv[0] if nq > 0 else NULL, &diagv[0] if nq > 0 else NULL,
                                 &budv[0] if nq > 0 else NULL, local_blocks, sink_blocks,
                                 &pv[0, 0] if groups > 0 else NULL, groups * (nq + 1),
                                 &iv[0] if iv.shape[0] > 0 else NULL, iv.shape[0],
                                 &wv[0] if wv.shape[0] > 0 else NULL, wv.shape[0], &nnz)
    _check(status)
    return nnz


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
