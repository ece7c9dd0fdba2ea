# Block-sparse int8 attention bindings (included by _core.pyx, after _sparse.pxi and
# _dense_i8.pxi, whose helpers fill the layout and the int8 arguments).

OPS["sparse-i8"] = _op_table(fa_sparse_i8_variants, fa_sparse_i8_nvariants)


def sparse_i8(q, size_t q_block, k, k_scale, size_t k_block, v, v_scale, out, mask,
              float scale, ptrdiff_t band_lo, ptrdiff_t band_hi, indptr, indices, layout_of,
              size_t block_q, size_t block_k, q_global, k_global, ptrdiff_t global_hi,
              size_t variant, size_t nthreads, float q_limit=0.0):
    """Block-sparse int8 attention: the arrays of dense_i8 plus the layout of sparse_f32.
    The C side validates every index. q_limit and the result (False: q refused, out
    unfinished) as in dense_i8."""
    cdef fa_sparse_i8_params p
    memset(&p, 0, sizeof(p))
    _fill_dense_i8(&p.attn, q, q_block, k, k_scale, k_block, v, v_scale, out, mask, scale,
                   band_lo, band_hi)
    _fill_layout(&p.layout, p.attn.lk, indptr, indices, layout_of, block_q, block_k,
                 q_global, k_global, global_hi)
    p.attn.q_limit = q_limit
    cdef size_t per_thread = fa_sparse_i8_workspace_size(&p)
    cdef unsigned char[::1] ws = bytearray(per_thread * nthreads + 1)
    cdef fa_status status
    with nogil:
        status = fa_sparse_i8(&p, variant, nthreads, &ws[0], per_thread * nthreads)
    if status == FA_ERR_RANGE and q_limit != 0:
        return False
    _check(status)
    return True
