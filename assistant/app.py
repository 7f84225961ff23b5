"""The composition root: builds every service from Settings and owns start-up/shut-down order.

Nothing else constructs services: the command line, the doctor and the window ask a
:class:`Reverie` for them. :meth:`Reverie.open` is fast (settings and database only);
every repository and service is built the first time it is asked for, so a command
that needs only the database never imports the model layer. The model is started
separately with :meth:`Reverie.start_engine` because it is the slow part and the
window must appear before it is ready.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import LoadedSettings, Settings, load_settings, save_settings
from assistant.paths import Paths, open_private
from assistant.store.db import Database

if TYPE_CHECKING:
    from assistant.idle.backends.base import IdleBackend
    from assistant.idle.backends.probe import ProbeResult
    from assistant.idle.coordinator import ThinkingCoordinator
    from assistant.idle.gate import Sensors, ThinkingGate
    from assistant.llm.bundled import Progress
    from assistant.llm.embedding import Embedder
    from assistant.llm.engine import Engine, Priority
    from assistant.llm.library import ModelLibrary
    from assistant.mind.agenda import Agenda
    from assistant.mind.backlog import BacklogFigures
    from assistant.mind.forget import Forgetter
    from assistant.mind.journal import Journal
    from assistant.mind.runner import SleepRunner
    from assistant.mind.work import WorkHandler
    from assistant.recall.responder import Responder
    from assistant.store.anticipations import AnticipationRepository
    from assistant.store.chats import ChatRepository
    from assistant.store.listing import ListQueries
    from assistant.store.memories import MemoryRepository
    from assistant.store.notes import NoteRepository
    from assistant.store.purge import Forgotten

log = logging.getLogger("assistant")

#: Builds the engine; ``model_path`` is None when the model runs on a remote server.
EngineFactory = Callable[[Path | None, Settings, Paths], "Engine"]


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


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file it opens, the first and each one after a rollover, is owner-only."""

    def _open(self) -> Any:
        return open_private(Path(self.baseFilename), self.mode, encoding=self.encoding)

    def handleError(self, record: logging.LogRecord) -> None:
        """A log that cannot be written (a full disk) must not spill tracebacks over the
        person's terminal: the command says what went wrong in its own sentence."""
        if not getattr(self, "_failed", False):
            self._failed = True
            sys.stderr.write(f"reverie: the log file {self.baseFilename} cannot be written; "
                             "logging stops for this run.\n")


def configure_logging(paths: Paths, *, debug: bool = False) -> None:
    """A rotating log file per profile; warnings (or everything with --debug) on stderr."""
    root = logging.getLogger("assistant")
    if any(getattr(h, "_reverie", False) for h in root.handlers):
        return
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        handler = _PrivateRotatingFileHandler(paths.log_file, maxBytes=2_000_000,
                                              backupCount=3, encoding="utf-8")
    except OSError as exc:  # a read-only profile or a full disk: run without a log file
        sys.stderr.write(f"reverie: the log file {paths.log_file} cannot be written "
                         f"({exc.strerror or exc}); running without it.\n")
        return
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
        #: One sentence naming settings this version does not know (kept in the file).
        self.settings_notice = loaded.unknown_notice()
        self.db = db
        self._engine_factory = engine_factory
        self._engine: Engine | None = None
        self._thinking_engine: Engine | None = None
        self._retired_engines: list[Engine] = []
        self._thinking_key: tuple[str, str, str] | None = None
        self._engine_lock = threading.Lock()
        self._coordinator: ThinkingCoordinator | None = None
        self._embedder: Embedder | None = None

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None, *,
             engine_factory: EngineFactory = default_engine_factory) -> Reverie:
        """Resolve paths, load settings, open and migrate the database."""
        paths = Paths.resolve(data_dir).ensure()
        loaded = load_settings(paths.settings_file)
        db = Database.open(paths.database_file, paths.backups_dir)
        if not paths.settings_file.exists() and not db.read_only:
            save_settings(loaded.settings, paths.settings_file)
        return cls(paths, loaded, db, engine_factory)

    # -- repositories: built on first use (importing SQLModel models is not free) ---------
    @cached_property
    def chats(self) -> ChatRepository:
        from assistant.store.chats import ChatRepository

        return ChatRepository(self.db, after_delete=self._forget_copies)

    @cached_property
    def notes(self) -> NoteRepository:
        from assistant.store.notes import NoteRepository

        return NoteRepository(self.db, after_delete=self._forget_copies)

    @cached_property
    def memories(self) -> MemoryRepository:
        from assistant.store.memories import MemoryRepository

        return MemoryRepository(self.db, after_delete=self._forget_copies)

    @cached_property
    def anticipations(self) -> AnticipationRepository:
        from assistant.store.anticipations import AnticipationRepository

        return AnticipationRepository(self.db)

    @cached_property
    def lists(self) -> ListQueries:
        """The ordered, paged queries behind the window's long lists."""
        from assistant.store.listing import ListQueries

        return ListQueries(self.db)

    @cached_property
    def journal(self) -> Journal:
        """What each thinking session did ("While you were away") and time spent today."""
        from assistant.mind.journal import Journal

        return Journal(self.db)

    def backlog(self) -> BacklogFigures:
        """What is left to digest and the idle time it needs here (reads the whole
        backlog: call it off the GUI thread)."""
        from assistant.mind.backlog import backlog_figures

        return backlog_figures(self.db)

    @cached_property
    def agenda(self) -> Agenda:
        """The persisted sleep-time work items (what thinking will do next)."""
        from assistant.mind.agenda import Agenda

        return Agenda(self.db)

    def model_library(self, catalog: Path | None = None) -> ModelLibrary:
        """The model files of this profile and the catalog of recommended ones
        (``catalog``: another catalog file instead of the bundled one)."""
        from assistant.llm.library import ModelLibrary

        return ModelLibrary(self.paths.models_dir, catalog)

    def save_settings(self, settings: Settings) -> None:
        save_settings(settings, self.paths.settings_file)
        self.settings = settings

    def model_path(self, progress: Progress | None = None) -> Path:
        """The configured model file, or the bundled one (assembled on first use)."""
        if self.settings.model.path:
            return Path(self.settings.model.path).expanduser()
        from assistant.llm.bundled import ensure_bundled_model

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

    @property
    def thinks_remotely(self) -> bool:
        """True when sleep-time work runs on the server at ``thinking.remote_url``."""
        return bool(self.settings.thinking.remote_url)

    def thinking_engine(self, local: Engine | None = None) -> Engine:
        """The engine sleep-time work runs on: with ``thinking.remote_url`` set, an
        OpenAI-compatible server the person owns (made once per address; the local model
        is not loaded for it), else ``local`` (by default the local engine, started now).
        Answers always stay on the local engine."""
        thinking = self.settings.thinking
        if not thinking.remote_url:
            return local if local is not None else self.start_engine()
        from assistant.llm.engine import PromptStyle
        from assistant.llm.remote import OpenAICompatibleEngine, load_api_key, normalize_base_url

        url = normalize_base_url(thinking.remote_url)
        key = (url, thinking.remote_model, thinking.remote_prompt_style)
        with self._engine_lock:
            old = self._thinking_engine
            if old is not None and self._thinking_key == key:
                return old
            self._thinking_key = key
            self._thinking_engine = OpenAICompatibleEngine(
                url, model=thinking.remote_model or None, api_key=load_api_key(url),
                n_ctx=self.settings.model.n_ctx,
                prompt_style=PromptStyle(thinking.remote_prompt_style))
            if old is not None:  # the address changed; runners made before keep the old
                self._retired_engines.append(old)  # one until the app closes
                log.info("thinking server settings changed (%s)", url)
            return self._thinking_engine

    def responder(self, engine: Engine) -> Responder:
        from assistant.mind.profile import profile_text
        from assistant.recall.prepared import PreparedAnswers
        from assistant.recall.responder import Responder
        from assistant.recall.retrieval import Retriever

        return Responder(engine, self.chats, self.settings.model, notes=self.notes,
                         retriever=Retriever(self.db, self.embedder(engine)),
                         memory=self.settings.memory,
                         profile=lambda: profile_text(self.db),
                         prepared=PreparedAnswers(self.db, embedder=self.embedder(engine)),
                         save=not self.db.read_only, embedder=self.embedder(engine))

    def forgetter(self) -> Forgetter:
        """Deletes notes, conversations and memories with every copy Reverie made."""
        from assistant.mind.forget import Forgetter

        return Forgetter(self.db, self.paths.kv_dir, self.paths.backups_dir,
                         engine=self._engine)

    def _forget_copies(self, gone: Forgotten) -> None:
        self.forgetter().forget_copies(gone)

    def sleep_runner(self, engine: Engine | None = None) -> SleepRunner:
        """The sleep-time runner, with the planner sources and work handlers that exist.

        ``engine`` is the local one; the runner thinks on :meth:`thinking_engine` (the
        remote server when ``thinking.remote_url`` is set). Remote thinking does not warm
        the answer prefix (its saved state belongs to the local model) and keeps the
        local embedder, so that every vector of the profile comes from one model."""
        local = engine
        remote = self.thinks_remotely
        engine = self.thinking_engine(local)
        from assistant.mind.anticipate import AnticipateHandler, propose_anticipations
        from assistant.mind.backlog import SetAsideTrivialHandler, propose_digests
        from assistant.mind.briefing import BriefingHandler, make_briefing_source
        from assistant.mind.consolidate import ConsolidateConversationHandler, DigestNoteHandler
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
            propose_titles, propose_digests, propose_anticipations,
            profile_source(engine, profile_limit)]
        if not remote:
            sources.append(warm_source(engine, profile_limit))
        if self.settings.thinking.morning_briefing:
            sources.append(make_briefing_source())
        handlers: list[WorkHandler] = [
            TitleConversationHandler(), ConsolidateConversationHandler(), DigestNoteHandler(),
            SetAsideTrivialHandler(), ProfileHandler(profile_limit),
            WarmPrefixHandler(self.paths.kv_dir),
            AnticipateHandler(samples=self.settings.thinking.anticipation_samples),
            BriefingHandler()]
        if self.settings.memory.embedding_model != "none":
            from assistant.mind.embedding_work import EmbedMemoriesHandler, embed_source

            sources.append(embed_source)
            handlers.append(EmbedMemoriesHandler(lambda: self._sleep_embedder(local)))
        from assistant.profile_lock import ProfileLock

        return SleepRunner(self.db, engine, DefaultPlanner(self.db, sources), handlers,
                           lock=ProfileLock(self.paths.thinking_lock_file))

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

    def _sleep_embedder(self, local: Engine | None) -> Embedder:
        """The embedder of sleep-time work: the local model is started only when the
        embedding model is a GGUF (``same`` or a path), never for the built-in one."""
        from assistant.llm.engine import Priority

        in_model = self.settings.memory.embedding_model not in ("", "wordllama", "none")
        engine = (local if local is not None else self.start_engine()) if in_model else None
        return self._require_embedder(engine, Priority.BACKGROUND)

    def _require_embedder(self, engine: Engine | None, priority: Priority) -> Embedder:
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
            from assistant.idle.coordinator import ThinkingCoordinator
            from assistant.mind.maintenance import run_maintenance

            self._coordinator = ThinkingCoordinator(
                backend if backend is not None else self.probe_idle().backend,
                self.sleep_runner(engine),
                self.thinking_gate(sensors),
                lambda: self.settings,
                self.save_settings,
                maintenance=lambda: run_maintenance(self.db, self.paths.backups_dir),
            )
        return self._coordinator

    def probe_idle(self) -> ProbeResult:
        """The best idle backend of this machine, and why the better ones failed (slow:
        call it off the GUI thread). The caller owns the backend and closes it."""
        from assistant.idle.backends.probe import probe_backend

        return probe_backend()

    def thinking_gate(self, sensors: Sensors | None = None) -> ThinkingGate:
        """The conditions that decide whether thinking may start (budget from the journal)."""
        from assistant.idle.gate import ThinkingGate

        return ThinkingGate(self.journal.seconds_today, sensors)

    def think_now_budget(self) -> float:
        """Seconds a "Think now" session may run: what is left of today's budget."""
        from assistant.idle.budget import think_now_seconds

        return think_now_seconds(self.settings.thinking.daily_budget_minutes,
                                 self.journal.seconds_today())

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
            for engine in (self._thinking_engine, *self._retired_engines, self._engine):
                if engine is not None:
                    engine.close()
            self._engine = self._thinking_engine = None
            self._retired_engines = []
            close = getattr(self._embedder, "close", None)
            if close is not None:
                close()
            self._embedder = None
        self.db.close()
