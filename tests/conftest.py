"""Test settings: hypothesis profiles and the reference package. What the tests share
(tolerances, tile edges, variants, fixtures) is in helpers.py.

Profiles: "dev" (default, thorough), "ci" (CI=true), "emu" (under qemu, about
9x slower: fewer examples, every test still runs), "fuzz" (long runs of
tests/test_fuzz.py). Pick one with --hypothesis-profile=NAME or HYPOTHESIS_PROFILE=NAME.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

from fastattn.selftest import reference

ROOT = Path(__file__).resolve().parents[1]


# From a source tree (PYTHONPATH, worktrees) the tests import this tree's reference/, which an
# installed fastattn maps to fastattn.reference (the shipped selftest binds it the same way).
reference("dense")


_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, **_common)
settings.register_profile("ci", max_examples=100, derandomize=True, **_common)
settings.register_profile("emu", max_examples=6, derandomize=True, **_common)
settings.register_profile("fuzz", max_examples=50_000, **_common)  # tests/test_fuzz.py, by hand
_default_profile = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or _default_profile)
