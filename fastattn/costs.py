"""What one call costs, before running it: multiply-accumulates by precision, other
arithmetic, bytes read and written, and the memory the Python layer allocates.

``fastattn.cost(fn, *args, **kwargs)`` takes the same arguments as ``fn`` (arrays, or
shapes as tuples of ints, which count as float32) and returns a `Cost`. Each public op
registers its model here with `register`; the registry is keyed by the function, and
the model receives the call's arguments bound to the function's signature, defaults
filled in, so it reads them by name::

    from fastattn.costs import Cost, register, describe

    @register(my_attention)
    def _my_attention_cost(args: dict) -> Cost:
        q, k, v = (describe(args[name]) for name in ("q", "k", "v"))
        ...

Conventions shared by every model (so that the figures of different ops compare):
- ``macs``: the multiply-accumulates the kernel performs, per precision (``"fp32"``,
  ``"int8"``, ...): for attention ``P (D + Dv)``, P the query-key pairs it computes
  (every pair for dense, the causal band, or the visited blocks of a layout);
- ``other_ops``: the other arithmetic, per precision; the softmax is counted as
  `SOFTMAX_OPS` per score (scale, running max, subtract, exp2 as range reduction and
  a degree-5 polynomial, running sum);
- ``bytes_read`` / ``bytes_written``: traffic to and from DRAM when every input is read
  once and the output written once (tiles stay in cache), plus the Python layer's own
  temporaries (dtype conversions, int8 copies), which are written and read again;
- ``cache_bytes``: key/value tiles re-read from the on-chip cache, once per block of
  query rows after the first;
- ``allocated_bytes``: what the Python layer allocates for the call: the output and
  its temporaries (the C kernels allocate nothing themselves).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

SOFTMAX_OPS = 10


@dataclass(frozen=True)
class Cost:
    """The work and traffic of one call (see the module docstring for the conventions)."""

    macs: dict = field(default_factory=dict)
    other_ops: dict = field(default_factory=dict)
    bytes_read: int = 0
    bytes_written: int = 0
    cache_bytes: int = 0
    allocated_bytes: int = 0
    notes: tuple = ()

    @property
    def ops(self) -> int:
        """Arithmetic operations as usually counted for attention: 2 per MAC."""
        return 2 * sum(self.macs.values())

    def __add__(self, other: Cost) -> Cost:
        def merged(a: dict, b: dict) -> dict:
            return {p: a.get(p, 0) + b.get(p, 0) for p in {**a, **b}}

        return Cost(merged(self.macs, other.macs), merged(self.other_ops, other.other_ops),
                    self.bytes_read + other.bytes_read, self.bytes_written + other.bytes_written,
                    self.cache_bytes + other.cache_bytes,
                    self.allocated_bytes + other.allocated_bytes, self.notes + other.notes)

    def as_dict(self) -> dict:
        return dict(macs=dict(self.macs), other_ops=dict(self.other_ops), ops=self.ops,
                    bytes_read=self.bytes_read, bytes_written=self.bytes_written,
                    cache_bytes=self.cache_bytes, allocated_bytes=self.allocated_bytes,
                    notes=list(self.notes))


@dataclass(frozen=True)
class Operand:
    """What a cost model needs of an argument: shape, bytes per element, bytes in total,
    whether the call must convert it to contiguous float32 (a temporary), and whether it
    is already int8 (a `fastattn.QuantizedTensor`)."""

    shape: tuple
    itemsize: int
    nbytes: int
    converted: bool = False
    quantized: bool = False


def describe(x) -> Operand:
    """An `Operand` for an array, a QuantizedTensor, anything with ``shape`` and
    ``dtype``, or a shape given as a tuple of ints (float32)."""
    if isinstance(x, tuple) and all(isinstance(n, (int, np.integer)) for n in x):
        shape = tuple(int(n) for n in x)
        return Operand(shape, 4, 4 * math.prod(shape))
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray) and data.dtype == np.int8 and hasattr(x, "scale"):
        return Operand(data.shape, 1, data.nbytes + x.scale.nbytes, quantized=True)
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        x = np.asarray(x)
    dtype = np.dtype(x.dtype)
    shape = tuple(x.shape)
    converted = dtype != np.float32
    if isinstance(x, np.ndarray) and x.ndim and x.shape[-1] > 1 and x.strides[-1] != 4:
        converted = True
    return Operand(shape, dtype.itemsize, dtype.itemsize * math.prod(shape), converted)


_MODELS: dict = {}


def register(fn):
    """Decorator: ``@register(fastattn.attention)`` makes the decorated
    ``model(args: dict) -> Cost`` the cost model of ``fn`` (a method, e.g.
    ``KVCache.attend``, gets ``args["self"]``)."""
    def decorate(model):
        _MODELS[fn] = model
        return model

    return decorate


def registered() -> dict:
    """{function: model} for every op that has a cost model."""
    return dict(_MODELS)


def cost(fn: Callable, *args, **kwargs) -> Cost:
    """The `Cost` of ``fn(*args, **kwargs)`` without running it.

    Arrays may be replaced by their shapes (tuples of ints, taken as float32), so a
    user can size a call before allocating anything.

    Examples
    --------
    >>> import fastattn
    >>> c = fastattn.cost(fastattn.attention, (1, 8, 1024, 64), (1, 8, 1024, 64),
    ...                   (1, 8, 1024, 64), causal=True)
    >>> c.macs["fp32"], c.bytes_read, c.bytes_written
    (537395200, 6291456, 2097152)
    """
    owner = getattr(fn, "__self__", None)  # a bound method: the model sees ``self`` too
    target = inspect.unwrap(getattr(fn, "__func__", fn))
    if owner is not None and not inspect.ismodule(owner):
        args = (owner, *args)
    model = _MODELS.get(target)
    if model is None:
        names = sorted(getattr(f, "__qualname__", repr(f)) for f in _MODELS)
        raise TypeError(f"no cost model registered for {getattr(fn, '__qualname__', fn)!r}; "
                        f"ops with one: {names}")
    bound = inspect.signature(target).bind(*args, **kwargs)
    bound.apply_defaults()
    return model(dict(bound.arguments))


def heads_and_batch(q: Operand, k: Operand) -> int:
    """Number of (batch, query head) pairs: the leading dims of q and k broadcast, the
    head axis (-3) taken from whichever has more heads (grouped-query attention)."""
    qlead, klead = (((1,) + x.shape[:-2])[-max(1, len(x.shape) - 2):] for x in (q, k))
    batch = np.broadcast_shapes(qlead[:-1], klead[:-1])
    return math.prod(batch) * max(qlead[-1], klead[-1])


def band_pairs(lq: int, lk: int, offset: int | None) -> int:
    """Query-key pairs with ``j <= i + offset`` (None: every pair)."""
    if offset is None:
        return lq * lk
    return int(np.clip(np.arange(lq) + offset + 1, 0, lk).sum())


def output_bytes(n: int, lq: int, dv: int, converted_dtype_bytes: int | None = None) -> int:
    """The float32 output, plus the caller-dtype copy when inputs were not float32."""
    out = 4 * n * lq * dv
    return out + (n * lq * dv * converted_dtype_bytes if converted_dtype_bytes else 0)


def attention_cost(q, k, v, pairs_per_head: int, *, precision: str, mask=None,
                   query_tile: int = 64) -> Cost:
    """The cost of attention over ``pairs_per_head`` query-key pairs per (batch, head),
    float32 or int8 (the scheme of `fastattn.reference.int8`), shared by every op that
    runs the dense or block-sparse engine."""
    qo, ko, vo = (describe(x) for x in (q, k, v))
    n = heads_and_batch(qo, ko)
    lq, d = qo.shape[-2:]
    lk, dv = vo.shape[-2:]
    pairs = n * pairs_per_head
    read = qo.nbytes + ko.nbytes + vo.nbytes
    temps = sum(x.nbytes // x.itemsize * 4 for x in (qo, ko, vo)
                if x.converted and not x.quantized)
    if mask is not None:
        read += describe(mask).nbytes
    in_dtype = max((x for x in (qo, ko, vo) if not x.quantized), key=lambda x: x.itemsize)
    out = output_bytes(n, lq, dv, in_dtype.itemsize if in_dtype.itemsize != 4 else None)
    elem = 1 if precision == "int8" else 4
    # each block of query_tile rows reads the key/value rows it visits; the first read
    # of each row is the DRAM read above, the others hit the cache
    rereads = int(max(0.0, pairs_per_head / min(query_tile, lq) - lk) * n * (d + dv) * elem)
    if precision == "int8":
        macs = {"int8": pairs * (d + dv)}
        # per score: 2 rescales, max, subtract-scale-clamp-round (fp32); table and shifts
        other = {"fp32": pairs * 7, "int32": pairs * 3}
        quantised = n * lq * d  # q is always quantised per call (4 fp32 ops per element)
        for x in (ko, vo):
            if not x.quantized:
                quantised += x.nbytes // x.itemsize
        other["fp32"] += 4 * quantised
        temps += quantised  # int8 copies
    else:
        macs = {"fp32": pairs * (d + dv)}
        other = {"fp32": pairs * SOFTMAX_OPS}
    return Cost(macs, other, bytes_read=read + temps, bytes_written=out + temps,
                cache_bytes=rereads, allocated_bytes=out + temps)
