"""fastattn.tune: every candidate and variant weighed, the floor respected, the best by the
objective chosen, the plan reusable and cached per CPU. Tiny shapes, tiny budgets."""

from __future__ import annotations

import numpy as np
import pytest

import fastattn
from fastattn import candidates, tuning

SHAPE = (1, 2, 256, 32)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTATTN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def plan():
    return fastattn.tune(SHAPE, quality=0.9, budget_s=0.0, cache=False)


def test_every_candidate_and_variant_is_weighed(plan):
    expected = {(c.name, v) for c in candidates.candidates(SHAPE, sweep=True)
                for v in candidates.runnable_variants(c.op)}
    assert {(r["name"], r["variant"]) for r in plan.table} == expected
    assert len(plan.table) == len(expected)


def test_the_floor_and_the_objective(plan):
    assert plan.quality >= 0.9
    for r in plan.table:
        if r["quality"] < 0.9:
            assert r["median_s"] is None and "below the quality floor" in r["verdict"]
    timed = [r for r in plan.table if r["median_s"] is not None]
    assert plan.median_s == min(r["median_s"] for r in timed)
    assert sum(r["verdict"].startswith("chosen") for r in plan.table) == 1


def test_the_plan_computes_what_it_names(plan):
    q, k, v = candidates.structured_inputs(candidates.AttentionShape.of(SHAPE))
    out = plan(q, k, v)
    direct = getattr(fastattn, plan.function)(q, k, v, variant=plan.variant,
                                              num_threads=plan.num_threads, **plan.kwargs)
    np.testing.assert_array_equal(out, direct)
    assert candidates.quality(out, fastattn.attention(q, k, v)) == pytest.approx(plan.quality)
    assert plan.name in plan.table_text() and "chosen" in plan.table_text()


def test_a_floor_only_exact_attention_meets():
    plan = fastattn.tune(SHAPE, quality=0.9999, budget_s=0.0, cache=False)
    assert plan.name == "dense-fp32" and plan.quality > 0.9999


def test_energy_objective_picks_the_least_energy():
    plan = fastattn.tune(SHAPE, quality=0.5, objective="energy", budget_s=0.0, cache=False)
    timed = [r for r in plan.table if r["median_s"] is not None]
    assert plan.energy_j == pytest.approx(min(r["energy_j"] for r in timed))
    assert plan.energy_source.startswith(("measured", "modelled"))


def test_a_user_sample_defines_the_shape():
    rng = np.random.default_rng(0)
    sample = tuple(rng.standard_normal((1, 2, 96, 16)).astype(np.float32) for _ in range(3))
    plan = fastattn.tune(None, sample=sample, quality=0.95, budget_s=0.0, cache=False,
                         ops=["dense-f32", "dense-i8"])
    assert plan.shape == "B=1 H=2 L=96 D=16"
    assert {r["op"] for r in plan.table} == {"dense-f32", "dense-i8"}


def test_cache_per_cpu(tmp_path):
    first = fastattn.tune(SHAPE, quality=0.95, budget_s=0.0, ops=["dense-f32"])
    assert not first.cached
    files = list((tmp_path / "cache").glob("tune-*.json"))
    assert [f.name for f in files] == [f"tune-{tuning.cpu_key()}.json"]
    again = fastattn.tune(SHAPE, quality=0.95, budget_s=0.0, ops=["dense-f32"])
    assert again.cached and again.as_dict() == first.as_dict()
    fresh = fastattn.tune(SHAPE, quality=0.95, budget_s=0.0, ops=["dense-f32"], refresh=True)
    assert not fresh.cached
    other = fastattn.tune(SHAPE, quality=0.96, budget_s=0.0, ops=["dense-f32"])
    assert not other.cached


def test_bad_arguments():
    with pytest.raises(ValueError, match="objective"):
        fastattn.tune(SHAPE, objective="speed")
    for bad in (0.0, 1.0, 1.5, True):
        with pytest.raises(ValueError, match="quality"):
            fastattn.tune(SHAPE, quality=bad)
    with pytest.raises(ValueError, match="batch, heads, L, D"):
        fastattn.tune((256, 32))
    with pytest.raises(ValueError, match="no candidate meets"):
        tuning._pick([dict(name="x", variant="v", quality=0.1, median_s=None)], "latency")


def test_attention_shape():
    s = candidates.AttentionShape.of((2, 8, 100, 64), causal=True)
    assert (s.lk, s.kv_heads, s.dv) == (100, 8, 64) and s.label.endswith("causal")
    g = candidates.AttentionShape(1, 8, 10, 16, lk=30, kv_heads=2, dv=8)
    assert g.label == "B=1 H=8/2 L=10 Lk=30 D=16"
    with pytest.raises(ValueError, match="multiple"):
        candidates.AttentionShape(1, 8, 10, 16, kv_heads=3)
    with pytest.raises(ValueError, match="positive"):
        candidates.AttentionShape(1, 0, 10, 16)


def test_structured_inputs_are_local_with_recalls():
    shape = candidates.AttentionShape.of((1, 2, 1024, 32))
    q, k, v = candidates.structured_inputs(shape)
    assert not q.flags.writeable and q.dtype == np.float32
    assert candidates.structured_inputs(shape)[0] is q  # cached
    scores = q[0, 0] @ k[0, 0].T
    best = scores.argmax(axis=1)
    near = np.abs(best - np.arange(1024)) <= 16
    assert 0.6 < near.mean() < 0.99  # most queries match nearby keys, some recall far ones


def test_quality():
    x = np.ones((3, 4))
    assert candidates.quality(x, x) == 1.0
    assert candidates.quality(np.zeros((3, 4)), x) == 0.0


def test_decode_shapes_weigh_the_decode_ops():
    shape = candidates.AttentionShape(1, 4, 1, 32, lk=300, kv_heads=2, causal=True)
    plan = fastattn.tune(shape, quality=0.9, budget_s=0.0, cache=False)
    assert {r["op"] for r in plan.table} >= {"decode-f32", "decode-i8"}
    assert "dense-f32" not in {r["op"] for r in plan.table}  # attention sends Lq=1 to decode
    q, k, v = candidates.structured_inputs(shape)
    exact = fastattn.attention(q, k, v, causal=True)
    assert candidates.quality(plan(q, k, v), exact) == pytest.approx(plan.quality)
    cache_rows = [r for r in plan.table if r["op"] == "decode-i8"]
    assert cache_rows and all(r["quality"] > 0.95 for r in cache_rows)
