"""The selftest's cases for the dense and block-sparse ops, float32 and int8.

Small random inputs that cross the engines' tiles (one row or key, a tile plus one),
with causal masks for Lq != Lk (bottom-right), boolean masks with a fully masked row,
grouped-query attention, a float64 input and block layouts with windows and global
tokens. Kept small: the whole selftest must run in under a minute on a Pi 4 core.
"""

from __future__ import annotations

import numpy as np

import fastattn
from fastattn import _core
from fastattn.selftest import attention_inputs, f32_case, i8_case, per_shape, reference, register

_F32, _I8 = _core.TILES["f32"], _core.TILES["i8"]
_MQ, _NK, _MQ8 = _F32["query_rows"], _F32["keys"], _I8["query_rows"]
# (label, Lq, Lk, Hq, Hkv, D, Dv, causal, masked) across the tile edges of the float32
# engine and the int8 one (_core.TILES: query rows per job, keys per tile).
SHAPES = [
    ("L=1", 1, 1, 1, 1, 8, 8, False, False),
    (f"Lq={_MQ + 1} Lk={_NK + 1}", _MQ + 1, _NK + 1, 2, 2, 64, 64, False, False),
    (f"causal Lq={_MQ8 + 1} Lk={2 * _NK + 1}", _MQ8 + 1, 2 * _NK + 1, 2, 1, 32, 16, True, False),
    (f"causal Lq=Lk={_NK + 1}", _NK + 1, _NK + 1, 1, 1, 17, 17, True, False),
    ("GQA 4:2 mask", 7, 200, 4, 2, 16, 24, False, True),
]


@register("dense-f32")
def dense_f32(rng) -> list:
    ref = reference("dense")

    def case(label, q, k, v, mask, causal):
        return f32_case(label, lambda name: fastattn.attention(
            q, k, v, mask=mask, causal=causal, variant=name, num_threads=2),
            ref.attention(q, k, v, mask=mask, causal=causal), q, k, v)

    cases = per_shape(rng, SHAPES, case)
    q, k, v, _ = attention_inputs(rng, 33, 40, 2, 2, 16, 16, False)
    q64 = q.astype(np.float64)
    cases.append(f32_case("float64 input, 2-d", lambda name: fastattn.attention(
        q64[0, 0], k[0, 0], v[0, 0], variant=name, num_threads=1),
        ref.attention(q64[0, 0], k[0, 0], v[0, 0]), q, k, v))
    return cases


@register("dense-i8")
def dense_i8(rng) -> list:
    ref8 = reference("int8")

    def case(label, q, k, v, mask, causal):
        qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
        return i8_case(label, lambda name: fastattn.attention(
            q, qk, qv, mask=mask, causal=causal, precision="int8", variant=name,
            num_threads=2), ref8.attention(q, k, v, mask=mask, causal=causal))

    return per_shape(rng, SHAPES, case, key_offset=True)


def _layouts(lq, lk):
    return [
        ("local w=37 block 32", fastattn.local_layout(lq, lk, 37, block=32)),
        ("causal local (100, 0) globals", fastattn.local_layout(
            lq, lk, (100, 0), causal=True, global_tokens=[0, lq // 2])),
        ("strided 3, block 16", fastattn.strided_layout(lq, lk, stride=3, block=16)),
    ]


def _layout_args(layout) -> tuple:
    return (layout.indptr, layout.indices, layout.block_q, layout.block_k, layout.window,
            layout.causal, layout.global_tokens)


@register("sparse-f32")
def sparse_f32(rng) -> list:
    ref = reference("sparse")
    cases = []
    for lq, lk, hq, hkv in ((_MQ + 1, _NK + 1, 2, 1), (200, 2 * _NK + 1, 4, 2)):
        q, k, v, mask = attention_inputs(rng, lq, lk, hq, hkv, 32, 16, hq == 4)
        for label, layout in _layouts(lq, lk):
            expected = ref.block_sparse_attention(q, k, v, *_layout_args(layout), mask=mask)
            cases.append(f32_case(f"{label} Lq={lq} Lk={lk}", lambda name, q=q, k=k, v=v,
                                  lay=layout, m=mask: fastattn.block_sparse_attention(
                                      q, k, v, lay, mask=m, variant=name, num_threads=2),
                                  expected, q, k, v))
    return cases


@register("sparse-i8")
def sparse_i8(rng) -> list:
    ref = reference("sparse_int8")
    cases = []
    for lq, lk, hq, hkv in ((_MQ + 1, _NK + 1, 2, 1), (_MQ8 + 6, 2 * _NK + 1, 4, 2)):
        q, k, v, mask = attention_inputs(rng, lq, lk, hq, hkv, 32, 16, hq == 4,
                                        key_offset=True)
        qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
        for label, layout in _layouts(lq, lk):
            expected = ref.block_sparse_attention(q, k, v, *_layout_args(layout), mask=mask)
            cases.append(i8_case(f"{label} Lq={lq} Lk={lk}", lambda name, q=q, k=qk, v=qv,
                                 lay=layout, m=mask: fastattn.block_sparse_attention(
                                     q, k, v, lay, mask=m, precision="int8", variant=name,
                                     num_threads=2), expected))
    return cases
# Registers the decode and int8 GEMM cases.
from fastattn import _selftest_decode, _selftest_gemm  # noqa: E402, F401
