"""fastattn.KVCache: storage, growth, the int8 format against its reference, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import fastattn
from fastattn.reference import decode_int8 as ref8
from fastattn.reference import dense as ref
from helpers import fallback, gaussian

PRECISIONS = ["fp32", "int8"]


def rel_error(out, expected):
    return float(np.linalg.norm(out - expected) / np.linalg.norm(expected))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_token_by_token_decoding_equals_causal_attention(precision):
    """Prefill, then one token at a time: every step equals the last row of causal
    attention over everything so far (the cache's bottom-right alignment)."""
    rng = np.random.default_rng(0)
    b, hkv, heads, d, n = 2, 2, 4, 32, 40
    q = gaussian(rng, b, heads, n, d)
    k, v = gaussian(rng, b, hkv, n, d), gaussian(rng, b, hkv, n, d)
    cache = fastattn.KVCache(b, hkv, d, n, precision=precision)
    prompt = 30
    cache.append(k[:, :, :prompt], v[:, :, :prompt])
    outs = [cache.attend(q[:, :, :prompt])]
    for t in range(prompt, n):
        cache.append(k[:, :, t:t + 1], v[:, :, t:t + 1])
        outs.append(cache.attend(q[:, :, t:t + 1]))
    got = np.concatenate(outs, axis=2)
    expected = ref.attention(q, k, v, causal=True)
    if precision == "fp32":
        assert np.allclose(got, expected, atol=2e-5)
    else:
        assert rel_error(got, expected) < 0.03
    assert len(cache) == n


def test_int8_store_matches_reference_bit_for_bit():
    """Appended in three pieces, the int8 store equals quantize_cache of all the tokens with
    the mean of the first piece; later appends never change earlier tokens."""
    rng = np.random.default_rng(1)
    k = gaussian(rng, 2, 3, 50, 24) + gaussian(rng, 1, 3, 1, 24, scale=6.0)
    v = gaussian(rng, 2, 3, 50, 20, scale=2.0)
    k[0, 0, 5] = 0.0
    v[1, 2, 7] = 0.0  # all-zero tokens get scale 1
    cache = fastattn.KVCache(2, 3, 24, 64, head_dim_v=20, precision="int8")
    cache.append(k[:, :, :9], v[:, :, :9])
    first = {name: np.array(x) for name, x in cache.tensors().items()}
    cache.append(k[:, :, 9:10], v[:, :, 9:10])
    cache.append(k[:, :, 10:], v[:, :, 10:])
    got = cache.tensors()
    for name, want in zip(("k", "k_scale", "k_mean", "v", "v_scale"),
                          ref8.quantize_cache(k, v, 9)):
        assert got[name].dtype == want.dtype and np.array_equal(got[name], want), name
    for name in ("k", "k_scale", "v", "v_scale"):
        assert np.array_equal(got[name][:, :, :9], first[name])
    assert np.array_equal(got["k_mean"], first["k_mean"])


def test_int8_accuracy_against_quantising_all_keys_at_once():
    """The cache's causal scheme (mean frozen at the prompt, a scale per token) against the
    dense int8 scheme that sees every key at once (mean of all keys, a scale per 64 keys,
    values per channel): on keys with large shared channel offsets its error stays within
    twice the dense one, and both stay near 1 % of the float32 output."""
    rng = np.random.default_rng(2)
    b, h, d, lk, prompt = 1, 4, 64, 1024, 64
    offsets = gaussian(rng, 1, h, 1, d, scale=1.0) * (rng.random((1, 1, 1, d)) < 0.1) * 20
    k = gaussian(rng, b, h, lk, d) + offsets
    v = gaussian(rng, b, h, lk, d)
    q = gaussian(rng, b, h, 4, d, scale=2.0)
    exact = ref.attention(q, k, v, causal=True)
    cache = fastattn.KVCache(b, h, d, lk, precision="int8")
    cache.append(k[:, :, :prompt], v[:, :, :prompt])
    cache.append(k[:, :, prompt:], v[:, :, prompt:])
    cached = rel_error(cache.attend(q), exact)
    at_once = rel_error(fastattn.attention(q, k, v, causal=True, precision="int8"), exact)
    assert cached < 2 * at_once + 0.005 and cached < 0.03, (cached, at_once)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_capacity_growth_and_reset(precision):
    rng = np.random.default_rng(3)
    cache = fastattn.KVCache(1, 2, 8, 4, precision=precision, grow=True)
    k, v = gaussian(rng, 1, 2, 11, 8), gaussian(rng, 1, 2, 11, 8)
    cache.append(k[:, :, :3], v[:, :, :3])
    before = cache.nbytes
    cache.append(k[:, :, 3:], v[:, :, 3:])
    assert len(cache) == 11 and cache.capacity == 11 and cache.nbytes > before
    q = gaussian(rng, 1, 4, 2, 8)
    expected = ref.attention(q, k, v, causal=True)
    assert rel_error(cache.attend(q), expected) < (1e-5 if precision == "fp32" else 0.03)
    cache.reset()
    assert len(cache) == 0 and cache.capacity == 11
    if precision == "int8":
        assert cache.tensors()["k_mean"] is None
    with pytest.raises(ValueError, match="holds 0 tokens"):
        cache.attend(q)


def test_nbytes_counts_the_store():
    assert fastattn.KVCache(2, 4, 64, 100).nbytes == 2 * 2 * 4 * 100 * 64 * 4
    int8 = fastattn.KVCache(2, 4, 64, 100, head_dim_v=32, precision="int8")
    # int8 keys are stored in groups of 16 tokens (100 -> 112), values in groups of 4
    assert int8.nbytes == 2 * 4 * (112 * 64 + 100 * (32 + 2 * 4))


def test_views_are_read_only():
    cache = fastattn.KVCache(1, 1, 4, 8)
    cache.append(np.ones((1, 1, 2, 4)), np.ones((1, 1, 2, 4)))
    with pytest.raises(ValueError):
        cache.tensors()["k"][0, 0, 0, 0] = 5.0


def test_noncausal_and_masked_attend():
    rng = np.random.default_rng(4)
    cache = fastattn.KVCache(1, 2, 16, 32)
    k, v = gaussian(rng, 1, 2, 20, 16), gaussian(rng, 1, 2, 20, 16)
    cache.append(k, v)
    q = gaussian(rng, 1, 2, 3, 16)
    mask = rng.random((3, 20)) < 0.6
    expected = ref.attention(q, k, v, mask=mask, causal=False)
    assert np.allclose(cache.attend(q, causal=False, mask=mask), expected, atol=2e-6)
    assert cache.attend(q.astype(np.float64)).dtype == np.float64


def _filled(precision="fp32", **kwargs):
    cache = fastattn.KVCache(1, 2, 8, 4, precision=precision, **kwargs)
    cache.append(np.zeros((1, 2, 2, 8)), np.zeros((1, 2, 2, 8)))
    return cache


BAD = [
    (lambda: fastattn.KVCache(0, 2, 8, 4), ValueError, "batch"),
    (lambda: fastattn.KVCache(1, 2, 8, 0), ValueError, "capacity"),
    (lambda: fastattn.KVCache(1, 2, 8, 4, precision="fp16"), ValueError, "precision"),
    (lambda: fastattn.KVCache(1, 2, 8, 4, head_dim_v=0), ValueError, "head_dim_v"),
    (lambda: _filled().append(np.zeros((1, 3, 1, 8)), np.zeros((1, 3, 1, 8))), ValueError,
     "kv_heads"),
    (lambda: _filled().append(np.zeros((1, 2, 1, 7)), np.zeros((1, 2, 1, 8))), ValueError, "k "),
    (lambda: _filled().append(np.zeros((1, 2, 1, 8)), np.zeros((1, 2, 2, 8))), ValueError,
     "same number"),
    (lambda: _filled().append(np.zeros((1, 2, 3, 8)), np.zeros((1, 2, 3, 8))), ValueError,
     "capacity"),
    (lambda: _filled("int8").append(np.full((1, 2, 1, 8), np.nan), np.zeros((1, 2, 1, 8))),
     ValueError, "finite"),
    (lambda: _filled().append(fastattn.quantize(np.zeros((1, 2, 1, 8))), np.zeros((1, 2, 1, 8))),
     TypeError, "QuantizedTensor"),
    (lambda: _filled().append(np.zeros((1, 2, 1, 8), np.int32), np.zeros((1, 2, 1, 8))),
     TypeError, "dtype"),
    (lambda: _filled().attend(np.zeros((1, 3, 1, 8))), ValueError, "multiple"),
    (lambda: _filled().attend(np.zeros((1, 2, 1, 9))), ValueError, "head_dim"),
    (lambda: _filled().attend(np.zeros((2, 2, 1, 8))), ValueError, "batch"),
    (lambda: _filled().attend(np.zeros((1, 2, 3, 8))), ValueError, "holds 2 tokens"),
    (lambda: _filled().attend(np.zeros((1, 2, 0, 8))), ValueError, "no query rows"),
    (lambda: _filled().attend(np.zeros((1, 2, 1, 8)), mask=np.ones((1, 5), bool)), ValueError,
     "mask"),
    (lambda: _filled().attend(np.zeros((1, 2, 1, 8)), variant=fallback("decode-i8")),
     ValueError, fallback("decode-i8")),
    (lambda: _filled("int8").attend(np.zeros((1, 2, 1, 8)), variant=fallback("decode-f32")),
     ValueError, fallback("decode-f32")),
    (lambda: _filled("int8").attend(np.full((1, 2, 1, 8), np.inf)), ValueError, "finite"),
    (lambda: _filled("int8").attend(np.zeros((1, 2, 1, 8)), mask=np.full((1, 2), np.nan)),
     ValueError, "NaN"),
    (lambda: _filled().attend(np.zeros((1, 2, 1, 8)), causal=1), TypeError, "causal"),
]
# float32 q takes the store's fast path first, which must leave every error to the general path
BAD += [(lambda call=call: call(np.float32), error, words) for call, error, words in [
    (lambda t: _filled().attend(np.zeros((1, 3, 1, 8), t)), ValueError, "multiple"),
    (lambda t: _filled("int8").attend(np.zeros((1, 2, 1, 9), t)), ValueError, "head_dim"),
    (lambda t: _filled("int8").attend(np.zeros((2, 2, 1, 8), t)), ValueError, "batch"),
    (lambda t: _filled("int8").attend(np.zeros((1, 2, 3, 8), t)), ValueError, "holds 2 tokens"),
    (lambda t: _filled("int8").attend(np.zeros((1, 2, 0, 8), t)), ValueError, "no query rows"),
    (lambda t: _filled("int8").attend(np.zeros((1, 2, 8), t)), ValueError, "shape"),
    (lambda t: _filled("int8").attend(np.full((1, 2, 1, 8), np.nan, t)), ValueError, "finite"),
    (lambda t: _filled("int8").attend(np.zeros((1, 2, 1, 8), t), variant=fallback("decode-f32")),
     ValueError, fallback("decode-f32")),
    (lambda t: _filled("int8").attend(np.zeros((1, 2, 1, 8), t), num_threads=0), ValueError,
     "num_threads")]]


@pytest.mark.parametrize("call, error, words", BAD, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_failed_append_leaves_the_cache_unchanged():
    cache = _filled()
    with pytest.raises(ValueError):
        cache.append(np.ones((1, 2, 3, 8)), np.ones((1, 2, 3, 8)))
    assert len(cache) == 2 and cache.capacity == 4


@pytest.mark.parametrize("precision", PRECISIONS)
def test_plain_call_equals_the_general_path(precision):
    """attend(q) with float32 q and default options runs through the store's fast path: the
    same bits as the general path (a mask that hides nothing), for strided q, GQA, Lq up to
    8, after the store grew, on any thread count, and with calls of other shapes between
    (the kept workspace)."""
    rng = np.random.default_rng(6)
    cache = fastattn.KVCache(2, 2, 24, 100, head_dim_v=20, precision=precision, grow=True)
    cache.append(gaussian(rng, 2, 2, 90, 24), gaussian(rng, 2, 2, 90, 20))
    for step, (heads, lq, threads) in enumerate([(2, 1, 1), (6, 8, 2), (4, 3, 1), (2, 1, 2)]):
        if step == 2:
            cache.append(gaussian(rng, 2, 2, 30, 24), gaussian(rng, 2, 2, 30, 20))  # grows
        q = gaussian(rng, 2, heads, 2 * lq, 24)[:, :, ::2]  # strided rows
        fast = cache.attend(q, num_threads=threads)
        general = cache.attend(q, mask=np.ones(len(cache), bool), num_threads=threads)
        assert fast.shape == (2, heads, lq, 20) and fast.dtype == np.float32
        assert np.array_equal(fast, general), step


def test_concurrent_calls_share_nothing():
    """Python threads attending one cache at once (the kernels release the GIL) each get
    their own result: a call that finds the kept workspace in use takes its own."""
    import threading

    rng = np.random.default_rng(7)
    cache = fastattn.KVCache(1, 2, 32, 2048, precision="int8")
    cache.append(gaussian(rng, 1, 2, 2048, 32), gaussian(rng, 1, 2, 2048, 32))
    qs = [gaussian(rng, 1, 4, 1 + i % 3, 32) for i in range(4)]
    want = [cache.attend(q, num_threads=1) for q in qs]
    bad = []

    def worker(i):
        for _ in range(30):
            if not np.array_equal(cache.attend(qs[i], num_threads=1), want[i]):
                bad.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


@pytest.mark.parametrize("precision", PRECISIONS)
def test_copies_and_pickles_are_independent_caches(precision):
    """copy.deepcopy (a beam search forking a cache) and pickle give caches that attend like
    the original and own their arrays: appending to one leaves the other as it was."""
    import copy
    import pickle

    rng = np.random.default_rng(8)
    cache = fastattn.KVCache(1, 2, 16, 40, precision=precision)
    cache.append(gaussian(rng, 1, 2, 30, 16), gaussian(rng, 1, 2, 30, 16))
    q = gaussian(rng, 1, 4, 1, 16)
    before = cache.attend(q)
    for twin in (copy.deepcopy(cache), pickle.loads(pickle.dumps(cache))):
        assert np.array_equal(twin.attend(q), before)
        twin.append(gaussian(rng, 1, 2, 5, 16), gaussian(rng, 1, 2, 5, 16))
        assert len(twin) == 35 and not np.array_equal(twin.attend(q), before)
        assert len(cache) == 30 and np.array_equal(cache.attend(q), before)


def _vm_flags(address: int):
    """The VmFlags of the mapping holding `address` (/proc/self/smaps), or None when the
    system does not say."""
    try:
        with open("/proc/self/smaps") as f:
            text = f.read()
    except OSError:
        return None
    inside = False
    for line in text.splitlines():
        head = line.split(" ", 1)[0]
        if "-" in head and all(c in "0123456789abcdef-" for c in head):
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside = lo <= address < hi
        elif inside and line.startswith("VmFlags:"):
            return line.split()[1:]
    return None


@pytest.mark.parametrize("precision", PRECISIONS)
def test_large_stores_sit_on_huge_pages(precision, monkeypatch):
    """A store array of MIN_BYTES or more holds zeros (ones for int8 scales) before its
    first token and attends bit for bit like the same cache on np.zeros; where the OS
    takes the advice it starts on a 2 MiB boundary in a mapping advised for huge pages
    (smaps' ``hg`` flag, checked where a mapping of the test's own keeps it: qemu-user
    drops the advice)."""
    import mmap

    from fastattn import _pages

    rng = np.random.default_rng(3)
    per_token = {"fp32": 2 * 32 * 4, "int8": 2 * 32}[precision]  # bytes of k, 2 heads of 32
    capacity = _pages.MIN_BYTES // per_token + 16
    big = fastattn.KVCache(1, 2, 32, capacity, precision=precision)
    key = big._bufs["k"]
    assert key.nbytes >= _pages.MIN_BYTES and not key.any() and key.flags.writeable
    if precision == "int8":
        assert (big._bufs["k_scale"] == 1).all() and (big._bufs["v_scale"] == 1).all()
    with monkeypatch.context() as m:
        m.setattr(_pages, "MIN_BYTES", 1 << 62)
        plain = fastattn.KVCache(1, 2, 32, capacity, precision=precision)
    assert not _mapped(plain._bufs["k"]) and plain._bufs["k"].ctypes.data % _pages.LINE == 0
    n = 3000
    k, v = gaussian(rng, 1, 2, n, 32), gaussian(rng, 1, 2, n, 32)
    q = gaussian(rng, 1, 4, 1, 32)
    big.append(k, v)
    plain.append(k, v)
    assert np.array_equal(big.attend(q), plain.attend(q))
    if _pages._ADVICE is None:
        pytest.skip("no MADV_HUGEPAGE on this platform")
    try:
        control = mmap.mmap(-1, _pages.HUGE_PAGE, flags=_pages._FLAGS)
        control.madvise(_pages._ADVICE)
    except (OSError, ValueError):
        pytest.skip("the OS refuses MADV_HUGEPAGE")
    assert _mapped(key) and key.ctypes.data % _pages.HUGE_PAGE == 0
    probe = np.frombuffer(control, np.uint8)
    probe[0] = 1
    kept = _vm_flags(probe.ctypes.data)
    if kept is not None and "hg" in kept:
        assert "hg" in _vm_flags(key.ctypes.data), "the store's mapping was not advised"


def _mapped(a: np.ndarray) -> bool:
    """Whether `a` lies in an mmap (fastattn._pages' huge-page path), not np.zeros."""
    import mmap

    while isinstance(a, (np.ndarray, memoryview)):
        a = a.base if isinstance(a, np.ndarray) else a.obj
    return isinstance(a, mmap.mmap)


def test_small_buffers_and_platforms_without_the_advice_get_aligned_np_zeros(monkeypatch):
    from fastattn import _pages

    for shape, dtype in (((4, 100), np.float32), ((3, 5, 7), np.int8)):
        small = _pages.zeros(shape, dtype)
        assert small.shape == shape and small.dtype == dtype and not small.any()
        assert not _mapped(small) and small.ctypes.data % _pages.LINE == 0
        assert small.flags.c_contiguous and small.flags.writeable
    monkeypatch.setattr(_pages, "_ADVICE", None)
    big = _pages.zeros((_pages.MIN_BYTES // 4,), np.float32)
    assert not _mapped(big) and big.ctypes.data % _pages.LINE == 0 and not big.any()


def test_store_arrays_start_on_a_cache_line():
    """NumPy's own buffers start 16 bytes past a line, which splits every 64-byte load."""
    from fastattn import _pages

    for precision in PRECISIONS:
        for capacity in (1, 100, 5000):
            cache = fastattn.KVCache(1, 3, 24, capacity, precision=precision)
            for name, buf in cache._bufs.items():
                assert buf.ctypes.data % _pages.LINE == 0, (precision, capacity, name)
