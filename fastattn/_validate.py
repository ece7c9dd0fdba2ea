"""Checks of the scalar options every public function takes: one function per kind of option,
each naming the argument and the value it got.

Arrays (q, k, v, masks) are checked in `fastattn._inputs`, precision and quantised tensors in
`fastattn._precision`; this module has no fastattn dependency but `_dispatch` (threads).
"""

from __future__ import annotations

import math

import numpy as np

from fastattn._dispatch import resolve_threads

# The largest length, block or count in tokens (the C side indexes with products of these).
MAX_SIZE = 2**40 - 1
# |scale| beyond this is clamped: softmax(2^64 · s) is already a hard max unless two scores
# differ by less than about 2^-57, and 2^64 · |q·k| stays finite in float32 for |q·k| < 2^63.
MAX_SCALE = 2.0**64


def is_int(x) -> bool:
    """A Python or NumPy integer, not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def boolean(x, name: str) -> bool:
    """`x` as a bool; anything but a Python or NumPy bool is a TypeError."""
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(x).__name__}")
    return bool(x)


def integer(x, name: str, minimum: int, maximum: int | None = MAX_SIZE) -> int:
    """`x` as an int in [`minimum`, `maximum`] (None: no maximum)."""
    if not is_int(x):
        raise TypeError(f"{name} must be an int, got {type(x).__name__}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    if maximum is not None and x > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {x}")
    return int(x)


def positive_int(x, name: str) -> int:
    return integer(x, name, 1)


def nonneg_int(x, name: str) -> int:
    return integer(x, name, 0)


def int_pair(x, name: str, parts: tuple, minimum: int, maximum: int | None = MAX_SIZE) -> tuple:
    """An int (used for both parts) or a pair of ints, each in [`minimum`, `maximum`];
    `parts` names the two halves in messages, e.g. ("left", "right")."""
    if is_int(x):
        return (integer(x, name, minimum, maximum),) * 2
    try:
        a, b = x
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an int or a pair ({parts[0]}, {parts[1]}), "
                        f"got {x!r}") from None
    return (integer(a, f"{name}[0] ({parts[0]})", minimum, maximum),
            integer(b, f"{name}[1] ({parts[1]})", minimum, maximum))


def fraction(x, name: str) -> float:
    """A real number in (0, 1]."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number)):
        raise TypeError(f"{name} must be a number in (0, 1], got {x!r}")
    x = float(x)
    if not 0.0 < x <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {x}")
    return x


def scale(x, d: int) -> float:
    """The score scale: 1/sqrt(D) by default (None), else a finite real number, clamped to
    [-MAX_SCALE, MAX_SCALE] (beyond, the softmax is a hard max either way)."""
    if x is None:
        return 1.0 / math.sqrt(d)
    if isinstance(x, (complex, np.complexfloating)):  # float() would drop the imaginary part
        raise TypeError(f"scale must be a real number or None, got {x!r}")
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"scale must be a real number or None, got {x!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"scale must be finite, got {x}")
    return math.copysign(min(abs(x), MAX_SCALE), x)


def seed(x, name: str = "seed") -> int:
    """A seed for numpy.random.default_rng: a non-negative int."""
    return integer(x, name, 0, None)


def num_threads(x) -> int:
    """Threads for one call: `x` in [1, MAX_THREADS], or the default when None
    (FASTATTN_NUM_THREADS, else the CPUs this process may use)."""
    return resolve_threads(x)


__all__ = ["MAX_SCALE", "MAX_SIZE", "boolean", "fraction", "int_pair", "integer", "is_int",
           "nonneg_int", "num_threads", "positive_int", "scale", "seed"]
