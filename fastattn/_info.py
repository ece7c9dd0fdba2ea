"""What fastattn sees and chose on this machine, read at run time."""

from __future__ import annotations

import platform

from fastattn import _core
from fastattn._dispatch import ISA_CAP, OPS, default_num_threads


def info() -> dict:
    """CPU features, compiled variants and the variant dispatch picked per op.

    Examples
    --------
    >>> import fastattn
    >>> sorted(fastattn.info())
    ['cpu_features', 'isa_cap', 'machine', 'num_threads', 'ops', 'version']
    """
    from fastattn import __version__

    return {
        "version": __version__,
        "machine": platform.machine(),
        "cpu_features": _core.cpu_features(),
        "isa_cap": ISA_CAP,
        "num_threads": default_num_threads(),
        "ops": {
            name: {
                "chosen": op.chosen.name,
                "compiled": {v.name: v.runs_here for v in op.variants},
            }
            for name, op in OPS.items()
        },
    }
