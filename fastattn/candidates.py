"""Ways to compute (or approximate) attention over one shape: the menu that
``python -m fastattn bench`` times and `fastattn.tune` chooses from.

Each op of `fastattn._dispatch.OPS` that can stand in for ``attention(q, k, v)``
registers a generator here (`register`): given an `AttentionShape` it returns
`Candidate` settings (a public function and its keyword arguments: a window, a
density, a precision). Every setting is then run with every variant of its op that
runs on this CPU, so a new op or a new ISA shows up without a hand-kept list.

`structured_inputs` makes data of any shape with the structure that sparse attention
relies on (keys that drift slowly along the sequence, plus queries that recall a distant
block; the workload of the sparse tests and benchmarks), so that the quality of an
approximation is measured on something like a real layer rather than on white noise,
where every key is equally relevant.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from fastattn._workloads import retention
from fastattn._workloads import structured_inputs as structured_workload


@dataclass(frozen=True)
class AttentionShape:
    """The shapes of one attention call: ``q (batch, heads, lq, d)``,
    ``k (batch, kv_heads, lk, d)``, ``v (batch, kv_heads, lk, dv)``; lk, kv_heads and dv
    default to lq, heads and d."""

    batch: int
    heads: int
    lq: int
    d: int
    lk: int | None = None
    kv_heads: int | None = None
    dv: int | None = None
    causal: bool = False

    def __post_init__(self) -> None:
        for name in ("lk", "kv_heads", "dv"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, {"lk": self.lq, "kv_heads": self.heads,
                                                "dv": self.d}[name])
        for name in ("batch", "heads", "lq", "d", "lk", "kv_heads", "dv"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads "
                             f"({self.kv_heads})")

    @classmethod
    def of(cls, shape, *, causal: bool = False) -> AttentionShape:
        """From an AttentionShape, a q shape ``(batch, heads, L, D)`` (self-attention), or
        the arrays ``(q, k, v)``."""
        if isinstance(shape, cls):
            return shape
        if len(shape) == 3 and all(hasattr(x, "shape") for x in shape):
            q, k, v = (np.shape(x) for x in shape)
            if len(q) != 4 or len(k) != 4 or len(v) != 4:
                raise ValueError(f"q, k, v must be 4-d (batch, heads, L, D), got {q}, {k}, {v}")
            return cls(q[0], q[1], q[2], q[3], lk=k[2], kv_heads=k[1], dv=v[3], causal=causal)
        if len(shape) != 4:
            raise ValueError(f"shape must be (batch, heads, L, D), got {shape!r}")
        return cls(*(int(n) for n in shape), causal=causal)

    @property
    def label(self) -> str:
        lk = "" if self.lk == self.lq else f" Lk={self.lk}"
        gqa = "" if self.kv_heads == self.heads else f"/{self.kv_heads}"
        return (f"B={self.batch} H={self.heads}{gqa} L={self.lq}{lk} D={self.d}"
                + (" causal" if self.causal else ""))


@dataclass(frozen=True)
class Candidate:
    """``fn(q, k, v, **kwargs, variant=..., num_threads=...)``: one setting of one op."""

    op: str                       # the _dispatch.OPS key whose variants run it
    method: str                   # "dense", "local", "routed", ...
    fn: object
    kwargs: dict = field(default_factory=dict)
    setting: str = ""             # e.g. "w=128", "density=0.125"
    exact: bool = False           # computes exact attention (up to its precision)
    relative: str = ""            # the setting relative to the shape, e.g. "w=L/8"
    binder: object = None         # optional binder(q, k, v, variant, num_threads, **kwargs):
                                  # a call that needs state prepared once (a filled KV cache)

    @property
    def name(self) -> str:
        precision = self.kwargs.get("precision", "fp32")
        return f"{self.method}-{precision}" + (f" {self.setting}" if self.setting else "")

    @property
    def family(self) -> str:
        """The name with the setting relative to the shape: the same across lengths."""
        if not self.relative:
            return self.name
        return f"{self.method}-{self.kwargs.get('precision', 'fp32')} {self.relative}"

    def bind(self, q, k, v, *, variant: str | None = None, num_threads: int | None = None):
        """A zero-argument call computing attention of (q, k, v) with this setting."""
        if self.binder is not None:
            return self.binder(q, k, v, variant, num_threads, **self.kwargs)
        return functools.partial(self.fn, q, k, v, variant=variant, num_threads=num_threads,
                                 **self.kwargs)

    @staticmethod
    def cost_of(call):
        """`fastattn.cost` of a call made by `bind` (a functools.partial)."""
        from fastattn.costs import cost

        return cost(call.func, *call.args, **call.keywords)


_GENERATORS: dict = {}


def register(op: str):
    """Decorator: ``@register("sparse-f32")`` on ``generator(shape: AttentionShape, sweep:
    bool) -> list[Candidate]``; ``sweep=False`` asks for one representative setting per
    method (the benchmark), ``sweep=True`` for every setting worth trying (tune)."""
    def decorate(generator):
        _GENERATORS[op] = generator
        return generator

    return decorate


def registered() -> tuple:
    _load_builtin()
    return tuple(_GENERATORS)


def candidates(shape, *, sweep: bool = False, ops=None) -> list:
    """Every registered candidate for ``shape`` over the ops `fastattn._dispatch` lists."""
    from fastattn import _dispatch

    _load_builtin()
    shape = AttentionShape.of(shape)
    out = []
    for op in (ops or list(_dispatch.OPS)):
        generator = _GENERATORS.get(op)
        if generator is not None:
            out.extend(generator(shape, sweep))
    return out


def runnable_variants(op: str) -> list:
    from fastattn import _dispatch

    return [v.name for v in _dispatch.OPS[op].variants if v.runs_here]


def _load_builtin() -> None:
    # register dense, sparse, routed, decode; linear, performer, linformer
    from fastattn import _candidates_builtin, _candidates_lowrank  # noqa: F401


def quality(out, exact) -> float:
    """``1 - ||out - exact|| / ||exact||`` (Frobenius norms): 1 is exact."""
    return retention(out, exact)


@functools.lru_cache(maxsize=4)
def structured_inputs(shape: AttentionShape, seed: int = 0) -> tuple:
    """Read-only float32 ``(q, k, v)`` of ``shape`` with local structure and long-range
    recalls: `fastattn._workloads.structured_inputs` (keys an AR(1) walk along the
    sequence, queries the keys plus noise, one query block in 8 recalling a distant key
    block), drawn for ``batch * kv_heads`` heads of ``max(Lq, Lk)`` tokens; keys and values
    keep the first ``Lk`` tokens, queries the last ``Lq`` (as in decoding), grouped query
    heads repeat their key head's queries, and values of another width are white noise.
    Blocks of recalled keys are 64 tokens, or L/8 for L < 512."""
    n = max(shape.lq, shape.lk, 8)
    # recalls need at least 5 blocks: shorter sequences get shorter blocks
    q, k, v = structured_workload(n, heads=shape.batch * shape.kv_heads, dim=shape.d,
                                  block=min(64, n // 8), seed=seed)
    split = (shape.batch, shape.kv_heads)
    q = np.repeat(q.reshape(split + (n, shape.d))[:, :, n - shape.lq:], shape.heads //
                  shape.kv_heads, axis=1)
    k = k.reshape(split + (n, shape.d))[:, :, :shape.lk]
    if shape.dv == shape.d:
        v = v.reshape(split + (n, shape.d))[:, :, :shape.lk]
    else:
        v = np.random.default_rng(seed).standard_normal(split + (shape.lk, shape.dv))
    arrays = tuple(np.ascontiguousarray(x, dtype=np.float32) for x in (q, k, v))
    for x in arrays:
        x.flags.writeable = False
    return arrays
