"""What fastattn sees and chose on this machine, read at run time."""

from __future__ import annotations

import platform

from fastattn import _core
from fastattn._dispatch import ISA_CAP, OPS, default_num_threads


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (``Model`` on a Raspberry Pi), else what
    `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def info() -> dict:
    """CPU features, compiled variants, those this CPU runs, and dispatch's choice per op.

    ``ops[op]["compiled"]`` lists every variant built into this wheel (best first),
    ``ops[op]["runs_here"]`` the ones this CPU can run (under ``FASTATTN_ISA`` too: a
    variant above the cap is compiled and supported but not chosen), and
    ``ops[op]["chosen"]`` the one calls use by default.

    Examples
    --------
    >>> import fastattn
    >>> sorted(fastattn.info())
    ['cpu', 'cpu_features', 'isa_cap', 'machine', 'num_threads', 'ops', 'version']
    >>> dense = fastattn.info()["ops"]["dense-f32"]
    >>> dense["chosen"] in dense["runs_here"] and dense["compiled"][-1]
    'f32-scalar'
    """
    from fastattn import __version__

    return {
        "version": __version__,
        "machine": platform.machine(),
        "cpu": cpu_name(),
        "cpu_features": _core.cpu_features(),
        "isa_cap": ISA_CAP,
        "num_threads": default_num_threads(),
        "ops": {
            name: {
                "chosen": op.chosen.name,
                "compiled": [v.name for v in op.variants],
                "runs_here": [v.name for v in op.variants if v.runs_here],
            }
            for name, op in OPS.items()
        },
    }
