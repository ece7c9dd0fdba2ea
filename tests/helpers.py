"""What the test modules share: tolerances with their reasons, sequence lengths that cross
the tiles `_core` reports, the variants `_dispatch` lists, random inputs, closeness checks
and the block-sparse fixtures. Test modules import from here, never from each other.

Tolerances:
- float32 kernels against a float64 reference: `f32_tolerance` (declared once, in
  `fastattn.selftest`, which the shipped selftest uses too: each score carries a float32
  rounding error of about eps·|logit| that exp turns into a relative error of the weights;
  the weighted sum over Lk keys adds about eps·sqrt(Lk) relative to max|v|).
- int8 kernels against the int8 reference: `INT8_RTOL` of the largest output (also
  declared in `fastattn.selftest`): the references spell out the kernels' integer
  arithmetic, so quantised data, q·k, z, P and P·v agree exactly; only the float rescale
  2^(m_old - m) and the final division may round differently. Short key lengths keep it
  sharp: with Lk <= ~300 one P off by one moves the output by more than 1e-4.
- int8 against the float64 reference (the accuracy int8 promises): mean per-row cosine
  >= `INT8_MIN_COSINE` and relative L2 error <= `INT8_MAX_REL_L2`.
- float16 results: `F16_RTOL`, the float16 rounding of the output (2^-11 relative, with
  headroom for the float32 kernel's own error).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn import _core, _dispatch
from fastattn.reference import sparse as sparse_ref
from fastattn.reference import sparse_int8 as sparse_ref_i8
from fastattn.selftest import F32_EPS, INT8_RTOL, f32_tolerance, gaussian

# Re-exported: declared once in the library, where the shipped selftest uses them too.
__all__ = ["F32_EPS", "INT8_RTOL", "f32_tolerance", "gaussian"]

INT8_MIN_COSINE = 0.999
INT8_MAX_REL_L2 = 0.03
F16_RTOL = 2e-3

# ---- tiles and the lengths that cross them -------------------------------------------------

def tile(dtype: str) -> tuple:
    """(query rows per block, keys per tile) of the float32 ("f32") or int8 ("i8") engine."""
    t = _core.TILES[dtype]
    return t["query_rows"], t["keys"]


def edges(t: int, r: int = 3) -> list:
    """Lengths that cross a tile of `t`: 1, t-1, t, t+1 and 2·t + r."""
    return sorted({1, t - 1, t, t + 1, 2 * t + r} - {0})


def lengths(dtype: str, *extra: int) -> list:
    """The edges of both tiles of an engine, and `extra` lengths."""
    rows, keys = tile(dtype)
    return sorted(set(edges(rows)) | set(edges(keys)) | set(extra))


# ---- variants, as _dispatch lists them -----------------------------------------------------

def runnable(op: str) -> list:
    """Names of the compiled variants of `op` that run on this CPU (parametrise over them)."""
    return [v.name for v in _dispatch.OPS[op].variants if v.runs_here]


def compiled(op: str) -> list:
    """Every compiled variant, with those this CPU cannot run marked as skipped."""
    return [
        pytest.param(v.name, marks=() if v.runs_here else pytest.mark.skip(
            reason=f"{v.isa} not supported by this CPU"))
        for v in _dispatch.OPS[op].variants
    ]


def fallback(op: str) -> str:
    """The portable variant of `op`: its table is ordered best first and ends with it."""
    return _dispatch.OPS[op].variants[-1].name


# ---- attention shapes and inputs -----------------------------------------------------------

@dataclass(frozen=True)
class AttentionShape:
    """The sizes of one attention call: queries (batch, heads, lq, d) against keys
    (batch, kv_heads, lk, d) and values (batch, kv_heads, lk, dv); heads is a multiple of
    kv_heads (grouped-query attention when larger)."""

    batch: int
    heads: int
    kv_heads: int
    lq: int
    lk: int
    d: int
    dv: int

    def inputs(self, rng, q_scale: float = 1.0, k_scale: float = 1.0) -> tuple:
        """Gaussian float32 (q, k, v) of these sizes, q and k scaled by q_scale, k_scale."""
        return (gaussian(rng, self.batch, self.heads, self.lq, self.d, scale=q_scale),
                gaussian(rng, self.batch, self.kv_heads, self.lk, self.d, scale=k_scale),
                gaussian(rng, self.batch, self.kv_heads, self.lk, self.dv))


@st.composite
def attention_shapes(draw, lengths, dims, *, dv=None, batch=(1, 2),
                     group=(1, 3)) -> AttentionShape:
    """An `AttentionShape`: lq and lk from `lengths`, d from `dims` (dv too, unless given),
    batch in the (low, high) range `batch`, kv_heads 1 or 2, heads = kv_heads times a
    group size in the range `group`."""
    b, kv_heads, g = draw(st.integers(*batch)), draw(st.integers(1, 2)), draw(st.integers(*group))
    lq, lk, d = draw(lengths), draw(lengths), draw(dims)
    return AttentionShape(b, kv_heads * g, kv_heads, lq, lk, d, draw(dims if dv is None else dv))


def non_finite_inputs(lq: int, lk: int, **cells: dict) -> tuple:
    """Gaussian (2, lq, 8) queries and (2, lk, 8) keys and values (seed 3) with some cells
    set to NaN or inf, e.g. ``q={(0, 3, 1): np.nan}, k={(1, 77, 0): np.inf}``."""
    rng = np.random.default_rng(3)
    arrays = dict(q=gaussian(rng, 2, lq, 8), k=gaussian(rng, 2, lk, 8), v=gaussian(rng, 2, lk, 8))
    for name, values in cells.items():
        for index, value in values.items():
            arrays[name][index] = value
    return arrays["q"], arrays["k"], arrays["v"]


# ---- closeness -----------------------------------------------------------------------------

def check_nan_like_reference(out, reference, *args, **kwargs) -> None:
    """NaN in `out` exactly where ``reference(*args, **kwargs)`` has NaN (the inputs hold
    NaN or inf: the kernel propagates them as the float64 maths does)."""
    with np.errstate(invalid="ignore"):
        expected = reference(*args, **kwargs)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))


def max_logit(q, k, scale) -> float:
    """A bound on |q·k·scale| over every pair."""
    return float(np.abs(q).max() * np.abs(k).max() * q.shape[-1] * scale)


def check_close(out, expected, v, logit: float, lk: int) -> None:
    """A float32 kernel's output against a float64 reference, within `f32_tolerance`;
    non-finite outputs where, and only where, the reference has them."""
    assert out.shape == expected.shape
    tol = f32_tolerance(logit, lk) * max(1.0, float(np.abs(v).max()))
    assert np.all(np.isfinite(out) == np.isfinite(expected))
    finite = np.isfinite(expected)
    err = np.abs(out.astype(np.float64) - expected)
    assert err[finite].max(initial=0.0) <= tol, (err[finite].max(), tol)


def assert_close_i8(out, expected) -> None:
    """An int8 kernel's output against the int8 reference, within `INT8_RTOL`."""
    out, expected = np.asarray(out, np.float64), np.asarray(expected, np.float64)
    assert out.shape == expected.shape
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-30)
    err = float(np.abs(out - expected).max(initial=0.0))
    assert err <= INT8_RTOL * scale, f"max abs error {err:.3g} > {INT8_RTOL} x {scale:.3g}"


def row_errors(out, expected) -> tuple:
    """Per output row (last axis): the relative L2 error and the cosine similarity."""
    out, expected = np.asarray(out, np.float64), np.asarray(expected, np.float64)
    norm_ref, norm_out = np.linalg.norm(expected, axis=-1), np.linalg.norm(out, axis=-1)
    rel = np.linalg.norm(out - expected, axis=-1) / norm_ref
    cos = np.sum(out * expected, axis=-1) / (norm_ref * norm_out)
    return rel, cos


def same_from_python_threads(fn, inputs: list, repeats: int) -> None:
    """``fn(*x, num_threads=2)`` from one Python thread per input, `repeats` times each,
    gives what ``fn(*x, num_threads=1)`` gives (the GIL is released; calls share the pool)."""
    expected = [fn(*x, num_threads=1) for x in inputs]
    results = [None] * len(inputs)

    def work(i):
        for _ in range(repeats):
            results[i] = fn(*inputs[i], num_threads=2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def raises(match: str, fn, *args, exc=ValueError, **kwargs) -> None:
    """``fn(*args, **kwargs)`` raises `exc` with a message matching `match`."""
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


# ---- block-sparse fixtures -----------------------------------------------------------------

def sparse_patterns(bigbird_heads: int) -> dict:
    """Every layout pattern as name -> (lq, lk, causal) -> BlockLayout, for the sparse tests;
    BigBird draws one layout per head for `bigbird_heads` heads."""
    return {
        "local": lambda lq, lk, c: fastattn.local_layout(lq, lk, 37, causal=c, block=32),
        "local-pair": lambda lq, lk, c: fastattn.local_layout(lq, lk, (100, 0), causal=c),
        "local-wide": lambda lq, lk, c: fastattn.local_layout(lq, lk, 10 * max(lq, lk), causal=c),
        "longformer": lambda lq, lk, c: fastattn.local_layout(lq, lk, (9, 20), causal=c, block=16,
                                                              global_tokens=[0, lq // 2, lq - 1]),
        "strided": lambda lq, lk, c: fastattn.strided_layout(lq, lk, 3, causal=c, block=32),
        "fixed": lambda lq, lk, c: fastattn.fixed_layout(lq, lk, 3, summary_blocks=1, causal=c,
                                                         block=32),
        "bigbird": lambda lq, lk, c: fastattn.bigbird_layout(
            lq, lk, random_blocks=2, heads=bigbird_heads, causal=c, seed=7, block=32),
    }


def over_patterns(variants: list, patterns: dict, lengths):
    """Decorator: a test ``fn(variant, pattern, lq, lk, causal, seed)`` run for every variant
    and pattern, on hypothesis lengths drawn from `lengths`."""
    def wrap(fn):
        fn = given(lq=lengths, lk=lengths, causal=st.booleans(),
                   seed=st.integers(0, 2**32 - 1))(fn)
        fn = pytest.mark.parametrize("pattern", sorted(patterns))(fn)
        return pytest.mark.parametrize("variant", variants)(fn)

    return wrap


def sparse_reference(q, k, v, layout, mask=None, *, int8_block: int | None = None):
    """The reference of `fastattn.block_sparse_attention` on `layout`: float64
    (``reference/sparse.py``), or with `int8_block` the int8 one
    (``reference/sparse_int8.py``, keys quantised per block of `int8_block` tokens)."""
    args = (q, k, v, layout.indptr, layout.indices, layout.block_q, layout.block_k,
            layout.window, layout.causal, layout.global_tokens)
    if int8_block is None:
        return sparse_ref.block_sparse_attention(*args, mask=mask)
    return sparse_ref_i8.block_sparse_attention(*args, mask=mask, block=int8_block)


def rejects_corrupt_csr(call) -> None:
    """``call(indptr, indices, layout_of=(0,), block=64)`` runs a sparse kernel binding on a
    (1, 1, 128, D) input: it accepts a valid CSR and raises ValueError on every corrupt one
    (C re-checks every index: never an out-of-bounds read)."""
    call([0, 1, 2], [0, 1])
    for indptr, indices in (([0, 1, 2], [0, 2]), ([0, 2, 2], [1, 0]), ([0, 1, 3], [0, 1]),
                            ([1, 0, 1], [0]), ([-1, 0, 1], [0, 1]), ([0, 1, 2], [-5, 1])):
        with pytest.raises(ValueError):
            call(indptr, indices)
    with pytest.raises(ValueError):
        call([0, 1, 2], [0, 1], layout_of=(1,))
    with pytest.raises(ValueError):
        call([0, 1, 2], [0, 1], block=32)  # 2 query blocks do not cover 128 rows of 32


def empty_row_layouts() -> tuple:
    """Two layouts for (Lq, Lk) = (250, 150) in blocks of 64: one whose second query block
    (rows 64..127) visits no key block, and one that visits nothing at all."""
    blocks = np.ones((4, 3), dtype=bool)
    blocks[1] = False
    return (fastattn.BlockLayout.from_block_mask(blocks, (250, 150), 64),
            fastattn.BlockLayout(np.zeros(5, np.int32), [], (250, 150), 64))


def check_empty_rows(check_layout, variant: str, rng):
    """`check_layout(variant, layout, rng)` on `empty_row_layouts`' first layout: the query
    block that visits nothing is zeros, the others are not. Returns the all-empty layout."""
    layout, empty = empty_row_layouts()
    out = check_layout(variant, layout, rng)
    assert np.all(out[:, :, 64:128] == 0) and np.all(out[:, :, :64] != 0)
    return empty


def check_variant_table(op: str, prefix: str) -> None:
    """The variants `_dispatch` lists for `op`: named `prefix`-<isa>, the portable one last,
    the dispatch choice runnable, the op reported by `fastattn.info()`."""
    table = _dispatch.OPS[op]
    names = [v.name for v in table.variants]
    assert names[-1] == f"{prefix}scalar"
    assert all(n.startswith(prefix) for n in names)
    assert table.chosen.runs_here
    assert op in fastattn.info()["ops"]



@dataclass
class LayoutCase:
    """A random block layout for (batch, heads) queries against kv_heads keys and values,
    and the generator that drew it (for the inputs)."""

    batch: int
    heads: int
    kv_heads: int
    layout: fastattn.BlockLayout
    global_tokens: np.ndarray
    rng: np.random.Generator = field(repr=False)


@st.composite
def random_layouts(draw, lengths, blocks, windows) -> LayoutCase:
    """Layouts of random blocks (kept with probability 0, 0.3, 0.7 or 1: 0 leaves every row
    empty), shared, per head or per (batch, head), with a window, causality and up to 3
    global tokens drawn from `windows`, booleans and integers."""
    batch, kv_heads, group = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(
        st.integers(1, 2))
    lq, lk, block_q, block_k = draw(lengths), draw(lengths), draw(blocks), draw(blocks)
    keep = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    per = draw(st.sampled_from(["shared", "head", "batch-head"]))
    window, causal, n_global = draw(windows), draw(st.booleans()), draw(st.integers(0, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    heads = kv_heads * group
    nq, nk = -(-lq // block_q), -(-lk // block_k)
    lead = {"shared": (), "head": (heads,), "batch-head": (batch, heads)}[per]
    blocks = rng.random(lead + (nq, nk)) < keep
    globals_ = rng.integers(0, max(lq, lk), n_global)
    layout = fastattn.BlockLayout.from_block_mask(blocks, (lq, lk), (block_q, block_k),
                                                  window=window, causal=causal,
                                                  global_tokens=globals_)
    return LayoutCase(batch, heads, kv_heads, layout, globals_, rng)


def assert_unseen_rows_zero(out, layout) -> None:
    """A query row that sees no key through `layout` is all zeros."""
    sees_nothing = ~layout.to_dense_mask().any(axis=-1)
    assert np.all(out[np.broadcast_to(sees_nothing, out.shape[:-1])] == 0)


# ---- out= (NumPy's convention, fastattn.linear_attention's docstring) --------------------
def check_out_convention(call, q, k, v) -> None:
    """`call(q, k, v, out)` runs one op (its other arguments fixed). A C-order float32 `out`
    is filled and returned, and so is a strided, float64 or float16 one, or one that is q, k
    or v (shapes allowing), as if the inputs were read first; nothing beside a strided view
    is written; a bad `out` raises, naming it. q, k, v float32, 3-d."""
    want = call(q, k, v, None)
    out = np.full(want.shape, np.nan, np.float32)
    assert call(q, k, v, out) is out
    np.testing.assert_array_equal(out, want)
    wide = np.full(want.shape[:-1] + (2 * want.shape[-1],), 7.0, np.float32)
    got = call(q, k, v, wide[..., ::2])
    np.testing.assert_array_equal(got, want)
    assert np.all(wide[..., 1::2] == 7.0)
    out64 = np.zeros(want.shape, np.float64)  # the float32 result cast to float64: exact
    assert call(q, k, v, out64) is out64
    np.testing.assert_array_equal(out64, want)
    for name in ("q", "k", "v"):
        args = {"q": q.copy(), "k": k.copy(), "v": v.copy()}
        if args[name].shape == want.shape:
            assert call(args["q"], args["k"], args["v"], args[name]) is args[name]
            np.testing.assert_array_equal(args[name], want)
    half = [x.astype(np.float16) for x in (q, k, v)]
    out16 = np.empty(want.shape, np.float16)
    assert call(*half, out16) is out16
    np.testing.assert_array_equal(out16, call(*half, None))
    for bad, exc, match in ((np.empty(want.shape[:-1] + (want.shape[-1] + 1,), np.float32),
                             ValueError, "out must have the result's shape"),
                            (np.empty(want.shape, np.int32), TypeError, "out has dtype int32"),
                            (want.tolist(), TypeError, "out must be a numpy.ndarray")):
        with pytest.raises(exc, match=match):
            call(q, k, v, bad)
    frozen = np.empty(want.shape, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        call(q, k, v, frozen)
