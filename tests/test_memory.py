"""Peak memory of a dense call: O(threads x tile) beyond inputs and output, never O(L^2)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import fastattn
from fastattn.profiling import peak_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
def test_dense_peak_memory_is_output_plus_tiles():
    length, heads, dim = 4096, 8, 64
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, heads, length, dim), dtype=np.float32) for _ in range(3))
    fastattn.attention(q[:, :, :64], k, v)  # start the thread pool outside the measurement
    extra = peak_memory(lambda: fastattn.attention(q, k, v, causal=True))[1]
    if extra is None:
        pytest.skip("/proc/self/clear_refs is not writable here")
    output = q.nbytes
    # The scores alone would be heads * L^2 * 4 bytes = 512 MiB.
    assert extra <= output + 16 * 2**20, f"{extra / 2**20:.1f} MiB extra"
