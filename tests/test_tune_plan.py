"""``attention(..., plan=)``: the same result as ``plan(q, k, v)``, and a clear error when
the call does not fit the plan (another shape, causal setting or precision) or sets an
option the plan fixes."""

from __future__ import annotations

import numpy as np
import pytest

import fastattn
from fastattn import candidates, tuning

SHAPE = (1, 2, 128, 32)


def make_plan(function="attention", op="dense-f32", precision="fp32", variant="f32-scalar",
              causal=False, shape=SHAPE, **kwargs):
    """A plan as tune returns one, fixed here so that the tests do not depend on timing."""
    label = candidates.AttentionShape.of(shape, causal=causal).label
    return tuning.Plan(function, op, dict(causal=causal, precision=precision, **kwargs),
                       variant, 1, f"dense-{precision}", 1.0, 1e-3, 1e-6, "modelled",
                       "latency", label)


def inputs(shape=SHAPE):
    return candidates.structured_inputs(candidates.AttentionShape.of(shape))


@pytest.mark.parametrize("kind", ["fp32", "int8", "local"])
def test_plan_keyword_computes_what_calling_the_plan_computes(kind):
    q, k, v = inputs()
    plan = {"fp32": make_plan(),
            "int8": make_plan(op="dense-i8", precision="int8", variant="i8-scalar"),
            "local": make_plan("local_attention", "sparse-f32", window=32)}[kind]
    out = fastattn.attention(q, k, v, plan=plan)
    np.testing.assert_array_equal(out, plan(q, k, v))
    direct = getattr(fastattn, plan.function)(q, k, v, variant=plan.variant, num_threads=1,
                                              **plan.kwargs)
    np.testing.assert_array_equal(out, direct)
    # the precision the plan computes in may be restated
    np.testing.assert_array_equal(
        fastattn.attention(q, k, v, plan=plan, precision=plan.precision), out)


def test_a_tuned_plan_runs_through_attention():
    plan = fastattn.tune(SHAPE, causal=True, quality=0.9, budget_s=0.0, cache=False,
                         ops=["dense-f32", "sparse-f32"])
    q, k, v = inputs()
    np.testing.assert_array_equal(fastattn.attention(q, k, v, causal=True, plan=plan),
                                  plan(q, k, v))


@pytest.mark.parametrize("option", [
    dict(mask=np.ones((128, 128), dtype=bool)), dict(scale=0.5), dict(variant="f32-scalar"),
    dict(num_threads=1), dict(precision="int8")])
def test_an_option_the_plan_fixes_is_an_error(option):
    q, k, v = inputs()
    name = next(iter(option))
    with pytest.raises(ValueError, match=rf"plan= fixes .*drop {name}="):
        fastattn.attention(q, k, v, plan=make_plan(), **option)


def test_another_causal_setting_is_an_error():
    q, k, v = inputs()
    with pytest.raises(ValueError, match="causal=True, but the plan was tuned with causal=False"):
        fastattn.attention(q, k, v, causal=True, plan=make_plan())
    with pytest.raises(ValueError, match="causal=False, but the plan was tuned with causal=True"):
        fastattn.attention(q, k, v, plan=make_plan(causal=True))


@pytest.mark.parametrize("shape", [(1, 2, 256, 32), (2, 2, 128, 32), (1, 2, 128, 16)])
def test_another_shape_is_an_error(shape):
    q, k, v = inputs(shape)
    plan = make_plan()
    for call in (lambda: fastattn.attention(q, k, v, plan=plan), lambda: plan(q, k, v)):
        with pytest.raises(ValueError, match=r"tuned for B=1 H=2 L=128 D=32, but q, k, v are"):
            call()


def test_arrays_that_are_not_4d_are_an_error():
    q, k, v = (x[0, 0] for x in inputs())
    with pytest.raises(ValueError, match="tuned for B=1 H=2 L=128 D=32: q, k, v must be 4-d"):
        fastattn.attention(q, k, v, plan=make_plan())


def test_quantized_keys_need_an_int8_dense_plan():
    q, k, v = inputs()
    kq, vq = fastattn.quantize(k, kind="key"), fastattn.quantize(v, kind="value")
    with pytest.raises(TypeError, match="k is a QuantizedTensor, but the plan"):
        fastattn.attention(q, kq, vq, plan=make_plan())
    plan = make_plan(op="dense-i8", precision="int8", variant="i8-scalar")
    np.testing.assert_array_equal(
        fastattn.attention(q, kq, vq, plan=plan),
        fastattn.attention(q, kq, vq, precision="int8", variant="i8-scalar", num_threads=1))


def test_plan_must_be_a_plan():
    q, k, v = inputs()
    with pytest.raises(TypeError, match="plan must be a fastattn.tune"):
        fastattn.attention(q, k, v, plan="dense-fp32")
