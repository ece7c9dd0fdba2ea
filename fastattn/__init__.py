"""fastattn: energy-efficient attention for edge devices, NumPy in, NumPy out.

Every variant has a readable NumPy reference (``fastattn.reference``) and
cache-tiled SIMD C kernels chosen at run time from the CPU's features.
"""

__version__ = "0.1.0"

from fastattn._info import info
from fastattn.dense import attention, scaled_dot_product_attention
from fastattn.routed import route, routed_attention
from fastattn.sparse import (
    BlockLayout,
    bigbird_layout,
    block_sparse_attention,
    fixed_layout,
    local_attention,
    local_layout,
    strided_layout,
)

__all__ = [
    "BlockLayout",
    "__version__",
    "attention",
    "bigbird_layout",
    "block_sparse_attention",
    "fixed_layout",
    "info",
    "local_attention",
    "local_layout",
    "route",
    "routed_attention",
    "scaled_dot_product_attention",
    "strided_layout",
]
