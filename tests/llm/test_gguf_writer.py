"""GGUF parsing checked against files written by the reference ``gguf`` package.

The other GGUF tests write files with tables that mirror the parser's own; a mistake
shared by both would not show there. Here the writer is llama.cpp's own Python package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from assistant.llm.gguf import GgufArray, estimate_ram_bytes, read_gguf_header  # noqa: E402

LONG_VOCAB = [f"tok{i}" for i in range(5000)]


def write_model(path: Path, endian: object) -> dict[str, object]:
    """A small llama-shaped file: every scalar type, arrays, and three tensor types."""
    writer = gguf.GGUFWriter(str(path), arch="llama", endianess=endian)
    writer.add_name("Writer Test 1B")
    writer.add_context_length(8192)
    writer.add_block_count(2)
    writer.add_embedding_length(512)
    writer.add_head_count(8)
    writer.add_head_count_kv(2)
    writer.add_file_type(15)
    writer.add_chat_template("{{ messages }}")
    scalars: dict[str, object] = {"t.u8": 200, "t.i8": -100, "t.u16": 60000, "t.i16": -30000,
                                  "t.u32": 4_000_000_000, "t.i32": -2_000_000_000,
                                  "t.f32": 0.5, "t.u64": 2**40, "t.i64": -(2**40),
                                  "t.f64": 0.1, "t.bool": True, "t.str": "héllo"}
    writer.add_uint8("t.u8", 200)
    writer.add_int8("t.i8", -100)
    writer.add_uint16("t.u16", 60000)
    writer.add_int16("t.i16", -30000)
    writer.add_uint32("t.u32", 4_000_000_000)
    writer.add_int32("t.i32", -2_000_000_000)
    writer.add_float32("t.f32", 0.5)
    writer.add_uint64("t.u64", 2**40)
    writer.add_int64("t.i64", -(2**40))
    writer.add_float64("t.f64", 0.1)
    writer.add_bool("t.bool", True)
    writer.add_string("t.str", "héllo")
    writer.add_array("t.short", [1, 2, 3])
    writer.add_array("tokenizer.ggml.tokens", LONG_VOCAB)
    writer.add_tensor("token_embd.weight", np.ones((16, 512), dtype=np.float32))
    q4 = gguf.GGMLQuantizationType.Q4_K
    q6 = gguf.GGMLQuantizationType.Q6_K
    writer.add_tensor("blk.0.ffn.weight", np.zeros((512, 512 // 256 * 144), dtype=np.uint8),
                      raw_dtype=q4)
    writer.add_tensor("output.weight", np.zeros((32, 512 // 256 * 210), dtype=np.uint8),
                      raw_dtype=q6)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return scalars


@pytest.mark.parametrize("endian", ["LITTLE", "BIG"])
def test_header_matches_the_reference_writer(tmp_path: Path, endian: str) -> None:
    path = tmp_path / "model.gguf"
    scalars = write_model(path, getattr(gguf.GGUFEndian, endian))
    info = read_gguf_header(path)
    reference = gguf.GGUFReader(str(path))

    assert info.version == 3
    assert info.file_size == path.stat().st_size
    assert info.tensor_count == len(reference.tensors) == 3
    assert info.kv_count == 23  # general.architecture (by the writer), 8 + 12 + 2 above
    for name, field in reference.fields.items():
        if name.startswith("GGUF."):  # the reader's own header fields
            continue
        ours, theirs = info.metadata[name], field.contents()
        if isinstance(ours, GgufArray):
            assert ours.length == len(theirs), name
            assert ours.items is None or list(ours.items) == theirs, name
        elif isinstance(ours, float):
            assert ours == pytest.approx(theirs, rel=1e-6), name
        else:
            assert ours == theirs, name
    assert info.data_offset == reference.data_offset
    assert info.parameter_count == 16 * 512 + 512 * 512 + 32 * 512
    for key, value in scalars.items():
        if isinstance(value, float):
            assert info.metadata[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert info.metadata[key] == value, key
    short = info.metadata["t.short"]
    assert isinstance(short, GgufArray) and short.length == 3 and short.items == (1, 2, 3)
    vocab = info.metadata["tokenizer.ggml.tokens"]
    assert isinstance(vocab, GgufArray) and vocab.length == len(LONG_VOCAB)
    assert info.architecture == "llama"
    assert info.name == "Writer Test 1B"
    assert info.context_length == 8192
    assert info.block_count == 2 and info.embedding_length == 512
    assert info.has_chat_template
    assert info.file_type == 15
    # K and V caches: 2 layers x 2 (K, V) x kv heads 2 x head dim 64 x 2 bytes.
    assert info.kv_cache_bytes_per_token() == 2 * 2 * 2 * 64 * 2
    assert estimate_ram_bytes(info, 1024) > info.file_size
