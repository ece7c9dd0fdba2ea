"""Energy and power sensors that edge boards and laptops expose to user space (Linux).

Three readers, each built from a root folder or a command so that tests can feed
them recorded fixture trees instead of hardware:

- `Rapl`: Intel/AMD RAPL package counters, ``/sys/class/powercap/intel-rapl:N/energy_uj``
  (microjoules, monotonic, wrapping at ``max_energy_range_uj``).
- `Ina3221`: the INA3221 power monitor on NVIDIA Jetson boards (JetPack 5 and 6),
  a hwmon device with ``in<N>_label`` (rail name), ``in<N>_input`` (bus voltage, mV)
  and ``curr<N>_input`` (current, mA); the hwmon index changes between boots, so it
  is found by globbing ``hwmon*/name``.
- `PiPmic`: the Raspberry Pi 5 PMIC ADC, read by ``vcgencmd pmic_read_adc``, which
  prints one current (``<RAIL>_A current(N)=...A``) and one voltage
  (``<RAIL>_V volt(N)=...V``) per rail.

A reader either gives energy directly (`Rapl.energy_j`) or instantaneous power
(`power_w`), which `fastattn.energy` integrates over time. `find_sensor` returns the
first readable one and the reasons the others are not, so that a user who sees
"modelled" knows what to change.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

POWERCAP = "/sys/class/powercap"
HWMON = "/sys/class/hwmon"

RAPL_PERMISSION_HINT = (
    "RAPL energy counters exist but are readable by root only: since Linux 5.10 "
    "(the PLATYPUS power side channel, CVE-2020-8694) energy_uj has mode 0400. Run as root, "
    "or grant read access for this boot with "
    "`sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj` (a udev rule makes it "
    "permanent); this lets every local user read the package's energy."
)


class SensorUnavailable(RuntimeError):
    """A sensor is absent or cannot be read; the message says why and what to do."""


def _read_text(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def _read_int(path: str) -> int:
    return int(_read_text(path))


@dataclass
class Rapl:
    """RAPL package domains under ``root`` (``intel-rapl:0``, ``intel-rapl:1``, ... ; the
    sub-domains ``intel-rapl:0:0`` (core, uncore, dram) are inside a package and are
    not added again).

    `energy_uj()` reads the counters; `delta_j(start, end)` turns two readings into
    joules, unwrapping each counter that passed its ``max_energy_range_uj``.
    """

    root: str = POWERCAP
    zones: list = field(default_factory=list)

    kind = "energy"

    def __post_init__(self) -> None:
        zones = sorted(p for p in glob.glob(os.path.join(self.root, "intel-rapl:*"))
                       if os.path.basename(p).count(":") == 1)
        if not zones:
            raise SensorUnavailable(f"no RAPL domains under {self.root} (not an x86 Linux "
                                    "machine with the intel_rapl driver, or a VM that hides them)")
        denied = []
        for zone in zones:
            path = os.path.join(zone, "energy_uj")
            try:
                _read_int(path)
            except PermissionError:
                denied.append(path)
                continue
            except (OSError, ValueError):
                continue
            self.zones.append((zone, _read_int(os.path.join(zone, "max_energy_range_uj"))))
        if not self.zones:
            if denied:
                raise SensorUnavailable(RAPL_PERMISSION_HINT)
            raise SensorUnavailable(f"RAPL domains under {self.root} hold no readable counter")

    @property
    def name(self) -> str:
        names = []
        for zone, _ in self.zones:
            try:
                names.append(_read_text(os.path.join(zone, "name")))
            except OSError:
                names.append(os.path.basename(zone))
        return "rapl:" + "+".join(names)

    def energy_uj(self) -> list:
        return [_read_int(os.path.join(zone, "energy_uj")) for zone, _ in self.zones]

    def delta_j(self, start: list, end: list) -> float:
        total = 0
        for (_, wrap), s, e in zip(self.zones, start, end):
            total += e - s if e >= s else e + wrap - s
        return total * 1e-6


def _hwmon_named(root: str, name: str) -> list:
    found = []
    for path in sorted(glob.glob(os.path.join(root, "hwmon*", "name"))):
        try:
            if _read_text(path) == name:
                found.append(os.path.dirname(path))
        except OSError:
            continue
    return found


@dataclass
class Ina3221:
    """Jetson INA3221 rails (hwmon). ``rails``: the labels to add up. By default the
    board's input rail (a label ending in ``_IN``, e.g. ``VDD_IN`` on Orin and Xavier,
    ``POM_5V_IN`` on Nano) when there is one, since it already contains the others;
    else every labelled rail."""

    root: str = HWMON
    rails: tuple | None = None
    channels: list = field(default_factory=list)

    kind = "power"

    def __post_init__(self) -> None:
        devices = _hwmon_named(self.root, "ina3221")
        if not devices:
            raise SensorUnavailable(f"no ina3221 hwmon device under {self.root} (not a Jetson, "
                                    "or JetPack 4, whose iio driver is not supported)")
        found = {}
        for dev in devices:
            for label_path in sorted(glob.glob(os.path.join(dev, "in*_label"))):
                n = re.fullmatch(r"in(\d+)_label", os.path.basename(label_path)).group(1)
                volts, amps = (os.path.join(dev, f"{kind}{n}_input") for kind in ("in", "curr"))
                try:
                    label = _read_text(label_path)
                    _read_int(volts), _read_int(amps)
                except (OSError, ValueError):
                    continue  # e.g. "Sum of shunt voltages": no current file
                found[label] = (volts, amps)
        if not found:
            raise SensorUnavailable(f"ina3221 under {self.root} has no readable rail")
        wanted = self.rails
        if wanted is None:
            inputs = [label for label in found if label.upper().endswith("_IN")]
            wanted = tuple(inputs[:1]) or tuple(found)
        missing = [r for r in wanted if r not in found]
        if missing:
            raise SensorUnavailable(f"ina3221 rails {missing} not found; present: {list(found)}")
        self.channels = [(r, *found[r]) for r in wanted]

    @property
    def name(self) -> str:
        return "ina3221:" + "+".join(label for label, _, _ in self.channels)

    def power_w(self) -> float:
        return sum(_read_int(v) * _read_int(a) for _, v, a in self.channels) * 1e-6


_PMIC_LINE = re.compile(r"^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([-+0-9.eE]+)[AV]\s*$")


def parse_pmic_adc(text: str) -> dict:
    """``vcgencmd pmic_read_adc`` output -> {rail: watts} for every rail that has both a
    current and a voltage (EXT5V and BATT have only a voltage and are left out)."""
    amps, volts = {}, {}
    for line in text.splitlines():
        match = _PMIC_LINE.match(line)
        if match:
            rail, unit, value = match.groups()
            (amps if unit == "A" else volts)[rail] = float(value)
    return {rail: amps[rail] * volts[rail] for rail in amps if rail in volts}


@dataclass
class PiPmic:
    """Raspberry Pi 5 PMIC rails through ``vcgencmd pmic_read_adc`` (the user must be in
    the ``video`` group). The sum over rails is the power the PMIC delivers to the board
    (SoC core, DRAM, I/O); the 5 V input itself has no current sensor. Each reading
    spawns a process (a few ms), so it is sampled at most every 50 ms."""

    command: tuple = ("vcgencmd", "pmic_read_adc")

    kind = "power"
    min_interval_s = 0.05

    def __post_init__(self) -> None:
        if shutil.which(self.command[0]) is None:
            raise SensorUnavailable(f"{self.command[0]} not found (not a Raspberry Pi OS image)")
        rails = parse_pmic_adc(self._run())
        if not rails:
            raise SensorUnavailable(f"`{' '.join(self.command)}` printed no rail with a current "
                                    "and a voltage (a Pi 4 or older has no PMIC ADC)")

    def _run(self) -> str:
        try:
            done = subprocess.run(self.command, capture_output=True, text=True, timeout=5,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SensorUnavailable(f"`{' '.join(self.command)}` failed: {exc}") from None
        if done.returncode != 0:
            raise SensorUnavailable(f"`{' '.join(self.command)}` exited with {done.returncode}: "
                                    f"{done.stderr.strip() or done.stdout.strip()} (is the user "
                                    "in the video group?)")
        return done.stdout

    @property
    def name(self) -> str:
        return "pi5-pmic"

    def power_w(self) -> float:
        return sum(parse_pmic_adc(self._run()).values())


def find_sensor(*, powercap: str = POWERCAP, hwmon: str = HWMON,
                pmic_command: tuple = PiPmic.command) -> tuple:
    """``(sensor or None, reasons)``: the first readable sensor in the order RAPL,
    INA3221, Pi 5 PMIC, and why each one before it (or every one) could not be used."""
    reasons = []
    for make in (lambda: Rapl(powercap), lambda: Ina3221(hwmon), lambda: PiPmic(pmic_command)):
        try:
            return make(), reasons
        except SensorUnavailable as exc:
            reasons.append(str(exc))
    return None, reasons
