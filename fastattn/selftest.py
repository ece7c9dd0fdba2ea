"""``python -m fastattn selftest``: every compiled kernel that runs on this CPU against the
NumPy reference, on small random cases, from an installed wheel (no tests folder).

Each op of `fastattn._dispatch.OPS` registers a case builder here (`register`): it
returns `Case` objects, each a call that takes a variant name and the reference output
with its tolerance. The runner gives every variant of the op that runs here every case
and prints one PASS/FAIL line per variant; a compiled op without a builder is itself a
FAIL, so a new op cannot be skipped silently. Tolerances:

- float32 kernels against the float64 reference: `f32_tolerance` (each score carries a
  float32 rounding error of about eps·|logit|, which exp turns into a relative error of
  the weights; the weighted sum over Lk keys adds about eps·sqrt(Lk) relative to max|v|);
- int8 kernels against the int8 reference, which spells out the kernels' integer
  arithmetic: the integers agree exactly, only the float rescales after them may round
  differently, so outputs agree to `INT8_RTOL` of the largest output.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

F32_EPS = float(np.finfo(np.float32).eps)
INT8_RTOL = 1e-5


def f32_tolerance(max_logit: float, lk: int) -> float:
    """Absolute error allowed per output element, as a multiple of max|v|."""
    return 8 * F32_EPS * (4 + max_logit) * (1 + np.sqrt(lk))


def reference(name: str):
    """The NumPy reference module ``fastattn.reference.<name>``: installed with the wheel,
    or, in a source checkout built in place, from the tree's ``reference/`` folder."""
    try:
        importlib.import_module("fastattn.reference")
    except ModuleNotFoundError:
        here = Path(__file__).resolve().parents[1] / "reference"
        if not (here / "__init__.py").is_file():
            raise
        spec = importlib.util.spec_from_file_location(
            "fastattn.reference", here / "__init__.py", submodule_search_locations=[str(here)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["fastattn.reference"] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"fastattn.reference.{name}")


@dataclass(frozen=True)
class Case:
    """One input: ``run(variant) -> output``, the reference output, and the largest
    allowed absolute error."""

    label: str
    run: object
    expected: np.ndarray
    tolerance: float


@dataclass(frozen=True)
class Result:
    op: str
    variant: str
    status: str          # "PASS", "FAIL" or "SKIP"
    detail: str
    seconds: float = 0.0
    cases: int = 0

    @property
    def line(self) -> str:
        return f"{self.status:4}  {self.op:<12} {self.variant:<16} {self.detail}"


_BUILDERS: dict = {}


def register(op: str):
    """Decorator: ``@register("dense-f32")`` on ``builder(rng) -> list[Case]``."""
    def decorate(builder):
        _BUILDERS[op] = builder
        return builder

    return decorate


def registered() -> tuple:
    return tuple(_BUILDERS)


def gaussian(rng, *shape, scale=1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def attention_inputs(rng, lq, lk, hq, hkv, d, dv, masked, key_offset=False) -> tuple:
    """(q, k, v, mask) for one batch row: q (1, hq, lq, d) of scale 1.5, k (1, hkv, lk, d),
    v (1, hkv, lk, dv); with `masked`, a (lq, lk) boolean mask whose first query sees
    nothing (so its output is zeros), else None. `key_offset` adds a mean shared by every
    key, as real keys have and as int8 smoothing removes."""
    q = gaussian(rng, 1, hq, lq, d, scale=1.5)
    k = gaussian(rng, 1, hkv, lk, d)
    if key_offset:
        k = k + gaussian(rng, d)
    v = gaussian(rng, 1, hkv, lk, dv)
    mask = None
    if masked:
        mask = rng.random((lq, lk)) < 0.7
        mask[0] = False
    return q, k, v, mask


def per_shape(rng, shapes, make, *, key_offset=False) -> list:
    """One case per row ``(label, Lq, Lk, Hq, Hkv, D, Dv, causal, masked)`` of `shapes`:
    ``make(label, q, k, v, mask, causal) -> Case`` on that row's `attention_inputs`."""
    return [make(label, *attention_inputs(rng, lq, lk, hq, hkv, d, dv, masked, key_offset),
                 causal) for label, lq, lk, hq, hkv, d, dv, causal, masked in shapes]


def f32_case(label, run, expected, q, k, v, scale=None) -> Case:
    d = q.shape[-1]
    logit = float(np.abs(q).max() * np.abs(k).max() * d * (scale or d ** -0.5))
    tol = f32_tolerance(logit, k.shape[-2]) * max(1.0, float(np.abs(v).max()))
    return Case(label, run, np.asarray(expected, np.float64), tol)


def i8_case(label, run, expected) -> Case:
    expected = np.asarray(expected, np.float64)
    return Case(label, run, expected, INT8_RTOL * max(float(np.abs(expected).max(initial=0)),
                                                      1e-30))


def check(op: str, variant, cases: list) -> Result:
    if not variant.runs_here:
        return Result(op, variant.name, "SKIP", f"{variant.isa} not supported by this CPU")
    t0 = time.perf_counter()
    worst, worst_label = 0.0, ""
    for case in cases:
        try:
            out = np.asarray(case.run(variant.name), np.float64)
        except Exception as exc:  # a kernel error is a FAIL line, not a crash of the run
            return Result(op, variant.name, "FAIL", f"{case.label}: {type(exc).__name__}: {exc}",
                          time.perf_counter() - t0, len(cases))
        if out.shape != case.expected.shape:
            return Result(op, variant.name, "FAIL", f"{case.label}: shape {out.shape}, "
                          f"expected {case.expected.shape}", time.perf_counter() - t0, len(cases))
        err = float(np.abs(out - case.expected).max(initial=0.0))
        ratio = err / case.tolerance if case.tolerance > 0 else (0.0 if err == 0 else np.inf)
        if not np.isfinite(err) or ratio > 1.0:
            return Result(op, variant.name, "FAIL", f"{case.label}: max error {err:.3g} > "
                          f"tolerance {case.tolerance:.3g}", time.perf_counter() - t0, len(cases))
        if ratio >= worst:
            worst, worst_label = ratio, case.label
    seconds = time.perf_counter() - t0
    return Result(op, variant.name, "PASS", f"{len(cases)} cases, worst {worst:.2f} of "
                  f"tolerance ({worst_label}), {seconds:.2f} s", seconds, len(cases))


def run(ops=None, *, seed: int = 0, report=None) -> list:
    """Runs the checks of ``ops`` (default: every op `fastattn._dispatch` lists) and
    returns one `Result` per compiled variant; ``report(result)`` is called as each
    one finishes."""
    from fastattn import _dispatch, _selftest_cases  # noqa: F401  (registers the builders)

    results = []
    for op in (ops or list(_dispatch.OPS)):
        listed = _dispatch.OPS[op]
        builder = _BUILDERS.get(op)
        if builder is None:
            outcome = [Result(op, v.name, "FAIL", "no selftest registered for this op "
                              "(fastattn.selftest.register)") for v in listed.variants]
        else:
            cases = builder(np.random.default_rng(seed))
            outcome = [check(op, v, cases) for v in listed.variants]
        for result in outcome:
            results.append(result)
            if report is not None:
                report(result)
    return results


def main(ops=None, *, seed: int = 0, out=None) -> int:
    """Prints a header, one line per variant and a summary; 0 when nothing failed."""
    import fastattn
    from fastattn import _dispatch

    out = sys.stdout if out is None else out
    feats = [n for n, on in fastattn.info()["cpu_features"].items() if on]
    print(f"fastattn {fastattn.__version__} selftest on {fastattn.info()['machine']} "
          f"({', '.join(feats) or 'no SIMD features'}); ISA cap {_dispatch.ISA_CAP or 'none'}",
          file=out)
    t0 = time.perf_counter()
    results = run(ops, seed=seed, report=lambda r: print(r.line, file=out, flush=True))
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped "
          f"(not supported here) in {time.perf_counter() - t0:.1f} s", file=out)
    return 1 if counts["FAIL"] or not counts["PASS"] else 0
