"""Typed, validated settings kept in ``settings.toml``.

Every setting is declared once, with its type, default, bounds and a sentence that
documents it (the table documents itself: ``reverie doctor`` and the settings page
read the same declarations). A settings file that is not valid TOML, or holds a value
of the wrong type or out of range, never stops the app: it starts on defaults, the bad
file is kept as ``settings.toml.broken-<timestamp>`` and the person is told once.

The file is the person's too: saving changes only the values that changed, in place
(tomlkit), so their comments, layout and keys Reverie does not know are kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import math
import os
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Item, Table

log = logging.getLogger("assistant.config")


def _opt(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
         choices: tuple[str, ...] | None = None,
         check: Callable[[Any], str | None] | None = None) -> Any:
    """Declare one setting: default, description and bounds live together.

    ``check`` returns None for a good value, else what is wrong with it (a phrase).
    """
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi, "choices": choices,
                                            "check": check})


def _check_timestamp(value: str) -> str | None:
    if value == "":
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return "an ISO 8601 date and time (e.g. 2026-01-31T18:00:00+01:00) or empty"
    if when.tzinfo is None:
        return "a date and time with its UTC offset (e.g. 2026-01-31T18:00:00+01:00)"
    return None


def _check_url(value: str) -> str | None:
    if value == "":
        return None
    from urllib.parse import urlsplit

    problem = ("an http:// or https:// address of an inference server (e.g. "
               "http://127.0.0.1:8080/v1) or empty")
    try:
        parts = urlsplit(value.strip())
        _ = parts.port  # raises for a port that is not a number or out of range
    except ValueError:
        return problem
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return problem
    if any(c.isspace() or not c.isprintable() for c in value.strip()):
        return problem
    return None


@dataclass(frozen=True)
class ModelSettings:
    path: str = _opt("", "GGUF model file to use; empty means the bundled Gemma 3 270M.")
    n_ctx: int = _opt(4096, "Context window in tokens.", lo=512, hi=131072)
    n_threads: int = _opt(0, "CPU threads for the model; 0 picks the number of cores.",
                          lo=0, hi=256)
    max_answer_tokens: int = _opt(200, "Longest answer, in tokens.", lo=16, hi=8192)
    temperature: float = _opt(0.3, "Sampling temperature for answers.", lo=0.0, hi=2.0)
    remote_url: str = _opt("", "Address of an OpenAI-compatible inference server (llama.cpp "
                           "server, vLLM, Ollama); empty runs the model on this computer.",
                           check=_check_url)
    remote_model: str = _opt("", "Model name on the remote server; empty takes its first model.")
    remote_prompt_style: str = _opt("chat", "How to prompt the remote model.",
                                    choices=("chat", "completion"))
    kv_cache_mb: int = _opt(1024, "Disk space for saved prompt-prefix states, in MB.",
                            lo=16, hi=65536)


@dataclass(frozen=True)
class IdleSettings:
    threshold_minutes: float = _opt(5.0, "Minutes without input before Reverie starts thinking.",
                                    lo=0.1, hi=240.0)
    min_battery_percent: int = _opt(50, "On battery, think only above this charge level.",
                                    lo=0, hi=100)
    max_cpu_percent: int = _opt(30, "Think only while other programs use less CPU than this.",
                                lo=1, hi=100)


@dataclass(frozen=True)
class ThinkingSettings:
    enabled: bool = _opt(True, "Use idle time to consolidate memory and prepare answers.")
    morning_briefing: bool = _opt(False, "Prepare a briefing of the day before you usually "
                                  "start (learned from when you usually begin).")
    anticipation_samples: int = _opt(3, "Answers sampled per prepared question; the one "
                                     "they agree on is kept.", lo=1, hi=9)
    daily_budget_minutes: int = _opt(60, "Most minutes of thinking per day.", lo=0, hi=1440)
    paused_until: str = _opt("", "Thinking is paused until this moment (ISO 8601 with offset; "
                             "year 9999 means until resumed); empty when not paused.",
                             check=_check_timestamp)
    remote_url: str = _opt("", "Address of an OpenAI-compatible server you own (llama.cpp "
                           "server, vLLM, Ollama) where sleep-time thinking runs, e.g. "
                           "http://192.168.1.10:8080/v1; answers stay on this computer. "
                           "Empty thinks on this computer.", check=_check_url)
    remote_model: str = _opt("", "Model name on the thinking server; empty takes its first "
                             "model.")
    remote_prompt_style: str = _opt("chat", "How to prompt the thinking server's model: chat "
                                    "for an instruct model, completion for a base model.",
                                    choices=("chat", "completion"))

    def paused_until_time(self) -> datetime | None:
        """``paused_until`` as an aware datetime (None when not paused)."""
        return datetime.fromisoformat(self.paused_until) if self.paused_until else None


@dataclass(frozen=True)
class MemorySettings:
    profile_tokens: int = _opt(200, "Size limit of the profile block (about you, ongoing) that "
                               "starts every answer prompt, in tokens.", lo=32, hi=4096)
    retrieve_top_k: int = _opt(5, "How many memories, notes and messages an answer may quote.",
                               lo=1, hi=50)
    snippet_tokens: int = _opt(200, "Most tokens of quoted memory in one answer prompt.",
                               lo=32, hi=8192)
    embedding_model: str = _opt("", "Search vectors: empty uses the built-in wordllama "
                                "vectors, 'none' searches by words only, 'same' or a GGUF "
                                "file uses llama.cpp embeddings.")


@dataclass(frozen=True)
class UiSettings:
    theme: str = _opt("system", "Colour theme.", choices=("system", "light", "dark"))
    autostart: bool = _opt(False, "Start Reverie in the tray when you log in.")
    tray_notice_shown: bool = _opt(False, "Whether the 'still running in the tray' notice "
                                   "has been shown once.")
    notify_on_return: bool = _opt(False, "When you come back, say in a tray notification how "
                                  "many answers were prepared while you were away.")


@dataclass(frozen=True)
class Settings:
    """All settings, grouped as the sections of ``settings.toml``."""

    model: ModelSettings = field(default_factory=ModelSettings)
    idle: IdleSettings = field(default_factory=IdleSettings)
    thinking: ThinkingSettings = field(default_factory=ThinkingSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    ui: UiSettings = field(default_factory=UiSettings)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def replace(self, section: str, **changes: Any) -> Settings:
        """A copy with some values of one section changed (validated)."""
        current = getattr(self, section)
        data = self.to_dict()
        data[section] = {**dataclasses.asdict(current), **changes}
        return settings_from_dict(data)


#: Section name -> its dataclass, in file order.
SECTIONS: dict[str, type[Any]] = {
    "model": ModelSettings,
    "idle": IdleSettings,
    "thinking": ThinkingSettings,
    "memory": MemorySettings,
    "ui": UiSettings,
}


class SettingsError(ValueError):
    """The settings data is not valid; the message says which key and why. A refused
    value also has its ``key`` and ``problem`` ("must be at least 0.5, not 0.1"), for a
    window that names the setting as the person sees it."""

    def __init__(self, message: str, *, key: str = "", problem: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    #: One sentence for the person when the file was bad and has been set aside.
    warning: str | None = None
    #: Keys (``ui.sparkles``) and sections (``[future]``) that were ignored, kept in the file.
    unknown: tuple[str, ...] = ()

    def unknown_notice(self) -> str | None:
        """One sentence naming the unknown keys, or None when there are none."""
        if not self.unknown:
            return None
        return (f"Your settings file has settings this version of Reverie does not know "
                f"({', '.join(self.unknown)}); they were ignored and are kept in the file.")


#: How a value's expected type is named in a message to the person.
_KIND_NAMES: dict[type[Any], str] = {bool: "true or false", int: "a whole number",
                                     float: "a number", str: "text in quotes"}


def _check_value(section: str, f: dataclasses.Field[Any], value: Any) -> Any:
    key = f"{section}.{f.name}"

    def refused(problem: str) -> SettingsError:
        return SettingsError(f"{key} {problem}", key=key, problem=problem)

    kind = f.type if isinstance(f.type, type) else {"str": str, "int": int, "float": float,
                                                      "bool": bool}[str(f.type)]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (kind is not bool and isinstance(value, bool)) or not isinstance(value, kind):
        raise refused(f"must be {_KIND_NAMES[kind]}, not {value!r}")
    if isinstance(value, float) and math.isnan(value):
        raise refused("must be a number, not nan")
    meta = f.metadata
    if meta.get("lo") is not None and value < meta["lo"]:
        raise refused(f"must be at least {meta['lo']}, not {value!r}")
    if meta.get("hi") is not None and value > meta["hi"]:
        raise refused(f"must be at most {meta['hi']}, not {value!r}")
    if meta.get("choices") and value not in meta["choices"]:
        raise refused(f"must be one of {', '.join(meta['choices'])}, not {value!r}")
    problem = meta["check"](value) if meta.get("check") else None
    if problem:
        raise refused(f"must be {problem}, not {value!r}")
    return value


def settings_from_dict(data: dict[str, Any], unknown: list[str] | None = None) -> Settings:
    """Build validated Settings; unknown sections and keys are ignored (logged, and added
    to ``unknown`` when given)."""
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            raise SettingsError(f"[{name}] must be a table of settings")
        values = {}
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in raw.items():
            if key not in known:
                log.warning("ignoring unknown setting %s.%s", name, key)
                if unknown is not None:
                    unknown.append(f"{name}.{key}")
                continue
            values[key] = _check_value(name, known[key], value)
        sections[name] = cls(**values)
    for name in data:
        if name not in sections:
            log.warning("ignoring unknown settings section [%s]", name)
            if unknown is not None:
                unknown.append(f"[{name}]")
    return Settings(**sections)


def parse_setting(key: str, text: str) -> tuple[str, str, Any]:
    """(section, name, value) for ``reverie config set KEY TEXT``: the text read as the
    setting's type. Raises SettingsError for an unknown key; a value of the wrong kind is
    returned as text, so that validation (``Settings.replace``) names what is expected."""
    section, _, name = key.partition(".")
    cls = SECTIONS.get(section)
    fields = {f.name: f for f in dataclasses.fields(cls)} if cls is not None else {}
    if name not in fields:
        raise SettingsError(f"There is no setting {key!r}; see `reverie config show` for "
                            "the settings and what they do")
    kind: type[Any] = type(fields[name].default)
    value: Any = text
    if kind is bool:
        words = {"true": True, "yes": True, "on": True, "1": True,
                 "false": False, "no": False, "off": False, "0": False}
        value = words.get(text.strip().lower(), text)
    elif kind in (int, float):
        with contextlib.suppress(ValueError):
            value = kind(text)
    return section, name, value


def describe_settings() -> list[tuple[str, Any, str]]:
    """(key, default, description) for every setting, in declaration order."""
    rows = []
    for name, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            rows.append((f"{name}.{f.name}", f.default, str(f.metadata["doc"])))
    return rows


def load_settings(path: Path) -> LoadedSettings:
    """Read ``path``; a missing file gives defaults, a bad one is set aside (see module doc)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LoadedSettings(Settings())
    unknown: list[str] = []
    try:
        settings = settings_from_dict(tomllib.loads(data.decode("utf-8")), unknown)
        return LoadedSettings(settings, unknown=tuple(unknown))
    except (tomllib.TOMLDecodeError, SettingsError, UnicodeDecodeError) as exc:
        kept = _set_aside(path)
        reason = str(exc).rstrip(".")
        warning = (f"Your settings file was not valid ({reason}), so Reverie started with "
                   f"default settings; the old file was kept as {kept.name}.")
        log.warning(warning)
        return LoadedSettings(Settings(), warning)


def _set_aside(path: Path) -> Path:
    """Rename a bad settings file to ``<name>.broken-<timestamp>``, never over an older one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        kept = path.with_name(f"{path.name}.broken-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            os.link(path, kept)  # fails if ``kept`` exists, unlike a rename
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network or FAT drives)
            if kept.exists():
                continue
            os.replace(path, kept)
            return kept
        path.unlink()
        return kept
    raise AssertionError("unreachable")


def _merged_document(settings: Settings, path: Path) -> tomlkit.TOMLDocument:
    """The file at ``path`` with only the changed values replaced (a new document when
    there is no readable file): comments, order and unknown keys stay as they were."""
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        doc = tomlkit.document()
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        log.warning("rewriting unreadable settings file %s: %s", path, exc)
        doc = tomlkit.document()
    fresh = not doc
    defaults = Settings().to_dict()
    for name, values in settings.to_dict().items():
        table = doc.get(name)
        if not isinstance(table, dict):
            if not fresh and values == defaults[name] and name not in doc:
                continue  # nothing to say that the defaults do not already say
            table = tomlkit.table()
            doc[name] = table
        assert isinstance(table, Table | dict)
        for key, value in values.items():
            current = table.get(key)
            unwrapped = current.unwrap() if isinstance(current, Item) else current
            if (key in table and unwrapped == value
                    and isinstance(unwrapped, bool) == isinstance(value, bool)):
                continue  # 5 and 5.0 are the same number: the person's spelling stays
            if key not in table and not fresh and value == defaults[name][key]:
                continue
            table[key] = value
    return doc


#: A temporary settings file older than this was left by a save that was killed
#: (a save in flight in another process takes milliseconds).
LEFTOVER_AGE_SECONDS = 60.0


def _remove_leftovers(folder: Path) -> None:
    """Remove ``.settings-*.toml`` files a killed save left behind (never a fresh one,
    which may belong to a save running now in another process)."""
    now = time.time()
    for leftover in folder.glob(".settings-*.toml"):
        try:
            if now - leftover.stat().st_mtime > LEFTOVER_AGE_SECONDS:
                leftover.unlink()
        except OSError:  # gone already, or not ours to remove: harmless either way
            continue


def save_settings(settings: Settings, path: Path) -> None:
    """Write atomically (a crash never leaves half a file), readable by the owner only,
    changing only what changed (see module doc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path.parent)
    text = tomlkit.dumps(_merged_document(settings, path))
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
