"""fastattn: energy-efficient attention for edge devices, NumPy in, NumPy out.

Every variant has a readable NumPy reference (``fastattn.reference``) and
cache-tiled SIMD C kernels chosen at run time from the CPU's features.
"""

__version__ = "0.1.0"

from fastattn._info import info
from fastattn.dense import attention, scaled_dot_product_attention
from fastattn.int8 import QuantizedTensor, int8_error_report, quantize

__all__ = ["QuantizedTensor", "__version__", "attention", "info", "int8_error_report", "quantize",
           "scaled_dot_product_attention"]
