"""Block-sparse int8 attention: the int8 arithmetic of reference/int8.py over a block layout.

Quantisation is unchanged (keys smoothed and int8 per block of tokens, queries per
block, values per channel). Which keys a query sees is the token mask of
reference/sparse.py (blocks, window, causal, global tokens, user mask). What sparsity
adds to the arithmetic is the order and grouping of the keys, because the int8 softmax
flushes its integer accumulators once per key tile:

- the keys of the blocks listed for a query block, in increasing order, are cut into
  tiles of 128 keys from the first one, whether or not the blocks are adjacent (blocks 3,
  5 and 9 of 64 keys give the tiles [3b, 4b) + [5b, 6b) and [9b, 10b)); the tiles are
  visited in increasing key order. With 64-key blocks a tile thus holds two listed blocks,
  and the kernels pay their per-tile work once per 128 keys rather than once per block.

A full layout lists every key, so it tiles exactly like dense int8 attention.
A query row that sees no key returns zeros.
"""

from __future__ import annotations

import numpy as np

from . import int8
from .sparse import token_mask


def key_ranges(blocks, block_k: int, lk: int) -> list:
    """[(begin, end)] key ranges of a sorted list of key blocks, adjacent blocks merged."""
    ranges = []
    for c in blocks:
        begin, end = int(c) * block_k, min((int(c) + 1) * block_k, lk)
        if ranges and ranges[-1][1] == begin:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((begin, end))
    return ranges


def key_tiles(ranges, key_tile: int = int8.KEY_TILE) -> list:
    """Tiles of at most key_tile keys, as arrays of key numbers: the keys of the sorted,
    disjoint ranges [(begin, end)] one after the other, cut every key_tile keys."""
    keys = np.concatenate([np.arange(begin, end) for begin, end in ranges] or [[]])
    keys = keys.astype(np.int64)
    return [keys[j:j + key_tile] for j in range(0, len(keys), key_tile)]


def layout_ids(indptr, batch: int, heads: int) -> np.ndarray:
    """(batch, heads) index of the layout each (b, h) uses: indptr's leading dims
    broadcast against (batch, heads)."""
    lead = np.shape(indptr)[:-1]
    return np.broadcast_to(np.arange(max(1, int(np.prod(lead)))).reshape(lead), (batch, heads))


def attention_quantized(qi, qscale, q_block, ki, kscale, k_block, vi, vscale, indptr, indices,
                        block_q: int, block_k: int, window=None, causal: bool = False,
                        global_tokens=None, mask=None, scale=None):
    """int8 block-sparse attention on quantised 4-d inputs (as int8.attention_quantized)
    over the layout (indptr (..., nqblocks + 1), indices) of reference/sparse.py, with its
    window, causal and global tokens. Returns float32 (B, Hq, Lq, Dv)."""
    b, hq, lq, d = qi.shape
    hkv, lk, dv = ki.shape[1], ki.shape[2], vi.shape[3]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    c = np.float32(scale) * int8.LOG2E
    indptr = np.asarray(indptr)
    visible = token_mask(indptr, indices, lq, lk, block_q, block_k, window, causal,
                         global_tokens)
    flat_ptr = indptr.reshape(-1, indptr.shape[-1])
    flat_visible = visible.reshape((-1, lq, lk))
    ids = layout_ids(indptr, b, hq)
    mask = int8.additive_mask(mask, (b, hq, lq, lk))
    out = np.zeros((b, hq, lq, dv), dtype=np.float32)
    for bi in range(b):
        for h in range(hq):
            kh = h // (hq // hkv)
            lay = ids[bi, h]
            kscale_tok = np.repeat(kscale[bi, kh], k_block)[:lk]
            for r in range(flat_ptr.shape[1] - 1):
                blocks = indices[flat_ptr[lay, r]:flat_ptr[lay, r + 1]]
                tiles = key_tiles(key_ranges(blocks, block_k, lk))
                for i in range(r * block_q, min((r + 1) * block_q, lq)):
                    add = np.where(flat_visible[lay, i], np.float32(0.0), np.float32(-np.inf))
                    if mask is not None:
                        add = (add + mask[bi, h, i] * int8.LOG2E).astype(np.float32)
                    out[bi, h, i] = int8.attend_row(qi[bi, h, i], qscale[bi, h, i // q_block],
                                                    ki[bi, kh], kscale_tok, vi[bi, kh],
                                                    vscale[bi, kh], c, add, tiles=tiles)[0]
    return out


def block_sparse_attention(q, k, v, indptr, indices, block_q: int, block_k: int, window=None,
                           causal: bool = False, global_tokens=None, mask=None, scale=None,
                           block: int = int8.DEFAULT_BLOCK, smooth: bool = True):
    """int8 block-sparse attention of 4-d float inputs: quantise as int8.attention does
    (quantisation block `block`), then `attention_quantized`."""
    q = np.asarray(q, dtype=np.float32)
    k = np.asarray(k, dtype=np.float32)
    if smooth:
        k, _ = int8.smooth_keys(k)
    qi, qs = int8.quantize_queries(q, block)
    ki, ks = int8.quantize_blocks(k, block)
    vi, vs = int8.quantize_channels(v)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    return attention_quantized(qi, qs, block, ki, ks, block, vi, vs, indptr, indices, block_q,
                               block_k, window, causal, global_tokens, mask, scale)
