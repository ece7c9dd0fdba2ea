"""pytest-benchmark suites, shipped in the wheel: ``python -m fastattn bench`` runs them
on the device and prints latency, GFLOP/s, peak memory and (where the hardware
exposes a meter) energy, with every implementation compared as a ratio against
a baseline measured in the same run."""
