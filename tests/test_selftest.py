"""python -m fastattn selftest: covers every op and variant _dispatch lists, fails loudly on a
wrong kernel or an op without cases, and runs from an installed package."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

import fastattn
from fastattn import _dispatch, selftest


def test_every_listed_op_has_cases():
    selftest.run(["dense-f32"])  # imports the built-in builders
    missing = [op for op in _dispatch.OPS if op not in selftest.registered()]
    assert not missing, f"ops without selftest cases: {missing}"


def test_every_variant_gets_one_line():
    out = io.StringIO()
    status = selftest.main(out=out)
    lines = out.getvalue().splitlines()
    for op, listed in _dispatch.OPS.items():
        for v in listed.variants:
            want = "PASS" if v.runs_here else "SKIP"
            assert any(line.split()[:3] == [want, op, v.name] for line in lines), (op, v.name)
    assert status == 0, out.getvalue()
    assert "0 failed" in lines[-1]


class FakeOp:
    def __init__(self, *variants):
        self.op = "fake"
        self.variants = variants
        self.chosen = variants[0]


def test_a_wrong_kernel_fails(monkeypatch):
    good = _dispatch.Variant(0, "f-good", "scalar", True)
    bad = _dispatch.Variant(1, "f-bad", "scalar", True)
    absent = _dispatch.Variant(2, "f-absent", "neondot", False)
    expected = np.arange(6.0).reshape(2, 3)

    def outputs(name):
        return expected + (1e-3 if name == "f-bad" else 0.0)

    monkeypatch.setitem(_dispatch.OPS, "fake", FakeOp(good, bad, absent))
    monkeypatch.setitem(selftest._BUILDERS, "fake",
                        lambda rng: [selftest.Case("c", outputs, expected, 1e-4)])
    out = io.StringIO()
    assert selftest.main(["fake"], out=out) == 1
    text = out.getvalue()
    assert "PASS  fake" in text and "f-good" in text
    assert "FAIL  fake         f-bad" in text and "max error 0.001 > tolerance 0.0001" in text
    assert "SKIP  fake         f-absent" in text


def test_an_exception_or_a_wrong_shape_fails(monkeypatch):
    variant = _dispatch.Variant(0, "f-x", "scalar", True)
    monkeypatch.setitem(_dispatch.OPS, "fake", FakeOp(variant))

    def boom(name):
        raise RuntimeError("kernel status 3")

    for run, message in ((boom, "RuntimeError: kernel status 3"),
                         (lambda name: np.zeros(3), "shape (3,)")):
        monkeypatch.setitem(selftest._BUILDERS, "fake",
                            lambda rng, run=run: [selftest.Case("c", run, np.zeros(2), 1.0)])
        [result] = selftest.run(["fake"])
        assert result.status == "FAIL" and message in result.detail


def test_an_op_without_cases_fails(monkeypatch):
    monkeypatch.setitem(_dispatch.OPS, "fake", FakeOp(_dispatch.Variant(0, "f-x", "scalar", True)))
    monkeypatch.delitem(selftest._BUILDERS, "fake", raising=False)
    [result] = selftest.run(["fake"])
    assert result.status == "FAIL" and "no selftest registered" in result.detail


def test_cli_exit_status_and_unknown_op():
    here = os.path.dirname(os.path.dirname(os.path.abspath(fastattn.__file__)))
    done = subprocess.run([sys.executable, "-m", "fastattn", "selftest", "--op", "dense-f32"],
                          capture_output=True, text=True, cwd=here, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  dense-f32" in done.stdout
    done = subprocess.run([sys.executable, "-m", "fastattn", "selftest", "--op", "nope"],
                          capture_output=True, text=True, cwd=here, timeout=300)
    assert done.returncode == 2 and "unknown op" in done.stderr


@pytest.mark.parametrize("lk", [1, 100, 4096])
def test_f32_tolerance_grows_with_logits_and_length(lk):
    assert selftest.f32_tolerance(10.0, lk) > selftest.f32_tolerance(1.0, lk)
    assert selftest.f32_tolerance(1.0, 2 * lk) > selftest.f32_tolerance(1.0, lk)
