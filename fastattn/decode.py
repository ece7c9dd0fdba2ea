"""The decode path of `fastattn.attention`: short query blocks through the decode kernels.

A block of at most `DECODE_MAX_LQ` query rows goes to the decode kernels (keys split
across threads, each key read once for every query head of its group) instead of the
dense flash engine, whose query tiles of 144 rows are mostly padding there. Both are
float32 kernels checked against the same reference with the same tolerance.
"""

from __future__ import annotations

from fastattn import _core
from fastattn._dispatch import DECODE_F32

# Longest query block sent to the decode kernels. Measured (B=1, Hq=8, Hkv 8 and 2, D=64,
# causal, 1 and 2 threads, Lk 256/1k/4k): decode is 1.1-7.8x faster than dense for Lq <= 8
# (23 of 24 cases), even or slower from Lq = 16 on, where dense's register tiles pay off.
DECODE_MAX_LQ = 8


def prefers_decode(lq: int) -> bool:
    return lq <= DECODE_MAX_LQ


def has_variant(name: str | None) -> bool:
    """True when the float32 decode kernels have a variant called `name` (None: the chosen one)."""
    return name is None or any(v.name == name for v in DECODE_F32.variants)


def attention_f32(prep, mask4, band_hi: int, threads: int, variant):
    """float32 attention of a `Prepared` problem by the decode kernels (same semantics
    as the dense path: GQA, additive mask, band, zero rows)."""
    kernel = DECODE_F32.resolve(variant)
    out, out4 = prep.new_output()
    _core.decode_f32(prep.q, prep.k, prep.v, prep.lk, out4, mask4, prep.scale,
                     -_core.BAND_NONE, band_hi, kernel.index, threads)
    return prep.finish(out)
