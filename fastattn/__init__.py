"""fastattn: energy-efficient attention for edge devices, NumPy in, NumPy out.

Every variant has a readable NumPy reference (``fastattn.reference``) and
cache-tiled SIMD C kernels chosen at run time from the CPU's features.
"""

__version__ = "0.1.0"

from fastattn._info import info
from fastattn.dense import attention, scaled_dot_product_attention

__all__ = ["__version__", "attention", "info", "scaled_dot_product_attention"]
