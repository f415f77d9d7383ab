"""settings.toml → frozen dataclasses, validated once; every error names the key.

The section and key names are the interface of SPEC section 9: keep them exactly.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from core.errors import ConfigError
from core.secrets import read_secret, section_password
from core.sections import (
    DatabaseSettings,
    MailboxSettings,
    NotifySettings,
    SalesforceSettings,
    ScheduleSettings,
    TouchpointSettings,
    TrustSettings,
    WebSettings,
)
from core.settings_checks import check_cross_keys, check_value

DEFAULT_CONFIG = "settings.toml"
CONFIG_ENV = "TOUCHLOG_CONFIG"


@dataclass(frozen=True)
class Settings:
    """The whole settings file, read and checked once (load_settings): one section a table."""

    mailbox: MailboxSettings = field(default_factory=MailboxSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    touchpoints: TouchpointSettings = field(default_factory=TouchpointSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    salesforce: SalesforceSettings = field(default_factory=SalesforceSettings)
    web: WebSettings = field(default_factory=WebSettings)
    # The folder relative paths (database, attachments) are resolved against.
    base_dir: Path = field(default=Path("."), compare=False)
    # The settings file itself, when loaded from one (`touchlog check` names it).
    path: Path | None = field(default=None, compare=False)

    def imap_password(self) -> str:
        return section_password("mailbox.", self.mailbox.password_env, self.mailbox.password_file,
                       self.base_dir)

    def smtp_password(self) -> str:
        return section_password("notify.smtp_", self.notify.smtp_password_env,
                       self.notify.smtp_password_file, self.base_dir)

    def salesforce_secret(self, name: str) -> str:
        """`access_token`, `password` or `security_token` from its *_file, else its *_env."""
        sf = self.salesforce
        return read_secret(f"salesforce.{name}", getattr(sf, f"{name}_env"),
                          getattr(sf, f"{name}_file"), self.base_dir)

    def web_secret(self, name: str) -> str:
        """`oidc_client_secret` or `metrics_token` from its *_file, else its *_env ("" if unset)."""
        web = self.web
        return read_secret(f"web.{name}", getattr(web, f"{name}_env"),
                           getattr(web, f"{name}_file"), self.base_dir)

    def attachments_path(self) -> Path:
        return self.base_dir / self.database.attachments_dir

    def encryption_key_path(self) -> Path | None:
        name = self.database.encryption_key_file
        return self.base_dir / name if name else None

    def database_url(self) -> str:
        """The URL with a relative SQLite path resolved against the settings file's folder."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix):]
            if rest and rest != ":memory:":
                return prefix + str((self.base_dir / rest).resolve())
        return url


SECTIONS = {f.name: f.type for f in dataclasses.fields(Settings)
            if f.name not in ("base_dir", "path")}
# `*_file` keys naming a file touchlog itself writes (so it may not exist yet); every other
# `*_file` key must name a readable file when the settings load.
_FILES_WRITTEN_BY_TOUCHLOG = {("database", "encryption_key_file")}


def config_path(explicit: str | None) -> Path:
    """--config wins, then TOUCHLOG_CONFIG, then ./settings.toml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: str | Path) -> Settings:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: settings file not found (use --config or TOUCHLOG_CONFIG)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    settings = settings_from_dict(raw, base_dir=path.resolve().parent, source=str(path))
    return dataclasses.replace(settings, path=path.resolve())


def settings_from_dict(raw: dict[str, Any], base_dir: Path = Path("."),
                       source: str = "settings") -> Settings:
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(f"{source}: unknown section [{name}] "
                              f"(known: {', '.join(sorted(SECTIONS))})")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        sections[name] = _section(name, SECTIONS[name], value, source)
    settings = _with_files_resolved(Settings(**sections, base_dir=base_dir), source)
    check_cross_keys(settings, source)
    return settings


def _with_files_resolved(settings: Settings, source: str) -> Settings:
    """Every `*_file` key is relative to the settings file, like every other path in it, and
    is checked now: a missing CA or password file is one line naming the key, not a traceback
    from deep inside the first connection."""
    changes = {}
    for name in SECTIONS:
        section = getattr(settings, name)
        files = {f.name: str(settings.base_dir / value) for f in dataclasses.fields(section)
                 if f.name.endswith("_file") and (value := getattr(section, f.name))}
        for key, path in files.items():
            if (name, key) not in _FILES_WRITTEN_BY_TOUCHLOG:
                _check_readable(f"{source}: {name}.{key}", Path(path))
        if files:
            changes[name] = dataclasses.replace(section, **files)
    return dataclasses.replace(settings, **changes)


def _check_readable(what: str, path: Path) -> None:
    try:
        with path.open("rb"):
            pass
    except FileNotFoundError:
        raise ConfigError(f"{what}: {path} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{what}: {path} is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror}") from None


def _section(name: str, cls: Any, values: dict[str, Any], source: str) -> Any:
    cls = _resolve_class(cls)
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key {name}.{key}")
        kwargs[key] = _coerce(f"{name}.{key}", hints[key], value, source)
        check_value(name, key, kwargs[key], source)
    return cls(**kwargs)


def _resolve_class(cls: Any) -> Any:
    if isinstance(cls, str):
        return globals()[cls]
    return cls


def _coerce(key: str, hint: Any, value: Any, source: str) -> Any:
    if get_origin(hint) is tuple:
        (item_type, _) = get_args(hint)
        if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
            raise ConfigError(f"{source}: {key} must be a list of {item_type.__name__}s")
        return tuple(value)
    # bool is a subclass of int: `port = true` must not pass as 1.
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{source}: {key} must be a whole number, not {value!r}")
    if not isinstance(value, hint):
        raise ConfigError(f"{source}: {key} must be a {hint.__name__}, not {value!r}")
    return value


