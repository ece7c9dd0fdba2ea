"""Integer settings from the environment, read one way: unset or blank means the caller's
default, and so does a bad value, after a warning that names the variable and the range."""

from __future__ import annotations

import os
import warnings


def env_int(name: str, low: int, high: int | None = None, *, fallback: str) -> int | None:
    """The integer in environment variable `name` if it lies in [low, high] (no upper bound
    when `high` is None), else None: silently when it is unset or blank, otherwise after a
    RuntimeWarning ending in `fallback` (what the caller does instead)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is not None and value >= low and (high is None or value <= high):
        return value
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    warnings.warn(f"{name}={raw!r} is not an integer {bounds}; {fallback}", RuntimeWarning,
                  stacklevel=3)
    return None
