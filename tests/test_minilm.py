"""all-MiniLM-L6-v2 through fastattn against a plain float64 NumPy BERT (the reference).

Runs when the models extra and the weights are installed (CI installs them); skips
cleanly otherwise. A handful of short sentences keeps it fast.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")
special = pytest.importorskip("scipy.special")

from fastattn.models import MiniLM  # noqa: E402

SENTENCES = [
    "A man is playing a guitar on stage.",
    "The quarterly report shows revenue growth in Asia.",
    "Cats sleep most of the day.",
    "How do I reset my password?",
    "It rained all weekend, so the picnic was cancelled and everyone stayed home to read.",
    "ok",
]


@pytest.fixture(scope="module")
def model():
    try:
        return MiniLM.from_pretrained()
    except ModuleNotFoundError as exc:
        pytest.skip(str(exc))


def reference_bert(t: dict, config: dict, ids: np.ndarray) -> np.ndarray:
    """The sentence-transformers network on one sentence, float64, written out plainly:
    BERT embeddings, post-LayerNorm layers (softmax attention per head, exact erf GELU),
    mean pooling, L2 normalisation."""
    t = {k: np.asarray(v, dtype=np.float64) for k, v in t.items()
         if np.asarray(v).dtype.kind == "f"}
    eps, heads = config["layer_norm_eps"], config["num_attention_heads"]

    def norm(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * t[p + ".weight"] + t[p + ".bias"]

    def dense(x, p):
        return x @ t[p + ".weight"].T + t[p + ".bias"]

    n = ids.size
    x = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.position_embeddings.weight"][:n]
         + t["embeddings.token_type_embeddings.weight"][0])
    x = norm(x, "embeddings.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (dense(x, p + "attention.self." + name).reshape(n, heads, -1).transpose(1, 0, 2)
                   for name in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        w = np.exp(s - s.max(-1, keepdims=True))
        o = ((w / w.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, -1)
        x = norm(x + dense(o, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = dense(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + special.erf(h / np.sqrt(2)))
        x = norm(x + dense(h, p + "output.dense"), p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(scope="module")
def reference(model):
    ids, cu = model.tokenize(SENTENCES)
    return np.stack([reference_bert(model.tensors, model.config, ids[a:b])
                     for a, b in zip(cu[:-1], cu[1:])])


def cosines(a, b):
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_tokenizer_adds_cls_and_sep(model):
    ids, cu = model.tokenize(["hello world", "ok"])
    assert cu.tolist()[0] == 0 and cu.size == 3
    cls, sep = model.tokenizer.token_to_id("[CLS]"), model.tokenizer.token_to_id("[SEP]")
    for a, b in zip(cu[:-1], cu[1:]):
        assert ids[a] == cls and ids[b - 1] == sep


def test_fp32_matches_float64_reference(model, reference):
    emb = model.encode(SENTENCES, num_threads=2)
    assert emb.shape == (len(SENTENCES), 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert cosines(emb, reference).min() >= 0.99999


def test_int8_attention_close_to_reference(model, reference):
    emb = model.encode(SENTENCES, precision="int8")
    assert cosines(emb, reference).min() >= 0.999


def test_packing_independent_of_batch(model):
    """A sentence's embedding does not depend on what else is in the batch."""
    together = model.encode(SENTENCES)
    alone = np.concatenate([model.encode([s]) for s in SENTENCES[:3]])
    np.testing.assert_allclose(together[:3], alone, atol=2e-6)


def test_local_window_covering_sentence_equals_dense(model):
    dense = model.encode(SENTENCES[:3])
    local = model.encode(SENTENCES[:3], attention="local", window=512)
    assert cosines(dense, local).min() >= 0.99999


def test_truncates_long_input(model):
    ids, cu = model.tokenize(["word " * 400])
    assert int(np.diff(cu)[0]) == model.max_length


def test_bad_inputs(model, tmp_path):
    with pytest.raises(TypeError, match="sentences"):
        model.encode("a bare string")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MiniLM.from_pretrained(tmp_path / "missing")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="model.safetensors"):
        MiniLM.from_pretrained(tmp_path)
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    with pytest.raises(ValueError, match="zip"):
        MiniLM.from_pretrained(tmp_path / "bad.zip")


def test_bad_tokenizer_file(model, tmp_path):
    from safetensors.numpy import save_file

    (tmp_path / "config.json").write_text("{}")
    save_file({"x": np.zeros(2, dtype=np.float32)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "tokenizer.json").write_text("{ broken")
    with pytest.raises(ValueError, match="tokenizer.json"):
        MiniLM.from_pretrained(tmp_path)


def test_int8_weights_and_attention(model, reference):
    """Every GEMM with int8 weights and dynamic per-row int8 activations, and int8
    attention: measured cosine 0.984 on the 3-token "ok", 0.997 on real sentences."""
    q8 = MiniLM.from_pretrained(weights="int8")
    cos = cosines(q8.encode(SENTENCES, precision="int8"), reference)
    assert cos.min() >= 0.98 and np.median(cos) >= 0.995


def test_prune_least_important_heads(model):
    pruned = copy.deepcopy(model)
    imp = pruned.head_importance(SENTENCES[:3])
    assert imp.shape == (6, 12) and np.all(imp > 0)
    pruned.prune_heads({i: np.argsort(imp[i])[:2] for i in range(6)})
    assert all(block.num_heads == 10 for block in pruned.layers)
    cos = cosines(pruned.encode(SENTENCES), model.encode(SENTENCES))
    assert cos.min() > 0.9
    with pytest.raises(ValueError, match="layer 6 does not exist"):
        pruned.prune_heads({6: [0]})
