"""What every command shares: the settings of this invocation, the store, `--format`."""

from __future__ import annotations

from collections.abc import Callable

import click

from core.settings import Settings, config_path, load_settings


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if "settings" not in obj:
        obj["settings"] = load_settings(config_path(obj["config"]))
    return obj["settings"]


def open_store(ctx: click.Context) -> Settings:
    from store.db import open_database

    settings = settings_of(ctx)
    open_database(settings.database_url(), key_file=settings.encryption_key_path())
    return settings


def format_option(f: Callable) -> Callable:
    return click.option("--format", "fmt", type=click.Choice(["table", "json"]),
                        default="table", show_default=True, help="output format")(f)
