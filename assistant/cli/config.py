"""``reverie config show|set``: read and change ``settings.toml`` from the command line.

A value is checked exactly as the settings page checks it; a bad one is refused in one
sentence (exit code 2) and the file is left as it was.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from assistant.cli.errors import EXIT_OK
from assistant.cli.output import print_json
from assistant.config import describe_settings, parse_setting

if TYPE_CHECKING:
    from assistant.app import Reverie

#: How long `config set thinking.remote_url` waits for the server to list its models.
SERVER_CHECK_SECONDS = 5.0


def cmd_config(app: Reverie, args: argparse.Namespace) -> int:
    current = app.settings.to_dict()
    if args.config_command == "show":
        rows = [{"key": key, "value": current[key.split(".")[0]][key.split(".")[1]],
                 "default": default, "description": doc}
                for key, default, doc in describe_settings()]
        if args.json:
            print_json(rows)
        else:
            for row in rows:
                print(f"{row['key']} = {row['value']!r}    # {row['description']}")
        return EXIT_OK
    section, name, value = parse_setting(args.key, args.value)
    settings = app.settings.replace(section, **{name: value})  # SettingsError: exit 2
    app.save_settings(settings)
    print(f"{args.key} = {getattr(getattr(settings, section), name)!r}")
    if args.key == "thinking.remote_url" and settings.thinking.remote_url:
        _say_if_unreachable(app)
    return EXIT_OK


def _say_if_unreachable(app: Reverie) -> None:
    """The address is saved either way (the server may be off now); say when it does not
    answer, and what thinking does meanwhile."""
    engine = app.thinking_engine()
    if engine.wait_ready(SERVER_CHECK_SECONDS):
        print(f"The thinking server answers (model {engine.info.name}).")
        return
    reason = (engine.load_error or "it did not answer within "
              f"{SERVER_CHECK_SECONDS:g} s").rstrip(".")
    print(f"Saved, but {reason[0].lower()}{reason[1:]}; thinking sessions are skipped until "
          "it answers.", file=sys.stderr)
