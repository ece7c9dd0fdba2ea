"""Dense float32 attention: fastattn vs plain NumPy (baseline), PyTorch SDPA and
ONNX Runtime MultiHeadAttention. B=1, H=8, D=64, Lq = Lk."""

from __future__ import annotations

import numpy as np
import pytest

import fastattn
from fastattn.benchmarks import peers
from fastattn.benchmarks.conftest import all_threads

LENGTHS = [128, 512, 1024, 2048, 4096]
HEADS, DIM = 8, 64
IMPLS = ["numpy-f32", "fastattn-f32", "torch-sdpa-f32", "onnxruntime-mha-f32"]


def make_inputs(length, heads=HEADS, dim=DIM, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((1, heads, length, dim), dtype=np.float32) for _ in range(3))


def build(impl, q, k, v, threads, causal=False):
    if impl == "fastattn-f32":
        return lambda: fastattn.attention(q, k, v, causal=causal, num_threads=threads)
    if impl == "numpy-f32":
        return peers.numpy_f32(q, k, v, causal)
    if impl == "torch-sdpa-f32":
        return peers.torch_sdpa(q, k, v, causal, threads)
    return peers.onnxruntime_mha(q, k, v, causal, threads)


@pytest.mark.parametrize("threads", ["1", "all"])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("impl", IMPLS)
def bench_dense_f32(record, impl, length, threads):
    n = 1 if threads == "1" else all_threads()
    q, k, v = make_inputs(length)
    fn = build(impl, q, k, v, n)
    if fn is None:
        pytest.skip(f"{impl} not installed")
    record(fn, group=f"dense f32 L={length} threads={n}", name=impl,
           baseline=impl == "numpy-f32",
           flops=4 * HEADS * length * length * DIM,
           extra=dict(length=length, threads=n, input_bytes=3 * q.nbytes, output_bytes=q.nbytes))
