"""fastattn: energy-efficient attention for edge devices, NumPy in, NumPy out.

Every variant has a readable NumPy reference (``fastattn.reference``) and
cache-tiled SIMD C kernels chosen at run time from the CPU's features.
"""

__version__ = "0.1.0"

try:
    from fastattn import _core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on how it was imported
    raise ImportError(
        f"fastattn's compiled extension is missing from {__path__[0]}: this is a source tree "
        "without a built extension. Run Python from another directory to use the installed "
        "fastattn, or build in place with `pip install -e .`."
    ) from exc

from fastattn import (
    _cost_models,  # noqa: F401  (registers the ops' cost models)
    _lowrank_checks,  # noqa: F401  (the low-rank ops' cost models, selftests)
)
from fastattn._info import info
from fastattn.costs import cost
from fastattn.dense import attention, scaled_dot_product_attention
from fastattn.gemm import Int8Linear
from fastattn.int8 import int8_error_report
from fastattn.kvcache import KVCache
from fastattn.layouts import BlockLayout
from fastattn.linear import linear_attention
from fastattn.linformer import linformer_attention, linformer_projection
from fastattn.mha import MultiHeadAttention
from fastattn.patterns import bigbird_layout, fixed_layout, local_layout, strided_layout
from fastattn.performer import performer_attention, performer_features
from fastattn.profiling import profile
from fastattn.quantized import QuantizedTensor, quantize
from fastattn.routed import route, routed_attention
from fastattn.sparse import block_sparse_attention, local_attention
from fastattn.tuning import tune
from fastattn.varlen import varlen_attention

__all__ = [
    "BlockLayout",
    "Int8Linear",
    "KVCache",
    "MultiHeadAttention",
    "QuantizedTensor",
    "__version__",
    "attention",
    "bigbird_layout",
    "block_sparse_attention",
    "cost",
    "fixed_layout",
    "info",
    "int8_error_report",
    "linear_attention",
    "linformer_attention",
    "linformer_projection",
    "local_attention",
    "local_layout",
    "performer_attention",
    "performer_features",
    "profile",
    "quantize",
    "route",
    "routed_attention",
    "scaled_dot_product_attention",
    "strided_layout",
    "tune",
    "varlen_attention",
]
