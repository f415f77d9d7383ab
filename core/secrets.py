"""Secrets never sit in the settings file (SPEC 9): a `*_file` key names a file holding one, a
`*_env` key an environment variable. Read here, once, for every kind of secret."""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import ConfigError


def read_secret(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
    """A secret named by `key` (salesforce.access_token): its *_file wins over its *_env."""
    if file_name:
        path = base_dir / file_name
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{key}_file: cannot read {path}: {exc.strerror}") from None
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise ConfigError(f"{key}_env: environment variable {env_name} is not set")
        return value
    return ""


def section_password(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
    """The password of `key`'s section (`mailbox.`, `notify.smtp_`)."""
    return read_secret(f"{key}password", env_name, file_name, base_dir)
