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

from poller.errors import ConfigError

DEFAULT_CONFIG = "settings.toml"
CONFIG_ENV = "TOUCHLOG_CONFIG"


@dataclass(frozen=True)
class MailboxSettings:
    host: str = "imap.ourco.com"
    port: int = 993
    tls: str = "ssl"
    verify_tls: bool = True
    username: str = "touchpoints@ourco.com"
    password_env: str = "TOUCHLOG_IMAP_PASSWORD"
    password_file: str = ""
    folder: str = "INBOX"
    logged_folder: str = "Touchpoints/Logged"
    failed_folder: str = "Touchpoints/Failed"
    batch_size: int = 200
    # Not in SPEC's example but needed to trust a private CA (e.g. the demo's self-signed cert).
    ca_file: str = ""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///touchlog.db"
    # Where attachment bytes are kept, one file per sha256 (relative to the settings file).
    attachments_dir: str = "attachments"


@dataclass(frozen=True)
class TouchpointSettings:
    mailbox_address: str = "touchpoints@ourco.com"
    internal_domains: tuple[str, ...] = ("ourco.com",)
    default_flow: str = "Default"
    default_reasons: tuple[str, ...] = ()
    max_content_chars: int = 20000
    case_sensitive_local_part: bool = False
    plus_addresses: str = "reject"
    personal_domains: tuple[str, ...] = ()
    domain_history_days: int = 7


@dataclass(frozen=True)
class NotifySettings:
    enabled: bool = True
    smtp_host: str = "smtp.ourco.com"
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = ""
    smtp_password_file: str = ""
    from_address: str = "touchpoints@ourco.com"
    max_per_sender_per_hour: int = 10
    verify_tls: bool = True
    ca_file: str = ""


@dataclass(frozen=True)
class ScheduleSettings:
    interval_seconds: int = 60


@dataclass(frozen=True)
class Settings:
    mailbox: MailboxSettings = field(default_factory=MailboxSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    touchpoints: TouchpointSettings = field(default_factory=TouchpointSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    # The folder relative paths (database, attachments) are resolved against.
    base_dir: Path = field(default=Path("."), compare=False)

    def imap_password(self) -> str:
        return _secret("mailbox.", self.mailbox.password_env, self.mailbox.password_file,
                       self.base_dir)

    def smtp_password(self) -> str:
        return _secret("notify.smtp_", self.notify.smtp_password_env,
                       self.notify.smtp_password_file, self.base_dir)

    def attachments_path(self) -> Path:
        return self.base_dir / self.database.attachments_dir

    def database_url(self) -> str:
        """The URL with a relative SQLite path resolved against the settings file's folder."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix):]
            if rest and rest != ":memory:":
                return prefix + str((self.base_dir / rest).resolve())
        return url


SECTIONS = {f.name: f.type for f in dataclasses.fields(Settings) if f.name != "base_dir"}
_CHOICES = {
    ("mailbox", "tls"): ("ssl", "starttls", "none"),
    ("notify", "smtp_tls"): ("ssl", "starttls", "none"),
    ("touchpoints", "plus_addresses"): ("reject", "strip"),
}
_POSITIVE = {("mailbox", "port"), ("mailbox", "batch_size"), ("touchpoints", "max_content_chars"),
             ("notify", "smtp_port"), ("schedule", "interval_seconds")}
_NON_NEGATIVE = {("touchpoints", "domain_history_days"), ("notify", "max_per_sender_per_hour")}


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
    return settings_from_dict(raw, base_dir=path.resolve().parent, source=str(path))


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
    settings = _with_paths_resolved(Settings(**sections, base_dir=base_dir))
    _check_cross_keys(settings, source)
    return settings


def _with_paths_resolved(settings: Settings) -> Settings:
    """CA files are relative to the settings file, like every other path in it."""
    def resolved(section: Any) -> Any:
        if not section.ca_file:
            return section
        return dataclasses.replace(section, ca_file=str(settings.base_dir / section.ca_file))
    return dataclasses.replace(settings, mailbox=resolved(settings.mailbox),
                               notify=resolved(settings.notify))


def _section(name: str, cls: Any, values: dict[str, Any], source: str) -> Any:
    cls = _resolve_class(cls)
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key {name}.{key}")
        kwargs[key] = _coerce(f"{name}.{key}", hints[key], value, source)
        _check_value(name, key, kwargs[key], source)
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


def _check_value(section: str, key: str, value: Any, source: str) -> None:
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{source}: {section}.{key} must be one of "
                          f"{', '.join(repr(c) for c in choices)}, not {value!r}")
    if (section, key) in _POSITIVE and value <= 0:
        raise ConfigError(f"{source}: {section}.{key} must be above 0, not {value}")
    if (section, key) in _NON_NEGATIVE and value < 0:
        raise ConfigError(f"{source}: {section}.{key} must not be negative")


def _check_cross_keys(settings: Settings, source: str) -> None:
    mb = settings.mailbox
    if mb.tls == "none" and mb.host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{source}: mailbox.tls = \"none\" is allowed only for a loopback "
                          f"host, not {mb.host!r}")
    for folder_key in ("logged_folder", "failed_folder"):
        if getattr(mb, folder_key).strip("/") == mb.folder.strip("/"):
            raise ConfigError(f"{source}: mailbox.{folder_key} must differ from mailbox.folder")
    url = settings.database.url
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(f"{source}: database.url must start with sqlite:/// or "
                          f"postgresql://, not {url!r}")


def _secret(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
    # A *_file wins over the *_env default, so setting only password_file is enough.
    if file_name:
        path = base_dir / file_name
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{key}password_file: cannot read {path}: {exc.strerror}") from None
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise ConfigError(f"{key}password_env: environment variable {env_name} is not set")
        return value
    return ""
