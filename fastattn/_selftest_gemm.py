"""The selftest's cases for the int8-weight GEMM (`fastattn.Int8Linear`): shapes crossing
the row tiles, the 16-channel panels and the 16-input padding, a zero row and large
values; and for the int8 K/V quantiser (`fastattn.quantize`). Both must equal their exact
reference bit for bit (tolerance 0)."""

from __future__ import annotations

import numpy as np

import fastattn
from fastattn.selftest import Case, gaussian, reference, register

# (label, rows, out_features, in_features, input scale)
SHAPES = [
    ("m=1 n=16 k=16", 1, 16, 16, 1.0),
    ("m=33 n=65 k=100", 33, 65, 100, 1.0),
    ("m=70 n=1152 k=384", 70, 1152, 384, 3.0),
    ("m=9 n=17 k=1 large", 9, 17, 1, 1e5),
]


@register("gemm-i8")
def gemm_i8(rng) -> list:
    ref = reference("gemm_int8")
    cases = []
    for label, m, n, k, scale in SHAPES:
        w, b = gaussian(rng, n, k), gaussian(rng, n)
        x = gaussian(rng, m, k, scale=scale)
        x[m // 2] = 0  # an all-zero row: scale 1, output = bias
        layer = fastattn.Int8Linear(w, b)
        cases.append(Case(label, lambda name, lay=layer, x=x: lay(x, variant=name, num_threads=2),
                          ref.linear(x, w, b), 0.0))
    return cases


# The K/V quantiser (quant-i8, csrc/quant): (label, lead, length, d, block, smooth, offset).
QUANT_SHAPES = [
    ("keys L=1 d=1", (1,), 1, 1, 64, True, 0.0),
    ("keys L=130 d=33 block=32 smoothed", (2, 3), 130, 33, 32, True, 4.0),
    ("keys L=77 d=64 block=16", (2,), 77, 64, 16, False, 0.0),
    ("values L=65 d=17", (3,), 65, 17, 0, False, 0.0),
    ("values L=256 d=32", (2, 2), 256, 32, 0, False, 1.0),
]


def _quant_bytes(codes, scale, mean=None) -> np.ndarray:
    """Codes, then the bit patterns of the scales (and means): exact comparison as floats."""
    parts = [codes.ravel(), scale.view(np.uint32).ravel()]
    if mean is not None:
        parts.append(mean.view(np.uint32).ravel())
    return np.concatenate([p.astype(np.float64) for p in parts])


@register("quant-i8")
def quant_i8(rng) -> list:
    ref = reference("int8")
    cases = []
    for label, lead, length, d, block, smooth, offset in QUANT_SHAPES:
        x = gaussian(rng, *lead, length, d) + np.float32(offset)
        x[..., :, d // 2] *= np.float32(30.0)  # an outlier channel
        if block:
            xs, mean = ref.smooth_keys(x) if smooth else (x, None)
            expected = _quant_bytes(*ref.quantize_blocks(xs, block), mean)

            def run(name, x=x, block=block, smooth=smooth):
                q = fastattn.quantize(x, block=block, smooth=smooth, variant=name)
                return _quant_bytes(q.data, q.scale, q.mean)
        else:
            expected = _quant_bytes(*ref.quantize_channels(x))

            def run(name, x=x):
                q = fastattn.quantize(x, kind="value", variant=name)
                return _quant_bytes(q.data, q.scale)
        cases.append(Case(label, run, expected, 0.0))
    return cases
