"""``python -m fastattn decode-demo``: greedy decoding with a small causal transformer.

The model has **random weights** (seeded): it shows the decoding loop and its speed, not
text. Each layer keeps a `fastattn.KVCache`; the prompt is attended in one call
(prefill), then one token at a time. The same loop runs with a float32 cache, an int8
cache and, when PyTorch is installed, with ``torch.nn.functional.scaled_dot_product_attention``
over a preallocated torch cache; everything but attention is the same NumPy code.
"""

from __future__ import annotations

import time

import numpy as np

import fastattn


class TinyDecoder:
    """Pre-norm decoder layers (RMSNorm, grouped-query attention, GELU MLP), tied
    embeddings, learned positions; weights drawn from N(0, 1/fan_in)."""

    def __init__(self, *, vocab=2048, layers=4, dim=256, heads=8, kv_heads=2, max_len=4096,
                 seed=0):
        rng = np.random.default_rng(seed)

        def w(*shape):
            return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.embed = (rng.standard_normal((vocab, dim))).astype(np.float32)
        self.pos = (0.1 * rng.standard_normal((max_len, dim))).astype(np.float32)
        kv = kv_heads * self.head_dim
        self.layers = [dict(wqkv=w(dim, dim + 2 * kv), wo=w(dim, dim), w1=w(dim, 4 * dim),
                            w2=w(4 * dim, dim)) for _ in range(layers)]

    @staticmethod
    def _norm(x):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + 1e-6)

    def forward(self, tokens, start, attend):
        """Logits of the last position for `tokens` at positions start.., calling
        attend(layer, q, k, v) with (1, heads, n, head_dim) arrays."""
        n, hd = len(tokens), self.head_dim
        x = self.embed[tokens] + self.pos[start:start + n]
        for i, layer in enumerate(self.layers):
            qkv = self._norm(x) @ layer["wqkv"]
            q, k, v = np.split(qkv, [self.heads * hd, (self.heads + self.kv_heads) * hd], axis=1)
            q = q.reshape(n, self.heads, hd).transpose(1, 0, 2)[None]
            k = k.reshape(n, self.kv_heads, hd).transpose(1, 0, 2)[None]
            v = v.reshape(n, self.kv_heads, hd).transpose(1, 0, 2)[None]
            o = attend(i, q, k, v)[0].transpose(1, 0, 2).reshape(n, -1)
            x = x + o @ layer["wo"]
            h = self._norm(x) @ layer["w1"]
            x = x + (0.5 * h * (1 + np.tanh(0.7978845608 * (h + 0.044715 * h**3)))) @ layer["w2"]
        return self._norm(x[-1]) @ self.embed.T


def fastattn_backend(model, capacity, precision, threads):
    caches = [fastattn.KVCache(1, model.kv_heads, model.head_dim, capacity, precision=precision)
              for _ in model.layers]

    def attend(i, q, k, v):
        caches[i].append(k, v)
        return caches[i].attend(q, num_threads=threads)

    return attend


def torch_backend(model, capacity, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    shape = (1, model.kv_heads, capacity, model.head_dim)
    store = [(torch.zeros(shape), torch.zeros(shape)) for _ in model.layers]
    length = [0] * len(model.layers)
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def attend(i, q, k, v):
        n, end = q.shape[2], length[i] + k.shape[2]
        store[i][0][:, :, length[i]:end] = torch.from_numpy(np.ascontiguousarray(k))
        store[i][1][:, :, length[i]:end] = torch.from_numpy(np.ascontiguousarray(v))
        length[i] = end
        keys, values = store[i][0][:, :, :end], store[i][1][:, :, :end]
        visible = torch.arange(end)[None, :] <= torch.arange(n)[:, None] + (end - n)
        with torch.inference_mode():
            out = sdpa(torch.from_numpy(np.ascontiguousarray(q)), keys, values,
                       attn_mask=visible, enable_gqa=True)
        return out.numpy()

    return attend


def generate(model, prompt, steps, attend):
    """Greedy decoding: (generated tokens, prefill seconds, seconds per generated token,
    of which in attention)."""
    in_attention = [0.0]

    def timed(i, q, k, v):
        t0 = time.perf_counter()
        out = attend(i, q, k, v)
        in_attention[0] += time.perf_counter() - t0
        return out

    t0 = time.perf_counter()
    logits = model.forward(prompt, 0, timed)
    prefill = time.perf_counter() - t0
    tokens = [int(np.argmax(logits))]
    in_attention[0] = 0.0
    t0 = time.perf_counter()
    for step in range(steps - 1):
        logits = model.forward(np.array(tokens[-1:]), len(prompt) + step, timed)
        tokens.append(int(np.argmax(logits)))
    n = max(1, steps - 1)
    return tokens, prefill, (time.perf_counter() - t0) / n, in_attention[0] / n


def run(prompt_len: int = 512, steps: int = 64, layers: int = 4, dim: int = 256,
        heads: int = 8, kv_heads: int = 2, threads: int = 1, seed: int = 0) -> int:
    model = TinyDecoder(layers=layers, dim=dim, heads=heads, kv_heads=kv_heads,
                        max_len=prompt_len + steps, seed=seed)
    prompt = np.random.default_rng(seed + 1).integers(0, model.embed.shape[0], prompt_len)
    capacity = prompt_len + steps
    print(f"fastattn {fastattn.__version__} decode demo: a causal transformer with RANDOM "
          f"weights (seed {seed}): {layers} layers, d_model {dim}, {heads} query heads, "
          f"{kv_heads} kv heads (head_dim {dim // heads}), prompt {prompt_len} tokens, "
          f"{steps} generated greedily, {threads} thread(s)")
    backends = [("fastattn fp32 cache", fastattn_backend(model, capacity, "fp32", threads)),
                ("fastattn int8 cache", fastattn_backend(model, capacity, "int8", threads)),
                ("torch SDPA fp32", torch_backend(model, capacity, threads))]
    reference = None
    print(f"{'attention':<22} {'prefill ms':>10} {'ms/token':>9} {'attn ms/token':>13} "
          f"{'tokens/s':>9} {'same tokens as fp32':>20}")
    for name, attend in backends:
        if attend is None:
            print(f"{name:<22} (not installed)")
            continue
        tokens, prefill, per_token, attention = generate(model, prompt, steps, attend)
        reference = tokens if reference is None else reference
        same = sum(a == b for a, b in zip(tokens, reference))
        print(f"{name:<22} {prefill * 1e3:>10.1f} {per_token * 1e3:>9.2f} "
              f"{attention * 1e3:>13.2f} {1 / per_token:>9.1f} {f'{same}/{steps}':>20}")
    return 0


def add_decode_demo(sub) -> None:
    """Registers ``decode-demo`` on the command line (fastattn/__main__.py)."""
    p = sub.add_parser("decode-demo", help="greedy decoding with a small random-weight "
                                           "transformer and a KV cache: tokens/s per precision")
    for flag, default in (("--prompt", 512), ("--tokens", 64), ("--layers", 4), ("--dim", 256),
                          ("--heads", 8), ("--kv-heads", 2), ("--threads", 1), ("--seed", 0)):
        p.add_argument(flag, type=int, default=default)
    p.set_defaults(run=lambda a: run(a.prompt, a.tokens, a.layers, a.dim, a.heads, a.kv_heads,
                                     a.threads, a.seed))
