"""The catalog of recommended models (``resources/models.toml``).

Each entry says where a GGUF file lives, how big it is, its sha256 (so a
download can be verified), how much memory it needs and how to prompt it. The
catalog is checked when it is loaded: a wrong entry is refused with a sentence
naming the entry and the field, so a bad edit never reaches a download.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, cast

__all__ = [
    "CatalogEntry",
    "CatalogError",
    "PromptStyle",
    "find",
    "load_catalog",
    "parse_catalog",
]

log = logging.getLogger("assistant.llm")

PromptStyle = Literal["chat", "completion"]
PROMPT_STYLES: Final[tuple[PromptStyle, ...]] = ("chat", "completion")

_NAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_REPOSITORY_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class CatalogError(ValueError):
    """The catalog file or one of its entries is wrong; ``str(error)`` is one sentence."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One recommended model: where to get it, how to check it, what it needs."""

    name: str
    display_name: str
    repository: str
    file: str
    url: str
    size_bytes: int
    sha256: str
    ram_bytes: int
    license: str
    prompt_style: PromptStyle
    parameters: int
    bundled: bool = False
    description: str = ""

    @property
    def downloadable(self) -> bool:
        """True for entries fetched from ``url`` (everything but the bundled model)."""
        return not self.bundled


_REQUIRED: Final[dict[str, type]] = {
    "name": str,
    "display_name": str,
    "repository": str,
    "file": str,
    "size_bytes": int,
    "sha256": str,
    "ram_bytes": int,
    "license": str,
    "prompt_style": str,
    "parameters": int,
}
_OPTIONAL: Final[dict[str, type]] = {"url": str, "bundled": bool, "description": str}
_TYPE_WORDS: Final[dict[type, str]] = {str: "a string", int: "an integer", bool: "true or false"}


def _entry_label(raw: Mapping[str, object], index: int) -> str:
    name = raw.get("name")
    if isinstance(name, str) and name:
        return f"model catalog entry '{name}'"
    return f"model catalog entry #{index + 1}"


def _check_types(raw: Mapping[str, object], label: str) -> None:
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogError(f"The {label} has an unknown field '{unknown[0]}'; remove or rename it.")
    for key in _REQUIRED:
        if key not in raw:
            raise CatalogError(f"The {label} is missing the field '{key}'.")
    for key, expected in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in raw:
            continue
        value = raw[key]
        # bool is a subclass of int: an integer field must not accept true/false.
        wrong_bool = expected is int and isinstance(value, bool)
        if wrong_bool or not isinstance(value, expected):
            raise CatalogError(
                f"The {label} has an invalid '{key}': it must be {_TYPE_WORDS[expected]}."
            )


def _entry_from_raw(raw: Mapping[str, object], index: int) -> CatalogEntry:
    label = _entry_label(raw, index)
    _check_types(raw, label)
    name = cast(str, raw["name"])
    file = cast(str, raw["file"])
    url = cast(str, raw.get("url", ""))
    sha256 = cast(str, raw["sha256"])
    bundled = cast(bool, raw.get("bundled", False))
    size_bytes = cast(int, raw["size_bytes"])
    ram_bytes = cast(int, raw["ram_bytes"])
    parameters = cast(int, raw["parameters"])
    prompt_style = cast(str, raw["prompt_style"])
    repository = cast(str, raw["repository"])

    def bad(key: str, why: str) -> CatalogError:
        return CatalogError(f"The {label} has an invalid '{key}': {why}.")

    if not _NAME_RE.match(name):
        raise bad("name", "use lowercase letters, digits, '.', '-' and '_' only")
    for key in ("display_name", "license"):
        if not cast(str, raw[key]).strip():
            raise bad(key, "it must not be empty")
    if not _REPOSITORY_RE.match(repository):
        raise bad("repository", "it must look like 'owner/name'")
    if not file.endswith(".gguf") or "/" in file or "\\" in file or file.startswith("."):
        raise bad("file", "it must be a plain file name ending in .gguf")
    if size_bytes <= 0:
        raise bad("size_bytes", "it must be a positive number of bytes")
    if ram_bytes < size_bytes:
        raise bad("ram_bytes", "a model needs at least its file size in memory")
    if parameters <= 0:
        raise bad("parameters", "it must be a positive parameter count")
    if prompt_style not in PROMPT_STYLES:
        raise bad("prompt_style", f"it must be one of {', '.join(PROMPT_STYLES)}")
    if bundled:
        if url:
            raise bad("url", "a bundled model is not downloaded, so it has no url")
        if sha256 and not _SHA256_RE.match(sha256):
            raise bad("sha256", "it must be empty or 64 lowercase hexadecimal characters")
    else:
        if not _SHA256_RE.match(sha256):
            raise bad("sha256", "it must be 64 lowercase hexadecimal characters")
        if not url.startswith("https://"):
            raise bad("url", "a downloadable model needs an https:// address")
        if not url.endswith("/" + file):
            raise bad("url", f"it must end with the file name '{file}'")
    return CatalogEntry(
        name=name,
        display_name=cast(str, raw["display_name"]).strip(),
        repository=repository,
        file=file,
        url=url,
        size_bytes=size_bytes,
        sha256=sha256,
        ram_bytes=ram_bytes,
        license=cast(str, raw["license"]).strip(),
        prompt_style="chat" if prompt_style == "chat" else "completion",
        parameters=parameters,
        bundled=bundled,
        description=cast(str, raw.get("description", "")).strip(),
    )


def parse_catalog(
    data: Mapping[str, object], source: str = "the model catalog"
) -> list[CatalogEntry]:
    """Validate an already-decoded catalog (a ``{"model": [...]}`` mapping)."""
    unknown = sorted(set(data) - {"model"})
    if unknown:
        raise CatalogError(f"{source} has an unknown top-level key '{unknown[0]}'.")
    models = data.get("model")
    if not isinstance(models, list) or not models:
        raise CatalogError(f"{source} lists no models; it needs [[model]] tables.")
    entries: list[CatalogEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(models):
        if not isinstance(raw, dict):
            raise CatalogError(f"Model catalog entry #{index + 1} in {source} is not a table.")
        entry = _entry_from_raw(cast(dict[str, object], raw), index)
        if entry.name in seen:
            raise CatalogError(
                f"The model catalog lists '{entry.name}' twice; names must be unique."
            )
        seen.add(entry.name)
        entries.append(entry)
    return entries


def load_catalog(path: str | os.PathLike[str]) -> list[CatalogEntry]:
    """Load and validate the model catalog at ``path``, in file order.

    Raises :class:`CatalogError` naming the file, entry and field at fault.
    """
    catalog_path = Path(path)
    try:
        with catalog_path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise CatalogError(f"The model catalog {catalog_path} does not exist.") from None
    except OSError as exc:
        raise CatalogError(
            f"The model catalog {catalog_path} cannot be read ({exc.strerror or exc})."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"The model catalog {catalog_path} is not valid TOML ({exc}).") from None
    entries = parse_catalog(data, source=str(catalog_path))
    log.debug("loaded %d catalog entries from %s", len(entries), catalog_path)
    return entries


def find(entries: Iterable[CatalogEntry], name: str) -> CatalogEntry:
    """Return the entry called ``name`` (case-insensitive).

    Raises :class:`CatalogError` listing the known names when there is none.
    """
    wanted = name.strip().lower()
    known: list[str] = []
    for entry in entries:
        if entry.name == wanted:
            return entry
        known.append(entry.name)
    raise CatalogError(
        f"There is no model called '{name}' in the catalog; choose one of: {', '.join(known)}."
    )
