"""Energy per call: measured by a sensor when one is readable, modelled otherwise, and
always labelled which.

Measured: `fastattn.sensors` (RAPL, Jetson INA3221, Raspberry Pi 5 PMIC). The call is
repeated for at least ``min_seconds`` so that the counter's resolution (RAPL: about
61 µJ, updated every ~1 ms) or the power sampling (hwmon every 10 ms, the PMIC every
50 ms) is small against the total; energy per call is the total over the calls. It is
what the whole package or board drew meanwhile, idle power included (``idle_w`` says
how much of it the board draws doing nothing, when asked for).

Modelled: `EnergyModel` prices a call's `fastattn.cost` (multiply-accumulates and
other arithmetic by precision, bytes moved to and from DRAM and, where the op's model
states them, on-chip cache reads) with the per-operation energies Horowitz published
for a 45 nm process at 0.9 V ("Computing's energy problem (and what we can do about
it)", ISSCC 2014, table in figure 1.1.9), times a per-device factor. It counts the
work that cannot be avoided and leaves out instruction fetch, control, leakage and
idle power, which on a general-purpose core are several times larger: read it as a
floor for comparing variants, not as a wall-socket figure. Set the factor for your
device with ``FASTATTN_ENERGY_SCALE`` (or ``EnergyModel(scale=...)``), e.g. from one
RAPL or INA3221 measurement divided by the model's figure for the same call.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from dataclasses import dataclass, field

from fastattn import sensors

# Horowitz, ISSCC 2014, 45 nm, 0.9 V, picojoules.
HOROWITZ_45NM = {
    "int8 add": 0.03, "int32 add": 0.1, "int8 mult": 0.2, "int32 mult": 3.1,
    "fp16 add": 0.4, "fp32 add": 0.9, "fp16 mult": 1.1, "fp32 mult": 3.7,
    "cache 8KB 64-bit read": 10.0, "cache 32KB 64-bit read": 20.0,
    "cache 1MB 64-bit read": 100.0, "DRAM 64-bit read": 1300.0,  # 1.3 to 2.6 nJ: the low end
}
_H = HOROWITZ_45NM
# One multiply-accumulate = a multiply plus an add into the accumulator (int8 products
# accumulate in int32).
PJ_PER_MAC = {"fp32": _H["fp32 mult"] + _H["fp32 add"], "fp16": _H["fp16 mult"] + _H["fp16 add"],
              "int8": _H["int8 mult"] + _H["int32 add"]}
# Any other arithmetic (softmax, scaling, quantisation) priced as an add of its width.
PJ_PER_OP = {"fp32": _H["fp32 add"], "fp16": _H["fp16 add"], "int8": _H["int8 add"],
             "int32": _H["int32 add"]}
PJ_PER_DRAM_BYTE = _H["DRAM 64-bit read"] / 8
PJ_PER_CACHE_BYTE = _H["cache 1MB 64-bit read"] / 8  # L2-sized re-reads of key/value tiles


def _env_scale() -> float:
    raw = os.environ.get("FASTATTN_ENERGY_SCALE", "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
        if value > 0 and value != float("inf"):
            return value
    except ValueError:
        pass
    warnings.warn(f"FASTATTN_ENERGY_SCALE={raw!r} is not a positive number; using 1",
                  RuntimeWarning, stacklevel=3)
    return 1.0


@dataclass(frozen=True)
class EnergyModel:
    """Joules of a `fastattn.cost.Cost` from per-operation energies (picojoules).

    Parameters
    ----------
    scale : float, optional
        Per-device factor applied to the whole sum; default ``FASTATTN_ENERGY_SCALE`` or 1.

    Examples
    --------
    >>> from fastattn.cost import Cost
    >>> model = EnergyModel(scale=1.0)
    >>> model.joules(Cost(macs={"fp32": 10**9}))  # 1 GMAC at 4.6 pJ
    0.0046
    """

    scale: float = field(default_factory=_env_scale)
    pj_per_mac: dict = field(default_factory=lambda: dict(PJ_PER_MAC))
    pj_per_op: dict = field(default_factory=lambda: dict(PJ_PER_OP))
    pj_per_dram_byte: float = PJ_PER_DRAM_BYTE
    pj_per_cache_byte: float = PJ_PER_CACHE_BYTE

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale!r}")

    @property
    def label(self) -> str:
        return f"modelled (Horowitz 45 nm x {self.scale:g})"

    def breakdown(self, cost) -> dict:
        """Joules per term: ``mac``, ``other``, ``dram``, ``cache`` (before rounding)."""
        def priced(counts: dict, table: dict, what: str) -> float:
            unknown = set(counts) - set(table)
            if unknown:
                raise ValueError(f"no energy per {what} for precision(s) {sorted(unknown)}; "
                                 f"known: {sorted(table)}")
            return sum(n * table[p] for p, n in counts.items())

        pj = {
            "mac": priced(cost.macs, self.pj_per_mac, "MAC"),
            "other": priced(cost.other_ops, self.pj_per_op, "operation"),
            "dram": (cost.bytes_read + cost.bytes_written) * self.pj_per_dram_byte,
            "cache": cost.cache_bytes * self.pj_per_cache_byte,
        }
        return {term: value * self.scale * 1e-12 for term, value in pj.items()}

    def joules(self, cost) -> float:
        return round(sum(self.breakdown(cost).values()), 15)


@dataclass(frozen=True)
class Energy:
    """Energy per call and where the figure comes from."""

    joules: float
    source: str              # "measured" or "modelled"
    label: str               # e.g. "measured (rapl:package-0)", "modelled (Horowitz 45 nm x 1)"
    calls: int = 1
    seconds: float = 0.0     # wall time of the measured calls (0 when modelled)
    idle_w: float | None = None

    @property
    def watts(self) -> float | None:
        return self.joules * self.calls / self.seconds if self.seconds > 0 else None


def integrate_power(samples: list) -> float:
    """Joules from ``[(seconds, watts), ...]`` by the trapezoidal rule."""
    return sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in zip(samples, samples[1:]))


class Meter:
    """Measures energy per call with a sensor (the first `fastattn.sensors.find_sensor`
    returns, or the one given). ``meter.sensor`` is None when nothing is readable; then
    ``meter.reasons`` lists why, and `measure` raises `sensors.SensorUnavailable`."""

    def __init__(self, sensor=None, *, interval_s: float = 0.01) -> None:
        if sensor is None:
            sensor, self.reasons = sensors.find_sensor()
        else:
            self.reasons = []
        self.sensor = sensor
        self.interval_s = max(interval_s, getattr(sensor, "min_interval_s", 0.0))

    @property
    def label(self) -> str | None:
        return None if self.sensor is None else f"measured ({self.sensor.name})"

    def measure(self, fn, *, min_seconds: float = 0.3, max_calls: int = 10_000) -> Energy:
        """Calls ``fn()`` until ``min_seconds`` have passed (at least once) and returns
        the energy per call."""
        if self.sensor is None:
            raise sensors.SensorUnavailable("; ".join(self.reasons) or "no sensor")
        if self.sensor.kind == "energy":
            start = self.sensor.energy_uj()
            calls, seconds = _repeat(fn, min_seconds, max_calls)
            joules = self.sensor.delta_j(start, self.sensor.energy_uj())
        else:
            samples, stop = [], threading.Event()
            thread = threading.Thread(target=self._sample, args=(samples, stop), daemon=True)
            thread.start()
            calls, seconds = _repeat(fn, max(min_seconds, 3 * self.interval_s), max_calls)
            stop.set()
            thread.join()
            joules = integrate_power(samples)
        return Energy(joules / calls, "measured", self.label, calls, seconds)

    def idle_w(self, seconds: float = 0.5) -> float:
        """Average power while this process sleeps, for ``seconds``."""
        energy = self.measure(lambda: time.sleep(seconds), min_seconds=0.0, max_calls=1)
        return energy.joules / energy.seconds

    def _sample(self, samples: list, stop: threading.Event) -> None:
        while True:
            samples.append((time.perf_counter(), self.sensor.power_w()))
            if stop.wait(self.interval_s):
                samples.append((time.perf_counter(), self.sensor.power_w()))
                return


def _repeat(fn, min_seconds: float, max_calls: int) -> tuple:
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds or calls >= max_calls:
            return calls, elapsed


_DEFAULT_METER: Meter | None = None


def default_meter() -> Meter:
    """The process-wide meter (the sensor search runs once)."""
    global _DEFAULT_METER
    if _DEFAULT_METER is None:
        _DEFAULT_METER = Meter()
    return _DEFAULT_METER


def energy_per_call(fn, cost=None, *, meter: Meter | None = None, model: EnergyModel | None = None,
                    min_seconds: float = 0.3) -> Energy:
    """Measured energy of ``fn()`` when a sensor is readable, else the model's price of
    ``cost`` (a `fastattn.cost.Cost`); raises ValueError when neither is possible."""
    meter = default_meter() if meter is None else meter
    if meter.sensor is not None:
        return meter.measure(fn, min_seconds=min_seconds)
    if cost is None:
        raise ValueError("no energy sensor is readable here and no cost was given to model: "
                         + "; ".join(meter.reasons))
    model = EnergyModel() if model is None else model
    return Energy(model.joules(cost), "modelled", model.label)
