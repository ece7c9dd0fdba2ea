"""Bad input gets a clear exception naming the argument; dispatch is introspectable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastattn
from fastattn import _core, _dispatch

Q = np.zeros((2, 4, 10, 8), np.float32)
K = np.zeros((2, 4, 12, 8), np.float32)
V = np.zeros((2, 4, 12, 6), np.float32)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(q=Q.astype(np.int32)), TypeError, "query"),
        (dict(k=K.astype(np.complex64)), TypeError, "key"),
        (dict(v=np.zeros(12, np.float32)), ValueError, "value"),
        (dict(k=np.zeros((2, 4, 12, 9), np.float32)), ValueError, "last dim D"),
        (dict(v=np.zeros((2, 4, 11, 6), np.float32)), ValueError, "same length"),
        (dict(k=K[:, :3], v=V[:, :3]), ValueError, "multiple"),
        (dict(k=np.zeros((3, 4, 12, 8), np.float32)), ValueError, "broadcast"),
        (dict(q=Q[:, :, :0]), ValueError, "empty"),
        (dict(k=K[:, :, :0], v=V[:, :, :0]), ValueError, "empty"),
        (dict(mask=np.zeros((10, 13), bool)), ValueError, "mask"),
        (dict(mask=np.zeros((10, 12), np.int64)), TypeError, "mask"),
        (dict(scale=float("nan")), ValueError, "scale"),
        (dict(scale="big"), TypeError, "scale"),
        (dict(num_threads=0), ValueError, "num_threads"),
        (dict(num_threads=1.5), TypeError, "num_threads"),
        (dict(variant="f32-nope"), ValueError, "variant"),
        (dict(causal="yes"), TypeError, "causal"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, error, words):
    args = dict(q=Q, k=K, v=V)
    args.update(kwargs)
    with pytest.raises(error, match=words):
        fastattn.attention(args.pop("q"), args.pop("k"), args.pop("v"), **args)


def test_sdpa_rejects_what_pytorch_rejects():
    with pytest.raises(ValueError, match="is_causal"):
        fastattn.scaled_dot_product_attention(Q, K, V, attn_mask=np.ones((10, 12), bool),
                                              is_causal=True)
    with pytest.raises(ValueError, match="enable_gqa"):
        fastattn.scaled_dot_product_attention(Q, K[:, :2], V[:, :2])
    with pytest.raises(ValueError, match="dropout"):
        fastattn.scaled_dot_product_attention(Q, K, V, dropout_p=0.1)
    out = fastattn.scaled_dot_product_attention(Q, K[:, :2], V[:, :2], enable_gqa=True)
    assert out.shape == (2, 4, 10, 6)


def test_info_reports_the_run_time_choice():
    info = fastattn.info()
    dense = info["ops"]["dense-f32"]
    assert dense["chosen"] in dense["runs_here"]
    assert set(dense["runs_here"]) <= set(dense["compiled"])
    assert info["cpu_features"]["scalar"] is True
    isa = dense["chosen"].split("-", 1)[1]
    assert info["cpu_features"][isa] is True
    # The best variant this CPU runs is the chosen one when nothing caps it.
    if info["isa_cap"] is None:
        assert dense["chosen"] == dense["runs_here"][0]


def _run_with_env(env_update, code):
    """A fresh interpreter, started outside the source tree so that it imports the
    installed fastattn (as the tests do), with some environment variables set."""
    env = dict(os.environ, **env_update)
    here = os.path.dirname(os.path.abspath(fastattn.__file__))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, cwd=os.path.dirname(here))


def _isa_of(op: str, variant: str) -> str:
    """The ISA of a variant, as _dispatch lists it."""
    return {v.name: v.isa for v in _dispatch.OPS[op].variants}[variant]


def test_isa_cap_scalar_really_runs_scalar():
    code = ("import fastattn, numpy as np; from fastattn import _dispatch;"
            "print(fastattn.info()['ops']['dense-f32']['chosen']);"
            "x = np.ones((4, 8), np.float32); print(fastattn.attention(x, x, x).sum())")
    result = _run_with_env({"FASTATTN_ISA": "scalar"}, code)
    chosen, total = result.stdout.split()
    assert _isa_of("dense-f32", chosen) == "scalar" and float(total) == 32.0


def test_no_cap_picks_the_best_runnable_variant_of_every_op():
    info = fastattn.info()
    if info["isa_cap"] is not None:
        pytest.skip("FASTATTN_ISA is set")
    for name, op in info["ops"].items():
        assert op["chosen"] == op["runs_here"][0], name


def test_isa_cap_ranks():
    """Caps follow each architecture's chain of ranks (isa.def, read through _core); None
    is no cap; an ISA the CPU lacks is never allowed."""
    has = _core.cpu_features()
    ranks = _core.ISA_RANKS
    assert ranks["scalar"] == 0 and _core.ISA_ARCHS["scalar"] == "any"
    for isa in _core.ISA_NAMES:
        assert _core.isa_allowed(isa, None) == has[isa]
        assert _core.isa_allowed(isa, isa) == has[isa]
        assert _core.isa_allowed("scalar", isa)
        for cap in _core.ISA_NAMES:
            assert _core.isa_allowed(isa, cap) == (has[isa] and ranks[isa] <= ranks[cap])
    assert ranks["avx512vnni"] > ranks["avx512"] > ranks["avx2"]
    assert ranks["neondot"] > ranks["neon"]


def test_isa_cap_avx2_hides_avx512vnni():
    """What a CPU with AVX2 but no AVX-512 runs: every op picks at most avx2."""
    code = ("import fastattn, json;"
            "print(json.dumps({k: v['chosen'] for k, v in fastattn.info()['ops'].items()}))")
    chosen = json.loads(_run_with_env({"FASTATTN_ISA": "avx2"}, code).stdout)
    assert "dense-i8" in chosen
    for op, name in chosen.items():
        assert _isa_of(op, name) not in ("avx512vnni", "avx512"), op
        if _core.cpu_features()["avx2"]:
            assert _isa_of(op, name) == "avx2", op


def test_isa_cap_avx512_keeps_float32_avx512_and_hides_vnni():
    """FASTATTN_ISA=avx512 sits between avx2 and avx512vnni: the low-rank ops keep their
    f32-avx512 variant where the CPU has AVX-512, the int8 ops drop to avx2."""
    code = ("import fastattn, json;"
            "print(json.dumps({k: v['chosen'] for k, v in fastattn.info()['ops'].items()}))")
    chosen = json.loads(_run_with_env({"FASTATTN_ISA": "avx512"}, code).stdout)
    has = _core.cpu_features()
    for op, name in chosen.items():
        assert _isa_of(op, name) != "avx512vnni", op
    if has["avx512"]:
        assert chosen["linformer-f32"] == "f32-avx512"
        assert chosen["dense-i8"] == "i8-avx2"


def test_f32_peak_loop_per_isa():
    """The float32 peak loop of a named ISA runs only where the CPU has it; an ISA without
    a float32 loop (int8 only) does nothing."""
    has = _core.cpu_features()
    for isa in ("scalar", "avx2", "avx512", "neon"):
        assert (_core.f32_peak_loop(100, isa) > 0) == has[isa], isa
    assert _core.f32_peak_loop(100, "avx512vnni") == 0
    assert _core.f32_peak_loop(100) > 0
    with pytest.raises(ValueError):
        _core.f32_peak_loop(100, "sse9")


def test_unknown_isa_cap_warns_and_is_ignored():
    result = _run_with_env({"FASTATTN_ISA": "sse9"},
                           "import fastattn; print(fastattn.info()['isa_cap'])")
    assert result.stdout.strip() == "None"
    assert "FASTATTN_ISA" in result.stderr


def test_num_threads_default_from_environment():
    result = _run_with_env({"FASTATTN_NUM_THREADS": "3"},
                           "import fastattn; print(fastattn.info()['num_threads'])")
    assert result.stdout.strip() == "3"


def test_bad_num_threads_default_warns_and_uses_every_cpu(monkeypatch):
    monkeypatch.delenv("FASTATTN_NUM_THREADS", raising=False)
    cpus = _dispatch.default_num_threads()
    for bad in ("lots", "2.5", "0", str(_core.MAX_THREADS + 1)):
        monkeypatch.setenv("FASTATTN_NUM_THREADS", bad)
        with pytest.warns(RuntimeWarning, match=rf"FASTATTN_NUM_THREADS='{bad}' is not an "
                                                rf"integer in \[1, {_core.MAX_THREADS}\]"):
            assert _dispatch.default_num_threads() == cpus
    monkeypatch.setenv("FASTATTN_NUM_THREADS", f" {_core.MAX_THREADS} ")
    assert _dispatch.default_num_threads() == _core.MAX_THREADS


def test_lists_and_float16_are_accepted():
    x = [[1.0, 0.0], [0.0, 1.0]]
    out = fastattn.attention(x, x, x)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    h = np.ones((3, 4), np.float16)
    assert fastattn.attention(h, h, h).dtype == np.float16
