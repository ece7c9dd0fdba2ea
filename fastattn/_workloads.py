"""Synthetic workloads with the structure sparse attention relies on, and the quality metric
the sparse benchmarks and tests report; shared by ``fastattn.benchmarks`` and the tests.

Keys drift slowly along the sequence (an AR(1) process, so each query mostly matches its
neighbourhood) and some query blocks recall a far-away key block (long-range matches a
sliding window misses).
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=4)
def structured_inputs(length: int, heads: int = 8, dim: int = 64, block: int = 64,
                      recall_every: int = 8, rho: float = 0.97, gain: float = 2.0,
                      seed: int = 0) -> tuple:
    """(q, k, v) float32 of shape (1, heads, length, dim) with local structure (keys an
    AR(1) walk with correlation ``rho`` per step; queries = keys + noise, times ``gain``)
    plus long-range matches (one query block in ``recall_every`` copies, noisily, the
    keys of a block at least 3 blocks earlier). Read-only arrays, cached."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((heads, length, dim))
    k = np.empty_like(noise)
    k[:, 0] = noise[:, 0]
    innovation = np.sqrt(1.0 - rho * rho)
    for t in range(1, length):
        k[:, t] = rho * k[:, t - 1] + innovation * noise[:, t]
    q = k + 0.5 * rng.standard_normal(k.shape)
    nblocks = length // block
    for h in range(heads):
        for _ in range(max(1, nblocks // recall_every)):
            dst = int(rng.integers(4, nblocks))
            src = int(rng.integers(0, dst - 3))
            q[h, dst * block:(dst + 1) * block] = (k[h, src * block:(src + 1) * block]
                                                   + 0.5 * rng.standard_normal((block, dim)))
    q *= gain
    v = rng.standard_normal(k.shape)
    out = tuple(np.ascontiguousarray(a[None], dtype=np.float32) for a in (q, k, v))
    for a in out:
        a.flags.writeable = False
    return out


def retention(out, reference) -> float:
    """1 - ||out - reference|| / ||reference|| (Frobenius): 1 is exact."""
    out = np.asarray(out, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    return 1.0 - float(np.linalg.norm(out - reference) / np.linalg.norm(reference))
