"""Fuzzing the public API: random, often wrong, arguments. Every call either raises a
TypeError or ValueError, or returns what its contract promises; nothing else (no IndexError,
OverflowError, KernelError, crash or hang). Under tests/sanitize.sh it also proves that no
such call reads or writes out of bounds.

The oracle for answers: an attention output row is a convex combination of value rows, so
with finite inputs every output element lies between the smallest and the largest value of
its channel (or is 0, for a row that sees no key). That catches overflow, wrapped windows and
lost sums without a reference run.

Bounded in CI by the hypothesis profile (``ci``: 100 examples per test, a few seconds);
longer, e.g. one hour of examples per test:

    PYTHONPATH=. python -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz
    bash tests/sanitize.sh tests/test_fuzz.py      # the same under ASan + UBSan
"""

from __future__ import annotations

import math
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import fastattn as fa
from fastattn import _dispatch, _validate

CLEAN = (TypeError, ValueError)
SPECIAL = [0.0, -0.0, 1e-30, -1e-38, 65504.0, 1e19, -1e19, 3.4e38, -3.4e38, np.nan, np.inf,
           -np.inf]
SIZES = st.sampled_from([0, 1, 2, 3, 5, 8, 17, 130])
SCALES = st.one_of(st.none(), st.sampled_from([0.0, -1.0, 1e-45, 0.125, 2.0, 1e19, 2.0**64,
                                               1e30, 3.4e38, -3.4e38, 1.8e308, np.nan, np.inf]),
                   st.sampled_from(["x", 1j, [1.0], True]))
INTS = st.one_of(st.integers(-3, 40), st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63,
                                                       2**64, sys.maxsize, -sys.maxsize]),
                 st.sampled_from([None, 2.0, 2.5, True, "3", np.int64(4), np.uint8(3)]))


# Lengths and head counts that are valid and small, or invalid: a valid huge one would only
# measure how long NumPy takes to build a layout of 2^31 blocks.
LENGTH_JUNK = st.sampled_from([0, -1, 2**40, 2**64, -sys.maxsize, 1.5, None, True, "3"])


def variants(*ops):
    return [v.name for op in ops for v in _dispatch.OPS[op].variants if v.runs_here]


@st.composite
def array(draw, shape, dtype=None, special=True):
    """A random array of `shape`: normal values at a drawn magnitude, some special values,
    any of float16/32/64 (rarely something else), sometimes strided, broadcast or unaligned."""
    if dtype is None:
        dtype = draw(st.sampled_from([np.float32] * 6 + [np.float16, np.float64, np.int32,
                                                         np.bool_, np.complex64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    magnitude = draw(st.sampled_from([1.0, 1.0, 1.0, 1e-3, 30.0, 1e4]))
    a = (rng.standard_normal(shape) * magnitude)
    if special and a.size and draw(st.integers(0, 4)) == 0:
        a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(SPECIAL))
    with np.errstate(all="ignore"):
        a = a.astype(dtype)
    how = draw(st.sampled_from(["plain"] * 4 + ["strided", "unaligned", "broadcast", "list"]))
    if how == "strided" and a.ndim:
        big = np.repeat(a, 2, axis=-1)
        a = big[..., ::2]
    elif how == "unaligned" and a.size and a.dtype.itemsize > 1:
        buf = np.zeros(a.nbytes + 1, np.uint8)
        b = np.frombuffer(buf.data, a.dtype, a.size, offset=1).reshape(a.shape)
        b[...] = a
        a = b
    elif how == "broadcast" and a.ndim >= 3 and a.shape[0] > 0:
        a = np.broadcast_to(a[:1], a.shape)
    elif how == "list" and a.size < 64:
        a = a.tolist()
    return a


@st.composite
def qkv(draw):
    """q, k, v of mostly compatible shapes (B, H, L, D), one dim sometimes wrong or missing."""
    b, hkv, g = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    lq, lk, d, dv = draw(SIZES), draw(SIZES), draw(SIZES), draw(SIZES)
    shapes = [[b, hkv * g, lq, d], [b, hkv, lk, d], [b, hkv, lk, dv]]
    if draw(st.integers(0, 3)) == 0:
        which, axis = draw(st.integers(0, 2)), draw(st.integers(0, 3))
        shapes[which][axis] = draw(SIZES)
    ndim = draw(st.sampled_from([4, 4, 3, 2, 1]))
    return tuple(draw(array(tuple(s[4 - ndim:]))) for s in shapes)


def finite(*xs) -> bool:
    """Every x is a real array of finite values (masks: -inf allowed, it means no attention)."""
    for x in xs:
        a = np.asarray(x)
        if a.dtype.kind not in "fb" or np.isnan(a).any() or (a == np.inf).any():
            return False
    return True


def f32_logits_fit(q, k, scale) -> bool:
    """Whether |scale · q·k| surely stays below 2^126: the documented float32 limit (beyond,
    logits overflow float32 and rows come out NaN, as in any float32 softmax)."""
    q, k = np.asarray(q, np.float64), np.asarray(k, np.float64)
    s = abs(_validate.scale(scale, q.shape[-1]))
    return s * np.abs(q).max() * np.abs(k).max() * q.shape[-1] * math.log2(math.e) < 2.0**126


def check_convex(out, v, q, k, precision):
    """Each output element lies within its channel's value range, or is 0 (a masked row)."""
    v = np.asarray(v, np.float64)
    assert np.all(np.isfinite(out)), "finite inputs gave a non-finite output"
    if v.ndim >= 3 and out.ndim >= 3 and 1 < v.shape[-3] != out.shape[-3]:
        v = np.repeat(v, out.shape[-3] // v.shape[-3], axis=-3)  # grouped-query heads
    lo = v.min(axis=-2, keepdims=True)
    hi = v.max(axis=-2, keepdims=True)
    span = np.abs(v).max(initial=0.0)
    slack = (0.02 if precision == "int8" else 1e-5) * span + 1e-30
    o = np.asarray(out, np.float64)
    inside = (o >= lo - slack) & (o <= hi + slack)
    assert np.all(inside | (o == 0)), "an output is outside the range of its values"


@given(qkv(), st.data())
def test_fuzz_attention(arrays, data):
    q, k, v = arrays
    kw = {}
    if data.draw(st.booleans()):
        kw["mask"] = data.draw(array(data.draw(st.sampled_from(
            [np.shape(q)[-2:-1] + np.shape(k)[-2:-1], np.shape(k)[-2:-1], (1, 1), (3,)])),
            dtype=data.draw(st.sampled_from([np.bool_, np.float32, np.float64, np.int8]))))
    kw["causal"] = data.draw(st.sampled_from([False, True, "yes", 1]))
    kw["scale"] = data.draw(SCALES)
    kw["precision"] = precision = data.draw(st.sampled_from(["fp32", "int8", "int8", "fp16"]))
    kw["variant"] = data.draw(st.sampled_from([None] + variants("dense-f32", "dense-i8")
                                              + ["nope"]))
    kw["num_threads"] = data.draw(st.sampled_from([None, 1, 2, 0, 3.0, 2**64]))
    try:
        out = fa.attention(q, k, v, **kw)
    except CLEAN:
        return
    assert isinstance(out, np.ndarray)
    assert out.shape[-1] == np.shape(v)[-1] and out.shape[-2] == np.shape(q)[-2]
    if finite(q, k, v, kw.get("mask", 0.0)) and out.size and (
            precision == "int8" or f32_logits_fit(q, k, kw["scale"])):
        check_convex(out, v, q, k, precision)


@given(qkv(), st.data())
def test_fuzz_quantized(arrays, data):
    q, k, v = arrays
    block = data.draw(INTS)
    try:
        qk = fa.quantize(k, kind="key", block=block, smooth=data.draw(st.booleans()))
        qv = fa.quantize(v, kind="value")
    except CLEAN:
        return
    for t in (qk, qv):
        assert t.data.min() >= -127 and np.all(np.isfinite(t.scale)) and np.all(t.scale > 0)
    try:
        out = fa.attention(q, qk, qv, precision="int8", scale=data.draw(SCALES))
    except CLEAN:
        return
    if finite(q) and out.size:
        check_convex(out, qv.dequantize(), q, None, "int8")


@st.composite
def layouts(draw, lq, lk):
    """A pattern call with random, often invalid, arguments."""
    kind = draw(st.sampled_from(["local", "strided", "fixed", "bigbird", "mask"]))
    n = {"lq": draw(st.one_of(st.just(lq), LENGTH_JUNK)),
         "lk": draw(st.one_of(st.just(lk), LENGTH_JUNK))}
    block = draw(st.one_of(st.sampled_from([4, 16, 64]), INTS))
    causal = draw(st.sampled_from([False, True, 0]))
    if kind == "local":
        window = draw(st.one_of(INTS, st.tuples(INTS, INTS)))
        tokens = draw(st.one_of(st.none(), st.lists(st.integers(-2, 40), max_size=3)))
        return lambda: fa.local_layout(n["lq"], n["lk"], window=window, causal=causal,
                                       global_tokens=tokens, block=block)
    if kind == "strided":
        stride, local = draw(INTS), draw(INTS)
        return lambda: fa.strided_layout(n["lq"], n["lk"], stride=stride, local_blocks=local,
                                         causal=causal, block=block)
    if kind == "fixed":
        chunk, summary = draw(INTS), draw(INTS)
        return lambda: fa.fixed_layout(n["lq"], n["lk"], chunk_blocks=chunk,
                                       summary_blocks=summary, causal=causal, block=block)
    if kind == "bigbird":
        w, g, r = draw(INTS), draw(INTS), draw(INTS)
        heads = draw(st.one_of(st.none(), st.integers(1, 3), LENGTH_JUNK))
        return lambda: fa.bigbird_layout(n["lq"], n["lk"], window_blocks=w, global_blocks=g,
                                         random_blocks=r, heads=heads, causal=causal,
                                         block=block)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nb = draw(st.integers(1, 5))
    mask = rng.random((nb, draw(st.integers(1, 5)))) < 0.5
    return lambda: fa.BlockLayout.from_block_mask(mask, (n["lq"], n["lk"]), block,
                                                  causal=causal)


@given(st.data())
def test_fuzz_sparse(data):
    lq, lk, d = data.draw(st.integers(1, 70)), data.draw(st.integers(1, 70)), 8
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    q, k, v = (rng.standard_normal((2, n, d)).astype(np.float32) for n in (lq, lk, lk))
    try:
        layout = data.draw(layouts(lq, lk))()
    except CLEAN:
        return
    assert isinstance(layout, fa.BlockLayout)
    if layout.lq * layout.lk <= 1 << 14:
        assert layout.to_dense_mask().shape[-2:] == (layout.lq, layout.lk)
    precision = data.draw(st.sampled_from(["fp32", "int8"]))
    try:
        out = fa.block_sparse_attention(q, k, v, layout, precision=precision,
                                        scale=data.draw(SCALES))
    except CLEAN:
        return
    check_convex(out, v, q, k, precision)


@given(st.data())
def test_fuzz_route(data):
    lq, lk = data.draw(st.integers(1, 70)), data.draw(st.integers(1, 70))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    q, k, v = (rng.standard_normal((2, n, 8)).astype(np.float32) for n in (lq, lk, lk))
    kw = dict(block=data.draw(st.one_of(st.sampled_from([4, 16]), INTS)),
              local_blocks=data.draw(st.one_of(st.just(1), INTS)),
              sink_blocks=data.draw(st.one_of(st.just(1), INTS)),
              causal=data.draw(st.booleans()))
    budget = data.draw(st.sampled_from(["top_k", "density", "both", "none"]))
    if budget in ("top_k", "both"):
        kw["top_k"] = data.draw(INTS)
    if budget in ("density", "both"):
        kw["density"] = data.draw(st.sampled_from([0.0, 1e-9, 0.5, 1.0, 1.5, np.nan, "x"]))
    try:
        out = fa.routed_attention(q, k, v, **kw)
    except CLEAN:
        return
    check_convex(out, v, q, k, "fp32")
