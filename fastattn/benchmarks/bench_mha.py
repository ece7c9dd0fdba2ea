"""The multi-head attention block: fused against unfused projections, int8 against float32
weights, pruned against full, at L = 256 and 1024 for (d_model 384, 12 heads) and
(d_model 512, 8 heads), one thread and all threads.

Groups:
- ``block``: the whole block (projections, dense float32 attention, output projection)
  on x (1, L, d_model). Baseline: fused float32 projections. ``unfused-fp32`` runs three
  GEMMs instead of one; ``int8w`` uses int8 weights (fastattn.Int8Linear) for every
  projection; ``pruned-25%`` drops a quarter of the heads (the least important by
  `head_importance` on the benchmark input).
- ``qkv gemm``: the fused projection alone, NumPy's float32 GEMM (the baseline) against
  fastattn's int8-weight kernel, with the int8 result's relative error in extra_info.

NumPy's BLAS threads follow the benchmark's thread count when threadpoolctl is installed
(``python -m fastattn bench`` starts with one BLAS thread); extra_info records them.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import fastattn
from fastattn.benchmarks.conftest import all_threads

SHAPES = [(384, 12), (512, 8)]
LENGTHS = [256, 1024]
BLOCK_IMPLS = ["fused-fp32", "unfused-fp32", "fused-int8w", "pruned-25%-fp32",
               "pruned-25%-int8w"]
GEMM_IMPLS = ["numpy-sgemm", "fastattn-int8w"]


def blas_threads(n: int):
    """A context giving NumPy's BLAS n threads (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def blas_info() -> dict:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"blas": "unknown (threadpoolctl not installed)"}
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"blas": ", ".join(f"{i.get('internal_api')} {i.get('version')} "
                              f"{i.get('architecture', '')}".strip() for i in blas)}


def make_weights(d_model: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((d_model, d_model), dtype=np.float32) / np.sqrt(d_model)
          for _ in range(4)]
    return ws + [rng.standard_normal(d_model, dtype=np.float32) * 0.1 for _ in range(4)]


def make_block(impl: str, d_model: int, heads: int, x: np.ndarray, threads: int):
    weights = "int8" if impl.endswith("int8w") else "fp32"
    block = fastattn.MultiHeadAttention(*make_weights(d_model), num_heads=heads,
                                        fused=not impl.startswith("unfused"), weights=weights)
    if impl.startswith("pruned"):
        scores = block.head_importance(x, num_threads=threads)
        block.prune_heads(np.argsort(scores)[: heads // 4])
    return block


@pytest.mark.parametrize("threads", ["1", "all"])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"d{s[0]}h{s[1]}")
@pytest.mark.parametrize("impl", BLOCK_IMPLS)
def bench_mha_block(record, impl, shape, length, threads):
    n = 1 if threads == "1" else all_threads()
    d_model, heads = shape
    x = np.random.default_rng(1).standard_normal((1, length, d_model), dtype=np.float32)
    with blas_threads(n):
        block = make_block(impl, d_model, heads, x, n)
        ref = make_block("fused-fp32", d_model, heads, x, n)(x, num_threads=n)
        out = block(x, num_threads=n)
        rel = float(np.linalg.norm(out - ref) / np.linalg.norm(ref))
        dh = d_model // heads
        macs = length * d_model * 4 * block.num_heads * dh + 2 * block.num_heads * length**2 * dh
        record(lambda: block(x, num_threads=n), group=f"block d={d_model} h={heads} "
               f"L={length} t={n}", name=impl, baseline=impl == "fused-fp32", macs=macs,
               extra=dict(length=length, threads=n, heads_kept=block.num_heads,
                          weight_bytes=block.nbytes, relative_error_vs_fp32=rel,
                          **blas_info()))


@pytest.mark.parametrize("threads", ["1", "all"])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("d_model", [384, 512])
@pytest.mark.parametrize("impl", GEMM_IMPLS)
def bench_qkv_gemm(record, impl, d_model, length, threads):
    n = 1 if threads == "1" else all_threads()
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3 * d_model, d_model), dtype=np.float32) / np.sqrt(d_model)
    x = rng.standard_normal((length, d_model), dtype=np.float32)
    wt = np.ascontiguousarray(w.T)
    layer = fastattn.Int8Linear(w)
    with blas_threads(n):
        exact = x @ wt
        fn = (lambda: x @ wt) if impl == "numpy-sgemm" else (lambda: layer(x, num_threads=n))
        rel = float(np.linalg.norm(fn() - exact) / np.linalg.norm(exact))
        record(fn, group=f"qkv gemm d={d_model} L={length} t={n}", name=impl,
               baseline=impl == "numpy-sgemm", macs=length * d_model * 3 * d_model,
               extra=dict(length=length, threads=n, relative_error_vs_fp32=rel,
                          variant=fastattn.info()["ops"]["gemm-i8"]["chosen"], **blas_info()))
