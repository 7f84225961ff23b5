"""Settings: typed defaults, TOML round trip, bad files set aside with one warning."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.config import (
    SECTIONS,
    IdleSettings,
    ModelSettings,
    Settings,
    SettingsError,
    ThinkingSettings,
    UiSettings,
    describe_settings,
    load_settings,
    save_settings,
    settings_from_dict,
)


def test_defaults() -> None:
    s = Settings()
    assert s.model.path == "" and s.model.n_ctx == 4096 and s.model.temperature == 0.3
    assert s.idle.threshold_minutes == 5.0
    assert s.thinking.enabled is True and s.thinking.daily_budget_minutes == 60
    assert s.ui.theme == "system" and s.ui.autostart is False


def test_every_setting_documents_itself() -> None:
    rows = describe_settings()
    assert len(rows) == sum(len(dataclasses.fields(cls)) for cls in SECTIONS.values())
    for key, _default, doc in rows:
        assert doc.endswith(".") and len(doc) > 10, key


def test_a_missing_file_gives_defaults(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "settings.toml")
    assert loaded.settings == Settings() and loaded.warning is None


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "settings.toml"
    changed = (Settings().replace("model", path="/models/x.gguf", temperature=0.7)
               .replace("ui", theme="dark"))
    save_settings(changed, path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]  # no temp file left
    loaded = load_settings(path)
    assert loaded.warning is None and loaded.settings == changed


def test_replace_validates() -> None:
    with pytest.raises(SettingsError, match=r"model\.n_ctx"):
        Settings().replace("model", n_ctx=1)


@pytest.mark.parametrize(("text", "problem"), [
    ("[model\nn_ctx = 1", "Expected ']'"),
    ('[model]\nn_ctx = "big"', "model.n_ctx must be a whole number, not 'big'"),
    ("[model]\nn_ctx = 10", "model.n_ctx must be at least 512"),
    ("[model]\ntemperature = 9.5", "model.temperature must be at most 2.0"),
    ('[ui]\ntheme = "pink"', "ui.theme must be one of system, light, dark"),
    ("[thinking]\nenabled = 1", "thinking.enabled must be true or false, not 1"),
    ("[idle]\nmax_cpu_percent = true", "idle.max_cpu_percent must be"),
    ("model = 3", "[model] must be a table"),
    ("[model]\ntemperature = nan", "model.temperature"),
])
def test_a_bad_file_is_set_aside_and_defaults_used(tmp_path: Path, text: str,
                                                   problem: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_settings(path)

    assert loaded.settings == Settings()
    assert not path.exists()
    [kept] = list(tmp_path.glob("settings.toml.broken-*"))
    assert kept.read_bytes() == text.encode()
    assert loaded.warning is not None
    assert problem in loaded.warning
    assert kept.name in loaded.warning
    assert loaded.warning.count(". ") == 0 and loaded.warning.endswith(".")


def test_a_file_that_is_not_utf8_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b'[ui]\ntheme = "\xff"\n')
    loaded = load_settings(path)
    assert loaded.warning is not None and loaded.settings == Settings()
    [kept] = list(tmp_path.glob("settings.toml.broken-*"))
    assert kept.read_bytes() == b'[ui]\ntheme = "\xff"\n'


def test_two_bad_files_in_the_same_second_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[model\n", encoding="utf-8")
    first = load_settings(path)
    path.write_text("[ui\n", encoding="utf-8")
    second = load_settings(path)
    kept = sorted(p.read_text() for p in tmp_path.glob("settings.toml.broken-*"))
    assert kept == ["[model\n", "[ui\n"]
    assert first.warning != second.warning


def test_unknown_keys_and_sections_are_ignored(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[ui]\ntheme = "dark"\nsparkles = true\n[future]\nx = 1\n')
    with caplog.at_level(logging.WARNING, logger="assistant.config"):
        loaded = load_settings(path)
    assert loaded.warning is None
    assert loaded.settings.ui.theme == "dark"
    assert path.exists() and not list(tmp_path.glob("*.broken-*"))
    assert "ui.sparkles" in caplog.text and "[future]" in caplog.text
    assert loaded.unknown == ("ui.sparkles", "[future]")
    assert "(ui.sparkles, [future])" in (loaded.unknown_notice() or "")


COMMENTED = """# My Reverie settings -- keep this comment
[model]
# the model I like
path = "/models/mine.gguf"  # trailing comment
n_ctx = 2048
my_private_flag = "keep me"

[idle]
threshold_minutes = 5  # an int spelling of a float

[future]
x = 1
"""


def test_saving_keeps_comments_unknown_keys_and_spelling(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    loaded = load_settings(path)
    save_settings(loaded.settings.replace("model", path="/models/other.gguf"), path)
    text = path.read_text(encoding="utf-8")
    assert text == COMMENTED.replace("/models/mine.gguf", "/models/other.gguf")
    save_settings(load_settings(path).settings, path)  # nothing changed: nothing rewritten
    assert path.read_text(encoding="utf-8") == text


def test_saving_adds_a_changed_key_to_its_section(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("# mine\n[ui]\ntheme = \"dark\"\n", encoding="utf-8")
    settings = load_settings(path).settings.replace("model", remote_url="http://h:1/v1")
    save_settings(settings.replace("ui", autostart=True), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# mine\n[ui]\ntheme = \"dark\"\n")
    assert load_settings(path).settings == settings.replace("ui", autostart=True)
    assert "n_ctx" not in text  # defaults are not spelled out in the person's file


def test_the_command_line_keeps_the_persons_settings_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant import cli

    root = tmp_path / "profile"
    root.mkdir()
    (root / "settings.toml").write_text(COMMENTED, encoding="utf-8")
    assert cli.main(["--data-dir", str(root), "model", "use", "bundled"]) == 0
    err = capsys.readouterr().err
    assert err.count("does not know") == 1 and "model.my_private_flag" in err
    text = (root / "settings.toml").read_text(encoding="utf-8")
    assert "# My Reverie settings -- keep this comment" in text
    assert 'my_private_flag = "keep me"' in text and "[future]" in text
    assert load_settings(root / "settings.toml").settings.model.path == ""


def test_an_int_is_accepted_for_a_float_but_not_a_bool_for_an_int() -> None:
    s = settings_from_dict({"idle": {"threshold_minutes": 7}})
    assert s.idle.threshold_minutes == 7.0 and isinstance(s.idle.threshold_minutes, float)
    with pytest.raises(SettingsError):
        settings_from_dict({"model": {"n_ctx": True}})


def _field_strategy(f: dataclasses.Field[Any]) -> st.SearchStrategy[Any]:
    meta, kind = f.metadata, str(f.type)
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(int(meta["lo"]), int(meta["hi"]))
    if kind == "float":
        return st.floats(meta["lo"], meta["hi"], allow_nan=False)
    if meta.get("check"):  # a checked text field: only the texts its check accepts
        addresses = st.from_regex(r"https?://[a-z0-9.-]{1,20}(:[0-9]{1,4})?(/[a-z0-9]{0,5})?",
                                  fullmatch=True)
        return st.one_of(st.just(""), st.text(), addresses).filter(
            lambda value: meta["check"](value) is None)
    return st.text()


def _section_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{f.name: _field_strategy(f) for f in dataclasses.fields(cls)})


valid_settings = st.builds(
    Settings,
    model=_section_strategy(ModelSettings),
    idle=_section_strategy(IdleSettings),
    thinking=_section_strategy(ThinkingSettings),
    ui=_section_strategy(UiSettings),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(valid_settings)
def test_any_valid_settings_round_trip(tmp_path: Path, value: Settings) -> None:
    assert settings_from_dict(value.to_dict()) == value  # the strategy makes valid values
    path = tmp_path / "settings.toml"
    save_settings(value, path)
    loaded = load_settings(path)
    assert loaded.warning is None
    assert loaded.settings == value


def test_nan_is_not_a_valid_number() -> None:
    with pytest.raises(SettingsError, match=r"model\.temperature"):
        settings_from_dict({"model": {"temperature": math.nan}})


def test_a_save_clears_temporary_files_a_killed_save_left_but_not_fresh_ones(
        tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    old = tmp_path / ".settings-killed.toml"
    fresh = tmp_path / ".settings-in-flight.toml"
    old.write_text("half a file")
    fresh.write_text("another process is writing this")
    stamp = old.stat().st_mtime - 3600
    os.utime(old, (stamp, stamp))
    save_settings(Settings(), path)
    assert not old.exists()
    assert fresh.exists()
    assert load_settings(path).settings == Settings()
