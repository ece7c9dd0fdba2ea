"""Bad and edge input of the block layouts, the patterns, the sparse and routed ops and the
int8 error report: the tables of tests/test_bad_input.py (see there), for these ops."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from bad_cases import (
    BIG,
    K,
    Q,
    V,
    X,
    after,
    bad,
    check,
    layout,
    nan_at,
    qkey,
    reshape,
    same,
    setattr_,
    sparse_ref,
    unaligned,
    write,
)

import fastattn as fa
from fastattn.reference import dense as ref

LAYOUTS = [
    bad("layout-indptr-float", lambda: fa.BlockLayout(np.zeros(5), [], (16, 16), 4), TypeError,
        "indptr", "float64"),
    bad("layout-indptr-length", lambda: fa.BlockLayout(np.zeros(4, int), [], (16, 16), 4),
        ValueError, "indptr", "(4,)"),
    bad("layout-indices-2d", lambda: fa.BlockLayout(np.zeros(5, int), np.zeros((1, 1), int),
                                                    (16, 16), 4), ValueError, "indices", "(1, 1)"),
    bad("layout-indptr-decreasing", lambda: fa.BlockLayout([0, 1, 0, 1, 1], [0], (16, 16), 4),
        ValueError, "indptr", "decreases"),
    bad("layout-indptr-past-nnz", lambda: fa.BlockLayout([0, 0, 0, 0, 2], [0], (16, 16), 4),
        ValueError, "indptr", "nnz"),
    bad("layout-index-range", lambda: fa.BlockLayout([0, 1, 1, 1, 1], [4], (16, 16), 4),
        ValueError, "indices", "4"),
    bad("layout-index-negative", lambda: fa.BlockLayout([0, 1, 1, 1, 1], [-1], (16, 16), 4),
        ValueError, "indices", "-1"),
    bad("layout-indices-order", lambda: fa.BlockLayout([0, 2, 2, 2, 2], [1, 0], (16, 16), 4),
        ValueError, "indices", "increasing"),
    bad("layout-shape", lambda: fa.BlockLayout([0], [], 16, 4), TypeError, "shape", "16"),
    bad("layout-shape-zero", lambda: fa.BlockLayout([0], [], (0, 16), 4), ValueError, "shape",
        "(0, 16)"),
    bad("layout-block-0", lambda: fa.BlockLayout([0, 0], [], (16, 16), 0), ValueError, "block",
        "0"),
    bad("layout-block-triple", lambda: fa.BlockLayout([0, 0], [], (16, 16), (1, 2, 3)),
        TypeError, "block", "(1, 2, 3)"),
    bad("layout-block-2**64", lambda: fa.BlockLayout([0, 0], [], (16, 16), BIG), ValueError,
        "block", str(BIG)),
    bad("layout-global-negative", lambda: layout(global_tokens=[-1]), ValueError, "global",
        "-1"),
    bad("layout-global-past-end", lambda: layout(global_tokens=[16]), ValueError, "global",
        "16"),
    bad("layout-global-float", lambda: layout(global_tokens=[0.5]), TypeError, "global_tokens",
        "float64"),
    bad("from-block-mask-int", lambda: fa.BlockLayout.from_block_mask(
        np.ones((4, 4), int), (16, 16), 4), TypeError, "block_mask", "int64"),
    bad("from-block-mask-1d", lambda: fa.BlockLayout.from_block_mask(
        np.ones(4, bool), (16, 16), 4), ValueError, "block_mask", "(4,)"),
    bad("layout-set-global", lambda: after(layout, setattr_("global_tokens", np.array([-1])),
                                           lambda lay: fa.block_sparse_attention(X, X, X, lay)),
        AttributeError, "global_tokens"),
    bad("layout-set-window", lambda: after(layout, setattr_("window", (-5, 99)),
                                           lambda lay: fa.block_sparse_attention(X, X, X, lay)),
        AttributeError, "window"),
    bad("layout-write-indices", lambda: after(layout, write("indices", 0, 99),
                                              lambda lay: fa.block_sparse_attention(X, X, X,
                                                                                    lay)),
        ValueError, "read-only"),
    bad("layout-write-global", lambda: after(lambda: layout(global_tokens=[3]),
                                             write("global_tokens", 0, -1),
                                             lambda lay: fa.block_sparse_attention(X, X, X, lay)),
        ValueError, "read-only"),
    same("layout-reshape-indptr-view", lambda: after(
        layout, reshape("indptr", (5, 1)), lambda lay: fa.block_sparse_attention(X, X, X, lay)),
         lambda: sparse_ref(X, layout())),
]

PATTERNS = [
    bad("local-lq-0", lambda: fa.local_layout(0, 16, window=2), ValueError, "lq", "0"),
    bad("local-lk-negative", lambda: fa.local_layout(16, -3, window=2), ValueError, "lk", "-3"),
    bad("local-lq-float", lambda: fa.local_layout(16.0, 16, window=2), TypeError, "lq", "float"),
    bad("local-window-none", lambda: fa.local_layout(16, 16, window=None), ValueError, "window"),
    bad("local-window-negative", lambda: fa.local_layout(16, 16, window=-1), ValueError,
        "window", "-1"),
    bad("local-window-float", lambda: fa.local_layout(16, 16, window=2.7), TypeError, "window",
        "2.7"),
    bad("local-window-pair-float", lambda: fa.local_layout(16, 16, window=(2, 0.5)), TypeError,
        "window[1]", "float"),
    bad("local-block-2**64", lambda: fa.local_layout(16, 16, window=2, block=BIG), ValueError,
        "block", str(BIG)),
    bad("local-causal-int", lambda: fa.local_layout(16, 16, window=2, causal=1), TypeError,
        "causal", "int"),
    bad("local-global-negative", lambda: fa.local_layout(16, 16, window=2, global_tokens=[-1]),
        ValueError, "global", "-1"),
    same("local-window-maxsize-dense", lambda: fa.local_layout(16, 16, window=sys.maxsize).density,
         lambda: 1.0, 0),
    same("local-window-2**64-dense", lambda: fa.local_layout(16, 16, window=BIG).density,
         lambda: 1.0, 0),
    same("local-window-pair-maxsize", lambda: fa.local_layout(
        16, 16, window=(sys.maxsize, sys.maxsize), causal=True).to_dense_mask(),
         lambda: np.tri(16, dtype=bool), 0),
    bad("strided-stride-0", lambda: fa.strided_layout(16, 16, stride=0), ValueError, "stride",
        "0"),
    bad("strided-local-0", lambda: fa.strided_layout(16, 16, stride=2, local_blocks=0),
        ValueError, "local_blocks", "0"),
    bad("strided-lk-0", lambda: fa.strided_layout(16, 0, stride=2), ValueError, "lk", "0"),
    bad("strided-block-negative", lambda: fa.strided_layout(16, 16, stride=2, block=-4),
        ValueError, "block", "-4"),
    bad("fixed-chunk-0", lambda: fa.fixed_layout(16, 16, chunk_blocks=0), ValueError,
        "chunk_blocks", "0"),
    bad("fixed-summary-too-big", lambda: fa.fixed_layout(16, 16, chunk_blocks=2,
                                                         summary_blocks=3), ValueError,
        "summary_blocks", "3"),
    bad("fixed-summary-negative", lambda: fa.fixed_layout(16, 16, chunk_blocks=2,
                                                          summary_blocks=-1), ValueError,
        "summary_blocks", "-1"),
    bad("fixed-lq-0", lambda: fa.fixed_layout(0, 16, chunk_blocks=2), ValueError, "lq", "0"),
    bad("bigbird-window-0", lambda: fa.bigbird_layout(16, 16, window_blocks=0), ValueError,
        "window_blocks", "0"),
    bad("bigbird-heads-0", lambda: fa.bigbird_layout(16, 16, heads=0), ValueError, "heads", "0"),
    bad("bigbird-random-negative", lambda: fa.bigbird_layout(16, 16, random_blocks=-1),
        ValueError, "random_blocks", "-1"),
    bad("bigbird-seed-str", lambda: fa.bigbird_layout(16, 16, seed="x"), TypeError, "seed",
        "str"),
    bad("bigbird-lq-0", lambda: fa.bigbird_layout(0, 16), ValueError, "lq", "0"),
]

SPARSE = [
    bad("sparse-layout-type", lambda: fa.block_sparse_attention(X, X, X, "local"), TypeError,
        "layout", "str"),
    bad("sparse-layout-shape", lambda: fa.block_sparse_attention(
        X, X, X, fa.local_layout(8, 16, window=2)), ValueError, "layout", "(8, 16)"),
    bad("sparse-layout-heads", lambda: fa.block_sparse_attention(
        X, X, X, fa.bigbird_layout(16, 16, heads=3, block=4)), ValueError, "layout", "(3,)"),
    bad("sparse-precision", lambda: fa.block_sparse_attention(X, X, X, layout(),
                                                              precision="int4"), ValueError,
        "precision", "int4"),
    bad("sparse-quantized-fp32", lambda: fa.block_sparse_attention(
        X, fa.quantize(X), X, layout()), TypeError, "key", "QuantizedTensor"),
    bad("sparse-mask-shape", lambda: fa.block_sparse_attention(
        X, X, X, layout(), mask=np.ones((3, 3), bool)), ValueError, "mask", "(3, 3)"),
    bad("sparse-i8-mask-nan", lambda: fa.block_sparse_attention(
        X, X, X, layout(), mask=nan_at((16, 16), (2, 2)), precision="int8"), ValueError, "mask",
        "NaN"),
    bad("sparse-variant", lambda: fa.block_sparse_attention(X, X, X, layout(),
                                                            variant="i8-scalar"),
        ValueError, "variant", "i8-scalar"),
    bad("local-attn-q-1d", lambda: fa.local_attention(np.zeros(8, np.float32), X, X, window=2),
        ValueError, "query", "(8,)"),
    bad("local-attn-q-int", lambda: fa.local_attention(X.astype(int), X, X, window=2),
        TypeError, "query", "int64"),
    bad("local-attn-k-0d", lambda: fa.local_attention(X, np.float32(0), X, window=2),
        ValueError, "key", "()"),
    bad("local-attn-window-str", lambda: fa.local_attention(X, X, X, window="2"), TypeError,
        "window", "'2'"),
    same("local-attn-window-maxsize", lambda: fa.local_attention(X, X, X, window=sys.maxsize),
         lambda: ref.attention(X, X, X)),
    same("local-attn-window-wide-causal", lambda: fa.local_attention(
        X, X, X, window=10**30, causal=True), lambda: ref.attention(X, X, X, causal=True)),
    same("local-attn-unaligned", lambda: fa.local_attention(unaligned(X), X, unaligned(X),
                                                           window=3, block=4),
         lambda: sparse_ref(X, layout())),
]

ROUTED = [
    bad("route-block-0", lambda: fa.route(X, X, block=0), ValueError, "block", "0"),
    bad("route-top-k-0", lambda: fa.route(X, X, block=4, top_k=0), ValueError, "top_k", "0"),
    bad("route-density-0", lambda: fa.route(X, X, block=4, density=0.0), ValueError, "density",
        "0.0"),
    bad("route-density-2", lambda: fa.route(X, X, block=4, density=2), ValueError, "density",
        "2"),
    bad("route-density-nan", lambda: fa.route(X, X, block=4, density=np.nan), ValueError,
        "density", "nan"),
    bad("route-both-budgets", lambda: fa.route(X, X, block=4, top_k=1, density=0.5), ValueError,
        "top_k", "density"),
    bad("route-proj-shape", lambda: fa.route(X, X, block=4, proj=np.ones((7, 2))), ValueError,
        "proj", "(7, 2)"),
    bad("route-local-0", lambda: fa.route(X, X, block=4, local_blocks=0), ValueError,
        "local_blocks", "0"),
    bad("route-sink-negative", lambda: fa.route(X, X, block=4, sink_blocks=-1), ValueError,
        "sink_blocks", "-1"),
    bad("route-causal-str", lambda: fa.route(X, X, block=4, causal="no"), TypeError, "causal"),
    bad("route-q-int", lambda: fa.route(X.astype(int), X, block=4), TypeError, "query",
        "int64"),
    bad("route-block-2**64", lambda: fa.route(X, X, block=BIG), ValueError, "block", str(BIG)),
    bad("routed-top-k-float", lambda: fa.routed_attention(X, X, X, block=4, top_k=1.5),
        TypeError, "top_k", "float"),
    bad("routed-precision", lambda: fa.routed_attention(X, X, X, block=4, precision="bf16"),
        ValueError, "precision", "bf16"),
    bad("routed-mask-shape", lambda: fa.routed_attention(X, X, X, block=4,
                                                         mask=np.ones((2, 2), bool)),
        ValueError, "mask", "(2, 2)"),
    same("routed-full-budget-dense", lambda: fa.routed_attention(X, X, X, block=4, top_k=4),
         lambda: ref.attention(X, X, X)),
]

REPORT = [
    bad("report-quantized-key", lambda: fa.int8_error_report(Q, qkey(), V), TypeError, "key",
        "float"),
    bad("report-q-int", lambda: fa.int8_error_report(Q.astype(int), K, V), TypeError, "query",
        "int64"),
    bad("report-causal-str", lambda: fa.int8_error_report(Q, K, V, causal="y"), TypeError,
        "causal"),
    bad("report-k-nan", lambda: fa.int8_error_report(Q, nan_at(K.shape, (0, 0, 0, 0)), V),
        ValueError, "key", "finite"),
]


@pytest.mark.parametrize("kind, call, expected, detail",
                         LAYOUTS + PATTERNS + SPARSE + ROUTED + REPORT)
def test_case(kind, call, expected, detail):
    check(kind, call, expected, detail)
