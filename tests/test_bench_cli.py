"""python -m fastattn bench: the plan covers every variant the library lists, the report
sorts by shape and states each speed-up's baseline, files and plots get written. Tiny
shapes and no timing budget: this checks the logic, not the speed."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
from importlib.util import find_spec

import pytest

import fastattn
from fastattn import _dispatch, candidates
from fastattn.benchmarks import measure, report, runner


def bench_args(tmp_path=None, **over) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    runner.add_arguments(p)
    argv = ["--lengths", "64", "128", "--heads", "2", "--dim", "16", "--budget", "0"]
    if tmp_path is not None:
        argv += ["--out", str(tmp_path)]
    args = p.parse_args(argv)
    for key, value in over.items():
        setattr(args, key, value)
    return args


def test_plan_covers_every_runnable_variant_of_every_candidate_op():
    rows = runner.plan(bench_args(lengths=[512]))
    planned = {(r[3]) for r in rows if r[1] == "fastattn"}
    assert {r[0].label for r in rows} == {"B=1 H=2 L=512 D=16",
                                          "B=1 H=2 L=1 Lk=2048 D=16 causal"}
    for op in candidates.registered():
        if op in _dispatch.OPS:
            for v in _dispatch.OPS[op].variants:
                assert (v.name in planned) == v.runs_here, (op, v.name)
    assert [r[2] for r in rows if r[1] == "peer"] == 2 * list(runner.PEERS)  # two shapes


def test_quick_keeps_the_choice_and_scalar():
    rows = runner.plan(bench_args(quick=True, lengths=None, no_decode=True))
    assert sorted({r[0].lq for r in rows}) == list(runner.QUICK_LENGTHS)
    for _, kind, _, variant, cand in rows:
        if kind == "fastattn":
            assert variant == _dispatch.OPS[cand.op].chosen.name or variant.endswith("-scalar")


def test_only_filters_but_keeps_the_baseline():
    rows = runner.plan(bench_args(only=["int8"]))
    assert {r[2] for r in rows if r[1] == "peer"} == {"numpy-f32"}
    assert all("int8" in r[2] for r in rows if r[1] == "fastattn")


def fake(shape, length, name, ms, threads=1, rounds=None):
    return dict(shape=shape, length=length, key_length=length, name=name, median_s=ms / 1e3,
                threads=threads, round_medians_s=[x / 1e3 for x in rounds or [ms] * 4])


def test_speedups_are_against_the_baseline_of_the_same_shape_and_threads():
    rows = [fake("L=2048", 2048, "numpy-f32", 10.0), fake("L=2048", 2048, "x", 2.0),
            fake("L=16384", 16384, "x", 50.0), fake("L=16384", 16384, "numpy-f32", 100.0),
            fake("L=2048", 2048, "x", 4.0, threads=2)]
    missing = report.add_speedups(rows, "numpy-f32")
    assert [r["speedup"] for r in rows] == [1.0, 5.0, 2.0, 1.0, None]
    assert missing == ["L=2048"]  # no two-thread baseline: blank, never a one-thread one
    order = [(r["length"], r["name"]) for r in report.sorted_rows(rows, "numpy-f32")]
    assert order[0] == (2048, "numpy-f32") and order[-2:] == [(16384, "numpy-f32"),
                                                              (16384, "x")]


def test_speedups_are_the_median_of_the_per_round_ratios():
    """A round slowed for everyone (the third) moves both medians, not their ratio."""
    rows = [fake("L=64", 64, "numpy-f32", 10.0, rounds=[10.0, 10.0, 40.0, 10.0]),
            fake("L=64", 64, "x", 5.0, rounds=[5.0, 5.0, 20.0, 5.0])]
    report.add_speedups(rows, "numpy-f32")
    assert rows[1]["speedup"] == 2.0
    rows[1]["round_medians_s"] = rows[1]["round_medians_s"][:3]
    with pytest.raises(ValueError, match="not timed in the baseline's rounds"):
        report.add_speedups(rows, "numpy-f32")


def test_interleave_takes_turns_and_reverses_every_other_round():
    log = []
    calls = [lambda i=i: log.append(i) for i in range(3)]
    times = measure.interleave(calls, budget_s=0.0, rounds=4)
    assert log == [0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0]  # budget 0: one call per round
    assert [len(t) for t in times] == [4, 4, 4] and all(len(r) == 1 for t in times for r in t)
    log.clear()
    times = measure.interleave(calls, budget_s=1e9, rounds=2, max_calls=10)
    assert [len(r) for t in times for r in t] == [5] * 6 and len(log) == 30


def _drifting_machine(slowdown_per_s: float):
    """A fake clock and calls of 1 s of work on a machine slowing down as time passes."""
    now = [0.0]

    def work():
        now[0] += 1.0 + slowdown_per_s * now[0]

    return (lambda: now[0]), work


@pytest.mark.parametrize("rounds", [1, measure.ROUNDS])
def test_interleaving_makes_ratios_fair_on_a_drifting_machine(rounds):
    """Two identical calls: timed one after the other (one round) the second looks slower;
    taking turns, their speed-up is 1."""
    clock, work = _drifting_machine(0.002)
    got = measure.interleave([work, work], budget_s=40.0, rounds=rounds, clock=clock)
    rows = [measure.finish(dict(shape="L=8", threads=1, name=name, ops=1), t)
            for name, t in zip(("base", "same"), got)]
    report.add_speedups(rows, "base")
    if rounds == 1:
        assert rows[1]["speedup"] < 0.95
    else:
        assert rows[1]["speedup"] == pytest.approx(1.0, abs=0.01)


def test_argv_round_trip():
    args = bench_args(quick=True, only=["local"], threads=2, no_decode=True)
    again = argparse.ArgumentParser()
    runner.add_arguments(again)
    parsed = again.parse_args(runner._argv_of(args)[1:])
    assert vars(parsed) == vars(args)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """Every fastattn row at L = 64 and 128, against NumPy only (importing torch and
    building an ONNX Runtime session take longer than the rest of the run)."""
    out = tmp_path_factory.mktemp("bench")
    text, progress = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(text):
        mp.setattr(runner, "PEERS", ("numpy-f32",))
        status = runner.run(bench_args(out), progress=progress)
    return status, text.getvalue(), progress.getvalue(), out


def test_run_prints_header_progress_and_table(small_run):
    status, text, progress, _ = small_run
    assert status == 0
    info = fastattn.info()
    assert "CPU " in text and "kernels " in text
    for op, d in info["ops"].items():
        assert f"{op} {d['chosen']}" in text
    assert "energy " in text and ("measured (" in text or "modelled (" in text)
    assert "[  1/" in progress and "ETA" in progress
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("shape"))
    body = [line for line in lines[start + 2:] if line.startswith("B=")]
    decode = [i for i, line in enumerate(body) if "Lk=512" in line]
    assert decode and decode == list(range(len(body) - len(decode), len(body)))  # last
    lengths = [int(line.split("L=")[1].split()[0]) for line in body[:decode[0]]]
    assert lengths == sorted(lengths) and set(lengths) == {64, 128}
    assert all("vs numpy-f32" in line for line in body)


def test_files_are_written(small_run):
    _, _, _, out = small_run
    data = json.loads((out / "bench.json").read_text())
    assert data["baseline"] == "numpy-f32" and data["header"]["threads"] == 1
    names = {(r["name"], r["variant"]) for r in data["rows"]}
    for op in ("dense-f32", "dense-i8", "decode-f32", "decode-i8"):
        for variant in candidates.runnable_variants(op):
            assert any(v == variant for _, v in names), variant
    for r in data["rows"]:
        assert r["energy_source"] in ("measured", "modelled") and r["energy_j"] > 0
        assert r["quality"] <= 1.0 + 1e-9  # untrained Linformer projections go below 0
        if r["exact"]:
            assert r["quality"] > 0.95, r
    md = (out / "bench.md").read_text()
    assert md.count("\n| B=1 H=2 L=") == len(data["rows"])


@pytest.mark.skipif(find_spec("matplotlib") is None, reason="the [plot] extra is not installed")
def test_plots_are_written_and_open(small_run):
    import matplotlib.image

    _, _, _, out = small_run
    for name in ("latency.png", "tradeoff.png"):
        image = matplotlib.image.imread(out / name)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
        assert image.std() > 0.01  # something is drawn


def test_missing_matplotlib_is_explained(tmp_path, monkeypatch, capsys):
    real = runner.find_spec
    monkeypatch.setattr(runner, "find_spec", lambda m: None if m == "matplotlib" else real(m))
    monkeypatch.setattr(report, "find_spec", lambda m: None if m == "matplotlib" else real(m))
    assert runner.run(bench_args(tmp_path, lengths=[32], only=["dense-fp32"])) == 0
    assert "pip install 'fastattn[plot]'" in capsys.readouterr().err
    assert (tmp_path / "bench.json").exists() and not (tmp_path / "latency.png").exists()


def test_cli_help_needs_no_pytest():
    here = os.path.dirname(os.path.dirname(os.path.abspath(fastattn.__file__)))
    code = ("import sys; sys.modules['pytest'] = None; sys.modules['pytest_benchmark'] = None;"
            "from fastattn.__main__ import main; main(['bench', '--help'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=here,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--out" in done.stdout and "-k" not in done.stdout
