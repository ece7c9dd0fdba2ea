"""Shared test settings: hypothesis profiles, tolerances, the variants to run.

Profiles: "dev" (default, thorough), "ci" (CI=true), "emu" (under qemu, about
9x slower: fewer examples, every test still runs), "fuzz" (long runs of
tests/test_fuzz.py). Pick one with --hypothesis-profile=NAME or HYPOTHESIS_PROFILE=NAME.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

import fastattn  # noqa: E402
from fastattn import _dispatch  # noqa: E402


def _bind_source_reference() -> None:
    """From a source tree (PYTHONPATH, worktrees), test this tree's reference/,
    which an installed fastattn maps to fastattn.reference."""
    here = ROOT / "reference"
    if not here.is_dir() or Path(fastattn.__file__).resolve().parents[1] != ROOT:
        return
    spec = importlib.util.spec_from_file_location(
        "fastattn.reference", here / "__init__.py", submodule_search_locations=[str(here)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["fastattn.reference"] = module
    spec.loader.exec_module(module)
    fastattn.reference = module


_bind_source_reference()

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, **_common)
settings.register_profile("ci", max_examples=100, derandomize=True, **_common)
settings.register_profile("emu", max_examples=6, derandomize=True, **_common)
settings.register_profile("fuzz", max_examples=50_000, **_common)  # tests/test_fuzz.py, by hand
_default_profile = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or _default_profile)


# float32 kernel vs float64 reference. Each score carries a float32 rounding
# error of about eps * |logit| (accumulated over D terms, which exp turns into
# a relative error of the weights), the exp2 polynomial adds < 2e-7 relative,
# and the weighted sum over Lk keys adds about eps * sqrt(Lk) relative to max|v|.
# So the bound is relative to max|v| and grows with the largest |logit|.
F32_EPS = float(np.finfo(np.float32).eps)


def f32_tolerance(max_logit: float, lk: int) -> float:
    """Absolute error allowed per output element, as a multiple of max|v|."""
    return 8 * F32_EPS * (4 + max_logit) * (1 + np.sqrt(lk))


def runnable(op: str) -> list:
    """Names of the compiled variants of `op` that run on this CPU (parametrise over them)."""
    return [v.name for v in _dispatch.OPS[op].variants if v.runs_here]


def compiled(op: str) -> list:
    """Every compiled variant, with those this CPU cannot run marked as skipped."""
    return [
        pytest.param(v.name, marks=() if v.runs_here else pytest.mark.skip(
            reason=f"{v.isa} not supported by this CPU"))
        for v in _dispatch.OPS[op].variants
    ]


def sparse_patterns(bigbird_heads: int) -> dict:
    """Every layout pattern as name -> (lq, lk, causal) -> BlockLayout, for the sparse tests;
    BigBird draws one layout per head for `bigbird_heads` heads."""
    return {
        "local": lambda lq, lk, c: fastattn.local_layout(lq, lk, 37, causal=c, block=32),
        "local-pair": lambda lq, lk, c: fastattn.local_layout(lq, lk, (100, 0), causal=c),
        "local-wide": lambda lq, lk, c: fastattn.local_layout(lq, lk, 10 * max(lq, lk), causal=c),
        "longformer": lambda lq, lk, c: fastattn.local_layout(lq, lk, (9, 20), causal=c, block=16,
                                                              global_tokens=[0, lq // 2, lq - 1]),
        "strided": lambda lq, lk, c: fastattn.strided_layout(lq, lk, stride=3, causal=c, block=32),
        "fixed": lambda lq, lk, c: fastattn.fixed_layout(lq, lk, chunk_blocks=3, summary_blocks=1,
                                                         causal=c, block=32),
        "bigbird": lambda lq, lk, c: fastattn.bigbird_layout(
            lq, lk, random_blocks=2, heads=bigbird_heads, causal=c, seed=7, block=32),
    }
