"""GGUF header parsing, RAM estimates and the free-memory check."""

from __future__ import annotations

import shutil
import struct
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.llm import gguf
from assistant.llm.gguf import (
    RUNTIME_OVERHEAD_BYTES,
    GgufArray,
    InvalidGgufError,
    check_ram,
    estimate_ram_bytes,
    read_gguf_header,
)

# GGUF value type ids.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR_FORMATS = {
    U8: "B",
    I8: "b",
    U16: "H",
    I16: "h",
    U32: "I",
    I32: "i",
    F32: "f",
    BOOL: "?",
    U64: "Q",
    I64: "q",
    F64: "d",
}
# ggml tensor types used below and their (block elements, block bytes).
GGML_F32, GGML_Q4_K, GGML_Q6_K = 0, 12, 14
BLOCKS = {GGML_F32: (1, 4), GGML_Q4_K: (256, 144), GGML_Q6_K: (256, 210)}


def _string(text: str | bytes, endian: str) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack(endian + "Q", len(raw)) + raw


def _value(value_type: int, value: object, endian: str) -> bytes:
    if value_type in SCALAR_FORMATS:
        return struct.pack(endian + SCALAR_FORMATS[value_type], value)
    if value_type == STR:
        assert isinstance(value, str | bytes)
        return _string(value, endian)
    assert value_type == ARR
    item_type, items = value  # type: ignore[misc]
    out = struct.pack(endian + "IQ", item_type, len(items))
    return out + b"".join(_value(item_type, item, endian) for item in items)


def make_gguf(
    kvs: list[tuple[str, int, object]],
    tensors: list[tuple[str, list[int], int]] = (),  # type: ignore[assignment]
    *,
    version: int = 3,
    endian: str = "<",
    alignment: int = 32,
) -> bytes:
    """Build a small but complete GGUF file: header, metadata, tensor table, data."""
    out = bytearray(b"GGUF")
    out += struct.pack(endian + "IQQ", version, len(tensors), len(kvs))
    for key, value_type, value in kvs:
        out += _string(key, endian) + struct.pack(endian + "I", value_type)
        out += _value(value_type, value, endian)
    offset = 0
    sizes = []
    for name, dims, tensor_type in tensors:
        out += _string(name, endian) + struct.pack(endian + "I", len(dims))
        out += b"".join(struct.pack(endian + "Q", d) for d in dims)
        out += struct.pack(endian + "IQ", tensor_type, offset)
        elements = 1
        for d in dims:
            elements *= d
        block_elements, block_bytes = BLOCKS[tensor_type]
        size = -(-elements // block_elements) * block_bytes
        sizes.append(size)
        offset += -(-size // alignment) * alignment
    if tensors:
        out += b"\0" * (-len(out) % alignment)
        for size in sizes:
            out += bytes(range(256)) * (size // 256) + bytes(size % 256)
            out += b"\0" * (-size % alignment)
    return bytes(out)


CHAT_TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


def llama_kvs(*, chat_template: bool = True) -> list[tuple[str, int, object]]:
    kvs: list[tuple[str, int, object]] = [
        ("general.architecture", STR, "llama"),
        ("general.name", STR, "Tiny Test Llama"),
        ("general.file_type", U32, 15),
        ("general.size_label", STR, "544"),
        ("llama.context_length", U32, 2048),
        ("llama.block_count", U32, 4),
        ("llama.embedding_length", U32, 64),
        ("llama.attention.head_count", U32, 8),
        ("llama.attention.head_count_kv", U32, 2),
        ("llama.rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.add_bos_token", BOOL, True),
        ("tokenizer.ggml.tokens", ARR, (STR, [f"tok{i}" for i in range(100)])),
        ("tokenizer.ggml.scores", ARR, (F32, [0.5] * 100)),
    ]
    if chat_template:
        kvs.append(("tokenizer.chat_template", STR, CHAT_TEMPLATE))
    return kvs


LLAMA_TENSORS = [("token_embd.weight", [4, 8], GGML_F32), ("blk.0.ffn.weight", [256, 2], GGML_Q4_K)]


def write(tmp_path: Path, data: bytes, name: str = "model.gguf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_reads_header_metadata_and_tensor_table(tmp_path: Path) -> None:
    path = write(tmp_path, make_gguf(llama_kvs(), LLAMA_TENSORS))

    info = read_gguf_header(path)

    assert info.version == 3
    assert info.tensor_count == 2
    assert info.kv_count == len(llama_kvs())
    assert info.architecture == "llama"
    assert info.name == "Tiny Test Llama"
    assert info.has_chat_template
    assert info.chat_template == CHAT_TEMPLATE
    assert info.context_length == 2048
    assert info.file_type == 15
    assert info.file_type_name == "Q4_K_M"
    assert info.size_label == "544"
    assert info.parameter_count == 4 * 8 + 256 * 2
    assert info.data_offset % 32 == 0
    assert info.file_size == path.stat().st_size
    assert info.metadata["llama.rope.freq_base"] == pytest.approx(10000.0)
    assert info.metadata["tokenizer.ggml.add_bos_token"] is True


def test_long_arrays_are_summarized_short_ones_kept(tmp_path: Path) -> None:
    kvs = [
        ("general.architecture", STR, "llama"),
        ("short", ARR, (I32, [1, -2, 3])),
        ("tokens", ARR, (STR, [f"t{i}" for i in range(gguf.KEEP_STRING_ARRAY_ITEMS + 1)])),
        ("few", ARR, (STR, ["a", "b"])),
        ("nested", ARR, (ARR, [(U8, [1, 2]), (U8, [3])])),
    ]
    info = read_gguf_header(write(tmp_path, make_gguf(kvs)))

    assert info.metadata["short"] == GgufArray("int32", 3, (1, -2, 3))
    assert info.metadata["few"] == GgufArray("string", 2, ("a", "b"))
    tokens = info.metadata["tokens"]
    assert isinstance(tokens, GgufArray)
    assert tokens.length == gguf.KEEP_STRING_ARRAY_ITEMS + 1
    assert tokens.items is None
    assert info.metadata["nested"] == GgufArray("array", 2, None)
    assert info.parameter_count is None


def test_model_without_chat_template(tmp_path: Path) -> None:
    info = read_gguf_header(write(tmp_path, make_gguf(llama_kvs(chat_template=False))))
    assert not info.has_chat_template
    assert info.chat_template is None


def test_missing_metadata_reads_as_none(tmp_path: Path) -> None:
    info = read_gguf_header(write(tmp_path, make_gguf([("x", U8, 1)])))
    assert info.architecture is None
    assert info.name is None
    assert info.context_length is None
    assert info.file_type is None and info.file_type_name is None
    assert info.kv_cache_bytes_per_token() is None


def test_version_2_and_big_endian_files_are_read(tmp_path: Path) -> None:
    v2 = read_gguf_header(write(tmp_path, make_gguf(llama_kvs(), LLAMA_TENSORS, version=2), "a"))
    big = read_gguf_header(write(tmp_path, make_gguf(llama_kvs(), LLAMA_TENSORS, endian=">"), "b"))
    assert v2.version == 2
    assert big.version == 3
    assert big.context_length == 2048
    assert big.parameter_count == v2.parameter_count == 544


@pytest.mark.parametrize("version", [1, 4, 0x01000000])
def test_unsupported_versions_are_refused(tmp_path: Path, version: int) -> None:
    path = write(tmp_path, make_gguf(llama_kvs(), version=version))
    with pytest.raises(InvalidGgufError, match=r"model\.gguf uses GGUF version \d+"):
        read_gguf_header(path)


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04 this is a zip file, not a model" * 10,
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        b"just some notes\n" * 20,
    ],
)
def test_other_files_are_not_gguf(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, content, "notes.txt")
    with pytest.raises(InvalidGgufError) as caught:
        read_gguf_header(path)
    message = str(caught.value)
    assert message.startswith("notes.txt is not a GGUF model file (")
    assert message.endswith("; choose a .gguf file")


def test_empty_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidGgufError, match=r"empty\.gguf is empty"):
        read_gguf_header(write(tmp_path, b"", "empty.gguf"))
    with pytest.raises(InvalidGgufError, match="does not exist"):
        read_gguf_header(tmp_path / "missing.gguf")
    with pytest.raises(InvalidGgufError, match="is a folder"):
        read_gguf_header(tmp_path)


def test_every_truncation_is_reported_as_truncated(tmp_path: Path) -> None:
    data = make_gguf(llama_kvs(), LLAMA_TENSORS)
    path = tmp_path / "cut.gguf"
    for cut in range(1, len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(InvalidGgufError) as caught:
            read_gguf_header(path)
        assert str(caught.value).startswith("cut.gguf is truncated"), cut
    path.write_bytes(data)
    assert read_gguf_header(path).tensor_count == 2


def test_missing_tensor_data_is_truncated(tmp_path: Path) -> None:
    tensors = [("big.weight", [256, 64], GGML_Q6_K)]
    data = make_gguf(llama_kvs(), tensors)
    assert read_gguf_header(write(tmp_path, data)).parameter_count == 256 * 64
    path = write(tmp_path, data[: len(data) - 100], "short.gguf")
    with pytest.raises(InvalidGgufError, match=r"short\.gguf is truncated"):
        read_gguf_header(path)


def _header(kv_count: int = 1, tensor_count: int = 0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, tensor_count, kv_count)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # A key claiming 2**62 bytes.
        (_header() + struct.pack("<Q", 2**62) + b"key", "metadata key claims"),
        # A string value just over the cap, followed by nothing.
        (
            _header() + _string("k", "<") + struct.pack("<IQ", STR, gguf.MAX_STRING_BYTES + 1),
            "metadata string claims",
        ),
        # A string array claiming 2**60 items.
        (
            _header() + _string("k", "<") + struct.pack("<IIQ", ARR, STR, 2**60),
            "impossible value",
        ),
        # A uint64 array claiming 2**61 items (2**64 bytes).
        (
            _header() + _string("k", "<") + struct.pack("<IIQ", ARR, U64, 2**61),
            "impossible value",
        ),
        (_header() + _string("k", "<") + struct.pack("<I", 99), "unknown type 99"),
        (_header() + _string("k", "<") + struct.pack("<II", ARR, 77), "unknown item type 77"),
        (_header(kv_count=2**40), "metadata entries"),
        (_header(kv_count=0, tensor_count=2**40), "tensors"),
        (
            _header(kv_count=0, tensor_count=1) + _string("t", "<") + struct.pack("<I", 1000),
            "1000 dimensions",
        ),
        (
            _header() + _string("general.alignment", "<") + struct.pack("<II", U32, 3),
            "not a power of two",
        ),
    ],
)
def test_garbage_lengths_are_refused_without_allocating(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    path = write(tmp_path, data + bytes(64), "bad.gguf")
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(InvalidGgufError) as caught:
            read_gguf_header(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith("bad.gguf is not a valid GGUF model file (")
    assert reason in message
    assert peak < 5_000_000
    assert elapsed < 2.0


def test_deeply_nested_arrays_are_refused(tmp_path: Path) -> None:
    value = struct.pack("<IQ", U8, 0)
    for _ in range(gguf.MAX_ARRAY_DEPTH + 1):
        value = struct.pack("<IQ", ARR, 1) + value
    data = _header() + _string("k", "<") + struct.pack("<I", ARR) + value
    with pytest.raises(InvalidGgufError, match="nested too deeply"):
        read_gguf_header(write(tmp_path, data))


def test_kv_cache_and_ram_estimate_follow_the_metadata(tmp_path: Path) -> None:
    path = write(tmp_path, make_gguf(llama_kvs(), LLAMA_TENSORS))
    info = read_gguf_header(path)
    # 4 layers x 2 KV heads x (8 + 8) head dims x 2 bytes (f16).
    per_token = 4 * 2 * (64 // 8) * 2 * 2
    assert info.kv_cache_bytes_per_token() == per_token
    size = path.stat().st_size
    assert estimate_ram_bytes(path, 4096) == size + per_token * 4096 + RUNTIME_OVERHEAD_BYTES
    assert estimate_ram_bytes(path, 8192) - estimate_ram_bytes(path, 4096) == per_token * 4096
    assert estimate_ram_bytes(info, 4096) == estimate_ram_bytes(path, 4096)
    with pytest.raises(ValueError, match="n_ctx"):
        estimate_ram_bytes(path, 0)


def test_kv_estimate_uses_per_layer_heads_and_explicit_key_lengths(tmp_path: Path) -> None:
    kvs: list[tuple[str, int, object]] = [
        ("general.architecture", STR, "gemma3"),
        ("gemma3.block_count", U32, 3),
        ("gemma3.embedding_length", U32, 640),
        ("gemma3.attention.head_count", U32, 4),
        ("gemma3.attention.head_count_kv", ARR, (I32, [1, 2, 3])),
        ("gemma3.attention.key_length", U32, 256),
        ("gemma3.attention.value_length", U32, 128),
    ]
    info = read_gguf_header(write(tmp_path, make_gguf(kvs)))
    assert info.kv_cache_bytes_per_token() == (1 + 2 + 3) * (256 + 128) * 2


def test_ram_estimate_without_attention_metadata_still_grows_with_context(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, make_gguf([("general.architecture", STR, "mystery")], LLAMA_TENSORS))
    small, large = estimate_ram_bytes(path, 1024), estimate_ram_bytes(path, 8192)
    assert path.stat().st_size + RUNTIME_OVERHEAD_BYTES <= small < large


def test_check_ram_fits_and_explains_when_not() -> None:
    assert check_ram(3_000_000_000, available=3_000_000_000) is None
    assert check_ram(1, available=2) is None
    assert check_ram(5_100_000_000, available=3_200_000_000) == (
        "This model needs about 5.1 GB of free memory; 3.2 GB is free. "
        "Close other programs or choose a smaller model."
    )
    # Close values never print as the same number.
    message = check_ram(3_200_000_001, available=3_200_000_000)
    assert message is not None
    assert "needs about 3.3 GB" in message and "3.2 GB is free" in message


def test_check_ram_reads_free_memory_from_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        gguf.psutil, "virtual_memory", lambda: SimpleNamespace(available=1_000_000_000)
    )
    assert check_ram(900_000_000) is None
    assert check_ram(2_000_000_000) == (
        "This model needs about 2.0 GB of free memory; 1.0 GB is free. "
        "Close other programs or choose a smaller model."
    )


@pytest.mark.model
def test_real_bundled_model(bundled_model: Path, tmp_path: Path) -> None:
    path = bundled_model
    started = time.perf_counter()
    info = read_gguf_header(path)
    elapsed = time.perf_counter() - started

    assert info.version in (2, 3)
    assert info.architecture == "gemma3"
    assert info.file_type_name == "Q4_K_M"
    assert info.context_length is not None and info.context_length >= 8192
    assert info.parameter_count is not None
    assert 200_000_000 < info.parameter_count < 400_000_000
    assert info.tensor_count > 100
    per_token = info.kv_cache_bytes_per_token()
    assert per_token is not None and per_token > 0
    assert elapsed < 5.0
    assert estimate_ram_bytes(path, 2048) > info.file_size

    # The same file cut short is refused, whatever the cut.
    cut = tmp_path / "cut.gguf"
    with path.open("rb") as source, cut.open("wb") as target:
        shutil.copyfileobj(source, target, length=1 << 20)
    for size in (info.file_size - 1, info.data_offset, info.data_offset // 2, 1000):
        with cut.open("r+b") as handle:
            handle.truncate(size)
        with pytest.raises(InvalidGgufError, match=r"cut\.gguf is truncated"):
            read_gguf_header(cut)
