"""A preallocated key/value cache per attention layer, for decoding token by token."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _pages, _precision, _validate
from fastattn._dispatch import DECODE_F32, DECODE_I8
from fastattn._inputs import Prepared, as_float_array, prepare_mask
from fastattn.decode import DECODE_MAX_LQ, prefers_decode
from fastattn.dense import attention
from fastattn.quantized import QuantizedTensor

_QMAX = np.float32(127.0)
# The decode variants that run here, by name, per precision (the fast path's look-up).
_RUNNABLE = {precision: {v.name: v.index for v in op.variants if v.runs_here}
             for precision, op in (("fp32", DECODE_F32), ("int8", DECODE_I8))}


def _quantize_tokens(x: np.ndarray):
    """Symmetric int8 per token: scale max|x| / 127 (1 for zeros), rint half to even."""
    amax = np.abs(x).max(axis=-1)
    scale = np.where(amax == 0, np.float32(1.0), amax / _QMAX).astype(np.float32)
    data = np.clip(np.rint(x / scale[..., None]), -127, 127).astype(np.int8)
    return data, scale


class KVCache:
    """Keys and values of one attention layer, stored for decoding.

    Parameters
    ----------
    batch, kv_heads, head_dim, capacity : int
        Shape of the store: ``capacity`` tokens of ``kv_heads`` heads per batch row.
    head_dim_v : int, optional
        Value head dim (default ``head_dim``).
    precision : {"fp32", "int8"}
        ``"fp32"`` keeps the tokens as given (float32). ``"int8"`` quantises each token
        when it is appended (4x smaller, about 2 % relative error): every key and value
        token gets its own scale ``max|x| / 127``; keys are first smoothed by a mean
        taken from the *first* `append` (the prompt) and then frozen, so nothing depends
        on tokens that have not arrived and appending costs O(head_dim) per token. The
        arithmetic is spelled out in ``fastattn.reference.decode_int8``.
    grow : bool
        What appending past `capacity` does: ``False`` (default) raises ValueError;
        ``True`` doubles the capacity (copying the store once, amortised O(1) per token).

    Attention is computed by the decode kernels: each key/value token is read once per
    call for all the query heads of its group, keys split across threads and merged
    exactly; results do not depend on the number of threads. Every call streams the whole
    store, so its arrays start on a cache line, and on Linux an array of 1 MiB or more is
    backed by transparent huge pages where the system grants them (2 MiB-aligned; 15-30 %
    of an int8 call at 4k keys here): it is touched 2 MiB at a time, so up to 2 MiB more
    resident memory per store array and (batch, kv head) than the tokens written need.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> cache = fastattn.KVCache(1, 2, 64, capacity=256)
    >>> k, v = (rng.standard_normal((1, 2, 10, 64), dtype=np.float32) for _ in range(2))
    >>> cache.append(k, v)            # a prompt of 10 tokens
    >>> len(cache)
    10
    >>> q = rng.standard_normal((1, 8, 1, 64), dtype=np.float32)  # 8 query heads (GQA)
    >>> cache.attend(q).shape
    (1, 8, 1, 64)
    """

    def __init__(self, batch: int, kv_heads: int, head_dim: int, capacity: int, *,
                 head_dim_v: int | None = None, precision: str = "fp32",
                 grow: bool = False) -> None:
        self.batch = _validate.positive_int(batch, "batch")
        self.kv_heads = _validate.positive_int(kv_heads, "kv_heads")
        self.head_dim = _validate.positive_int(head_dim, "head_dim")
        self.head_dim_v = self.head_dim if head_dim_v is None else _validate.positive_int(
            head_dim_v, "head_dim_v")
        self.precision = _precision.check(precision)
        if precision == "int8" and self.head_dim >= _precision.MAX_INT8_DIM:
            raise ValueError(f"precision='int8' needs head_dim < {_precision.MAX_INT8_DIM}, got "
                             f"{self.head_dim}")
        self.grow = _validate.boolean(grow, "grow")
        self._scale = _validate.scale(None, self.head_dim)
        self._length = 0
        self._mean = None
        self._alloc(_validate.positive_int(capacity, "capacity"))

    def _alloc(self, capacity: int) -> None:
        lead = (self.batch, self.kv_heads, capacity)
        old = getattr(self, "_bufs", None)
        zeros = _pages.zeros  # large stores on huge pages: every call streams them whole
        if self.precision == "fp32":
            bufs = {"k": zeros(lead + (self.head_dim,), np.float32),
                    "v": zeros(lead + (self.head_dim_v,), np.float32)}
        else:  # keys in groups of 16 tokens, values of 4: what the integer kernels read
            pair = (self.batch, self.kv_heads)
            bufs = {"k": zeros(pair + (-(-capacity // 16), 64 * -(-self.head_dim // 4)), np.int8),
                    "k_scale": zeros(lead, np.float32),
                    "v": zeros(pair + (-(-capacity // 4), 4 * self.head_dim_v), np.int8),
                    "v_scale": zeros(lead, np.float32)}
            bufs["k_scale"].fill(1.0)
            bufs["v_scale"].fill(1.0)
        if old is not None:
            n = self._length
            group = {"k": 16, "v": 4} if self.precision == "int8" else {}
            for name, buf in bufs.items():
                rows = -(-n // group.get(name, 1))
                buf[:, :, :rows] = old[name][:, :, :rows]
        self._bufs = bufs
        self._capacity = capacity
        self._bind()

    def _bind(self) -> None:
        """The kernels' hold on the arrays (pointers, strides and a workspace, taken once)."""
        bufs = self._bufs
        scales = (bufs["k_scale"], bufs["v_scale"]) if self.precision == "int8" else ()
        self._store = _core.DecodeStore(
            bufs["k"], bufs["v"], *scales, d=self.head_dim, scale=self._scale,
            max_lq=DECODE_MAX_LQ if self.precision == "fp32" else self._capacity)

    def __getstate__(self) -> dict:
        """Copies and pickles hold the arrays, not the kernels' hold on them."""
        state = self.__dict__.copy()
        del state["_store"]
        return state

    def __setstate__(self, state: dict) -> None:
        """Restores a copy or a pickle: its own arrays, bound anew."""
        self.__dict__.update(state)
        self._bind()

    @property
    def capacity(self) -> int:
        """Tokens the store holds before `append` grows it or raises."""
        return self._capacity

    @property
    def nbytes(self) -> int:
        """Bytes of the store (all `capacity` tokens, scales and the key mean included; int8
        keys and values are stored in groups of 16 and 4 tokens, the last group whole)."""
        mean = 0 if self._mean is None else self._mean.nbytes
        return sum(b.nbytes for b in self._bufs.values()) + mean

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return (f"KVCache(batch={self.batch}, kv_heads={self.kv_heads}, head_dim={self.head_dim}"
                f", head_dim_v={self.head_dim_v}, precision={self.precision!r}, "
                f"len={self._length}, capacity={self._capacity})")

    def reset(self) -> None:
        """Forget every token (and the int8 key mean); the capacity is kept."""
        self._length = 0
        self._mean = None

    def _key_slots(self) -> np.ndarray:
        """The int8 keys as (batch, kv_heads, groups, ceil(head_dim / 4), 16, 4): token j,
        feature x at [..., j // 16, x // 4, j % 16, x % 4] (features past head_dim are 0)."""
        b, h, groups, _ = self._bufs["k"].shape
        return self._bufs["k"].reshape(b, h, groups, -1, 16, 4)

    def _value_slots(self) -> np.ndarray:
        """The int8 values as (batch, kv_heads, groups, head_dim_v, 4): token j, channel x at
        [..., j // 4, x, j % 4]."""
        b, h, groups, _ = self._bufs["v"].shape
        return self._bufs["v"].reshape(b, h, groups, self.head_dim_v, 4)

    def tensors(self) -> dict:
        """Read-only arrays of the stored tokens: ``k``, ``v`` (float32 or int8,
        ``(batch, kv_heads, len, dim)``) and for int8 ``k_scale``, ``v_scale``
        ``(batch, kv_heads, len)`` and ``k_mean`` ``(batch, kv_heads, 1, head_dim)``
        (None before the first append). Views of the store, except int8 ``k`` and ``v``:
        copies, unpacked from the groups of 16 and 4 tokens the store keeps them in."""
        views = {name: buf[:, :, :self._length] for name, buf in self._bufs.items()}
        if self.precision == "int8":
            pair, n = (self.batch, self.kv_heads), self._length
            slots = self._key_slots()
            keys = slots.transpose(0, 1, 2, 4, 3, 5).reshape(pair + (-1, 4 * slots.shape[3]))
            views["k"] = keys[:, :, :n, :self.head_dim]
            values = self._value_slots().transpose(0, 1, 2, 4, 3)
            views["v"] = values.reshape(pair + (-1, self.head_dim_v))[:, :, :n]
            views["k_mean"] = None if self._mean is None else self._mean.view()
        for view in views.values():
            if view is not None:
                view.flags.writeable = False
        return views

    def _check_tokens(self, x, name: str, dim: int) -> np.ndarray:
        if isinstance(x, QuantizedTensor):
            raise TypeError(f"{name} is a QuantizedTensor: append float arrays, the "
                            f"{self.precision} cache stores them in its own format")
        a = as_float_array(x, name)
        want = (self.batch, self.kv_heads)
        if a.ndim != 4 or a.shape[:2] != want or a.shape[3] != dim:
            raise ValueError(f"{name} must have shape (batch, kv_heads, n, {dim}) = "
                             f"({self.batch}, {self.kv_heads}, n, {dim}), got {a.shape}")
        a = a.astype(np.float32, copy=False)
        if self.precision == "int8" and not np.isfinite(a).all():
            raise ValueError(f"{name} must be finite to be quantised")
        return a

    def append(self, k: ArrayLike, v: ArrayLike) -> None:
        """Appends n tokens: k ``(batch, kv_heads, n, head_dim)``, v ``(batch, kv_heads, n,
        head_dim_v)``, float16/32/64. Past the capacity: grows (``grow=True``) or raises
        ValueError, leaving the cache unchanged."""
        k = self._check_tokens(k, "k", self.head_dim)
        v = self._check_tokens(v, "v", self.head_dim_v)
        n = k.shape[2]
        if v.shape[2] != n:
            raise ValueError(f"k and v must append the same number of tokens: k {k.shape}, "
                             f"v {v.shape}")
        end = self._length + n
        if end > self._capacity:
            if not self.grow:
                raise ValueError(f"appending {n} tokens to a cache holding {self._length} "
                                 f"exceeds its capacity {self._capacity} (pass grow=True to "
                                 f"grow it, or reset() it)")
            self._alloc(max(end, 2 * self._capacity))
        if n == 0:
            return
        rows = slice(self._length, end)
        if self.precision == "fp32":
            self._bufs["k"][:, :, rows] = k
            self._bufs["v"][:, :, rows] = v
        else:
            if self._mean is None:
                k64 = np.ascontiguousarray(k, dtype=np.float64)
                self._mean = (k64.sum(axis=-2, keepdims=True) / n).astype(np.float32)
            tokens = np.arange(self._length, end)
            keys, self._bufs["k_scale"][:, :, rows] = _quantize_tokens(k - self._mean)
            slots = self._key_slots()
            padded = np.zeros(keys.shape[:3] + (4 * slots.shape[3],), np.int8)
            padded[..., :self.head_dim] = keys
            slots[:, :, tokens // 16, :, tokens % 16] = padded.reshape(
                keys.shape[:3] + (-1, 4)).transpose(2, 0, 1, 3, 4)
            values, self._bufs["v_scale"][:, :, rows] = _quantize_tokens(v)
            self._value_slots()[:, :, tokens // 4, :, tokens % 4] = values.transpose(2, 0, 1, 3)
        self._length = end

    def attend(self, q: ArrayLike, *, mask: ArrayLike | None = None, causal: bool = True,
               scale: float | None = None, variant: str | None = None,
               num_threads: int | None = None) -> np.ndarray:
        """Attention of q ``(batch, heads, Lq, head_dim)`` to every cached token.

        ``heads`` must be a multiple of ``kv_heads`` (grouped-query attention: query head
        ``h`` reads kv head ``h // (heads // kv_heads)``). ``causal`` (default True)
        treats the Lq queries as the last Lq cached positions (bottom-right: query ``i``
        sees tokens ``j <= len - Lq + i``), so Lq may not exceed ``len(cache)``. ``mask``:
        boolean (True = attend) or additive float, broadcastable to
        ``(batch, heads, Lq, len)``. ``variant`` forces a decode kernel by name (see
        ``fastattn.info()``). Returns ``(batch, heads, Lq, head_dim_v)`` in q's dtype; a
        row that sees no token is zeros.
        """
        # the plain call (float32 array, default options) goes straight to the store, which
        # checks q in C: after a call has streamed the cache through L2 every Python step
        # runs cold (~1 us each at 4k); anything else takes the general path below
        if mask is None and scale is None and causal is True and type(q) is np.ndarray:
            index = _RUNNABLE[self.precision].get(variant) if variant is not None else (
                DECODE_F32 if self.precision == "fp32" else DECODE_I8).chosen.index
            threads = _validate.num_threads(None) if num_threads is None else num_threads
            if index is not None and type(threads) is int:
                out = self._store.attend(q, self._length, index, threads)
                if out is not None:
                    return out
        if causal is not True and causal is not False:
            causal = _validate.boolean(causal, "causal")
        if type(q) is not np.ndarray or q.dtype != np.float32:
            q = as_float_array(q, "q")
        if q.ndim != 4 or q.shape[0] != self.batch or q.shape[3] != self.head_dim:
            raise ValueError(f"q must have shape (batch, heads, Lq, head_dim) = ({self.batch}, "
                             f"heads, Lq, {self.head_dim}), got {q.shape}")
        heads, lq = q.shape[1], q.shape[2]
        if heads % self.kv_heads != 0:
            raise ValueError(f"q has {heads} heads, not a multiple of the cache's kv_heads="
                             f"{self.kv_heads} (grouped-query attention)")
        if lq == 0:
            raise ValueError(f"q has no query rows: shape {q.shape}")
        if lq > self._length:
            raise ValueError(f"q has {lq} query rows but the cache holds {self._length} "
                             f"tokens: append the new tokens' keys and values first")
        op = DECODE_F32 if self.precision == "fp32" else DECODE_I8
        kernel = op.resolve(variant)
        threads = num_threads if type(num_threads) is int and 1 <= num_threads <= \
            _core.MAX_THREADS else _validate.num_threads(num_threads)
        scale = self._scale if scale is None else _validate.scale(scale, self.head_dim)
        q4 = q if q.dtype == np.float32 else q.astype(np.float32)
        if q4.strides[-1] != 4 or not q4.flags.aligned:
            q4 = np.ascontiguousarray(q4)
        b, n = self._bufs, self._length
        band_hi = n - lq if causal else _core.BAND_NONE
        m4 = None
        if mask is not None:  # the int8 store is grouped; Prepared reads only Lk from these
            view = (b["k"][:, :, :n], b["v"][:, :, :n]) if self.precision == "fp32" else (
                b["k_scale"][:, :, :n, None],) * 2
            prep = Prepared(q4, view[0], view[1], (self.batch, heads, lq, self.head_dim_v),
                            q.dtype, (self.batch,), scale)
            m4 = prepare_mask(mask, prep, "mask")
            if self.precision == "int8" and (np.isnan(m4).any() or np.isposinf(m4).any()):
                raise ValueError("mask holds NaN or +inf, which an int8 cache does not take "
                                 "(mask a key with -inf or False)")
        if self.precision == "fp32" and not prefers_decode(lq) and variant is None:
            return attention(q4, b["k"][:, :, :n], b["v"][:, :, :n], mask=mask, causal=causal,
                             scale=scale, num_threads=threads).astype(q.dtype, copy=False)
        out = np.empty((self.batch, heads, lq, self.head_dim_v), np.float32)
        try:  # the int8 kernels check that q is finite while they quantise it
            self._store.run(q4, out, n, m4, scale, band_hi, kernel.index, threads)
        except ValueError as e:
            if "FA_ERR_NONFINITE" not in str(e):
                raise
            raise ValueError("q must be finite for an int8 cache") from None
        return out if q.dtype == np.float32 else out.astype(q.dtype)
