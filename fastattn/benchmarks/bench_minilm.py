"""all-MiniLM-L6-v2 on a batch of 40 texts of mixed length (36 sentences of 7-13 tokens,
4 paragraphs truncated to 256): fastattn on the packed batch against a straightforward
PyTorch float32 implementation of the same network with SDPA on the padded batch
(the baseline, ``torch.set_num_threads`` equal to fastattn's threads), and fastattn on
the padded batch. Needs the models extra and the weights; torch is optional.

``python -m fastattn.benchmarks.bench_minilm`` prints the README's table per attention
variant: embedding cosine against packed dense float32, nearest-neighbour agreement on
the 48 sentences of `sentences.TOPICS`, and latency on the batch of 40.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

from fastattn.benchmarks.bench_mha import blas_info, blas_threads
from fastattn.benchmarks.conftest import all_threads
from fastattn.benchmarks.sentences import SENTENCES, mixed_batch

IMPLS = ["torch-fp32-padded", "fastattn-fp32-padded", "fastattn-fp32-packed",
         "fastattn-int8attn-packed", "fastattn-int8-packed"]


@functools.cache
def models():
    pytest.importorskip("safetensors")
    pytest.importorskip("tokenizers")
    from fastattn.models import MiniLM

    try:
        return MiniLM.from_pretrained(), MiniLM.from_pretrained(weights="int8")
    except ModuleNotFoundError as exc:
        pytest.skip(str(exc))


def padded(model, sentences):
    """Token ids padded to the longest text, and the (B, L) boolean mask of real tokens."""
    ids, cu = model.tokenize(sentences)
    lengths = np.diff(cu)
    keep = np.arange(lengths.max())[None, :] < lengths[:, None]
    grid = np.zeros(keep.shape, dtype=np.int64)
    grid[keep] = ids
    return grid, keep


def fastattn_padded(model, sentences, threads):
    """The same network on the padded batch: dense attention with padding keys masked."""
    from fastattn.models.minilm import gelu, layer_norm

    grid, keep = padded(model, sentences)
    b, length = grid.shape
    x = model.word[grid] + model.position[:length] + model.token_type
    x = layer_norm(x, *model.embed_norm, model.eps)
    mask = keep[:, None, None, :]
    for block, f in zip(model.layers, model.ffn):
        x = layer_norm(x + block(x, mask=mask, num_threads=threads), *f["norm1"], model.eps)
        h = gelu(f["up"](x, num_threads=threads))
        x = layer_norm(x + f["down"](h, num_threads=threads), *f["norm2"], model.eps)
    pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def torch_padded(model, threads):
    """A straightforward PyTorch float32 BERT with SDPA on the padded batch (or None)."""
    try:
        import torch
    except ImportError:
        return None
    fn = torch.nn.functional
    t = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in model.tensors.items()
         if np.asarray(v).dtype.kind == "f"}
    heads, eps = model.config["num_attention_heads"], model.eps

    def lin(x, p):
        return fn.linear(x, t[p + ".weight"], t[p + ".bias"])

    def norm(x, p):
        return fn.layer_norm(x, x.shape[-1:], t[p + ".weight"], t[p + ".bias"], eps)

    def run(sentences):
        torch.set_num_threads(threads)
        grid, keep = padded(model, sentences)
        ids, mask = torch.from_numpy(grid), torch.from_numpy(keep)
        b, length = ids.shape
        with torch.inference_mode():
            x = (t["embeddings.word_embeddings.weight"][ids]
                 + t["embeddings.position_embeddings.weight"][:length]
                 + t["embeddings.token_type_embeddings.weight"][0])
            x = norm(x, "embeddings.LayerNorm")
            attn_mask = mask[:, None, None, :]
            for i in range(model.config["num_hidden_layers"]):
                p = f"encoder.layer.{i}."
                q, k, v = (lin(x, p + "attention.self." + n).view(b, length, heads, -1)
                           .transpose(1, 2) for n in ("query", "key", "value"))
                o = fn.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
                o = o.transpose(1, 2).reshape(b, length, -1)
                x = norm(x + lin(o, p + "attention.output.dense"),
                         p + "attention.output.LayerNorm")
                h = fn.gelu(lin(x, p + "intermediate.dense"))
                x = norm(x + lin(h, p + "output.dense"), p + "output.LayerNorm")
            m = mask[..., None].float()
            pooled = (x * m).sum(1) / m.sum(1)
            return fn.normalize(pooled, dim=1).numpy()

    return run


def build(impl, threads):
    m32, m8 = models()
    if impl == "torch-fp32-padded":
        return torch_padded(m32, threads)
    if impl == "fastattn-fp32-padded":
        return functools.partial(fastattn_padded, m32, threads=threads)
    model = m8 if impl == "fastattn-int8-packed" else m32
    precision = "fp32" if impl == "fastattn-fp32-packed" else "int8"
    return functools.partial(model.encode, precision=precision, num_threads=threads)


def cosine(a, b) -> float:
    """Smallest per-text cosine between two (n, 384) embedding sets."""
    return float(np.min(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1)
                                                 * np.linalg.norm(b, axis=1))))


@pytest.mark.parametrize("threads", ["1", "all"])
@pytest.mark.parametrize("impl", IMPLS)
def bench_minilm_batch40(record, impl, threads):
    n = 1 if threads == "1" else all_threads()
    fn = build(impl, n)
    if fn is None:
        pytest.skip(f"{impl}: torch not installed")
    batch = mixed_batch()
    with blas_threads(n):
        reference = models()[0].encode(batch, num_threads=n)
        tokens = int(np.diff(models()[0].tokenize(batch)[1]).sum())
        record(lambda: fn(batch), group=f"minilm batch of 40 t={n}", name=impl,
               baseline=impl == "torch-fp32-padded",
               extra=dict(threads=n, tokens=tokens, padded_tokens=40 * 256,
                          min_cosine_vs_fp32_packed=cosine(fn(batch), reference),
                          **blas_info()))


# The README table ------------------------------------------------------------------------

def variants(m32, m8, pruned):
    """name -> encode(sentences, threads) for each attention variant of the table."""
    def enc(model, **kw):
        return lambda s, n: model.encode(s, num_threads=n, **kw)

    return {
        "dense fp32": enc(m32),
        "dense int8 attention": enc(m32, precision="int8"),
        "dense int8 attention + int8 weights": enc(m8, precision="int8"),
        "local, window 32": enc(m32, attention="local", window=32),
        "routed, density 0.5 (block 16)": enc(m32, attention="routed", density=0.5, block=16),
        "routed, density 0.25 (block 16)": enc(m32, attention="routed", density=0.25, block=16),
        "linear (elu+1), no retraining": enc(m32, attention="linear"),
        "Performer, 64 features, no retraining": enc(m32, attention="performer",
                                                     num_features=64),
        "2 of 12 heads pruned per layer": enc(pruned),
    }


def nn_agreement(a, b) -> float:
    """Fraction of sentences whose nearest other sentence is the same under a and b."""
    def nearest(e):
        s = e @ e.T
        np.fill_diagonal(s, -np.inf)
        return s.argmax(1)

    return float(np.mean(nearest(a) == nearest(b)))


def table(threads: int, repeats: int = 5) -> list:
    import copy

    m32, m8 = models()
    pruned = copy.deepcopy(m32)
    imp = pruned.head_importance(SENTENCES)
    pruned.prune_heads({i: np.argsort(imp[i])[:2] for i in range(len(imp))})
    batch = mixed_batch()
    ref_batch, ref_set = m32.encode(batch), m32.encode(SENTENCES)
    rows = []
    with blas_threads(threads):
        for name, fn in variants(m32, m8, pruned).items():
            fn(batch, threads)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                out = fn(batch, threads)
                times.append(time.perf_counter() - t0)
            rows.append((name, cosine(out, ref_batch), nn_agreement(fn(SENTENCES, threads),
                                                                    ref_set),
                         1e3 * float(np.median(times))))
    return rows


def main() -> None:
    for n in sorted({1, all_threads()}):
        print(f"threads={n}  ({blas_info()['blas']})")
        print("| variant | min cosine (batch of 40) | NN agreement (48 sentences) | ms |")
        print("|---|---:|---:|---:|")
        for name, cos, nn, ms in table(n):
            print(f"| {name} | {cos:.5f} | {nn:.3f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
