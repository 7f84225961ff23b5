"""`reverie model ...` end to end: download from a local HTTP server, verify, switch."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.llm.bundled import bundled_sha256

pytestmark = pytest.mark.model


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(bundled_model: Path) -> Iterator[str]:
    """A loopback HTTP server that serves the bundled model's folder."""
    handler = functools.partial(_QuietHandler, directory=str(bundled_model.parent))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{bundled_model.name}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def catalog(tmp_path: Path, bundled_model: Path) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(f"""
[[model]]
name = "mirror-gemma"
display_name = "Gemma from a mirror"
repository = "local/mirror"
file = "mirror-gemma.gguf"
url = "https://models.example.invalid/mirror-gemma.gguf"
size_bytes = {bundled_model.stat().st_size}
sha256 = "{bundled_sha256()}"
ram_bytes = 700000000
license = "test"
prompt_style = "completion"
parameters = 268098176
""")
    return path


def test_download_verify_use_and_ask(data_dir: Path, catalog: Path, mirror: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--data-dir", str(data_dir)]
    assert main([*base, "model", "list", "--json", "--catalog", str(catalog)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "mirror-gemma" and rows[0]["installed"] is False

    assert main([*base, "model", "download", "mirror-gemma", "--url", mirror,
                 "--catalog", str(catalog)]) == 0
    out = capsys.readouterr()
    assert "Downloaded and verified" in out.out and "100%" in out.err
    assert (data_dir / "models" / "mirror-gemma.gguf").is_file()

    assert main([*base, "model", "use", "mirror-gemma", "--catalog", str(catalog)]) == 0
    capsys.readouterr()
    assert main([*base, "model", "list", "--json", "--catalog", str(catalog)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["installed"] is True and rows[0]["active"] is True

    assert main([*base, "ask", "What is the capital of France?", "--json"]) == 0
    assert "Paris" in json.loads(capsys.readouterr().out)["answer"]


def test_a_file_that_is_not_gguf_keeps_the_previous_model(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model at all" * 50)
    base = ["--data-dir", str(data_dir)]
    assert main([*base, "model", "use", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a GGUF model file" in err[0]
    settings = (data_dir / "settings.toml").read_text()
    assert 'path = ""' in settings  # still the bundled model


def test_a_model_that_does_not_fit_in_memory_is_refused(
        data_dir: Path, bundled_model: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    class _Tiny:
        available = 10_000_000

    monkeypatch.setattr(psutil, "virtual_memory", lambda: _Tiny())
    assert main(["--data-dir", str(data_dir), "model", "use", str(bundled_model)]) == 2
    assert "free memory" in capsys.readouterr().err


def test_unknown_model_name_is_bad_input(data_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(data_dir), "model", "download", "no-such-model"]) == 2
    assert "no model called" in capsys.readouterr().err


def test_use_a_server_address_checks_it_then_switches(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.app import Reverie
    from assistant.llm.remote import OpenAICompatibleEngine
    from tests.llm.openai_stub import StubServer

    server = StubServer()
    try:
        assert main(["--data-dir", str(data_dir), "model", "use", server.url]) == 0
        assert [s.path for s in server.seen][:1] == ["/v1/models"]
        app = Reverie.open(data_dir)
        try:
            assert app.settings.model.remote_url == server.url
            engine = app.start_engine()
            assert isinstance(engine, OpenAICompatibleEngine) and engine.wait_ready(10)
        finally:
            app.close()
    finally:
        server.close()
    assert main(["--data-dir", str(data_dir), "model", "use", "bundled"]) == 0
    again = Reverie.open(data_dir)
    assert again.settings.model.remote_url == ""
    again.close()


@pytest.mark.parametrize(("url", "code", "says"), [
    ("http://127.0.0.1:9/v1", 1, "Cannot reach the inference server"),  # nothing listens
    ("http://[::1", 2, "is not an http:// or https:// address"),
    ("ftp://example.org/v1", 2, "is not an http:// or https:// address"),
])
def test_a_server_that_does_not_answer_keeps_the_previous_model(
        data_dir: Path, capsys: pytest.CaptureFixture[str], url: str, code: int,
        says: str) -> None:
    from assistant.app import Reverie

    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text('[model]\npath = "/models/working.gguf"\n')
    before = (data_dir / "settings.toml").read_bytes()
    assert main(["--data-dir", str(data_dir), "model", "use", url]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and "Traceback" not in err[0], err
    assert code == 2 or "was not changed" in err[0]
    assert (data_dir / "settings.toml").read_bytes() == before
    app = Reverie.open(data_dir)
    assert app.settings.model.path == "/models/working.gguf" and not app.settings.model.remote_url
    app.close()


def test_a_malformed_remote_url_in_settings_is_one_sentence(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text('[model]\nremote_url = "http://[::1"\n')
    assert main(["--data-dir", str(data_dir), "note", "add", "still works"]) == 0
    err = capsys.readouterr().err
    assert "model.remote_url must be an http:// or https:// address" in err
    assert "Traceback" not in err and "unexpected" not in err
