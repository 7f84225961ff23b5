"""Read what a GGUF model file says about itself, without loading it.

Reverie checks a model file before handing it to llama.cpp, so that a wrong,
damaged or half-copied file is refused with one clear sentence instead of a
crash deep inside the engine, and so that the memory a model needs can be
estimated before it is loaded.

The parser reads the header, the metadata key/values and the tensor table with
:mod:`struct` over a read-only memory map. Every length read from the file is
checked against the bytes actually present and against fixed caps, so a
corrupt or hostile file can neither allocate gigabytes nor loop for long.
"""

from __future__ import annotations

import logging
import math
import mmap
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeAlias

import psutil

__all__ = [
    "GgufArray",
    "GgufInfo",
    "InvalidGgufError",
    "MetadataValue",
    "check_ram",
    "estimate_kv_cache_bytes",
    "estimate_ram_bytes",
    "format_gb",
    "read_gguf_header",
]

log = logging.getLogger("assistant.llm")

GGUF_MAGIC: Final = b"GGUF"
SUPPORTED_VERSIONS: Final = (2, 3)
DEFAULT_ALIGNMENT: Final = 32

# Caps that keep a corrupt file from costing memory or time.
MAX_KEY_BYTES: Final = 64 * 1024
MAX_STRING_BYTES: Final = 32 * 1024 * 1024
MAX_KV_COUNT: Final = 1_000_000
MAX_TENSOR_COUNT: Final = 10_000_000
MAX_TENSOR_DIMS: Final = 8
MAX_ARRAY_DEPTH: Final = 4
# A length beyond this (1 TiB) is garbage, not a file cut short.
IMPOSSIBLE_BYTES: Final = 1 << 40
# Arrays longer than these are summarized (type and length) instead of kept.
KEEP_NUMERIC_ARRAY_ITEMS: Final = 4096
KEEP_STRING_ARRAY_ITEMS: Final = 64

# Runtime memory beyond weights and KV cache: compute buffers, scratch, the
# tokenizer and the Python process around it. Deliberately generous.
RUNTIME_OVERHEAD_BYTES: Final = 300 * 1024 * 1024


class InvalidGgufError(ValueError):
    """The file is not a usable GGUF model; ``str(error)`` is one sentence for the user."""


# GGUF metadata value types (gguf.md in the ggml repository).
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL = range(8)
_STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(8, 13)

_SCALAR_FORMATS: Final[dict[int, str]] = {
    _UINT8: "B",
    _INT8: "b",
    _UINT16: "H",
    _INT16: "h",
    _UINT32: "I",
    _INT32: "i",
    _FLOAT32: "f",
    _BOOL: "?",
    _UINT64: "Q",
    _INT64: "q",
    _FLOAT64: "d",
}

_TYPE_NAMES: Final[dict[int, str]] = {
    _UINT8: "uint8",
    _INT8: "int8",
    _UINT16: "uint16",
    _INT16: "int16",
    _UINT32: "uint32",
    _INT32: "int32",
    _FLOAT32: "float32",
    _BOOL: "bool",
    _STRING: "string",
    _ARRAY: "array",
    _UINT64: "uint64",
    _INT64: "int64",
    _FLOAT64: "float64",
}

# ggml tensor types: (elements per block, bytes per block). Used to check that
# the tensor data really is in the file; an unknown type skips that check.
_GGML_BLOCKS: Final[dict[int, tuple[int, int]]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 36),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
}

# llama.cpp's llama_ftype values, as stored in general.file_type.
_FILE_TYPE_NAMES: Final[dict[int, str]] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}


@dataclass(frozen=True, slots=True)
class GgufArray:
    """A metadata array: its item type and length, and its items when it is short."""

    item_type: str
    length: int
    items: tuple[int | float | bool | str, ...] | None


MetadataValue: TypeAlias = int | float | bool | str | GgufArray


@dataclass(frozen=True, slots=True)
class GgufInfo:
    """What a GGUF file declares: format version, counts and the metadata Reverie uses.

    ``metadata`` holds every key/value; long arrays (the tokenizer vocabulary)
    keep only their type and length.
    """

    path: Path
    file_size: int
    version: int
    tensor_count: int
    kv_count: int
    metadata: Mapping[str, MetadataValue] = field(repr=False)
    parameter_count: int | None
    data_offset: int

    def _str(self, key: str) -> str | None:
        value = self.metadata.get(key)
        return value if isinstance(value, str) else None

    def _int(self, key: str) -> int | None:
        value = self.metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        return value

    def _arch_int(self, suffix: str) -> int | None:
        arch = self.architecture
        return None if arch is None else self._int(f"{arch}.{suffix}")

    @property
    def architecture(self) -> str | None:
        """``general.architecture``, e.g. ``llama``, ``qwen2``, ``gemma3``."""
        return self._str("general.architecture")

    @property
    def name(self) -> str | None:
        """``general.name``, the model's own display name."""
        return self._str("general.name")

    @property
    def chat_template(self) -> str | None:
        """The Jinja chat template, when the model ships one."""
        return self._str("tokenizer.chat_template")

    @property
    def has_chat_template(self) -> bool:
        """True when the file carries a chat template (an instruct/chat model)."""
        return bool(self.chat_template)

    @property
    def context_length(self) -> int | None:
        """The training context length, ``<arch>.context_length``."""
        return self._arch_int("context_length")

    @property
    def file_type(self) -> int | None:
        """``general.file_type`` (llama.cpp's ``llama_ftype``)."""
        return self._int("general.file_type")

    @property
    def file_type_name(self) -> str | None:
        """The quantization name for ``file_type``, e.g. ``Q4_K_M``."""
        file_type = self.file_type
        return None if file_type is None else _FILE_TYPE_NAMES.get(file_type)

    @property
    def size_label(self) -> str | None:
        """``general.size_label`` such as ``1.5B``, when present."""
        return self._str("general.size_label")

    @property
    def block_count(self) -> int | None:
        """Number of transformer layers, ``<arch>.block_count``."""
        return self._arch_int("block_count")

    @property
    def embedding_length(self) -> int | None:
        """Hidden size, ``<arch>.embedding_length``."""
        return self._arch_int("embedding_length")

    def kv_cache_bytes_per_token(self, bytes_per_value: int = 2) -> int | None:
        """Bytes of K and V cache one token needs, or None when metadata is missing."""
        arch = self.architecture
        layers = self.block_count
        if arch is None or layers is None or layers <= 0:
            return None
        heads = self._arch_int("attention.head_count")
        embd = self.embedding_length
        kv_heads_value = self.metadata.get(f"{arch}.attention.head_count_kv")
        per_layer_heads: list[int]
        if isinstance(kv_heads_value, GgufArray) and kv_heads_value.items is not None:
            per_layer_heads = [int(h) for h in kv_heads_value.items if isinstance(h, int)]
        elif isinstance(kv_heads_value, int) and not isinstance(kv_heads_value, bool):
            per_layer_heads = [kv_heads_value] * layers
        elif heads is not None:
            per_layer_heads = [heads] * layers
        else:
            return None
        head_dim = embd // heads if embd and heads else None
        key_length = self._arch_int("attention.key_length") or head_dim
        value_length = self._arch_int("attention.value_length") or head_dim
        if key_length is None or value_length is None:
            return None
        return sum(per_layer_heads) * (key_length + value_length) * bytes_per_value


class _Truncated(Exception):
    """Internal: the file ended before a structure it promised."""


class _Corrupt(Exception):
    """Internal: a structure holds an impossible value; the message says which."""


class _Reader:
    """Bounds-checked little/big-endian reads from a buffer."""

    def __init__(self, buf: mmap.mmap | bytes, endian: str) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.endian = endian

    def need(self, n: int) -> None:
        if n > IMPOSSIBLE_BYTES:
            raise _Corrupt("a length field holds an impossible value")
        if self.pos + n > self.size:
            raise _Truncated

    def unpack(self, fmt: str) -> int | float | bool:
        full = self.endian + fmt
        n = struct.calcsize(full)
        self.need(n)
        (value,) = struct.unpack_from(full, self.buf, self.pos)
        self.pos += n
        result: int | float | bool = value
        return result

    def u32(self) -> int:
        return int(self.unpack("I"))

    def u64(self) -> int:
        return int(self.unpack("Q"))

    def string(self, cap: int, what: str) -> str:
        length = self.u64()
        if length > cap:
            raise _Corrupt(f"a {what} claims to be {length} bytes long")
        self.need(length)
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.u64()
        self.need(length)
        self.pos += length


def _read_value(reader: _Reader, value_type: int, depth: int = 0) -> MetadataValue:
    if value_type in _SCALAR_FORMATS:
        return reader.unpack(_SCALAR_FORMATS[value_type])
    if value_type == _STRING:
        return reader.string(MAX_STRING_BYTES, "metadata string")
    if value_type == _ARRAY:
        return _read_array(reader, depth)
    raise _Corrupt(f"a metadata value has unknown type {value_type}")


def _read_array(reader: _Reader, depth: int) -> GgufArray:
    if depth >= MAX_ARRAY_DEPTH:
        raise _Corrupt("metadata arrays are nested too deeply")
    item_type = reader.u32()
    length = reader.u64()
    type_name = _TYPE_NAMES.get(item_type)
    if type_name is None:
        raise _Corrupt(f"a metadata array has unknown item type {item_type}")
    if item_type in _SCALAR_FORMATS:
        fmt = reader.endian + _SCALAR_FORMATS[item_type]
        item_size = struct.calcsize(fmt)
        reader.need(length * item_size)
        end = reader.pos + length * item_size
        kept: tuple[int | float | bool, ...] | None = None
        if length <= KEEP_NUMERIC_ARRAY_ITEMS:
            raw = reader.buf[reader.pos : end]
            kept = tuple(value for (value,) in struct.iter_unpack(fmt, raw))
        reader.pos = end
        return GgufArray(type_name, length, kept)
    # Strings take at least 8 bytes each, nested arrays at least 12: a length
    # the remaining bytes cannot hold is refused before looping over it.
    reader.need(length * (8 if item_type == _STRING else 12))
    if item_type == _STRING:
        if length <= KEEP_STRING_ARRAY_ITEMS:
            strings = tuple(
                reader.string(MAX_STRING_BYTES, "metadata string") for _ in range(length)
            )
            return GgufArray(type_name, length, strings)
        for _ in range(length):
            reader.skip_string()
        return GgufArray(type_name, length, None)
    for _ in range(length):
        _read_array(reader, depth + 1)
    return GgufArray(type_name, length, None)


def _detect_endian(buf: mmap.mmap | bytes) -> tuple[str, int]:
    (little,) = struct.unpack_from("<I", buf, 4)
    if little in SUPPORTED_VERSIONS or little == 1:
        return "<", int(little)
    (big,) = struct.unpack_from(">I", buf, 4)
    if big in SUPPORTED_VERSIONS:
        return ">", int(big)
    return "<", int(little)


def _parse(path: Path, buf: mmap.mmap | bytes) -> GgufInfo:
    size = len(buf)
    if size < 4:
        raise _Truncated
    if bytes(buf[:4]) != GGUF_MAGIC:
        raise InvalidGgufError(
            f"{path.name} is not a GGUF model file (it does not start with the GGUF "
            f"signature); choose a .gguf file"
        )
    if size < 8:
        raise _Truncated
    endian, version = _detect_endian(buf)
    if version not in SUPPORTED_VERSIONS:
        raise InvalidGgufError(
            f"{path.name} uses GGUF version {version}, which Reverie cannot read "
            f"(versions 2 and 3 are supported); choose a newer .gguf file"
        )
    reader = _Reader(buf, endian)
    reader.pos = 8
    tensor_count = reader.u64()
    kv_count = reader.u64()
    if kv_count > MAX_KV_COUNT:
        raise _Corrupt(f"it claims {kv_count} metadata entries")
    if tensor_count > MAX_TENSOR_COUNT:
        raise _Corrupt(f"it claims {tensor_count} tensors")

    metadata: dict[str, MetadataValue] = {}
    for _ in range(kv_count):
        key = reader.string(MAX_KEY_BYTES, "metadata key")
        value_type = reader.u32()
        metadata[key] = _read_value(reader, value_type)

    alignment_value = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if (
        isinstance(alignment_value, bool)
        or not isinstance(alignment_value, int)
        or alignment_value <= 0
        or alignment_value & (alignment_value - 1)
    ):
        raise _Corrupt(f"its general.alignment is {alignment_value!r}, not a power of two")
    alignment = alignment_value

    parameter_count = 0
    data_needed = 0
    data_check = True
    for _ in range(tensor_count):
        reader.string(MAX_KEY_BYTES, "tensor name")
        n_dims = reader.u32()
        if n_dims > MAX_TENSOR_DIMS:
            raise _Corrupt(f"a tensor claims {n_dims} dimensions")
        elements = 1
        for _ in range(n_dims):
            elements *= reader.u64()
        tensor_type = reader.u32()
        offset = reader.u64()
        parameter_count += elements
        block = _GGML_BLOCKS.get(tensor_type)
        if block is None:
            data_check = False
            continue
        block_elements, block_bytes = block
        data_needed = max(data_needed, offset + math.ceil(elements / block_elements) * block_bytes)

    data_offset = -(-reader.pos // alignment) * alignment
    if tensor_count and data_check and data_offset + data_needed > size:
        raise _Truncated
    return GgufInfo(
        path=path,
        file_size=size,
        version=version,
        tensor_count=tensor_count,
        kv_count=kv_count,
        metadata=MappingProxyType(metadata),
        parameter_count=parameter_count if tensor_count else None,
        data_offset=data_offset,
    )


def read_gguf_header(path: str | os.PathLike[str]) -> GgufInfo:
    """Read and check a GGUF file's header, metadata and tensor table.

    Raises :class:`InvalidGgufError` with one sentence for the user when the
    file is missing, unreadable, not GGUF, of an unsupported version, cut short
    or internally inconsistent.
    """
    file_path = Path(path)
    try:
        with file_path.open("rb") as handle:
            file_size = os.fstat(handle.fileno()).st_size
            if file_size == 0:
                raise InvalidGgufError(f"{file_path.name} is empty; choose a .gguf model file")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                try:
                    return _parse(file_path, buf)
                except _Truncated:
                    raise InvalidGgufError(
                        f"{file_path.name} is truncated (the file ends early); "
                        f"download or copy it again"
                    ) from None
                except _Corrupt as exc:
                    raise InvalidGgufError(
                        f"{file_path.name} is not a valid GGUF model file ({exc}); "
                        f"choose another .gguf file"
                    ) from None
    except FileNotFoundError:
        raise InvalidGgufError(f"{file_path} does not exist; choose a .gguf model file") from None
    except IsADirectoryError:
        raise InvalidGgufError(f"{file_path} is a folder; choose a .gguf model file") from None
    except PermissionError:
        raise InvalidGgufError(
            f"{file_path} cannot be read (permission denied); check its permissions"
        ) from None
    except OSError as exc:
        raise InvalidGgufError(
            f"{file_path} cannot be read ({exc.strerror or exc}); choose another file"
        ) from None


def estimate_kv_cache_bytes(info: GgufInfo, n_ctx: int) -> int:
    """Bytes of f16 K/V cache for ``n_ctx`` tokens; a size-based guess without metadata."""
    per_token = info.kv_cache_bytes_per_token()
    if per_token is None:
        # No usable attention metadata: assume a tenth of the weights per 4k tokens.
        return int(info.file_size * 0.1 * n_ctx / 4096)
    return per_token * n_ctx


def estimate_ram_bytes(model: GgufInfo | str | os.PathLike[str], n_ctx: int) -> int:
    """Estimate the memory llama.cpp needs to run the model at ``n_ctx`` tokens.

    ``model`` is a path or an already-read :class:`GgufInfo`. Weights (the file
    size) + the K/V cache from the model's own metadata + a fixed runtime
    overhead. Meant for a "will it fit" warning, so it errs high. Raises
    :class:`InvalidGgufError` when the file is not a readable GGUF.
    """
    if n_ctx <= 0:
        raise ValueError(f"n_ctx must be positive, not {n_ctx}")
    info = model if isinstance(model, GgufInfo) else read_gguf_header(model)
    return info.file_size + estimate_kv_cache_bytes(info, n_ctx) + RUNTIME_OVERHEAD_BYTES


def format_gb(n_bytes: int, *, rounding: str = "nearest") -> str:
    """Format bytes as decimal gigabytes with one decimal, e.g. ``"5.1 GB"``."""
    tenths = n_bytes / 100_000_000
    if rounding == "up":
        value = math.ceil(tenths)
    elif rounding == "down":
        value = math.floor(tenths)
    else:
        value = round(tenths)
    return f"{value / 10:.1f} GB"


def check_ram(required: int, available: int | None = None) -> str | None:
    """Return None when ``required`` bytes fit in free memory, else a sentence saying so.

    ``available`` defaults to ``psutil.virtual_memory().available``. The needed
    amount is rounded up and the free amount down, so the two numbers in the
    sentence never look equal.
    """
    free = psutil.virtual_memory().available if available is None else available
    if required <= free:
        return None
    return (
        f"This model needs about {format_gb(required, rounding='up')} of free memory; "
        f"{format_gb(free, rounding='down')} is free. "
        f"Close other programs or choose a smaller model."
    )
