"""``fastattn.profile``: latency, memory, work, traffic and energy of one call."""

from __future__ import annotations

import inspect
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from fastattn import costs, energy

_OPTIONS = ("repeat", "warmup", "measure_energy", "energy_model", "meter")


@dataclass(frozen=True)
class Profile:
    """What `profile` measured. Times in seconds, sizes in bytes, energy in joules.

    ``peak_bytes`` is the peak of memory traced by `tracemalloc` during one call: every
    NumPy buffer (the output and the Python layer's temporaries: fastattn's C kernels
    allocate nothing) and Python objects, but not memory a C library allocates itself
    (PyTorch, ONNX Runtime). ``rss_peak_bytes`` is the rise of the process's resident
    high-water mark (Linux ``VmHWM``, reset before the call), which sees every
    allocator but misses memory that was already resident and is reused; None where
    it cannot be read.
    """

    name: str
    times: tuple
    peak_bytes: int
    rss_peak_bytes: int | None
    cost: costs.Cost | None
    energy: energy.Energy | None
    modelled_energy: energy.Energy | None

    @property
    def median_s(self) -> float:
        return statistics.median(self.times)

    @property
    def min_s(self) -> float:
        return min(self.times)

    @property
    def spread_s(self) -> float:
        """Interquartile range of the call times (0 with fewer than 4 calls)."""
        if len(self.times) < 4:
            return 0.0
        q = statistics.quantiles(self.times, n=4)
        return q[2] - q[0]

    @property
    def gops(self) -> float | None:
        """Achieved billions of operations (2 per MAC) per second at the median time."""
        return None if self.cost is None else self.cost.ops / self.median_s / 1e9

    @property
    def tops_per_w(self) -> float | None:
        if self.cost is None or self.energy is None or self.energy.joules <= 0:
            return None
        return self.cost.ops / self.energy.joules / 1e12

    def as_dict(self) -> dict:
        def energy_dict(e):
            return None if e is None else dict(joules=e.joules, source=e.source, label=e.label,
                                               calls=e.calls, seconds=e.seconds)

        return dict(name=self.name, median_s=self.median_s, min_s=self.min_s,
                    spread_s=self.spread_s, calls=len(self.times), peak_bytes=self.peak_bytes,
                    rss_peak_bytes=self.rss_peak_bytes,
                    cost=None if self.cost is None else self.cost.as_dict(),
                    energy=energy_dict(self.energy),
                    modelled_energy=energy_dict(self.modelled_energy),
                    gops=self.gops, tops_per_w=self.tops_per_w)

    def __str__(self) -> str:
        mib = 2.0 ** -20
        lines = [f"profile of {self.name}: {len(self.times)} calls",
                 f"  latency     median {self.median_s * 1e3:.3f} ms, "
                 f"min {self.min_s * 1e3:.3f} ms, IQR {self.spread_s * 1e3:.3f} ms"]
        rss = "n/a" if self.rss_peak_bytes is None else f"{self.rss_peak_bytes * mib:.2f} MiB"
        lines.append(f"  peak extra  {self.peak_bytes * mib:.2f} MiB traced (NumPy buffers), "
                     f"resident high-water +{rss}")
        if self.cost is not None:
            c = self.cost
            macs = ", ".join(f"{n / 1e6:.1f} M {p}" for p, n in sorted(c.macs.items()))
            lines.append(f"  work        {macs} MACs; {self.gops:.2f} GOP/s achieved")
            lines.append(f"  traffic     {c.bytes_read * mib:.2f} MiB read, "
                         f"{c.bytes_written * mib:.2f} MiB written (DRAM, model)")
        if self.energy is not None:
            e = self.energy
            lines.append(f"  energy      {e.joules * 1e3:.4f} mJ/call, {e.label}")
        if self.modelled_energy is not None and self.energy is not self.modelled_energy:
            lines.append(f"  model       {self.modelled_energy.joules * 1e3:.4f} mJ/call, "
                         f"{self.modelled_energy.label}")
        if self.tops_per_w is not None:
            lines.append(f"  efficiency  {self.tops_per_w:.3f} TOPS/W ({self.energy.source})")
        return "\n".join(lines)


def _rss_reset() -> int | None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size
        return _status_kib("VmRSS")
    except OSError:
        return None


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_memory(call) -> tuple:
    """(traced peak bytes, resident high-water rise in bytes or None) of one ``call()``."""
    before = _rss_reset()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    try:
        call()
        traced = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was_tracing:
            tracemalloc.stop()
    hwm = _status_kib("VmHWM")
    rss = None if before is None or hwm is None else max(0, hwm - before) * 1024
    return max(0, traced), rss


def time_calls(call, *, budget_s: float = 1.0, min_calls: int = 3, max_calls: int = 50,
               warmup: int = 1) -> list:
    """Seconds of each timed ``call()``: ``warmup`` untimed calls, then calls until
    ``budget_s`` has passed, at least ``min_calls`` and at most ``max_calls``."""
    for _ in range(warmup):
        call()
    times, start = [], time.perf_counter()
    while len(times) < min_calls or (len(times) < max_calls
                                     and time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return times


def profile(fn: Callable, /, *args, repeat: int = 20, warmup: int = 1, measure_energy: bool = True,
            energy_model: energy.EnergyModel | None = None, meter: energy.Meter | None = None,
            **kwargs) -> Profile:
    """Calls ``fn(*args, **kwargs)`` and measures it.

    ``warmup`` untimed calls, then ``repeat`` timed ones (median, min, interquartile
    range), one call under `tracemalloc` and the resident high-water mark for peak
    memory, the op's `fastattn.cost` model for MACs and bytes (when ``fn`` has one), and
    energy per call: measured when a sensor is readable (see `fastattn.energy`), else
    modelled from the cost; ``measure_energy=False`` skips the sensor. The profile's own
    options are keyword-only and are never passed to ``fn``; an ``fn`` that takes an
    argument of the same name must be wrapped (``functools.partial``).

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> q = np.ones((1, 4, 256, 64), dtype=np.float32)
    >>> p = fastattn.profile(fastattn.attention, q, q, q, causal=True, repeat=3)
    >>> p.cost.macs["fp32"], p.modelled_energy.source
    (16842752, 'modelled')
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    bound = getattr(fn, "keywords", None) or {}  # a functools.partial that already sets them
    clash = [name for name in _OPTIONS if name in params and name not in bound]
    if clash:
        raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} takes {clash}, which are "
                        "fastattn.profile's own options: wrap it in functools.partial")
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be >= 1 and warmup >= 0, got {repeat}, {warmup}")

    def call():
        return fn(*args, **kwargs)

    times = time_calls(call, budget_s=0.0, min_calls=repeat, max_calls=repeat, warmup=warmup)
    peak, rss = peak_memory(call)
    try:
        cost = costs.cost(fn, *args, **kwargs)
    except TypeError:
        cost = None
    model = energy.EnergyModel() if energy_model is None else energy_model
    modelled = None if cost is None else energy.Energy(model.joules(cost), "modelled",
                                                        model.label)
    measured = None
    if measure_energy:
        meter = energy.default_meter() if meter is None else meter
        if meter.sensor is not None:
            measured = meter.measure(call)
    name = getattr(fn, "__qualname__", None) or repr(fn)
    return Profile(name, tuple(times), peak, rss, cost, measured or modelled, modelled)
