"""Saved KV states of prompt prefixes, so a prepared prefix costs milliseconds, not seconds.

Sleep time evaluates the fixed start of answer prompts (instructions, profile block)
and saves the model state with llama.cpp's C-level state files. At question time a
prompt that starts with a saved prefix loads it (about 7 ms for 662 tokens here,
against 1.4-2 s to evaluate) and evaluates only the rest.

Each entry is two files in ``<data>/kv/``: ``<key>.state`` (llama.cpp's file) and
``<key>.json`` (model sha256, n_ctx, engine settings, the prefix's tokens and size, and
the ``sources`` its text came from: memory, message and note ids, recorded by whoever
warmed it). A state holds token ids, so no text search finds it: forgetting a source
deletes every state whose recorded sources name it, and every state whose sources were
never recorded (:func:`forget_states`).
The key hashes all of those, so a cache file never serves another model or context
size. The folder is size-bounded: the least recently used entries go first. This
module does only bookkeeping; the engine's worker thread performs the llama.cpp calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.paths import write_private

log = logging.getLogger("assistant.llm")

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class PrefixEntry:
    key: str
    model_sha256: str
    n_ctx: int
    settings: str
    prefix_sha256: str
    tokens: tuple[int, ...]
    size_bytes: int = 0
    created_at: float = 0.0
    #: {"memories": [...], "messages": [...], "notes": [...]}; None: not recorded.
    sources: dict[str, list[int]] | None = None


def prefix_key(model_sha256: str, n_ctx: int, settings: str, prefix_text: str) -> str:
    """The cache key of (model, context size, engine settings, prefix text)."""
    prefix_hash = hashlib.sha256(prefix_text.encode("utf-8")).hexdigest()
    raw = f"{model_sha256}\0{n_ctx}\0{settings}\0{prefix_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


class PrefixCache:
    """The index of saved prefix states in one folder; safe to use from one thread."""

    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, PrefixEntry] = {}
        self._load_index()

    def state_path(self, key: str) -> Path:
        return self.folder / f"{key}.state"

    def _meta_path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def _load_index(self) -> None:
        for meta in self.folder.glob("*.json"):
            key = meta.stem
            try:
                data = json.loads(meta.read_text())
                entry = PrefixEntry(**{**data, "tokens": tuple(data["tokens"])})
                if entry.key != key or not self.state_path(key).is_file():
                    raise ValueError("state file missing or key mismatch")
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.warning("dropping unreadable prefix cache entry %s: %s", key, exc)
                self.remove(key)
                continue
            self._entries[key] = entry

    def get(self, key: str) -> PrefixEntry | None:
        entry = self._entries.get(key)
        if entry is not None and not self.state_path(key).is_file():
            self.remove(key)
            return None
        return entry

    def entries(self) -> list[PrefixEntry]:
        return list(self._entries.values())

    def best_match(self, tokens: Sequence[int], model_sha256: str, n_ctx: int,
                   settings: str, *, better_than: int = 0) -> tuple[PrefixEntry, int] | None:
        """The entry sharing the longest token prefix with ``tokens`` (longer than
        ``better_than``), and how many tokens it shares."""
        best: tuple[PrefixEntry, int] | None = None
        for entry in self._entries.values():
            if (entry.model_sha256, entry.n_ctx, entry.settings) != (model_sha256, n_ctx,
                                                                     settings):
                continue
            shared = 0
            for a, b in zip(entry.tokens, tokens, strict=False):
                if a != b:
                    break
                shared += 1
            if shared > better_than and (best is None or shared > best[1]):
                best = (entry, shared)
        return best

    def add(self, entry: PrefixEntry) -> None:
        """Record an entry whose state file has just been written; then enforce the bound."""
        size = self.state_path(entry.key).stat().st_size
        entry = PrefixEntry(**{**asdict(entry), "size_bytes": size,
                               "created_at": entry.created_at or time.time()})
        data = asdict(entry)
        data["tokens"] = list(entry.tokens)
        # The state and its tokens are the person's prompt: owner-only, like the database.
        os.chmod(self.state_path(entry.key), 0o600)
        write_private(self._meta_path(entry.key), json.dumps(data))
        self._entries[entry.key] = entry
        self.touch(entry.key)
        self.enforce_bound(keep=entry.key)

    def touch(self, key: str) -> None:
        """Mark an entry as just used (its state file's mtime orders eviction)."""
        with contextlib.suppress(OSError):
            os.utime(self.state_path(key))

    def remove(self, key: str) -> None:
        self._entries.pop(key, None)
        for path in (self.state_path(key), self._meta_path(key)):
            path.unlink(missing_ok=True)

    def total_bytes(self) -> int:
        return sum(e.size_bytes for e in self._entries.values())

    def enforce_bound(self, keep: str | None = None) -> None:
        """Delete least recently used entries until the folder fits ``max_bytes``."""
        def last_used(entry: PrefixEntry) -> float:
            try:
                return self.state_path(entry.key).stat().st_mtime
            except OSError:
                return 0.0

        for entry in sorted(self._entries.values(), key=last_used):
            if self.total_bytes() <= self.max_bytes:
                break
            if entry.key != keep:
                log.info("evicting prefix cache entry %s (%d bytes)", entry.key,
                         entry.size_bytes)
                self.remove(entry.key)


Sources = Mapping[str, Sequence[int]]


def record_sources(folder: Path, key: str, sources: Sources) -> None:
    """Write what the prefix saved under ``key`` was made from into its ``.json``."""
    meta = folder / f"{key}.json"
    data = json.loads(meta.read_text())
    data["sources"] = {k: sorted({int(i) for i in v}) for k, v in sources.items()}
    write_private(meta, json.dumps(data))  # the prompt's tokens: owner-only, as on `add`


def forget_states(folder: Path, touches: Callable[[Sources], bool]) -> list[str]:
    """Delete every saved state whose sources ``touches`` (or were never recorded, or
    cannot be read), and any state file without its ``.json``; returns the keys."""
    if not folder.is_dir():
        return []
    removed = []
    for state in folder.glob("*.state*"):
        key = state.name.split(".", 1)[0]
        meta = folder / f"{key}.json"
        try:
            sources = json.loads(meta.read_text()).get("sources")
        except (OSError, ValueError, AttributeError):
            sources = None
        if sources is None or not isinstance(sources, dict) or touches(sources):
            for path in (state, meta, meta.with_suffix(".json.tmp")):
                path.unlink(missing_ok=True)
            removed.append(key)
    if removed:
        log.info("deleted %d saved prefix states made from forgotten text", len(removed))
    return removed
