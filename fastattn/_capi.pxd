# The C API of csrc/, declared once. Bindings live in _core.pyx.
from libc.stddef cimport ptrdiff_t


cdef extern from "fastattn/status.h" nogil:
    ctypedef enum fa_status:
        FA_OK
    const char *fa_status_text(fa_status status)


cdef extern from "fastattn/cpu.h" nogil:
    ctypedef enum fa_isa:
        FA_ISA_SCALAR
        FA_ISA_AVX2
        FA_ISA_NEON
        FA_ISA_NEONDOT
        FA_ISA_AVX512VNNI
        FA_ISA_COUNT
    int fa_cpu_has(fa_isa isa)
    int fa_isa_allowed(fa_isa isa, fa_isa cap)
    const char *fa_isa_name(fa_isa isa)


cdef extern from "fastattn/pool.h" nogil:
    enum: FA_MAX_THREADS


cdef extern from "fastattn/dense.h" nogil:
    ptrdiff_t FA_BAND_NONE

    ctypedef struct fa_dense_f32_params:
        const float *q
        const float *k
        const float *v
        float *out
        const float *mask
        size_t batch, heads, kv_heads, lq, lk, d, dv
        ptrdiff_t q_stride[3]
        ptrdiff_t k_stride[3]
        ptrdiff_t v_stride[3]
        ptrdiff_t out_stride[3]
        ptrdiff_t mask_stride[3]
        float scale
        ptrdiff_t band_lo, band_hi

    ctypedef struct fa_dense_f32_variant:
        const char *name
        fa_isa isa

    const fa_dense_f32_variant fa_dense_f32_variants[]
    const size_t fa_dense_f32_nvariants
    size_t fa_dense_f32_pick(fa_isa cap)
    size_t fa_dense_f32_workspace_size(const fa_dense_f32_params *p)
    fa_status fa_dense_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size)


from libc.stdint cimport int8_t, int32_t, uint64_t


cdef extern from "fastattn/sparse.h" nogil:
    ctypedef struct fa_sparse_layout:
        size_t nlayouts, block_q, block_k, nqblocks, nkblocks
        const int32_t *indptr
        const int32_t *indices
        size_t nnz
        const int32_t *layout_of
        const unsigned char *q_global
        const unsigned char *k_global
        ptrdiff_t global_hi

    ctypedef struct fa_sparse_f32_params:
        fa_dense_f32_params attn
        fa_sparse_layout layout

    ctypedef struct fa_sparse_f32_variant:
        const char *name
        fa_isa isa

    const fa_sparse_f32_variant fa_sparse_f32_variants[]
    const size_t fa_sparse_f32_nvariants
    size_t fa_sparse_f32_pick(fa_isa cap)
    size_t fa_sparse_f32_workspace_size(const fa_sparse_f32_params *p)
    fa_status fa_sparse_f32(const fa_sparse_f32_params *p, size_t index, size_t nthreads,
                            void *workspace, size_t workspace_size)


cdef extern from "fastattn/dense_i8.h" nogil:
    ctypedef struct fa_dense_i8_params:
        const float *q
        const int8_t *k
        const int8_t *v
        const float *k_scale
        const float *v_scale
        float *out
        const float *mask
        size_t batch, heads, kv_heads, lq, lk, d, dv, q_block, k_block
        ptrdiff_t q_stride[3]
        ptrdiff_t k_stride[3]
        ptrdiff_t v_stride[3]
        ptrdiff_t out_stride[3]
        ptrdiff_t mask_stride[3]
        ptrdiff_t k_scale_stride[2]
        ptrdiff_t v_scale_stride[2]
        float scale
        ptrdiff_t band_lo, band_hi

    ctypedef struct fa_dense_i8_variant:
        const char *name
        fa_isa isa

    const fa_dense_i8_variant fa_dense_i8_variants[]
    const size_t fa_dense_i8_nvariants
    size_t fa_dense_i8_pick(fa_isa cap)
    size_t fa_dense_i8_workspace_size(const fa_dense_i8_params *p)
    fa_status fa_dense_i8(const fa_dense_i8_params *p, size_t index, size_t nthreads,
                          void *workspace, size_t workspace_size)
    uint64_t fa_i8_peak_loop(uint64_t iters, int32_t *sink)


cdef extern from "fastattn/quant_i8.h" nogil:
    fa_status fa_i8_quantize_keys(const float *x, size_t outer, size_t len, size_t d,
                                  size_t block, int smooth, int8_t *data, float *scale,
                                  float *mean)
    fa_status fa_i8_quantize_values(const float *x, size_t outer, size_t len, size_t d,
                                    int8_t *data, float *scale)


cdef extern from "fastattn/sparse.h" nogil:
    ctypedef struct fa_sparse_i8_params:
        fa_dense_i8_params attn
        fa_sparse_layout layout

    ctypedef struct fa_sparse_i8_variant:
        const char *name
        fa_isa isa

    const fa_sparse_i8_variant fa_sparse_i8_variants[]
    const size_t fa_sparse_i8_nvariants
    size_t fa_sparse_i8_pick(fa_isa cap)
    size_t fa_sparse_i8_workspace_size(const fa_sparse_i8_params *p)
    fa_status fa_sparse_i8(const fa_sparse_i8_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size)


cdef extern from "fastattn/gemm_i8.h" nogil:
    enum: FA_GEMM_I8_NR
    enum: FA_GEMM_I8_KALIGN
    enum: FA_GEMM_I8_KMAX

    ctypedef struct fa_gemm_i8_params:
        const float *x
        int8_t *xq
        float *x_scale
        int32_t *x_sum
        const int8_t *w
        const float *w_scale
        const float *bias
        float *out
        size_t m, n, k, kp
        ptrdiff_t x_stride, out_stride

    ctypedef struct fa_gemm_i8_variant:
        const char *name
        fa_isa isa

    const fa_gemm_i8_variant fa_gemm_i8_variants[]
    const size_t fa_gemm_i8_nvariants
    size_t fa_gemm_i8_pick(fa_isa cap)
    fa_status fa_gemm_i8(const fa_gemm_i8_params *p, size_t index, size_t nthreads)
