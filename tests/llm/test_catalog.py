"""The model catalog: the shipped resources/models.toml and its validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from assistant.llm.catalog import CatalogEntry, CatalogError, find, load_catalog

CATALOG = Path(__file__).resolve().parents[2] / "resources" / "models.toml"


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "tiny-chat",
        "display_name": "Tiny Chat (Q4_K_M)",
        "repository": "someone/Tiny-Chat-GGUF",
        "file": "tiny-chat-q4_k_m.gguf",
        "url": "https://huggingface.co/someone/Tiny-Chat-GGUF/resolve/main/tiny-chat-q4_k_m.gguf",
        "size_bytes": 1_000,
        "sha256": "ab" * 32,
        "ram_bytes": 2_000,
        "license": "MIT",
        "prompt_style": "chat",
        "parameters": 1_000_000,
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def _write(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(tomli_w.dumps({"model": list(entries)}))
    return path


def test_shipped_catalog_is_valid_and_consistent() -> None:
    entries = load_catalog(CATALOG)

    names = [entry.name for entry in entries]
    assert len(names) == len(set(names))
    bundled = [entry for entry in entries if entry.bundled]
    assert [entry.name for entry in bundled] == ["gemma3-270m"]
    assert bundled[0].prompt_style == "completion"
    assert bundled[0].url == ""
    downloadable = [entry for entry in entries if entry.downloadable]
    assert len(downloadable) >= 5
    for entry in downloadable:
        assert entry.url == (
            f"https://huggingface.co/{entry.repository}/resolve/main/{entry.file}"
        ), entry.name
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.name
        assert entry.prompt_style == "chat", entry.name
        assert 400_000_000 <= entry.parameters <= 4_000_000_000, entry.name
        # Weights plus at least a small context and runtime must fit.
        assert entry.ram_bytes >= entry.size_bytes + 300 * 1024 * 1024, entry.name
    shas = [entry.sha256 for entry in downloadable]
    assert len(shas) == len(set(shas))


def test_shipped_catalog_documents_a_source_for_every_download() -> None:
    # The text before each [[model]] ends with the comment paragraph about it.
    before_each = CATALOG.read_text().split("[[model]]")[:-1]
    for before, entry in zip(before_each, load_catalog(CATALOG), strict=True):
        comment = before.rstrip().rsplit("\n\n", 1)[-1]
        if not entry.bundled:
            assert comment.startswith("# Source"), entry.name


def test_find_is_case_insensitive_and_lists_names_when_missing() -> None:
    entries = load_catalog(CATALOG)
    assert find(entries, "Qwen2.5-1.5B-Instruct").file == "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    with pytest.raises(CatalogError) as caught:
        find(entries, "gpt-5")
    message = str(caught.value)
    assert message.startswith("There is no model called 'gpt-5' in the catalog; choose one of:")
    assert "qwen2.5-1.5b-instruct" in message and "gemma3-270m" in message


def test_minimal_entry_loads_with_defaults(tmp_path: Path) -> None:
    (entry,) = load_catalog(_write(tmp_path, _entry()))
    assert entry == CatalogEntry(
        name="tiny-chat",
        display_name="Tiny Chat (Q4_K_M)",
        repository="someone/Tiny-Chat-GGUF",
        file="tiny-chat-q4_k_m.gguf",
        url="https://huggingface.co/someone/Tiny-Chat-GGUF/resolve/main/tiny-chat-q4_k_m.gguf",
        size_bytes=1_000,
        sha256="ab" * 32,
        ram_bytes=2_000,
        license="MIT",
        prompt_style="chat",
        parameters=1_000_000,
    )
    assert not entry.bundled and entry.downloadable
    with pytest.raises(AttributeError):
        entry.name = "other"  # type: ignore[misc]


def test_bundled_entry_may_have_empty_sha_and_no_url(tmp_path: Path) -> None:
    (entry,) = load_catalog(
        _write(tmp_path, _entry(url=None, sha256="", bundled=True, prompt_style="completion"))
    )
    assert entry.bundled and entry.sha256 == "" and entry.url == ""


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"sha256": "ab" * 31}, "'tiny-chat' has an invalid 'sha256'"),
        ({"sha256": "AB" * 32}, "'tiny-chat' has an invalid 'sha256'"),
        ({"sha256": ""}, "'tiny-chat' has an invalid 'sha256'"),
        ({"url": "http://example.com/tiny-chat-q4_k_m.gguf"}, "invalid 'url'"),
        ({"url": "https://example.com/other.gguf"}, "must end with the file name"),
        ({"url": None}, "'tiny-chat' has an invalid 'url'"),
        ({"bundled": True}, "a bundled model is not downloaded"),
        ({"bundled": True, "url": None, "sha256": "xyz"}, "invalid 'sha256'"),
        ({"name": "Tiny Chat"}, "'Tiny Chat' has an invalid 'name'"),
        ({"file": "../evil.gguf"}, "invalid 'file'"),
        ({"file": "model.bin", "url": "https://x.org/model.bin"}, "invalid 'file'"),
        ({"repository": "no-slash"}, "invalid 'repository'"),
        ({"size_bytes": 0}, "invalid 'size_bytes'"),
        ({"size_bytes": "1000"}, "'size_bytes': it must be an integer"),
        ({"size_bytes": True}, "'size_bytes': it must be an integer"),
        ({"ram_bytes": 999}, "invalid 'ram_bytes'"),
        ({"parameters": -1}, "invalid 'parameters'"),
        ({"prompt_style": "instruct"}, "invalid 'prompt_style'"),
        ({"display_name": "  "}, "invalid 'display_name'"),
        ({"bundled": "yes"}, "'bundled': it must be true or false"),
        ({"license": None}, "'tiny-chat' is missing the field 'license'"),
        ({"sha": "ab" * 32}, "'tiny-chat' has an unknown field 'sha'"),
    ],
)
def test_invalid_entries_name_the_entry_and_field(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    path = _write(tmp_path, _entry(name="fine-one"), _entry(**changes))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert expected in message
    assert message.startswith("The model catalog entry ")
    assert message.endswith(".")


def test_entry_without_name_is_named_by_position(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="entry #2 is missing the field 'name'"):
        load_catalog(_write(tmp_path, _entry(name="a"), _entry(name=None)))


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="lists 'tiny-chat' twice"):
        load_catalog(_write(tmp_path, _entry(), _entry(sha256="cd" * 32)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[model]\nname = 1", "is not valid TOML"),
        ("", "lists no models"),
        ("model = 3", "lists no models"),
        ("model = [1]", "entry #1 in"),
        ("[[models]]\nname = 'x'", "unknown top-level key 'models'"),
    ],
)
def test_broken_catalog_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=re.escape(expected)):
        load_catalog(path)


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nope.toml")
