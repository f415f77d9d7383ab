"""settings.toml → frozen dataclasses, validated once; every error names the key.

The section and key names are the interface of SPEC section 9: keep them exactly.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from core.errors import ConfigError
from core.oauth2_config import check_oauth2_keys
from core.sections import (
    DatabaseSettings,
    MailboxSettings,
    NotifySettings,
    SalesforceSettings,
    ScheduleSettings,
    TouchpointSettings,
    TrustSettings,
)

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
    # The folder relative paths (database, attachments) are resolved against.
    base_dir: Path = field(default=Path("."), compare=False)
    # The settings file itself, when loaded from one (`touchlog check` names it).
    path: Path | None = field(default=None, compare=False)

    def imap_password(self) -> str:
        return _secret("mailbox.", self.mailbox.password_env, self.mailbox.password_file,
                       self.base_dir)

    def smtp_password(self) -> str:
        return _secret("notify.smtp_", self.notify.smtp_password_env,
                       self.notify.smtp_password_file, self.base_dir)

    def salesforce_secret(self, name: str) -> str:
        """`access_token`, `password` or `security_token` from its *_file, else its *_env."""
        sf = self.salesforce
        return _secret_of(f"salesforce.{name}", getattr(sf, f"{name}_env"),
                          getattr(sf, f"{name}_file"), self.base_dir)

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
_CHOICES = {
    ("mailbox", "tls"): ("ssl", "starttls", "none"),
    ("notify", "smtp_tls"): ("ssl", "starttls", "none"),
    ("touchpoints", "plus_addresses"): ("reject", "strip"),
    ("mailbox", "auth"): ("password", "oauth2"),
    ("notify", "smtp_auth"): ("password", "oauth2"),
    ("mailbox", "oauth2_provider"): ("", "microsoft", "google"),
    ("notify", "smtp_oauth2_provider"): ("", "microsoft", "google"),
    ("trust", "require"): ("aligned", "none"),
}
# (lowest, highest or None) of every whole-number key that has bounds.
_PORT = (1, 65535)
_BOUNDS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("mailbox", "port"): _PORT, ("notify", "smtp_port"): _PORT,
    ("mailbox", "batch_size"): (1, None), ("touchpoints", "max_content_chars"): (1, None),
    ("mailbox", "max_attempts"): (1, None), ("notify", "max_attempts"): (1, None),
    ("schedule", "interval_seconds"): (1, None),
    ("touchpoints", "domain_history_days"): (0, None),
    ("notify", "max_per_sender_per_hour"): (0, None),
    ("salesforce", "outbound_days"): (1, None), ("salesforce", "interval_seconds"): (1, None),
}
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
    _check_cross_keys(settings, source)
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
    bounds = _BOUNDS.get((section, key))
    if bounds is None:
        return
    low, high = bounds
    if high is not None and not low <= value <= high:
        raise ConfigError(f"{source}: {section}.{key} must be from {low} to {high}, not {value}")
    if value < low:
        raise ConfigError(f"{source}: {section}.{key} must be "
                          f"{'above 0' if low == 1 else 'not negative'}, not {value}")


def _check_cross_keys(settings: Settings, source: str) -> None:
    mb = settings.mailbox
    if mb.tls == "none" and mb.host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{source}: mailbox.tls = \"none\" is allowed only for a loopback "
                          f"host, not {mb.host!r}")
    _check_folders_differ(mb, source)
    check_oauth2_keys("mailbox", "", mb, source)
    check_oauth2_keys("notify", "smtp_", settings.notify, source)
    _check_salesforce(settings.salesforce, source)
    url = settings.database.url
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(f"{source}: database.url must start with sqlite:/// or "
                          f"postgresql://, not {url!r}")
    if not settings.touchpoints.types:
        raise ConfigError(f"{source}: touchpoints.types must name at least one type")


def _check_folders_differ(mb: MailboxSettings, source: str) -> None:
    """Inbox, logged and failed folder are three folders: moving a message into the folder it
    was read from (or logged and failed mail into one) would lose the outcome."""
    keys = ("folder", "logged_folder", "failed_folder")
    seen: dict[str, str] = {}
    for key in keys:
        name = getattr(mb, key).strip("/")
        # INBOX is case-insensitive in IMAP (RFC 3501 5.1); other names are not.
        same = name.upper() if name.upper() == "INBOX" else name
        if same in seen:
            raise ConfigError(f"{source}: mailbox.{key} must differ from mailbox.{seen[same]} "
                              f"(both are {getattr(mb, key)!r})")
        seen[same] = key


_SF_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _check_salesforce(sf: SalesforceSettings, source: str) -> None:
    if not sf.instance_url.startswith("https://"):
        raise ConfigError(f"{source}: salesforce.instance_url must start with https://, "
                          f"not {sf.instance_url!r}")
    if not re.fullmatch(r"\d+\.0", sf.api_version):
        raise ConfigError(f"{source}: salesforce.api_version must look like \"62.0\", "
                          f"not {sf.api_version!r}")
    for key in ("touchpoints_object", "tasks_object", "external_id_field"):
        if not _SF_NAME.fullmatch(getattr(sf, key)):
            raise ConfigError(f"{source}: salesforce.{key} must be a Salesforce API name, "
                              f"not {getattr(sf, key)!r}")
    login = sf.username or sf.password_env or sf.password_file
    if sf.enabled and not (sf.access_token_env or sf.access_token_file or login):
        raise ConfigError(f"{source}: salesforce.enabled needs access_token_env (or "
                          "access_token_file), or username with password_env and "
                          "security_token_env")


def _secret_of(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
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


def _secret(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
    """The password of `key`'s section (`mailbox.`, `notify.smtp_`)."""
    return _secret_of(f"{key}password", env_name, file_name, base_dir)
