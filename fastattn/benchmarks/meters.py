"""Peak-memory and energy meters for the benchmark suites (Linux; best effort elsewhere).

Peak memory: `fastattn.profiling.peak_memory`'s resident high-water rise (VmHWM, reset
through /proc/self/clear_refs before the measured call); this sees every allocator
(NumPy, PyTorch, ONNX Runtime).
Energy: RAPL package counters (/sys/class/powercap, x86) or, failing that,
power sensors under /sys/class/hwmon (Jetson INA3221 rails and other boards)
sampled every 5 ms. Returns None where no meter is readable.
"""

from __future__ import annotations

import glob
import os
import threading
import time

from fastattn.profiling import peak_memory


def peak_extra_bytes(fn) -> int | None:
    """Extra resident bytes at the peak of fn() over what was resident before it (None where
    /proc/self/clear_refs cannot be written)."""
    return peak_memory(fn)[1]


def _rapl_files() -> list:
    files = []
    for zone in glob.glob("/sys/class/powercap/intel-rapl:*"):
        if zone.count(":") == 1 and os.access(os.path.join(zone, "energy_uj"), os.R_OK):
            files.append(os.path.join(zone, "energy_uj"))
    return files


def _hwmon_power_files() -> list:
    return [p for p in glob.glob("/sys/class/hwmon/hwmon*/power*_input") if os.access(p, os.R_OK)]


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class EnergyMeter:
    """Energy in joules spent by the whole board or CPU package over a block of code."""

    def __init__(self) -> None:
        self.rapl = [f for f in _rapl_files() if _read_int(f) is not None]
        self.hwmon = [] if self.rapl else [f for f in _hwmon_power_files()
                                           if _read_int(f) is not None]
        self.source = "rapl" if self.rapl else ("hwmon" if self.hwmon else None)

    def measure(self, fn) -> float | None:
        if self.rapl:
            start = [_read_int(f) for f in self.rapl]
            fn()
            end = [_read_int(f) for f in self.rapl]
            if None in start or None in end:
                return None
            return sum(e - s for s, e in zip(start, end) if e >= s) * 1e-6
        if self.hwmon:
            return self._sample_hwmon(fn)
        fn()
        return None

    def _sample_hwmon(self, fn) -> float | None:
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                microwatts = [_read_int(f) for f in self.hwmon]
                samples.append(sum(w for w in microwatts if w is not None))
                time.sleep(0.005)

        thread = threading.Thread(target=sample, daemon=True)
        t0 = time.perf_counter()
        thread.start()
        fn()
        stop.set()
        thread.join()
        elapsed = time.perf_counter() - t0
        if not samples:
            return None
        return sum(samples) / len(samples) * 1e-6 * elapsed
