"""Energy sensors against recorded sysfs trees and command output (tests/fixtures/energy),
the meter's arithmetic, and the energy model's constants."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from fastattn import energy, sensors
from fastattn.costs import Cost

FIXTURES = Path(__file__).parent / "fixtures" / "energy"


@pytest.fixture
def powercap(tmp_path) -> Path:
    """A writable copy of the recorded powercap tree (two packages, sub-domains, mmio)."""
    root = tmp_path / "powercap"
    shutil.copytree(FIXTURES / "powercap", root)
    return root


def _write(path: Path, value: int) -> None:
    path.write_text(f"{value}\n")


def test_rapl_reads_package_domains_only(powercap):
    rapl = sensors.Rapl(str(powercap))
    assert [os.path.basename(z) for z, _ in rapl.zones] == ["intel-rapl:0", "intel-rapl:1"]
    assert rapl.name == "rapl:package-0+package-1"
    assert rapl.energy_uj() == [262143123456, 98765432]


def test_rapl_delta_unwraps_each_counter(powercap):
    rapl = sensors.Rapl(str(powercap))
    start = rapl.energy_uj()
    # package 0 passes its max_energy_range_uj (262143328850) and restarts at 100
    _write(powercap / "intel-rapl:0" / "energy_uj", 100)
    _write(powercap / "intel-rapl:1" / "energy_uj", 98765432 + 2_000_000)
    end = rapl.energy_uj()
    wrapped = (262143328850 - 262143123456 + 100) * 1e-6
    assert rapl.delta_j(start, end) == pytest.approx(wrapped + 2.0, rel=1e-12)


def test_meter_with_rapl_divides_by_calls(powercap):
    counter = powercap / "intel-rapl:0" / "energy_uj"

    def call():  # each call "spends" 0.25 J on package 0
        _write(counter, int(counter.read_text()) + 250_000)

    result = energy.Meter(sensors.Rapl(str(powercap))).measure(call, min_seconds=0.0)
    assert result.calls == 1
    assert result.source == "measured" and result.label == "measured (rapl:package-0+package-1)"
    assert result.joules == pytest.approx(0.25)
    many = energy.Meter(sensors.Rapl(str(powercap))).measure(call, min_seconds=0.0, max_calls=1)
    assert many.joules == pytest.approx(0.25)


def test_rapl_permission_error_is_explained(powercap, monkeypatch):
    real = sensors._read_int

    def denied(path):
        if path.endswith("energy_uj"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(sensors, "_read_int", denied)
    with pytest.raises(sensors.SensorUnavailable, match="5.10.*CVE-2020-8694.*chmod"):
        sensors.Rapl(str(powercap))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-0000 files")
def test_rapl_real_permission_bits(powercap):
    for zone in ("intel-rapl:0", "intel-rapl:1"):
        (powercap / zone / "energy_uj").chmod(0)
    with pytest.raises(sensors.SensorUnavailable, match="root only"):
        sensors.Rapl(str(powercap))


def test_rapl_absent(tmp_path):
    with pytest.raises(sensors.SensorUnavailable, match="no RAPL domains"):
        sensors.Rapl(str(tmp_path))


def test_ina3221_finds_devices_by_name_and_picks_the_input_rail():
    ina = sensors.Ina3221(str(FIXTURES / "jetson-orin"))
    assert ina.name == "ina3221:VDD_IN"
    assert ina.power_w() == pytest.approx(5.072 * 2.896)


def test_ina3221_chosen_rails_and_errors():
    root = str(FIXTURES / "jetson-orin")
    ina = sensors.Ina3221(root, rails=("VDD_GPU_SOC", "VDD_CPU_CV"))
    assert ina.power_w() == pytest.approx(5.064 * 1.240 + 5.064 * 0.408)
    with pytest.raises(sensors.SensorUnavailable, match="VDD_NOPE"):
        sensors.Ina3221(root, rails=("VDD_NOPE",))
    with pytest.raises(sensors.SensorUnavailable, match="no ina3221"):
        sensors.Ina3221(str(FIXTURES / "powercap"))


def test_ina3221_hwmon_index_is_globbed(tmp_path):
    shutil.copytree(FIXTURES / "jetson-orin" / "hwmon2", tmp_path / "hwmon7")
    assert sensors.Ina3221(str(tmp_path)).power_w() == pytest.approx(5.072 * 2.896)


def test_pmic_output_parsed():
    rails = sensors.parse_pmic_adc((FIXTURES / "pi5_pmic_read_adc.txt").read_text())
    assert "EXT5V" not in rails and "BATT" not in rails  # voltage only
    assert len(rails) == 12
    assert rails["VDD_CORE"] == pytest.approx(2.10154 * 0.882852)
    # the twelve current x voltage products of the recording, added by hand
    assert sum(rails.values()) == pytest.approx(3.03619, abs=1e-5)


def test_pmic_reader_runs_the_command():
    fixture = str(FIXTURES / "pi5_pmic_read_adc.txt")
    pmic = sensors.PiPmic(command=("cat", fixture))
    assert pmic.power_w() == pytest.approx(3.03619, abs=1e-5)
    with pytest.raises(sensors.SensorUnavailable, match="exited with"):
        sensors.PiPmic(command=("cat", fixture + ".missing"))
    with pytest.raises(sensors.SensorUnavailable, match="not found"):
        sensors.PiPmic(command=("vcgencmd-does-not-exist",))


def test_find_sensor_order_and_reasons(tmp_path):
    found, reasons = sensors.find_sensor(powercap=str(FIXTURES / "powercap"),
                                         hwmon=str(FIXTURES / "jetson-orin"))
    assert isinstance(found, sensors.Rapl) and reasons == []
    found, reasons = sensors.find_sensor(powercap=str(tmp_path),
                                         hwmon=str(FIXTURES / "jetson-orin"))
    assert isinstance(found, sensors.Ina3221) and "no RAPL" in reasons[0]
    found, reasons = sensors.find_sensor(powercap=str(tmp_path), hwmon=str(tmp_path),
                                         pmic_command=("vcgencmd-does-not-exist",))
    assert found is None and len(reasons) == 3


def test_integrate_power_trapezoid():
    assert energy.integrate_power([(0.0, 2.0), (1.0, 4.0), (3.0, 4.0)]) == pytest.approx(11.0)
    assert energy.integrate_power([(0.0, 5.0)]) == 0.0


class ConstantPower:
    kind = "power"
    name = "constant"

    def power_w(self) -> float:
        return 2.0


def test_power_meter_integrates_over_the_calls():
    meter = energy.Meter(ConstantPower(), interval_s=0.002)
    result = meter.measure(lambda: time.sleep(0.01), min_seconds=0.05)
    total = result.joules * result.calls
    # samples start before the first call and end after the last one
    assert 2.0 * result.seconds * 0.9 <= total <= 2.0 * (result.seconds + 0.2)
    assert result.label == "measured (constant)"


def test_no_sensor_falls_back_to_the_model(tmp_path):
    meter = energy.Meter.__new__(energy.Meter)
    meter.sensor, meter.reasons, meter.interval_s = None, ["nothing here"], 0.01
    with pytest.raises(sensors.SensorUnavailable, match="nothing here"):
        meter.measure(lambda: None)
    cost = Cost(macs={"int8": 10**9}, bytes_read=8 * 10**6)
    got = energy.energy_per_call(lambda: None, cost, meter=meter,
                                 model=energy.EnergyModel(scale=2.0))
    assert got.source == "modelled" and "x 2" in got.label
    assert got.joules == pytest.approx(2 * (0.3e-3 + 8e6 * 162.5e-12))
    with pytest.raises(ValueError, match="nothing here"):
        energy.energy_per_call(lambda: None, None, meter=meter)


def test_model_constants_are_horowitz_45nm():
    # ISSCC 2014: fp32 mult 3.7 + add 0.9; int8 mult 0.2 + int32 add 0.1; DRAM 1.3 nJ / 64 bit
    assert energy.PJ_PER_MAC == {"fp32": pytest.approx(4.6), "fp16": pytest.approx(1.5),
                                 "int8": pytest.approx(0.3)}
    assert energy.PJ_PER_DRAM_BYTE == pytest.approx(162.5)
    model = energy.EnergyModel(scale=1.0)
    parts = model.breakdown(Cost(macs={"fp32": 1000}, other_ops={"fp32": 100, "int32": 10},
                                 bytes_read=16, bytes_written=8, cache_bytes=80))
    assert parts["mac"] == pytest.approx(4600e-12)
    assert parts["other"] == pytest.approx(91e-12)
    assert parts["dram"] == pytest.approx(24 * 162.5e-12)
    assert parts["cache"] == pytest.approx(80 * 12.5e-12)
    with pytest.raises(ValueError, match="fp64"):
        model.joules(Cost(macs={"fp64": 1}))
    with pytest.raises(ValueError, match="positive"):
        energy.EnergyModel(scale=0.0)


def test_model_scale_from_environment(monkeypatch):
    monkeypatch.setenv("FASTATTN_ENERGY_SCALE", "0.25")
    assert energy.EnergyModel().scale == 0.25
    monkeypatch.setenv("FASTATTN_ENERGY_SCALE", "lots")
    with pytest.warns(RuntimeWarning, match="FASTATTN_ENERGY_SCALE"):
        assert energy.EnergyModel().scale == 1.0


def test_this_machine_is_labelled():
    """Whatever this machine has, the default meter says what it is or why there is none."""
    meter = energy.Meter()
    if meter.sensor is None:
        assert meter.reasons and all(isinstance(r, str) and r for r in meter.reasons)
    else:
        assert meter.label.startswith("measured (")
    assert sys.modules["fastattn.sensors"] is sensors
