"""The composition root: builds every service from Settings and owns start-up/shut-down order.

Nothing else constructs services. The command line and the GUI both start from
:meth:`Reverie.open`, which is fast (settings, database, repositories); the model is
started separately with :meth:`Reverie.start_engine` because it is the slow part and
the window must appear before it is ready.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import LoadedSettings, Settings, load_settings, save_settings
from assistant.llm.bundled import Progress, ensure_bundled_model
from assistant.llm.engine import Engine
from assistant.paths import Paths
from assistant.recall.responder import Responder
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.notes import NoteRepository

if TYPE_CHECKING:
    from assistant.idle.backends.base import IdleBackend
    from assistant.idle.coordinator import ThinkingCoordinator
    from assistant.idle.gate import Sensors
    from assistant.llm.embedding import Embedder
    from assistant.llm.engine import Priority
    from assistant.mind.runner import SleepRunner
    from assistant.mind.work import WorkHandler

log = logging.getLogger("assistant")

#: Builds the engine; ``model_path`` is None when the model runs on a remote server.
EngineFactory = Callable[[Path | None, Settings, Paths], Engine]


def default_engine_factory(model_path: Path | None, settings: Settings, paths: Paths) -> Engine:
    if model_path is None:
        from assistant.llm.engine import PromptStyle
        from assistant.llm.remote import OpenAICompatibleEngine, load_api_key

        url = settings.model.remote_url
        return OpenAICompatibleEngine(url, model=settings.model.remote_model or None,
                                      api_key=load_api_key(url), n_ctx=settings.model.n_ctx,
                                      prompt_style=PromptStyle(settings.model.remote_prompt_style))
    from assistant.llm.llama import LlamaEngine

    choice = settings.memory.embedding_model
    embedding_path = (None if choice in ("", "none", "wordllama") else
                      model_path if choice == "same" else Path(choice).expanduser())
    return LlamaEngine(model_path, n_ctx=settings.model.n_ctx,
                       n_threads=settings.model.n_threads or None, kv_dir=paths.kv_dir,
                       kv_max_bytes=settings.model.kv_cache_mb * 1024 * 1024,
                       embedding_path=embedding_path)


def configure_logging(paths: Paths, *, debug: bool = False) -> None:
    """A rotating log file per profile; warnings (or everything with --debug) on stderr."""
    root = logging.getLogger("assistant")
    if any(getattr(h, "_reverie", False) for h in root.handlers):
        return
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=2_000_000,
                                                   backupCount=3, encoding="utf-8")
    if os.name == "posix":
        os.chmod(paths.log_file, 0o600)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._reverie = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if debug:
        console = logging.StreamHandler()
        console.setLevel(logging.DEBUG)
        console._reverie = True  # type: ignore[attr-defined]
        root.addHandler(console)


class Reverie:
    """One open profile: settings, database, repositories and (once started) the model."""

    def __init__(self, paths: Paths, loaded: LoadedSettings, db: Database,
                 engine_factory: EngineFactory = default_engine_factory) -> None:
        self.paths = paths
        self.settings = loaded.settings
        #: One sentence for the person if the settings file was bad (shown once).
        self.settings_warning = loaded.warning
        self.db = db
        self.chats = ChatRepository(db)
        self.notes = NoteRepository(db)
        self._engine_factory = engine_factory
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._coordinator: ThinkingCoordinator | None = None
        self._embedder: Embedder | None = None

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None, *,
             engine_factory: EngineFactory = default_engine_factory) -> Reverie:
        """Resolve paths, load settings, open and migrate the database."""
        paths = Paths.resolve(data_dir).ensure()
        loaded = load_settings(paths.settings_file)
        if not paths.settings_file.exists():
            save_settings(loaded.settings, paths.settings_file)
        db = Database.open(paths.database_file, paths.backups_dir)
        return cls(paths, loaded, db, engine_factory)

    def save_settings(self, settings: Settings) -> None:
        save_settings(settings, self.paths.settings_file)
        self.settings = settings

    def model_path(self, progress: Progress | None = None) -> Path:
        """The configured model file, or the bundled one (assembled on first use)."""
        if self.settings.model.path:
            return Path(self.settings.model.path).expanduser()
        return ensure_bundled_model(self.paths.models_dir, progress)

    def start_engine(self, progress: Progress | None = None) -> Engine:
        """Create the engine once; it loads the model on its own thread."""
        with self._engine_lock:
            if self._engine is None:
                local = None if self.settings.model.remote_url else self.model_path(progress)
                self._engine = self._engine_factory(local, self.settings, self.paths)
            return self._engine

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def responder(self, engine: Engine) -> Responder:
        from assistant.mind.profile import profile_text
        from assistant.recall.prepared import PreparedAnswers
        from assistant.recall.retrieval import Retriever

        return Responder(engine, self.chats, self.settings.model, notes=self.notes,
                         retriever=Retriever(self.db, self.embedder(engine)),
                         memory=self.settings.memory,
                         profile=lambda: profile_text(self.db),
                         prepared=PreparedAnswers(self.db))

    def sleep_runner(self, engine: Engine) -> SleepRunner:
        """The sleep-time runner, with the planner sources and work handlers that exist."""
        from assistant.mind.anticipate import AnticipateHandler, propose_anticipations
        from assistant.mind.briefing import BriefingHandler, make_briefing_source
        from assistant.mind.consolidate import (
            ConsolidateConversationHandler,
            DigestNoteHandler,
            propose_consolidation,
        )
        from assistant.mind.planner import DefaultPlanner, ProposalSource
        from assistant.mind.profile import (
            ProfileHandler,
            WarmPrefixHandler,
            profile_source,
            warm_source,
        )
        from assistant.mind.runner import SleepRunner
        from assistant.mind.titles import TitleConversationHandler, propose_titles

        def profile_limit() -> int:
            return self.settings.memory.profile_tokens

        sources: list[ProposalSource] = [
            propose_titles, propose_consolidation, propose_anticipations,
            profile_source(engine, profile_limit), warm_source(engine, profile_limit)]
        if self.settings.thinking.morning_briefing:
            sources.append(make_briefing_source())
        handlers: list[WorkHandler] = [
            TitleConversationHandler(), ConsolidateConversationHandler(), DigestNoteHandler(),
            ProfileHandler(profile_limit), WarmPrefixHandler(),
            AnticipateHandler(samples=self.settings.thinking.anticipation_samples),
            BriefingHandler()]
        if self.settings.memory.embedding_model != "none":
            from assistant.llm.engine import Priority
            from assistant.mind.embedding_work import EmbedMemoriesHandler, embed_source

            sources.append(embed_source)
            handlers.append(EmbedMemoriesHandler(
                lambda: self._require_embedder(engine, Priority.BACKGROUND)))
        return SleepRunner(self.db, engine, DefaultPlanner(self.db, sources), handlers)

    def embedder(self, engine: Engine | None = None,
                 priority: Priority | None = None) -> Embedder | None:
        """The configured embedder: the built-in wordllama one (made once) by default, the
        engine's embedding GGUF (``same`` or a path; needs ``engine``) at ``priority``
        (FOREGROUND unless given), or None for ``none`` (search by words only)."""
        from assistant.llm.embedding import EngineEmbedder, WordLlamaEmbedder
        from assistant.llm.engine import Priority

        choice = self.settings.memory.embedding_model
        if choice == "none":
            return None
        if choice not in ("", "wordllama"):
            return None if engine is None else EngineEmbedder(
                engine, Priority.FOREGROUND if priority is None else priority)
        with self._engine_lock:
            if self._embedder is None:
                self._embedder = WordLlamaEmbedder()
            return self._embedder

    def _require_embedder(self, engine: Engine, priority: Priority) -> Embedder:
        embedder = self.embedder(engine, priority)
        if embedder is None:
            raise RuntimeError("No embedding model is configured.")
        return embedder

    def coordinator(self, engine: Engine, backend: IdleBackend | None = None,
                    sensors: Sensors | None = None) -> ThinkingCoordinator:
        """The idle -> think coordinator (made once; call ``start()`` on it to begin).

        ``backend`` defaults to the best idle backend of this machine (`probe_backend`).
        """
        if self._coordinator is None:
            from assistant.idle.backends.probe import probe_backend
            from assistant.idle.coordinator import ThinkingCoordinator
            from assistant.idle.gate import ThinkingGate
            from assistant.mind.journal import Journal
            from assistant.mind.maintenance import run_maintenance

            journal = Journal(self.db)
            self._coordinator = ThinkingCoordinator(
                backend if backend is not None else probe_backend().backend,
                self.sleep_runner(engine),
                ThinkingGate(journal.seconds_today, sensors),
                lambda: self.settings,
                self.save_settings,
                maintenance=lambda: run_maintenance(self.db, self.paths.backups_dir),
            )
        return self._coordinator

    @property
    def running_coordinator(self) -> ThinkingCoordinator | None:
        """The coordinator, if `coordinator()` made one in this process."""
        return self._coordinator

    def close(self) -> None:
        """Stop thinking, then the model (it may be writing), then close the database."""
        if self._coordinator is not None:
            self._coordinator.shutdown()
            self._coordinator.monitor.backend.close()
            self._coordinator = None
        with self._engine_lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
            close = getattr(self._embedder, "close", None)
            if close is not None:
                close()
            self._embedder = None
        self.db.close()
