"""The selftest's cases for the decode kernels (`fastattn.KVCache`), float32 and int8.

Short query blocks against caches whose lengths cross a softmax tile and a key split,
grouped-query attention, causal bottom-right alignment and a mask with a dead row.
"""

from __future__ import annotations

import numpy as np

import fastattn
from fastattn import _core
from fastattn.selftest import Case, f32_case, f32_tolerance, gaussian, reference, register

# (label, Lq, Lk, Hq, Hkv, D, Dv, causal, masked)
SHAPES = [
    ("Lq=1 Lk=1", 1, 1, 1, 1, 8, 8, True, False),
    ("Lq=1 Lk=split+1", 1, _core.DECODE_SPLIT + 1, 8, 8, 64, 64, True, False),
    ("GQA 6:2 Lq=3 Lk=tile+1", 3, _core.DECODE_TILE + 1, 6, 2, 33, 17, True, False),
    ("GQA 4:1 Lq=16 mask", 16, 3 * _core.DECODE_SPLIT - 5, 4, 1, 32, 32, False, True),
]


def _inputs(rng, lq, lk, hq, hkv, d, dv, masked):
    q = gaussian(rng, 1, hq, lq, d, scale=1.5)
    k = gaussian(rng, 1, hkv, lk, d) + gaussian(rng, d)  # a shared offset, as real keys have
    v = gaussian(rng, 1, hkv, lk, dv)
    mask = None
    if masked:
        mask = rng.random((lq, lk)) < 0.7
        mask[0] = False  # a query that sees nothing: zeros
    return q, k, v, mask


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
    cases = []
    for label, lq, lk, hq, hkv, d, dv, causal, masked in SHAPES:
        q, k, v, mask = _inputs(rng, lq, lk, hq, hkv, d, dv, masked)
        cache = _cache(k, v, "fp32")
        expected = ref.attention(q, k, v, mask=mask, causal=causal)
        cases.append(f32_case(label, lambda name, c=cache, q=q, m=mask, ca=causal: c.attend(
            q, mask=m, causal=ca, variant=name, num_threads=2), expected, q, k, v))
    return cases


@register("decode-i8")
def decode_i8(rng) -> list:
    ref8 = reference("decode_int8")
    cases = []
    for label, lq, lk, hq, hkv, d, dv, causal, masked in SHAPES:
        q, k, v, mask = _inputs(rng, lq, lk, hq, hkv, d, dv, masked)
        cache = _cache(k, v, "int8")
        t = cache.tensors()
        expected = ref8.attention(q, t["k"], t["k_scale"], t["v"], t["v_scale"], mask=mask,
                                  causal=causal)
        logit = float(np.abs(ref8.scores(q, t["k"], t["k_scale"], d ** -0.5)).max())
        vmax = float(np.abs(t["v"] * t["v_scale"][..., None]).max())
        tol = f32_tolerance(logit, lk) * max(1.0, vmax)
        cases.append(Case(label, lambda name, c=cache, q=q, m=mask, ca=causal: c.attend(
            q, mask=m, causal=ca, variant=name, num_threads=2), expected, tol))
    return cases
