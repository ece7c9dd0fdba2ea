"""Run-time kernel choice: the best compiled variant this CPU runs, under an
optional cap from the environment variable FASTATTN_ISA (scalar, avx2, avx512,
avx512vnni, neon, neondot; a cap keeps the ISAs ranked at or below it in the
chains scalar < avx2 < avx512 < avx512vnni and scalar < neon < neondot). The choice is
made once, at import, by the C side's dispatch table."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from fastattn import _core
from fastattn._env import env_int

ISA_NAMES = tuple(_core.ISA_NAMES)


def _read_cap() -> str | None:
    cap = os.environ.get("FASTATTN_ISA", "").strip().lower()
    if not cap:
        return None
    if cap not in ISA_NAMES:
        warnings.warn(
            f"FASTATTN_ISA={cap!r} is not one of {ISA_NAMES}; ignoring it", RuntimeWarning,
            stacklevel=3,
        )
        return None
    return cap


ISA_CAP = _read_cap()


@dataclass(frozen=True)
class Variant:
    """One compiled kernel: its name (``"f32-avx2"``), ISA, and whether it runs here."""

    index: int
    name: str
    isa: str
    runs_here: bool


class Op:
    """The compiled variants of one op and the one dispatch picked."""

    def __init__(self, op: str, listing, pick) -> None:
        self.op = op
        self.variants = tuple(Variant(i, *row) for i, row in enumerate(listing()))
        self.chosen = self.variants[pick(ISA_CAP)]  # None: no cap

    def resolve(self, name: str | None) -> Variant:
        """The chosen variant, or the one called `name` (which must run on this CPU)."""
        if name is None:
            return self.chosen
        for variant in self.variants:
            if variant.name == name:
                if not variant.runs_here:
                    raise ValueError(f"variant {name!r} of {self.op} does not run on this CPU")
                return variant
        names = [v.name for v in self.variants]
        raise ValueError(f"unknown variant {name!r} for {self.op}; compiled: {names}")


# Every op the bindings register (one per C variant table), by name: "dense-f32", ...
OPS = {name: Op(name.replace("-", " "), table.variants, table.pick)
       for name, table in _core.OPS.items()}
DENSE_F32 = OPS["dense-f32"]
SPARSE_F32 = OPS["sparse-f32"]
DENSE_I8 = OPS["dense-i8"]
SPARSE_I8 = OPS["sparse-i8"]
DECODE_F32 = OPS["decode-f32"]
DECODE_I8 = OPS["decode-i8"]
LINEAR_F32 = OPS["linear-f32"]
PERFORMER_F32 = OPS["performer-f32"]
LINFORMER_F32 = OPS["linformer-f32"]
GEMM_I8 = OPS["gemm-i8"]
QUANT_I8 = OPS["quant-i8"]


def default_num_threads() -> int:
    """FASTATTN_NUM_THREADS if set, else the CPUs this process may run on."""
    n = env_int("FASTATTN_NUM_THREADS", 1, _core.MAX_THREADS, fallback="ignoring it")
    if n is not None:
        return n
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    return max(1, min(n, _core.MAX_THREADS))


def resolve_threads(num_threads: int | None) -> int:
    if num_threads is None:
        return default_num_threads()
    if isinstance(num_threads, bool) or not isinstance(num_threads, (int,)) and not hasattr(
        num_threads, "__index__"
    ):
        raise TypeError(f"num_threads must be an int or None, got {type(num_threads).__name__}")
    n = int(num_threads)
    if not 1 <= n <= _core.MAX_THREADS:
        raise ValueError(f"num_threads must be in [1, {_core.MAX_THREADS}], got {n}")
    return n
