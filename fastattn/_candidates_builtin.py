"""Candidates of the dense and block-sparse ops (see `fastattn.candidates`): dense
attention in float32 and int8 (exact up to precision), sliding windows and routed
block selection (approximations) in both precisions."""

from __future__ import annotations

import functools

from fastattn import decode, dense, kvcache, routed, sparse
from fastattn.candidates import AttentionShape, Candidate, register

WINDOW_FRACTIONS = (1 / 16, 1 / 8, 1 / 4)   # of L; the benchmark uses 1/8
DENSITIES = (1 / 16, 1 / 8, 1 / 4)          # of key blocks; the benchmark uses 1/8


def _dense(op: str, precision: str):
    def generate(shape: AttentionShape, sweep: bool) -> list:
        if precision == "fp32" and decode.prefers_decode(shape.lq):
            return []  # fastattn.attention sends these to the decode kernels
        return [Candidate(op, "dense", dense.attention,
                          dict(causal=shape.causal, precision=precision), exact=True)]

    return generate


register("dense-f32")(_dense("dense-f32", "fp32"))


@register("decode-f32")
def _decode_f32(shape: AttentionShape, sweep: bool) -> list:
    """A few queries against many keys: `fastattn.attention` runs the decode kernels."""
    if not decode.prefers_decode(shape.lq):
        return []
    return [Candidate("decode-f32", "decode", dense.attention,
                      dict(causal=shape.causal, precision="fp32"), exact=True)]


def _int8_cache_call(q, k, v, variant, num_threads, *, causal, precision):
    """Keys and values appended to an int8 `KVCache` once; the call is ``attend``."""
    b, hk, lk, d = k.shape
    cache = kvcache.KVCache(b, hk, d, lk, head_dim_v=v.shape[-1], precision=precision)
    cache.append(k, v)
    return functools.partial(cache.attend, q, causal=causal, variant=variant,
                             num_threads=num_threads)


@register("decode-i8")
def _decode_i8(shape: AttentionShape, sweep: bool) -> list:
    if not decode.prefers_decode(shape.lq) or shape.lq > shape.lk:
        return []
    return [Candidate("decode-i8", "kvcache", kvcache.KVCache.attend,
                      dict(causal=shape.causal, precision="int8"), binder=_int8_cache_call)]
register("dense-i8")(_dense("dense-i8", "int8"))


def _sparse(op: str, precision: str):
    def generate(shape: AttentionShape, sweep: bool) -> list:
        if shape.lq != shape.lk:
            return []  # windows and routes are laid out for self-attention (Lq = Lk)
        fractions = WINDOW_FRACTIONS if sweep else (1 / 8,)
        densities = DENSITIES if sweep else (1 / 8,)
        out = []
        windows = {max(16, int(shape.lk * f)): f"w=L/{round(1 / f)}" for f in fractions}
        for window, relative in sorted(windows.items()):
            if window < shape.lk:  # a window as wide as the sequence is dense attention
                out.append(Candidate(op, "local", sparse.local_attention,
                                     dict(window=window, causal=shape.causal,
                                          precision=precision), f"w={window}",
                                     relative=relative))
        blocks = -(-shape.lk // 64)
        for density in densities:
            if density * blocks >= 2:  # fewer than 2 kept blocks: not worth routing
                out.append(Candidate(op, "routed", routed.routed_attention,
                                     dict(density=density, causal=shape.causal,
                                          precision=precision), f"density={density:g}"))
        return out

    return generate


register("sparse-f32")(_sparse("sparse-f32", "fp32"))
register("sparse-i8")(_sparse("sparse-i8", "int8"))
