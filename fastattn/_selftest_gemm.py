"""The selftest's cases for the int8-weight GEMM (`fastattn.Int8Linear`): shapes crossing
the row tiles, the 16-channel panels and the 16-input padding, a zero row and large
values; the kernel must equal the exact integer reference bit for bit (tolerance 0)."""

from __future__ import annotations

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
