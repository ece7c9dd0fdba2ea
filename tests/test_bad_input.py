"""Bad and edge input across the public API: every call either raises a clear exception
naming the argument, or returns its documented answer. Nothing a caller passes (or changes
after passing) may make C read out of bounds or return a silent wrong answer; run this
module under tests/sanitize.sh to check the first half of that.

One case is one line:

    bad("id", lambda: call(...), ErrorType, "words", "the message", "must hold"),
    same("id", lambda: call(...), lambda: the documented answer, atol),

New ops add their rows to the table of their op below.
"""

from __future__ import annotations

import numpy as np
import pytest
from bad_cases import (
    BIG,
    HUGE_SCALE,
    K,
    Q,
    V,
    X,
    after,
    attn,
    bad,
    check,
    equal_keys,
    hard_max,
    i8,
    long_random,
    nan_at,
    qkey,
    qt,
    qt_after_caller_writes,
    qval,
    reshape,
    same,
    setattr_,
    unaligned,
    write,
)

import fastattn as fa
from fastattn.reference import dense as ref

DQ = np.random.default_rng(0).standard_normal((1, 1, 1 << 16)).astype(np.float32)  # D = 2^16


DENSE = [
    bad("q-int", lambda: attn(q=Q.astype(np.int32)), TypeError, "query", "int32"),
    bad("q-object", lambda: attn(q=Q.astype(object)), TypeError, "query", "object"),
    bad("q-0d", lambda: attn(q=np.float32(1)), ValueError, "query", "shape ()"),
    bad("q-1d", lambda: attn(q=np.zeros(8, np.float32)), ValueError, "query", "(8,)"),
    bad("k-complex", lambda: attn(k=K.astype(np.complex64)), TypeError, "key", "complex64"),
    bad("v-1d", lambda: attn(v=np.zeros(12, np.float32)), ValueError, "value", "(12,)"),
    bad("k-d-mismatch", lambda: attn(k=K[..., :7]), ValueError, "last dim D", "(2, 4, 12, 7)"),
    bad("v-len-mismatch", lambda: attn(v=V[:, :, :11]), ValueError, "value", "(2, 4, 11, 6)"),
    bad("heads-not-multiple", lambda: attn(k=K[:, :3], v=V[:, :3]), ValueError, "multiple"),
    bad("batch-no-broadcast", lambda: attn(k=np.zeros((3, 4, 12, 8), np.float32)), ValueError,
        "broadcast", "(3, 4, 12, 8)"),
    bad("q-empty", lambda: attn(q=Q[:, :, :0]), ValueError, "query", "empty"),
    bad("k-empty", lambda: attn(k=K[:, :, :0], v=V[:, :, :0]), ValueError, "key", "empty"),
    bad("d-zero", lambda: attn(q=Q[..., :0], k=K[..., :0]), ValueError, "query", "empty"),
    bad("d-65536", lambda: fa.attention(DQ, DQ, DQ[..., :4]), ValueError, "D", "65536"),
    bad("dv-65536", lambda: fa.attention(DQ[..., :4], DQ[..., :4], DQ), ValueError, "value",
        "65536"),
    bad("mask-shape", lambda: attn(mask=np.zeros((10, 13), bool)), ValueError, "mask",
        "(10, 13)"),
    bad("mask-dtype", lambda: attn(mask=np.zeros((10, 12), np.int64)), TypeError, "mask",
        "int64"),
    bad("mask-more-dims", lambda: attn(mask=np.zeros((1, 2, 4, 10, 12), bool)), ValueError,
        "mask", "(1, 2, 4, 10, 12)"),
    bad("mask-bigger-batch", lambda: attn(q=Q[:1], k=K[:1], v=V[:1],
                                          mask=np.zeros((3, 4, 10, 12), bool)),
        ValueError, "mask", "(3, 4, 10, 12)"),
    bad("mask-numpy-ma", lambda: attn(mask=np.ma.masked_array(np.zeros((10, 12)),
                                                              mask=np.eye(10, 12))),
        TypeError, "mask", "MaskedArray"),
    bad("k-numpy-ma", lambda: attn(k=np.ma.masked_array(K)), TypeError, "key", "MaskedArray"),
    bad("scale-nan", lambda: attn(scale=float("nan")), ValueError, "scale", "nan"),
    bad("scale-inf", lambda: attn(scale=float("-inf")), ValueError, "scale", "-inf"),
    bad("scale-str", lambda: attn(scale="big"), TypeError, "scale", "'big'"),
    bad("scale-complex", lambda: attn(scale=1j), TypeError, "scale", "1j"),
    bad("scale-array", lambda: attn(scale=np.ones(2)), TypeError, "scale"),
    bad("threads-0", lambda: attn(num_threads=0), ValueError, "num_threads", "0"),
    bad("threads-float", lambda: attn(num_threads=1.5), TypeError, "num_threads", "float"),
    bad("threads-huge", lambda: attn(num_threads=10**6), ValueError, "num_threads", "1000000"),
    bad("threads-2**64", lambda: attn(num_threads=BIG), ValueError, "num_threads", str(BIG)),
    bad("variant-unknown", lambda: attn(variant="f32-nope"), ValueError, "variant", "f32-nope"),
    bad("variant-int8-in-fp32", lambda: attn(variant="i8-scalar"), ValueError, "variant",
        "i8-scalar"),
    bad("causal-str", lambda: attn(causal="yes"), TypeError, "causal", "str"),
    bad("precision-fp16", lambda: attn(precision="fp16"), ValueError, "precision", "fp16"),
    bad("k-quantized-fp32", lambda: attn(k=qkey()), TypeError, "key", "QuantizedTensor"),
    same("mask-fully-masked-zeros", lambda: attn(mask=np.zeros((10, 12), bool)),
         lambda: np.zeros((2, 4, 10, 6))),
    same("mask-nan-propagates", lambda: attn(mask=nan_at((10, 12), (3, 5)))[:, :, 3],
         lambda: np.full((2, 4, 6), np.nan)),
    same("q-list", lambda: fa.attention(X.tolist(), X, X), lambda: ref.attention(X, X, X)),
    same("q-float16-dtype", lambda: fa.attention(*[X.astype(np.float16)] * 3).dtype,
         lambda: np.float16),
    same("scale-3.4e38-hard-max", lambda: attn(scale=HUGE_SCALE),
         lambda: hard_max(Q, K, V, HUGE_SCALE)),
    same("scale--3.4e38-hard-min", lambda: attn(scale=-HUGE_SCALE),
         lambda: hard_max(Q, K, V, -HUGE_SCALE)),
    same("scale-1e30-hard-max", lambda: attn(scale=1e30), lambda: hard_max(Q, K, V, 1e30)),
    same("scale-0-mean", lambda: attn(scale=0.0), lambda: np.broadcast_to(
        V.mean(axis=-2, keepdims=True), (2, 4, 10, 6))),
    same("q-unaligned", lambda: attn(q=unaligned(Q), k=unaligned(K), v=unaligned(V)),
         lambda: ref.attention(Q, K, V)),
    # float32 sums over long key sequences (a running float32 sum stops growing near 2^24)
    same("f32-lk-2**23-equal-keys-decode", lambda: equal_keys(2**23), lambda: [[3.0]], 0),
    same("f32-lk-2**23-equal-keys-dense", lambda: equal_keys(2**23, 17), lambda: 3.0, 0),
    same("f32-lk-3-chunks-decode", lambda: long_random(3 * 4096 + 5, 3)[0],
         lambda: long_random(3 * 4096 + 5, 3)[1]),
    same("f32-lk-3-chunks-dense", lambda: long_random(3 * 4096 + 5, 20)[0],
         lambda: long_random(3 * 4096 + 5, 20)[1]),
    same("i8-lk-2**20-equal-keys", lambda: equal_keys(2**20, 1, "int8"), lambda: [[3.0]], 1e-4),
    same("mask-unaligned", lambda: attn(mask=unaligned(np.zeros((10, 12), np.float32))),
         lambda: ref.attention(Q, K, V)),
]

SDPA = [
    bad("sdpa-dropout", lambda: fa.scaled_dot_product_attention(Q, K, V, dropout_p=0.1),
        ValueError, "dropout_p", "0.1"),
    bad("sdpa-causal-and-mask", lambda: fa.scaled_dot_product_attention(
        Q, K, V, attn_mask=np.ones((10, 12), bool), is_causal=True), ValueError, "attn_mask"),
    bad("sdpa-gqa-off", lambda: fa.scaled_dot_product_attention(Q, K[:, :2], V[:, :2]),
        ValueError, "enable_gqa"),
    bad("sdpa-mask-dtype", lambda: fa.scaled_dot_product_attention(
        Q, K, V, attn_mask=np.zeros((10, 12), np.int8)), TypeError, "attn_mask", "int8"),
    bad("sdpa-mask-shape", lambda: fa.scaled_dot_product_attention(
        Q, K, V, attn_mask=np.zeros((11, 12), bool)), ValueError, "attn_mask", "(11, 12)"),
    bad("sdpa-query-int", lambda: fa.scaled_dot_product_attention(Q.astype(int), K, V),
        TypeError, "query", "int64"),
    bad("sdpa-scale-nan", lambda: fa.scaled_dot_product_attention(Q, K, V, scale=np.nan),
        ValueError, "scale", "nan"),
    same("sdpa-scale-3.4e38", lambda: fa.scaled_dot_product_attention(Q, K, V, scale=3.4e38),
         lambda: hard_max(Q, K, V, HUGE_SCALE)),
]

INT8 = [
    bad("i8-q-nan", lambda: i8(q=nan_at(Q.shape, (0, 0, 0, 0))), ValueError, "query", "finite"),
    bad("i8-q-inf", lambda: i8(q=nan_at(Q.shape, (1, 2, 3, 4), np.inf)), ValueError, "query",
        "finite"),
    bad("i8-k-inf", lambda: i8(k=nan_at(K.shape, (0, 0, 0, 0), np.inf)), ValueError, "key",
        "finite"),
    bad("i8-v-nan", lambda: i8(v=nan_at(V.shape, (0, 0, 0, 0))), ValueError, "value", "finite"),
    bad("i8-mask-nan", lambda: i8(mask=nan_at((10, 12), (0, 0))), ValueError, "mask", "NaN"),
    bad("i8-mask-+inf", lambda: i8(mask=nan_at((10, 12), (0, 0), np.inf)), ValueError, "mask",
        "inf"),
    bad("i8-d-65536", lambda: fa.attention(DQ, DQ, DQ[..., :4], precision="int8"), ValueError,
        "D", "65536"),
    bad("i8-key-is-value-kind", lambda: i8(k=qval()), ValueError, "key", "'value'"),
    bad("i8-value-is-key-kind", lambda: i8(v=fa.quantize(V, kind="key")), ValueError, "value",
        "'key'"),
    bad("i8-variant-fp32-name", lambda: i8(variant="f32-scalar"), ValueError, "variant",
        "f32-scalar"),
    bad("i8-scale-inf", lambda: i8(scale=np.inf), ValueError, "scale", "inf"),
    same("i8-mask--inf-zeros", lambda: i8(mask=np.full((10, 12), -np.inf, np.float32)),
         lambda: np.zeros((2, 4, 10, 6))),
    same("i8-scale-3.4e38-hard-max", lambda: i8(scale=HUGE_SCALE),
         lambda: hard_max(Q, K, V, HUGE_SCALE), 0.05),
    same("i8-scale--3.4e38-hard-min", lambda: i8(scale=-HUGE_SCALE),
         lambda: hard_max(Q, K, V, -HUGE_SCALE), 0.05),
    same("i8-unaligned", lambda: i8(q=unaligned(Q), k=unaligned(K), v=unaligned(V)),
         lambda: i8()),
    same("i8-keys-3.4e38-unsmoothed", lambda: fa.attention(
        X, fa.quantize(np.full((16, 8), 3.4e38, np.float32) * np.sign(X), smooth=False), X,
        precision="int8"), lambda: hard_max(X, np.sign(X), X, 1.0), 0.05),
]

QUANTIZE = [
    bad("quantize-kind", lambda: fa.quantize(K, kind="query"), ValueError, "kind", "'query'"),
    bad("quantize-block-0", lambda: fa.quantize(K, block=0), ValueError, "block", "0"),
    bad("quantize-block-float", lambda: fa.quantize(K, block=1.5), TypeError, "block", "float"),
    bad("quantize-block-bool", lambda: fa.quantize(K, block=True), TypeError, "block", "bool"),
    bad("quantize-block-2**64", lambda: fa.quantize(K, block=BIG), ValueError, "block",
        str(BIG)),
    bad("quantize-nan", lambda: fa.quantize(nan_at((4, 8), (1, 1))), ValueError, "key",
        "finite"),
    bad("quantize-value-inf", lambda: fa.quantize(nan_at((4, 8), (1, 1), np.inf),
                                                  kind="value"), ValueError, "value", "finite"),
    bad("quantize-int", lambda: fa.quantize(K.astype(np.int16)), TypeError, "key", "int16"),
    bad("quantize-1d", lambda: fa.quantize(np.zeros(8, np.float32)), ValueError, "key", "(8,)"),
    bad("quantize-empty", lambda: fa.quantize(np.zeros((0, 8), np.float32)), ValueError, "key",
        "empty"),
    bad("quantize-smooth-str", lambda: fa.quantize(K, smooth="yes"), TypeError, "smooth"),
    bad("quantize-smoothing-overflows", lambda: fa.quantize(
        np.array([[3.4e38], [-3.4e38], [-3.4e38]], np.float32)), ValueError, "key", "mean",
        "smooth=False"),
    same("quantize-unaligned", lambda: fa.quantize(unaligned(K)).data,
         lambda: fa.quantize(K).data, 0),
]

QUANTIZED_TENSOR = [
    bad("qt-data-float", lambda: qt(data=np.ones((12, 8), np.float32)), TypeError, "data",
        "float32"),
    bad("qt-data-1d", lambda: qt(data=np.ones(8, np.int8)), TypeError, "data", "(8,)"),
    bad("qt-kind", lambda: qt(kind="query"), ValueError, "kind", "'query'"),
    bad("qt-scale-float64", lambda: qt(scale=np.ones(1)), TypeError, "scale", "float64"),
    bad("qt-scale-shape", lambda: qt(scale=np.ones(2, np.float32)), ValueError, "scale", "(2,)"),
    bad("qt-scale-nan", lambda: qt(scale=np.full(1, np.nan, np.float32)), ValueError, "scale",
        "finite"),
    bad("qt-scale-negative", lambda: qt(scale=-np.ones(1, np.float32)), ValueError, "scale",
        "positive"),
    bad("qt-scale-zero", lambda: qt(scale=np.zeros(1, np.float32)), ValueError, "scale",
        "positive"),
    bad("qt-data-minus-128", lambda: qt(data=np.full((12, 8), -128, np.int8)), ValueError,
        "data", "-127, 127"),
    bad("qt-block-0", lambda: qt(block=0), ValueError, "block", "0"),
    bad("qt-mean-shape", lambda: qt(mean=np.zeros((2, 8), np.float32)), ValueError, "mean",
        "(2, 8)"),
    bad("qt-set-scale-nan", lambda: after(qkey, write("scale", ..., np.nan), i8), ValueError,
        "read-only"),
    bad("qt-set-data-minus-128", lambda: after(qkey, write("data", ..., -128), i8), ValueError,
        "read-only"),
    bad("qt-set-mean", lambda: after(qkey, write("mean", ..., 1.0), i8), ValueError,
        "read-only"),
    bad("qt-replace-data", lambda: after(qkey, setattr_("data", K), i8), AttributeError, "data"),
    bad("qt-replace-scale", lambda: after(qkey, setattr_("scale", -K), i8), AttributeError,
        "scale"),
    same("qt-reshape-data-view", lambda: after(
        lambda: fa.quantize(X[None, None]), reshape("data", (1, 1, 128, 1)),
        lambda t: fa.attention(X, t, X, precision="int8")),
         lambda: fa.attention(X, fa.quantize(X[None, None]), X, precision="int8")),
    same("qt-reshape-value-view", lambda: after(
        lambda: fa.quantize(X, kind="value"), reshape("data", (128, 1)),
        lambda t: fa.attention(X, X, t, precision="int8")),
         lambda: fa.attention(X, X, fa.quantize(X, kind="value"), precision="int8")),
    same("qt-caller-writes-its-array", qt_after_caller_writes, lambda: (1, 1.0), 0),
]


@pytest.mark.parametrize("kind, call, expected, detail",
                         DENSE + SDPA + INT8 + QUANTIZE + QUANTIZED_TENSOR)
def test_case(kind, call, expected, detail):
    check(kind, call, expected, detail)
