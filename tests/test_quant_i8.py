"""The int8 quantiser op (quant-i8: csrc/quant): every compiled variant gives the bytes of
the scalar variant and of reference/int8.py (codes, scales, means), over lengths crossing
the block size, feature dims off the 8/16-lane widths, smoothing on and off, outlier
channels, exact ties of the rounding and all-zero blocks; and the variant table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import int8 as ref8
from helpers import check_variant_table, compiled, fallback, raises


def test_variant_table():
    check_variant_table("quant-i8", "i8-")


def _inputs(seed: int, lead: tuple, length: int, d: int, outliers: bool, ties: bool):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(lead + (length, d)).astype(np.float32)
    if outliers:  # a few channels far larger than the rest, offset (what smoothing removes)
        cols = rng.choice(d, size=max(1, d // 8), replace=False)
        x[..., cols] = x[..., cols] * 40.0 + 25.0
    if ties:  # multiples of 0.25 with max |x| 63.5 (scale 0.5): codes on exact halves
        x = np.clip(np.round(x * 4.0) / 4.0, -63.5, 63.5)
        x[..., 0, 0] = 63.5
    if length > 3:
        x[..., 1:3, :] = 0.0  # zero rows (an all-zero block when block <= 2)
    return x


def _check_keys(q, x, block: int, smooth: bool):
    xs, mean = ref8.smooth_keys(x) if smooth else (x, None)
    data, scale = ref8.quantize_blocks(xs, block)
    np.testing.assert_array_equal(q.data, data)
    np.testing.assert_array_equal(q.scale, scale)
    if smooth:
        np.testing.assert_array_equal(q.mean, mean)


@pytest.mark.parametrize("variant", compiled("quant-i8"))
@given(seed=st.integers(0, 2**32 - 1), lead=st.sampled_from([(), (1,), (2, 3)]),
       length=st.integers(1, 140), d=st.sampled_from([1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32,
                                                       33, 40, 64, 100, 260]),
       block=st.sampled_from([1, 2, 7, 16, 32, 64]), smooth=st.booleans(),
       outliers=st.booleans(), ties=st.booleans())
def test_every_variant_equals_scalar_and_reference(variant, seed, lead, length, d, block,
                                                   smooth, outliers, ties):
    x = _inputs(seed, lead, length, d, outliers, ties)
    scalar = fallback("quant-i8")
    qk = fastattn.quantize(x, block=block, smooth=smooth, variant=variant)
    sk = fastattn.quantize(x, block=block, smooth=smooth, variant=scalar)
    np.testing.assert_array_equal(qk.data, sk.data)
    np.testing.assert_array_equal(qk.scale.view(np.uint32), sk.scale.view(np.uint32))
    _check_keys(qk, x, block, smooth)
    qv = fastattn.quantize(x, kind="value", variant=variant)
    sv = fastattn.quantize(x, kind="value", variant=scalar)
    np.testing.assert_array_equal(qv.data, sv.data)
    np.testing.assert_array_equal(qv.scale.view(np.uint32), sv.scale.view(np.uint32))
    data, scale = ref8.quantize_channels(x)
    np.testing.assert_array_equal(qv.data, data)
    np.testing.assert_array_equal(qv.scale, scale)


def _near_ties(amax: float, length: int) -> np.ndarray:
    """`length` values with max |x| = amax: amax itself, then (j + 1/2) · s (s = amax / 127)
    for every code j and 1..3 float32 steps either side, cycled: quotients x / s on and next
    to the halves, where x · (1 / s) and x / s can round to different codes."""
    amax = np.float32(amax)
    s = amax / np.float32(127)
    base = ((np.arange(-127, 127) + np.float32(0.5)) * s).astype(np.float32)
    near = [base]
    for steps in (1, 2, 3):
        up, down = base, base
        for _ in range(steps):
            up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(-np.inf))
        near += [up, down]
    return np.resize(np.concatenate([[amax]] + near).astype(np.float32), length)


@pytest.mark.parametrize("variant", compiled("quant-i8"))
def test_codes_next_to_rounding_ties(variant):
    """The codes are rint(x / s) as the reference divides, also where x · (1 / s) would round
    the other way (tens of the values here: a kernel that multiplies without checking
    fails)."""
    amaxes = [1.0, 3.3, 7.77, 100.1, 0.013, 5e-3, 2.2e5, 0.7, 9.1, 41.0, 1e-20, 6.1, 2.9, 13.0,
              0.31, 77.7, 1.9]
    x = np.stack([_near_ties(a, 1800) for a in amaxes], axis=-1)  # (1800, 17) per channel
    qv = fastattn.quantize(x, kind="value", variant=variant)
    data, scale = ref8.quantize_channels(x)
    np.testing.assert_array_equal(qv.data, data)
    np.testing.assert_array_equal(qv.scale, scale)
    keys = _near_ties(7.77, 1800 * 16).reshape(1800, 16)
    qk = fastattn.quantize(keys, block=1800, smooth=False, variant=variant)
    _check_keys(qk, keys, 1800, False)


@pytest.mark.parametrize("variant", compiled("quant-i8"))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_variant_rejects_non_finite(variant, bad):
    x = np.ones((2, 40, 33), dtype=np.float32)
    x[1, 37, 32] = bad  # in the last matrix, the last block and the scalar tail
    raises("must be finite", fastattn.quantize, x, smooth=False, variant=variant)
    raises("must be finite", fastattn.quantize, x, kind="value", variant=variant)
    x[1, 37, 32], x[0, 5, 3] = 1.0, bad  # in a vector lane
    raises("must be finite", fastattn.quantize, x, smooth=False, variant=variant)
    raises("must be finite", fastattn.quantize, x, kind="value", variant=variant)


def test_unknown_variant():
    raises("unknown variant", fastattn.quantize, np.ones((4, 4), np.float32), variant="i8-x")


@pytest.mark.parametrize("variant", compiled("quant-i8"))
@given(seed=st.integers(0, 2**32 - 1), lead=st.sampled_from([(5,), (2, 3), (3, 1, 4)]),
       length=st.integers(1, 80), d=st.sampled_from([1, 7, 16, 33, 64]),
       block=st.sampled_from([1, 16, 64]), smooth=st.booleans(),
       threads=st.integers(1, 2 * 12 + 1))
def test_bytes_do_not_depend_on_threads(variant, seed, lead, length, d, block, smooth, threads):
    # More threads than matrices too (the pool then runs fewer).
    x = _inputs(seed, lead, length, d, outliers=seed % 2 == 0, ties=False)
    qk = fastattn.quantize(x, block=block, smooth=smooth, variant=variant, num_threads=threads)
    _check_keys(qk, x, block, smooth)
    one = fastattn.quantize(x, block=block, smooth=smooth, variant=variant, num_threads=1)
    np.testing.assert_array_equal(qk.scale.view(np.uint32), one.scale.view(np.uint32))
    qv = fastattn.quantize(x, kind="value", variant=variant, num_threads=threads)
    data, scale = ref8.quantize_channels(x)
    np.testing.assert_array_equal(qv.data, data)
    np.testing.assert_array_equal(qv.scale, scale)


@pytest.mark.parametrize("variant", compiled("quant-i8"))
@given(seed=st.integers(0, 2**32 - 1), lead=st.sampled_from([(), (1,), (2,)]),
       length=st.integers(257, 1500), d=st.sampled_from([33, 64, 100]),
       block=st.sampled_from([1, 7, 64]), smooth=st.booleans(), threads=st.integers(2, 9))
def test_large_matrices_split_across_threads(variant, seed, lead, length, d, block, smooth,
                                             threads):
    # Fewer matrices than threads: each is cut into token ranges (csrc/quant/dispatch-i8.c).
    x = _inputs(seed, lead, length, d, outliers=seed % 2 == 0, ties=seed % 3 == 0)
    _check_keys(fastattn.quantize(x, block=block, smooth=smooth, variant=variant,
                                  num_threads=threads), x, block, smooth)
    qv = fastattn.quantize(x, kind="value", variant=variant, num_threads=threads)
    data, scale = ref8.quantize_channels(x)
    np.testing.assert_array_equal(qv.data, data)
    np.testing.assert_array_equal(qv.scale, scale)


@pytest.mark.parametrize("variant", compiled("quant-i8"))
def test_split_matrix_rejects_non_finite(variant):
    x = np.ones((1, 1000, 64), dtype=np.float32)
    x[0, 999, 63] = np.nan  # in the last token range
    raises("must be finite", fastattn.quantize, x, smooth=False, variant=variant, num_threads=4)
    raises("must be finite", fastattn.quantize, x, kind="value", variant=variant, num_threads=4)


@pytest.mark.parametrize("op", ["attention", "block_sparse_attention"])
def test_int8_attention_quantises_on_its_threads(monkeypatch, op):
    import fastattn._precision as precision
    seen = []

    def spy(x, **options):
        seen.append((options["kind"], options.get("num_threads")))
        return fastattn.quantize(x, **options)

    monkeypatch.setattr(precision, "quantize", spy)
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 16)).astype(np.float32)
    args = (fastattn.local_layout(64, 64, window=16, block=32),) if op != "attention" else ()
    out = getattr(fastattn, op)(x, x, x, *args, precision="int8", num_threads=2)
    assert seen == [("key", 2), ("value", 2)]
    assert np.array_equal(out, getattr(fastattn, op)(x, x, x, *args, precision="int8",
                                                     num_threads=1))


def test_bad_num_threads():
    raises("num_threads", fastattn.quantize, np.ones((4, 4), np.float32), num_threads=0)
    raises("num_threads", fastattn.quantize, np.ones((4, 4), np.float32), exc=TypeError,
           num_threads=1.5)
