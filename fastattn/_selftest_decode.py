"""The selftest's cases for the decode kernels (`fastattn.KVCache`), float32 and int8.

Short query blocks against caches whose lengths cross a softmax tile and a key split,
grouped-query attention, causal bottom-right alignment and a mask with a dead row.
"""

from __future__ import annotations

import numpy as np

import fastattn
from fastattn import _core
from fastattn.selftest import Case, f32_case, f32_tolerance, per_shape, reference, register

# (label, Lq, Lk, Hq, Hkv, D, Dv, causal, masked)
SHAPES = [
    ("Lq=1 Lk=1", 1, 1, 1, 1, 8, 8, True, False),
    ("Lq=1 Lk=split+1", 1, _core.DECODE_SPLIT + 1, 8, 8, 64, 64, True, False),
    ("GQA 6:2 Lq=3 Lk=tile+1", 3, _core.DECODE_TILE + 1, 6, 2, 33, 17, True, False),
    ("GQA 4:1 Lq=16 mask", 16, 3 * _core.DECODE_SPLIT - 5, 4, 1, 32, 32, False, True),
]


def _cache(k, v, precision):
    cache = fastattn.KVCache(k.shape[0], k.shape[1], k.shape[3], k.shape[2],
                             head_dim_v=v.shape[3], precision=precision)
    half = (k.shape[2] + 1) // 2  # two appends: the int8 mean comes from the first
    cache.append(k[:, :, :half], v[:, :, :half])
    cache.append(k[:, :, half:], v[:, :, half:])
    return cache


@register("decode-f32")
def decode_f32(rng) -> list:
    ref = reference("dense")

    def case(label, q, k, v, mask, causal):
        cache = _cache(k, v, "fp32")
        return f32_case(label, lambda name: cache.attend(
            q, mask=mask, causal=causal, variant=name, num_threads=2),
            ref.attention(q, k, v, mask=mask, causal=causal), q, k, v)

    return per_shape(rng, SHAPES, case, key_offset=True)


@register("decode-i8")
def decode_i8(rng) -> list:
    ref8 = reference("decode_int8")

    def case(label, q, k, v, mask, causal):
        cache = _cache(k, v, "int8")
        t = cache.tensors()
        expected = ref8.attention(q, t["k"], t["k_scale"], t["v"], t["v_scale"], mask=mask,
                                  causal=causal)
        logit = float(np.abs(ref8.scores(q, t["k"], t["k_scale"], q.shape[-1] ** -0.5)).max())
        vmax = float(np.abs(t["v"] * t["v_scale"][..., None]).max())
        tol = f32_tolerance(logit, k.shape[-2]) * max(1.0, vmax)
        return Case(label, lambda name: cache.attend(
            q, mask=mask, causal=causal, variant=name, num_threads=2), expected, tol)

    return per_shape(rng, SHAPES, case, key_offset=True)
