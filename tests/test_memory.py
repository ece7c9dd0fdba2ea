"""Peak memory of a dense call: O(threads x tile) beyond inputs and output, never O(L^2)."""

from __future__ import annotations

import numpy as np

import fastattn
from fastattn.profiling import peak_memory


def test_dense_peak_memory_is_output_plus_tiles():
    length, heads, dim = 4096, 8, 64
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, heads, length, dim), dtype=np.float32) for _ in range(3))
    fastattn.attention(q[:, :, :64], k, v)  # start the thread pool outside the measurement
    traced, rss = peak_memory(lambda: fastattn.attention(q, k, v, causal=True))
    output = q.nbytes
    # Every buffer of the call is a NumPy allocation (the C kernels allocate nothing), so
    # the traced peak holds the output and the per-thread workspace; the scores alone
    # would be heads * L^2 * 4 bytes = 512 MiB.
    assert output <= traced <= output + 16 * 2**20, f"{traced / 2**20:.1f} MiB traced"
    if rss is not None:  # the resident high-water mark sees C allocations too
        assert rss <= output + 16 * 2**20, f"{rss / 2**20:.1f} MiB resident"
