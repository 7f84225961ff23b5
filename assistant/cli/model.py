"""``reverie model list|download|use``: the catalog, downloads and the model in use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.cli.errors import EXIT_OK, UsageError
from assistant.cli.output import print_json, progress_printer
from assistant.llm.library import ModelLibrary, check_model_file

if TYPE_CHECKING:
    from assistant.app import Reverie


def _library(app: Reverie, args: argparse.Namespace) -> ModelLibrary:
    return app.model_library(args.catalog)


def cmd_model(app: Reverie, args: argparse.Namespace) -> int:
    library = _library(app, args)
    current = app.settings.model.path
    if args.model_command == "list":
        rows = []
        for row in library.rows():
            path = row.path
            active = (not current and row.entry.bundled) or (
                bool(current) and path is not None and Path(current) == path)
            rows.append({"name": row.entry.name, "display_name": row.entry.display_name,
                         "parameters": row.entry.parameters, "size_bytes": row.entry.size_bytes,
                         "ram_bytes": row.entry.ram_bytes, "license": row.entry.license,
                         "prompt_style": str(row.entry.prompt_style),
                         "installed": path is not None, "active": active,
                         "path": str(path) if path else None})
        if current and not any(r["active"] for r in rows):
            rows.append({"name": Path(current).name, "display_name": Path(current).name,
                         "installed": True, "active": True, "path": current})
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                mark = "*" if r["active"] else ("+" if r["installed"] else " ")
                size_bytes = int(str(r.get("size_bytes") or 0))
                size = f"{size_bytes / 1e9:.1f} GB" if size_bytes else ""
                print(f"{mark} {r['name']:<26} {size:>7}  {r['display_name']}")
            print("(* in use, + downloaded)")
        return EXIT_OK
    if args.model_command == "download":
        entry = library.entry(args.name)
        print(f"Downloading {entry.display_name} ({entry.size_bytes / 1e9:.1f} GB); "
              "Ctrl+C pauses, run the command again to resume.", file=sys.stderr)
        report = progress_printer("Downloading")
        path = library.download(args.name, url=args.url,
                                progress=lambda done, total: report(done, total or 0))
        print(f"Downloaded and verified {path}. Use it with: reverie model use {entry.name}")
        return EXIT_OK
    if args.path == "bundled":
        app.save_settings(app.settings.replace("model", path="", remote_url=""))
        print("Using the bundled model.")
        return EXIT_OK
    if "://" in args.path or args.path.startswith(("http:", "https:")):
        url = _check_server(app, args.path)
        app.save_settings(app.settings.replace("model", remote_url=url))
        print(f"Using the inference server at {url}.")
        return EXIT_OK
    path = library.resolve(args.path)
    info = check_model_file(path, app.settings.model.n_ctx)
    app.save_settings(app.settings.replace("model", path=str(path), remote_url=""))
    print(f"Using {info.name or path.name} ({path}).")
    return EXIT_OK


#: How long `model use URL` waits for the server to list its models.
SERVER_CHECK_SECONDS = 15.0


def _check_server(app: Reverie, address: str) -> str:
    """The server's API root, once it has answered ``GET /v1/models``; otherwise one
    sentence (bad input for a malformed address, a runtime failure for a server that
    does not answer) and the model in use stays as it was."""
    from assistant.llm.engine import EngineError, PromptStyle
    from assistant.llm.remote import OpenAICompatibleEngine, load_api_key, normalize_base_url

    try:
        url = normalize_base_url(address)
    except ValueError:
        raise UsageError(f"{address!r} is not an http:// or https:// address of an inference "
                         "server; use one like http://127.0.0.1:8080/v1.") from None
    model = app.settings.model
    engine = OpenAICompatibleEngine(url, model=model.remote_model or None,
                                    api_key=load_api_key(url), n_ctx=model.n_ctx,
                                    prompt_style=PromptStyle(model.remote_prompt_style))
    try:
        if not engine.wait_ready(SERVER_CHECK_SECONDS):
            reason = (engine.load_error or f"The inference server at {url} did not answer "
                      f"within {SERVER_CHECK_SECONDS:g} s.").rstrip(".")
            raise EngineError(f"{reason}; the model in use was not changed.")
    finally:
        engine.close()
    return url
