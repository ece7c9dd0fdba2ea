# The C API of csrc/, declared once. Bindings live in _core.pyx and its .pxi files.
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t


cdef extern from "fastattn/status.h" nogil:
    ctypedef enum fa_status:
        FA_OK
        FA_ERR_NONFINITE
        FA_ERR_RANGE
        FA_STATUS_COUNT
    const char *fa_status_name(fa_status status)
    const char *fa_status_text(fa_status status)


cdef extern from "fastattn/cpu.h" nogil:
    ctypedef enum fa_isa:
        FA_ISA_COUNT
    int fa_cpu_has(fa_isa isa)
    int fa_isa_allowed(fa_isa isa, fa_isa cap)
    const char *fa_isa_name(fa_isa isa)
    int fa_isa_rank(fa_isa isa)
    const char *fa_isa_arch(fa_isa isa)
    fa_isa fa_isa_from_name(const char *name)


cdef extern from "fastattn/tiles.h" nogil:
    enum:
        FA_F32_MQ
        FA_F32_NK
        FA_I8_MQ
        FA_I8_MB
        FA_I8_NK


cdef extern from "fastattn/variant.h" nogil:
    ctypedef struct fa_variant:
        const char *name
        fa_isa isa
    size_t fa_variant_pick(const fa_variant *table, size_t n, fa_isa cap)


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
        size_t q_len, k_len, v_len, out_len, mask_len
        size_t batch, heads, kv_heads, lq, lk, d, dv
        ptrdiff_t q_stride[3]
        ptrdiff_t k_stride[3]
        ptrdiff_t v_stride[3]
        ptrdiff_t out_stride[3]
        ptrdiff_t mask_stride[3]
        float scale
        ptrdiff_t band_lo, band_hi

    const fa_variant fa_dense_f32_variants[]
    const size_t fa_dense_f32_nvariants
    size_t fa_dense_f32_workspace_size(const fa_dense_f32_params *p)
    fa_status fa_dense_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
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
        size_t q_len, k_len, v_len, k_scale_len, v_scale_len, out_len, mask_len
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
        float q_limit

    const fa_variant fa_dense_i8_variants[]
    const size_t fa_dense_i8_nvariants
    size_t fa_dense_i8_workspace_size(const fa_dense_i8_params *p)
    fa_status fa_dense_i8(const fa_dense_i8_params *p, size_t index, size_t nthreads,
                          void *workspace, size_t workspace_size)


cdef extern from "fastattn/peak.h" nogil:
    uint64_t fa_i8_peak_loop(uint64_t iters, int32_t *sink)
    uint64_t fa_f32_peak_loop(uint64_t iters, float *sink)
    uint64_t fa_f32_peak_loop_isa(fa_isa isa, uint64_t iters, float *sink)


cdef extern from "fastattn/quant_i8.h" nogil:
    const fa_variant fa_quant_i8_variants[]
    const size_t fa_quant_i8_nvariants
    fa_status fa_i8_quantize_keys(const float *x, size_t x_len, size_t outer, size_t len,
                                  size_t d, size_t block, int smooth, int8_t *data,
                                  size_t data_len, float *scale, size_t scale_len, float *mean,
                                  size_t mean_len, size_t index, size_t nthreads)
    fa_status fa_i8_quantize_values(const float *x, size_t x_len, size_t outer, size_t len,
                                    size_t d, int8_t *data, size_t data_len, float *scale,
                                    size_t scale_len, size_t index, size_t nthreads)


cdef extern from "fastattn/sparse.h" nogil:
    ctypedef struct fa_sparse_layout:
        size_t nlayouts, block_q, block_k, nqblocks, nkblocks
        const int32_t *indptr
        size_t indptr_len
        const int32_t *indices
        size_t nnz
        const int32_t *layout_of
        size_t layout_of_len
        const unsigned char *q_global
        const unsigned char *k_global
        size_t q_global_len, k_global_len
        ptrdiff_t global_hi

    ctypedef struct fa_sparse_f32_params:
        fa_dense_f32_params attn
        fa_sparse_layout layout

    ctypedef struct fa_sparse_i8_params:
        fa_dense_i8_params attn
        fa_sparse_layout layout

    fa_status fa_block_means_f32(const float *x, size_t x_len, const size_t n[4],
                                 const ptrdiff_t s[3], size_t block, double *out,
                                 size_t out_len)
    fa_status fa_route_select(const double *scores, size_t scores_len, size_t groups,
                              size_t nq, size_t nk, const int64_t *nvisible,
                              const int64_t *diag, const int64_t *budget, size_t local_blocks,
                              size_t sink_blocks, int32_t *indptr, size_t indptr_len,
                              int32_t *indices, size_t indices_len, double *scratch,
                              size_t scratch_len, size_t *nnz)

    const fa_variant fa_sparse_f32_variants[]
    const size_t fa_sparse_f32_nvariants
    size_t fa_sparse_f32_workspace_size(const fa_sparse_f32_params *p)
    fa_status fa_sparse_f32(const fa_sparse_f32_params *p, size_t index, size_t nthreads,
                            void *workspace, size_t workspace_size)

    const fa_variant fa_sparse_i8_variants[]
    const size_t fa_sparse_i8_nvariants
    size_t fa_sparse_i8_workspace_size(const fa_sparse_i8_params *p)
    fa_status fa_sparse_i8(const fa_sparse_i8_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size)


cdef extern from "fastattn/linear.h" nogil:
    enum: FA_LOWRANK_CHUNK

    ctypedef enum fa_feature_map:
        FA_FEATURE_ELU1
        FA_FEATURE_RELU

    ctypedef struct fa_linear_f32_params:
        fa_dense_f32_params attn
        fa_feature_map feature_map

    const fa_variant fa_linear_f32_variants[]
    const size_t fa_linear_f32_nvariants
    size_t fa_linear_f32_workspace_size(const fa_linear_f32_params *p)
    fa_status fa_linear_f32(const fa_linear_f32_params *p, size_t index, size_t nthreads,
                            void *workspace, size_t workspace_size)

    enum: FA_LOWRANK_PAD_ROWS

    ctypedef struct fa_linear_f32_gemm_params:
        size_t d, dv, lk, lq
        const float *kft
        size_t kft_len
        const float *v
        size_t v_len
        const float *qf
        size_t qf_len
        float *s
        size_t s_len
        float *num
        size_t num_len

    size_t fa_linear_f32_gemm_workspace_size(const fa_linear_f32_gemm_params *p)
    fa_status fa_linear_f32_gemm(const fa_linear_f32_gemm_params *p, size_t index,
                                 void *workspace, size_t workspace_size)


cdef extern from "fastattn/performer.h" nogil:
    ctypedef struct fa_performer_f32_params:
        fa_dense_f32_params attn
        const float *features
        size_t features_len
        ptrdiff_t features_rs
        size_t m

    const fa_variant fa_performer_f32_variants[]
    const size_t fa_performer_f32_nvariants
    size_t fa_performer_f32_workspace_size(const fa_performer_f32_params *p)
    fa_status fa_performer_f32(const fa_performer_f32_params *p, size_t index, size_t nthreads,
                               void *workspace, size_t workspace_size)

    ctypedef struct fa_performer_f32_gemm_params:
        size_t d, dv, m, lk, lq
        const float *w
        size_t w_len
        const float *kct
        size_t kct_len
        const float *v
        size_t v_len
        const float *q
        size_t q_len
        float *s
        size_t s_len
        float *num
        size_t num_len

    size_t fa_performer_f32_gemm_workspace_size(const fa_performer_f32_gemm_params *p)
    fa_status fa_performer_f32_gemm(const fa_performer_f32_gemm_params *p, size_t index,
                                    void *workspace, size_t workspace_size)


cdef extern from "fastattn/linformer.h" nogil:
    enum: FA_LINFORMER_KC

    ctypedef struct fa_linformer_f32_params:
        fa_dense_f32_params attn
        const float *proj_k
        const float *proj_v
        size_t proj_k_len, proj_v_len
        ptrdiff_t proj_k_rs, proj_v_rs
        size_t r

    const fa_variant fa_linformer_f32_variants[]
    const size_t fa_linformer_f32_nvariants
    size_t fa_linformer_f32_workspace_size(const fa_linformer_f32_params *p)
    fa_status fa_linformer_f32(const fa_linformer_f32_params *p, size_t index, size_t nthreads,
                               void *workspace, size_t workspace_size)

    ctypedef struct fa_linformer_f32_gemm_params:
        size_t d, dv, r, lk, lq
        const float *e
        size_t e_len
        const float *kb
        size_t kb_len
        const float *vb
        size_t vb_len
        const float *q
        size_t q_len
        float *kp
        size_t kp_len
        float *vp
        size_t vp_len
        float *out
        size_t out_len

    size_t fa_linformer_f32_gemm_workspace_size(const fa_linformer_f32_gemm_params *p)
    fa_status fa_linformer_f32_gemm(const fa_linformer_f32_gemm_params *p, size_t index,
                                    void *workspace, size_t workspace_size)


cdef extern from "fastattn/decode.h" nogil:
    enum: FA_DECODE_SPLIT
    enum: FA_DECODE_TILE
    enum: FA_DECODE_BLOCK

    ctypedef struct fa_decode_i8_params:
        const float *q
        const int8_t *k
        const int8_t *v
        const float *k_scale
        const float *v_scale
        float *out
        const float *mask
        size_t q_len, k_len, v_len, out_len, mask_len, k_scale_len, v_scale_len
        size_t batch, heads, kv_heads, lq, lk, d, dv
        ptrdiff_t q_stride[3]
        ptrdiff_t k_stride[3]
        ptrdiff_t v_stride[3]
        ptrdiff_t out_stride[3]
        ptrdiff_t mask_stride[3]
        ptrdiff_t k_scale_stride[2]
        ptrdiff_t v_scale_stride[2]
        float scale
        ptrdiff_t band_lo, band_hi

    const fa_variant fa_decode_f32_variants[]
    const size_t fa_decode_f32_nvariants
    const fa_variant fa_decode_i8_variants[]
    const size_t fa_decode_i8_nvariants
    size_t fa_decode_f32_workspace_size(const fa_dense_f32_params *p, size_t nthreads)
    size_t fa_decode_i8_workspace_size(const fa_decode_i8_params *p, size_t nthreads)
    fa_status fa_decode_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                            void *workspace, size_t workspace_size)
    fa_status fa_decode_i8(const fa_decode_i8_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size)
    uint64_t fa_read_sweep(const void *p, size_t nbytes, size_t nthreads)


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
        size_t x_len, xq_len, x_scale_len, x_sum_len, w_len, w_scale_len, bias_len, out_len
        size_t m, n, k, kp
        ptrdiff_t x_stride, out_stride

    const fa_variant fa_gemm_i8_variants[]
    const size_t fa_gemm_i8_nvariants
    size_t fa_gemm_i8_workspace_size()
    fa_status fa_gemm_i8(const fa_gemm_i8_params *p, size_t index, size_t nthreads,
                         void *workspace, size_t workspace_size)
