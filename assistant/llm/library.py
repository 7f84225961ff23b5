"""The person's models: the catalog, what is downloaded, and checks before switching.

A model is switched only after its file is known to be a readable GGUF that fits in
free memory; otherwise the previous model stays active and the person gets one
sentence saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.llm.catalog import CatalogEntry, CatalogError, find, load_catalog
from assistant.llm.download import ProgressCallback, download
from assistant.llm.gguf import GgufInfo, InvalidGgufError, check_ram, estimate_ram_bytes
from assistant.llm.gguf import read_gguf_header as read_header
from assistant.resources import resource

log = logging.getLogger("assistant.llm")


class ModelCheckError(ValueError):
    """The model cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class ModelRow:
    entry: CatalogEntry
    path: Path | None  # where it is installed, if it is


def default_catalog_path() -> Path:
    return resource("models.toml")


class ModelLibrary:
    def __init__(self, models_dir: Path, catalog_path: Path | None = None) -> None:
        self.models_dir = models_dir
        self.catalog = load_catalog(catalog_path or default_catalog_path())

    def installed_path(self, entry: CatalogEntry) -> Path | None:
        path = self.models_dir / entry.file
        return path if path.is_file() else None

    def rows(self) -> list[ModelRow]:
        return [ModelRow(e, self.installed_path(e)) for e in self.catalog]

    def entry(self, name: str) -> CatalogEntry:
        return find(self.catalog, name)

    def download(self, name: str, *, progress: ProgressCallback | None = None,
                 should_stop: Callable[[], bool] | None = None, url: str | None = None,
                 token: str | None = None) -> Path:
        """Download (or resume) a catalog model into the models folder, verified."""
        entry = self.entry(name)
        if entry.bundled:
            raise ModelCheckError(f"{entry.display_name} comes with Reverie; "
                                  "there is nothing to download.")
        return download(url or entry.url, self.models_dir / entry.file,
                        expected_sha256=entry.sha256, expected_size=entry.size_bytes,
                        progress=progress, should_stop=should_stop, token=token)

    def resolve(self, name_or_path: str) -> Path:
        """A path to a GGUF file, or the installed file of a catalog model."""
        candidate = Path(name_or_path).expanduser()
        if candidate.exists():
            return candidate.resolve()
        try:
            entry = self.entry(name_or_path)
        except CatalogError:
            raise ModelCheckError(f"{name_or_path} is neither a model file nor a model "
                                  "in the catalog; see `reverie model list`.") from None
        path = self.installed_path(entry)
        if path is None:
            raise ModelCheckError(f"{entry.display_name} is not downloaded yet; run "
                                  f"`reverie model download {entry.name}` first.")
        return path


def check_model_file(path: Path, n_ctx: int, available_ram: int | None = None) -> GgufInfo:
    """Refuse a file that is not a readable GGUF or will not fit in free memory."""
    if not path.is_file():
        raise ModelCheckError(f"{path} is not a file; choose a .gguf model file.")
    try:
        info = read_header(path)
    except InvalidGgufError as exc:
        raise ModelCheckError(str(exc)) from None
    problem = check_ram(estimate_ram_bytes(info, n_ctx), available_ram)
    if problem:
        raise ModelCheckError(problem)
    return info
