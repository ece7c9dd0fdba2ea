"""Block-sparse attention: one engine over any `BlockLayout`, float32 or int8.

The engine visits, for each query block, only the key blocks its layout lists, with the
same tiles and online softmax as dense attention, so its cost scales with the number of
kept blocks. Token-level edges (an exact sliding window, causality, Longformer global
tokens) are applied inside the visited blocks.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _precision, _validate
from fastattn._dispatch import SPARSE_F32, SPARSE_I8
from fastattn._inputs import Prepared, prepare_mask
from fastattn.layouts import BlockLayout
from fastattn.patterns import DEFAULT_BLOCK, local_layout
from fastattn.quantized import QuantizedTensor

_BAND_NONE = _core.BAND_NONE


def _engine_args(layout: BlockLayout, prep: Prepared) -> dict:
    """The C engine's view: 2-d indptr, layout per (batch, head), band, global flags."""
    lq, lk = prep.lq, prep.lk
    if (lq, lk) != (layout.lq, layout.lk):
        raise ValueError(f"layout is for (Lq, Lk) = ({layout.lq}, {layout.lk}) but query and "
                         f"key have Lq={lq}, Lk={lk}")
    target = prep.batch + (prep.q.shape[1],)
    lead = layout.lead_shape
    try:
        if len(lead) > len(target):
            raise ValueError
        ids = np.broadcast_to(np.arange(max(1, math.prod(lead)), dtype=np.int32).reshape(lead),
                              target)
    except ValueError:
        raise ValueError(f"layout leading dims {lead} do not broadcast to the query's "
                         f"(..., Hq) = {target}") from None
    causal_hi = lk - lq if layout.causal else _BAND_NONE
    band_lo, band_hi = -_BAND_NONE, causal_hi
    if layout.window is not None:
        band_lo, band_hi = -layout.window[0], min(layout.window[1], causal_hi)
    if band_lo > band_hi:  # nothing in the band (global tokens may still see keys)
        band_lo = band_hi = -_BAND_NONE
    q_global = k_global = None
    if layout.global_tokens.size:
        q_global = np.zeros(lq, dtype=np.uint8)
        k_global = np.zeros(lk, dtype=np.uint8)
        q_global[layout.global_tokens[layout.global_tokens < lq]] = 1
        k_global[layout.global_tokens[layout.global_tokens < lk]] = 1
    return dict(band_lo=band_lo, band_hi=band_hi,
                indptr=np.ascontiguousarray(layout.indptr.reshape(-1, layout.nqblocks + 1)),
                indices=layout.indices, layout_of=np.ascontiguousarray(ids.reshape(-1)),
                q_global=q_global, k_global=k_global, global_hi=causal_hi)


def block_sparse_attention(q: ArrayLike, k: ArrayLike | QuantizedTensor,
                           v: ArrayLike | QuantizedTensor, layout: BlockLayout, *,
                           mask: ArrayLike | None = None, scale: float | None = None,
                           precision: str = "fp32", variant: str | None = None,
                           num_threads: int | None = None) -> np.ndarray:
    """Attention restricted to a block layout: each query block visits only its listed
    key blocks (cost proportional to ``layout.density``).

    Parameters
    ----------
    q, k, v : array_like, float16, float32 or float64
        Shapes, dtypes and grouped-query attention as in :func:`fastattn.attention`;
        with ``precision="int8"``, ``k`` and ``v`` may also be `fastattn.quantize` results.
    layout : BlockLayout
        Built by a pattern (:func:`fastattn.local_layout`, :func:`fastattn.strided_layout`,
        :func:`fastattn.fixed_layout`, :func:`fastattn.bigbird_layout`,
        :func:`fastattn.route`) or by hand. Causality and windows are the layout's.
    mask : array_like, optional
        Boolean (True = attend) or additive mask broadcastable to ``(..., Hq, Lq, Lk)``,
        applied inside the visited blocks.
    scale : float, optional
        As in :func:`fastattn.attention`.
    precision : {"fp32", "int8"}
        ``"int8"``: the int8 scheme of :func:`fastattn.attention` (see
        ``fastattn.reference.int8``) over the same layout; the keys of the listed key blocks,
        in increasing order, are cut into key tiles of 128 from the first, adjacent blocks
        or not (see ``fastattn.reference.sparse_int8``), so a full layout gives dense int8
        attention.
    variant : str, optional
        A sparse kernel by name, see ``fastattn.info()["ops"]["sparse-f32"]`` and
        ``["sparse-i8"]``.
    num_threads : int, optional
        As in :func:`fastattn.attention`.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)``; a query row that sees no key (an empty layout row) is zeros.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.random.default_rng(0).standard_normal((8, 512, 64), dtype=np.float32)
    >>> layout = fastattn.local_layout(512, 512, 64, block=64)
    >>> out = fastattn.block_sparse_attention(x, x, x, layout)
    >>> np.allclose(out, fastattn.attention(x, x, x, mask=layout.to_dense_mask()), atol=1e-5)
    True
    >>> out8 = fastattn.block_sparse_attention(x, x, x, layout, precision="int8")
    >>> float(np.linalg.norm(out8 - out) / np.linalg.norm(out)) < 0.05  # int8 error (4% here)
    True
    """
    if not isinstance(layout, BlockLayout):
        raise TypeError(f"layout must be a fastattn.BlockLayout, got {type(layout).__name__}")
    prep = _precision.prepare(q, k, v, precision=precision, scale=scale, num_threads=num_threads,
                              defer_query_check=True)
    m4 = prepare_mask(mask, prep, "mask")
    args = _engine_args(layout, prep)
    threads = _validate.num_threads(num_threads)
    kernel = _precision.kernel(prep, variant, fp32=SPARSE_F32, int8=SPARSE_I8)
    out, out4 = prep.new_output()
    common = (args["indptr"], args["indices"], args["layout_of"], layout.block_q, layout.block_k,
              args["q_global"], args["k_global"], args["global_hi"])
    if prep.int8 is None:
        _core.sparse_f32(prep.q, prep.k, prep.v, out4, m4, prep.scale, args["band_lo"],
                         args["band_hi"], *common, kernel.index, threads)
    elif not _sparse_i8(prep, out4, m4, args, common, kernel.index, threads):
        # The kernel checks q in its own pass (int8.q_limit), as dense attention does: only
        # when a block is beyond that is q checked (and maybe rescaled) here, and rerun.
        _sparse_i8(_precision.check_query(prep), out4, m4, args, common, kernel.index, threads)
    return prep.finish(out)


def _sparse_i8(prep: Prepared, out4, m4, args: dict, common: tuple, index: int,
               threads: int) -> bool:
    """The int8 kernel on `prep`; False when it refused q (beyond ``prep.int8.q_limit``)."""
    i8 = prep.int8
    return _core.sparse_i8(prep.q, i8.block, prep.k, i8.k_scale, i8.block, prep.v, i8.v_scale,
                           out4, m4, prep.scale, args["band_lo"], args["band_hi"], *common, index,
                           threads, i8.q_limit)


def local_attention(q: ArrayLike, k: ArrayLike | QuantizedTensor, v: ArrayLike | QuantizedTensor,
                    *, window: int | tuple[int, int], causal: bool = False,
                    global_tokens: ArrayLike | None = None, block: int = DEFAULT_BLOCK,
                    mask: ArrayLike | None = None, scale: float | None = None,
                    precision: str = "fp32", variant: str | None = None,
                    num_threads: int | None = None) -> np.ndarray:
    """Sliding-window attention with exact borders (Beltagy et al., 2020, Longformer):
    :func:`fastattn.block_sparse_attention` over :func:`fastattn.local_layout`.

    Cost O(Lq (left + right) D).

    Parameters
    ----------
    q, k, v : array_like
        As in :func:`fastattn.block_sparse_attention`.
    window : int or (left, right)
        Required. ``w``: query ``i`` sees keys ``|i - j| <= w``; ``(left, right)``: keys
        ``i - left <= j <= i + right``.
    causal, global_tokens, block
        As in :func:`fastattn.local_layout` (``causal`` bottom-right, as in
        :func:`fastattn.attention`).
    mask, scale, precision, variant, num_threads
        As in :func:`fastattn.block_sparse_attention`.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)``, equal to dense attention under the window's token mask.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> q, k, v = np.random.default_rng(0).standard_normal((3, 4, 1024, 64), dtype=np.float32)
    >>> fastattn.local_attention(q, k, v, window=(128, 0), global_tokens=[0]).shape
    (4, 1024, 64)
    """
    # An array without a sequence axis gets a placeholder length: block_sparse_attention then
    # rejects it by name and shape.
    lq, lk = (s[-2] if len(s) >= 2 and s[-2] else 1 for s in (np.shape(q), np.shape(k)))
    layout = local_layout(lq, lk, window, causal=causal, global_tokens=global_tokens,
                          block=block)
    return block_sparse_attention(q, k, v, layout, mask=mask, scale=scale, precision=precision,
                                  variant=variant, num_threads=num_threads)
