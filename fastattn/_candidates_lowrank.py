"""Candidates of the linear-time ops (see `fastattn.candidates`): linear attention
(elu+1 features), Performer FAVOR+ (random features) and Linformer (keys and values
projected along the sequence), for self-attention shapes."""

from __future__ import annotations

import functools

from fastattn import linear, linformer, performer
from fastattn.candidates import AttentionShape, Candidate, register

FEATURES = (64, 128, 256)       # Performer random features; the benchmark uses 128
RANK_FRACTIONS = (1 / 16, 1 / 8, 1 / 4)  # Linformer rank r of L; the benchmark uses 1/8


@register("linear-f32")
def _linear(shape: AttentionShape, sweep: bool) -> list:
    if shape.lq != shape.lk:
        return []
    return [Candidate("linear-f32", "linear", linear.linear_attention,
                      dict(causal=shape.causal), "elu+1")]


@register("performer-f32")
def _performer(shape: AttentionShape, sweep: bool) -> list:
    if shape.lq != shape.lk:
        return []
    return [Candidate("performer-f32", "performer", performer.performer_attention,
                      dict(num_features=m, causal=shape.causal), f"m={m}")
            for m in (FEATURES if sweep else (128,))]


def _linformer_call(q, k, v, variant, num_threads, *, rank, causal):
    """The projection (r, Lk) drawn once (seed 0); the call is the attention."""
    proj = linformer.linformer_projection(k.shape[-2], rank)
    return functools.partial(linformer.linformer_attention, q, k, v, proj_k=proj,
                             causal=causal, variant=variant, num_threads=num_threads)


@register("linformer-f32")
def _linformer(shape: AttentionShape, sweep: bool) -> list:
    if shape.lq != shape.lk or shape.causal:  # Linformer has no causal form
        return []
    out = []
    for f in (RANK_FRACTIONS if sweep else (1 / 8,)):
        rank = max(8, int(shape.lk * f))
        if rank < shape.lk:
            out.append(Candidate("linformer-f32", "linformer", linformer.linformer_attention,
                                 dict(rank=rank, causal=False), f"r={rank}",
                                 relative=f"r=L/{round(1 / f)}", binder=_linformer_call))
    return out
