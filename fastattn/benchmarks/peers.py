"""Implementations measured beside fastattn, each built as `fn() -> array` over fixed inputs.

The plain float32 NumPy implementation is always there and is the baseline;
PyTorch's scaled_dot_product_attention and ONNX Runtime's MultiHeadAttention
operator are measured only when importable (never required).
"""

from __future__ import annotations

import numpy as np


def numpy_f32(q, k, v, causal=False, threads=None):
    """Two float32 matmuls and a stable softmax, written the plain way a NumPy user
    writes it (temporaries included: in-place operations make it about 1.5x faster)."""
    lq, lk = q.shape[-2], k.shape[-2]
    scale = np.float32(1.0 / np.sqrt(q.shape[-1]))
    mask = None
    if causal:
        mask = np.where(np.arange(lk)[None, :] <= np.arange(lq)[:, None] + (lk - lq), 0,
                        -np.inf).astype(np.float32)

    def run():
        s = q @ np.swapaxes(k, -1, -2) * scale
        if mask is not None:
            s = s + mask
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        return (p / p.sum(axis=-1, keepdims=True)) @ v

    return run


def torch_sdpa(q, k, v, causal=False, threads=1):
    try:
        import torch
    except ImportError:
        return None
    tq, tk, tv = (torch.from_numpy(np.ascontiguousarray(x)) for x in (q, k, v))
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def run():
        torch.set_num_threads(threads)
        with torch.inference_mode():
            return sdpa(tq, tk, tv, is_causal=causal)

    return run


def onnxruntime_mha(q, k, v, causal=False, threads=1):
    """ONNX Runtime's com.microsoft MultiHeadAttention on (B, L, H*D) inputs."""
    if causal or q.shape[1] != k.shape[1]:
        return None
    try:
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return None
    b, h, lq, d = q.shape
    lk, dv = k.shape[2], v.shape[3]
    node = helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["o"], domain="com.microsoft",
                            num_heads=h)
    graph = helper.make_graph(
        [node], "mha",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, [b, lq, h * d]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [b, lk, h * d]),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [b, lk, h * dv])],
        [helper.make_tensor_value_info("o", TensorProto.FLOAT, [b, lq, h * dv])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    except Exception:  # an ORT build without the contrib operator
        return None
    feeds = {
        "q": np.ascontiguousarray(q.transpose(0, 2, 1, 3).reshape(b, lq, h * d)),
        "k": np.ascontiguousarray(k.transpose(0, 2, 1, 3).reshape(b, lk, h * d)),
        "v": np.ascontiguousarray(v.transpose(0, 2, 1, 3).reshape(b, lk, h * dv)),
    }
    del onnx
    return lambda: session.run(None, feeds)[0]
