"""Cost models of the dense, block-sparse, local and routed ops (see `fastattn.costs`)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from fastattn import _core, dense, kvcache, patterns, routed, sparse
from fastattn.costs import Cost, attention_cost, band_pairs, describe, heads_and_batch, register

# Query rows per block of the engines (csrc/include/fastattn/tiles.h).
QUERY_TILE = {"fp32": _core.TILES["f32"]["query_rows"], "int8": _core.TILES["i8"]["query_rows"]}


def _dense(args: dict, offset_of) -> Cost:
    q, k, v = args.get("q", args.get("query")), args.get("k", args.get("key")), \
        args.get("v", args.get("value"))
    lq, lk = describe(q).shape[-2], describe(k).shape[-2]
    causal = args.get("causal", args.get("is_causal", False))
    pairs = band_pairs(lq, lk, offset_of(lq, lk) if causal else None)
    precision = args.get("precision", "fp32")
    return attention_cost(q, k, v, pairs, precision=precision,
                          mask=args.get("mask", args.get("attn_mask")),
                          query_tile=QUERY_TILE[precision])


@register(dense.attention)
def _attention(args: dict) -> Cost:
    return _dense(args, lambda lq, lk: lk - lq)


@register(dense.scaled_dot_product_attention)
def _sdpa(args: dict) -> Cost:
    return _dense(args, lambda lq, lk: 0)


def layout_pairs(layout, n: int) -> int:
    """Query-key pairs a layout's visited blocks cover, summed over ``n`` (batch, head)
    pairs (each layout of ``indptr``'s leading dims stands for its share of them)."""
    indptr = np.asarray(layout.indptr).reshape(-1, layout.nqblocks + 1)
    starts = np.asarray(layout.indices, dtype=np.int64) * layout.block_k
    widths = np.clip(layout.lk - starts, 0, layout.block_k)
    cum = np.concatenate([[0], np.cumsum(widths)])
    keys = cum[indptr[:, 1:]] - cum[indptr[:, :-1]]              # keys per query block
    rows = np.clip(layout.lq - np.arange(layout.nqblocks) * layout.block_q, 0, layout.block_q)
    per_layout = (keys * rows).sum(axis=1)
    return int(round(per_layout.mean() * n))


def _sparse(args: dict, layout) -> Cost:
    q, k, v = args["q"], args["k"], args["v"]
    n = heads_and_batch(describe(q), describe(k))
    precision = args.get("precision", "fp32")
    pairs = layout_pairs(layout, n)
    c = attention_cost(q, k, v, pairs // max(n, 1), precision=precision, mask=args.get("mask"),
                       query_tile=layout.block_q)
    layout_bytes = np.asarray(layout.indptr).nbytes + np.asarray(layout.indices).nbytes
    return c + Cost(bytes_read=layout_bytes)


@register(sparse.block_sparse_attention)
def _block_sparse(args: dict) -> Cost:
    return _sparse(args, args["layout"])


@register(sparse.local_attention)
def _local(args: dict) -> Cost:
    lq, lk = describe(args["q"]).shape[-2], describe(args["k"]).shape[-2]
    layout = patterns.local_layout(lq, lk, args["window"], causal=args.get("causal", False),
                                   global_tokens=args.get("global_tokens"),
                                   block=args.get("block", 64))
    return _sparse(args, layout)


@register(routed.routed_attention)
def _routed(args: dict) -> Cost:
    """Routing (block means, block-pair scores, the sort) plus attention over the
    expected number of kept blocks (the budget; the always-kept local and sink blocks
    when they exceed it)."""
    qo, ko = describe(args["q"]), describe(args["k"])
    n = heads_and_batch(qo, ko)
    block = args.get("block", 64)
    lq, d = qo.shape[-2:]
    lk = ko.shape[-2]
    nq, nk = math.ceil(lq / block), math.ceil(lk / block)
    top_k, density = args.get("top_k"), args.get("density")
    if top_k is None:
        kept = max(1, round((0.125 if density is None else density) * nk))
    else:
        kept = top_k
    forced = min(nk, 2 * args.get("local_blocks", 1) - 1 + args.get("sink_blocks", 1))
    kept = min(nk, max(kept, forced))
    if args.get("causal", False):
        kept = max(1, kept // 2)  # about half the blocks are visible on average
    pairs = int(min(lq * lk, lq * kept * block))
    precision = args.get("precision", "fp32")
    attend = attention_cost(args["q"], args["k"], args["v"], pairs, precision=precision,
                            mask=args.get("mask"), query_tile=block)
    routing = Cost(macs={"fp32": n * nq * nk * d},
                   other_ops={"fp32": n * ((lq + lk) * d + nq * nk * max(1, int(math.log2(nk))))},
                   allocated_bytes=8 * n * (nq + nk) * d + 8 * n * nq * nk)
    return attend + routing


@register(kvcache.KVCache.attend)
def _cache_attend(args: dict) -> Cost:
    """Attention of q against every cached token, the cache read in place (int8: the
    int8 tokens and their per-token scales; only q is quantised, per call)."""
    cache, q = args["self"], describe(args["q"])
    stored = cache.tensors()
    lq, lk = q.shape[-2], len(cache)
    pairs = band_pairs(lq, lk, lk - lq if args.get("causal", True) else None)
    precision = cache.precision
    k, v = (stored[name] for name in ("k", "v"))
    if precision == "int8":
        k = SimpleNamespace(data=k, scale=stored["k_scale"])
        v = SimpleNamespace(data=v, scale=stored["v_scale"])
    return attention_cost(args["q"], k, v, pairs, precision=precision, mask=args.get("mask"),
                          query_tile=QUERY_TILE[precision])
