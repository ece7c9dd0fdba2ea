"""The bad-input tables' vocabulary: `bad` and `same` rows, the shared arrays and the small
helpers the rows use (tests/test_bad_input.py, tests/test_bad_input_sparse.py)."""

from __future__ import annotations

import numpy as np
import pytest

import fastattn as fa
from fastattn.reference import dense as ref

rng = np.random.default_rng(14)
Q = rng.standard_normal((2, 4, 10, 8)).astype(np.float32)
K = rng.standard_normal((2, 4, 12, 8)).astype(np.float32)
V = rng.standard_normal((2, 4, 12, 6)).astype(np.float32)
X = rng.standard_normal((16, 8)).astype(np.float32)  # one head of L = 16, for the sparse ops
BIG = 2**64
HUGE_SCALE = 3.4e38  # finite in float32; scale * log2(e) is not


def bad(case_id, call, error, *words):
    """`call()` raises `error` whose message holds every one of `words`."""
    return pytest.param("raises", call, error, words, id=case_id)


def same(case_id, call, expected, atol=1e-5):
    """`call()` returns `expected()` (within `atol`, absolute and relative; or a dtype)."""
    return pytest.param("returns", call, expected, atol, id=case_id)


def nan_at(shape, index, value=np.nan, dtype=np.float32):
    a = np.zeros(shape, dtype)
    a[index] = value
    return a


def unaligned(a):
    """A copy of `a` whose data starts one byte past an aligned address (NumPy allows it)."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf.data, a.dtype, a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def layout(**kw):
    return fa.local_layout(16, 16, window=3, block=4, **kw)


def qkey():
    return fa.quantize(K, kind="key")


def qval():
    return fa.quantize(V, kind="value")


def qt(**kw):
    """A QuantizedTensor built by hand from valid parts, with `kw` replacing some."""
    args = dict(data=np.ones((12, 8), np.int8), scale=np.ones(1, np.float32), kind="key",
                block=64)
    args.update(kw)
    return fa.QuantizedTensor(**args)


def after(make, change, use):
    """Builds an object, changes it as a caller might, then uses it."""
    obj = make()
    change(obj)
    return use(obj)


def setattr_(name, value):
    return lambda obj: setattr(obj, name, value)


def write(attr, index, value):
    return lambda obj: getattr(obj, attr).__setitem__(index, value)


def reshape(attr, shape):
    return lambda obj: setattr(getattr(obj, attr), "shape", shape)


def qt_after_caller_writes():
    """A QuantizedTensor made from the caller's arrays, which the caller then overwrites."""
    data, scale = np.ones((12, 8), np.int8), np.ones(1, np.float32)
    t = fa.QuantizedTensor(data=data, scale=scale, kind="key", block=64)
    data[...], scale[...] = -128, np.nan
    return int(t.data.min()), float(t.scale.min())


def hard_max(q, k, v, scale):
    """The limit of softmax(scale * q k^T) v as |scale| grows: the mean of the values of the
    keys with the largest (or, for a negative scale, smallest) score, in float64."""
    s = np.sign(scale) * np.einsum("...id,...jd->...ij", q.astype(np.float64), k)
    top = s == s.max(axis=-1, keepdims=True)
    return top @ v.astype(np.float64) / top.sum(axis=-1, keepdims=True)


def equal_keys(n, lq=1, precision="fp32"):
    """`lq` queries of ones against n equal keys with values 3: the answer is 3 at any n.
    (float32: lq <= 16 runs the decode kernels, more the dense engine.)"""
    k, v = np.ones((n, 1), np.float32), np.full((n, 1), 3.0, np.float32)
    return fa.attention(np.ones((lq, 1), np.float32), k, v, precision=precision)


def long_random(n, lq, d=8):
    """(kernel, float64 reference) for `lq` queries against n random keys."""
    r = np.random.default_rng(n)
    q, k, v = (r.standard_normal((m, d)).astype(np.float32) for m in (lq, n, n))
    return fa.attention(q, k, v), ref.attention(q, k, v)


def sparse_ref(x, lay):
    return ref.attention(x, x, x, mask=lay.to_dense_mask())


def attn(**kw):
    args = dict(q=Q, k=K, v=V)
    args.update(kw)
    return fa.attention(args.pop("q"), args.pop("k"), args.pop("v"), **args)


def i8(**kw):
    return attn(precision="int8", **kw)



def check(kind, call, expected, detail):
    """Runs one case of a table (see `bad` and `same`)."""
    if kind == "raises":
        with pytest.raises(expected) as raised:
            call()
        message = str(raised.value)
        missing = [w for w in detail if w not in message]
        assert not missing, f"{type(raised.value).__name__}({message!r}) lacks {missing}"
        return
    got, want = call(), expected()
    if isinstance(want, type):
        assert got == want
    else:
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                                   atol=detail, rtol=detail)
