"""settings.toml: every key documented, wrong input named precisely."""

import dataclasses
import tomllib
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import SECTIONS, Settings, load_settings, settings_from_dict

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_settings_document_every_key_with_its_default():
    shipped = tomllib.loads((ROOT / "settings.toml").read_text())
    defaults = Settings()
    for section in SECTIONS:
        fields = {f.name for f in dataclasses.fields(getattr(defaults, section))}
        assert set(shipped[section]) == fields, section
        for name in fields:
            value = getattr(getattr(defaults, section), name)
            expected = list(value) if isinstance(value, tuple) else value
            assert shipped[section][name] == expected, f"{section}.{name}"


@pytest.mark.parametrize("raw, message", [
    ({"mailbox": {"prot": 993}}, "unknown key mailbox.prot"),
    ({"mailbox": {"port": "993"}}, "mailbox.port must be a whole number"),
    ({"mailbox": {"port": True}}, "mailbox.port must be a whole number"),
    ({"mailbox": {"tls": "tls"}}, "mailbox.tls must be one of"),
    ({"mailbox": {"batch_size": 0}}, "mailbox.batch_size must be above 0"),
    ({"mailbox": {"batch_bytes": 0}}, "mailbox.batch_bytes must be above 0"),
    ({"mailbox": {"max_message_bytes": -1}}, "mailbox.max_message_bytes must be above 0"),
    ({"trust": {"microsoft365_tenant_id": "ourco.onmicrosoft.com"}},
     "trust.microsoft365_tenant_id must be the tenant's id, a GUID"),
    ({"mailbox": {"port": 99999}}, "mailbox.port must be from 1 to 65535, not 99999"),
    ({"mailbox": {"port": 0}}, "mailbox.port must be from 1 to 65535, not 0"),
    ({"notify": {"smtp_port": 70000}}, "notify.smtp_port must be from 1 to 65535"),
    ({"notify": {"max_per_sender_per_hour": -1}}, "must be not negative, not -1"),
    ({"mailbox": {"failed_folder": "Touchpoints/Logged"}},
     "mailbox.failed_folder must differ from mailbox.logged_folder"),
    ({"mailbox": {"failed_folder": "INBOX"}},
     "mailbox.failed_folder must differ from mailbox.folder"),
    ({"mailbox": {"logged_folder": "inbox/"}},
     "mailbox.logged_folder must differ from mailbox.folder"),
    ({"mailbox": {"host": "imap.example.com", "tls": "none"}}, "only for a loopback"),
    ({"touchpoints": {"internal_domains": "ourco.com"}}, "internal_domains must be a list"),
    ({"touchpoints": {"plus_addresses": "keep"}}, "touchpoints.plus_addresses must be one of"),
    ({"notify": {"enabled": "yes"}}, "notify.enabled must be a bool"),
    ({"database": {"url": "mysql://x"}}, "database.url must start with"),
    ({"smtp": {}}, "unknown section [smtp]"),
    ({"web": {"listen": "8765"}}, "web.listen must be HOST:PORT"),
    ({"web": {"trusted_proxies": ["10.0.0.1", "proxy.ourco.com"]}},
     "web.trusted_proxies: 'proxy.ourco.com' is not an IP address or network"),
])
def test_wrong_setting_names_the_key(raw, message):
    with pytest.raises(ConfigError) as err:
        settings_from_dict(raw)
    assert message in str(err.value)


def test_missing_file_and_bad_toml_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[mailbox\nhost=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_secrets_come_from_env_or_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_IMAP_PW", "s3cret")
    s = settings_from_dict({"mailbox": {"password_env": "MY_IMAP_PW"}}, base_dir=tmp_path)
    assert s.imap_password() == "s3cret"
    (tmp_path / "pw").write_text("from-file\n")
    s = settings_from_dict({"mailbox": {"password_file": "pw"}}, base_dir=tmp_path)
    assert s.imap_password() == "from-file"
    s = settings_from_dict({"mailbox": {"password_env": "UNSET_VAR_X"}}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="UNSET_VAR_X is not set"):
        s.imap_password()


def test_relative_sqlite_path_is_beside_the_settings_file(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[database]\nurl = "sqlite:///data/t.db"\n')
    assert load_settings(path).database_url() == f"sqlite:///{tmp_path}/data/t.db"


@pytest.mark.parametrize("section, key", [("mailbox", "ca_file"), ("mailbox", "password_file"),
                                          ("notify", "ca_file"),
                                          ("notify", "smtp_password_file")])
def test_every_file_key_is_checked_when_settings_load(tmp_path, section, key):
    path = tmp_path / "settings.toml"
    path.write_text(f'[{section}]\n{key} = "/nonexistent.pem"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value) == f"{path}: {section}.{key}: /nonexistent.pem not found"
    path.write_text(f'[{section}]\n{key} = "."\n')
    with pytest.raises(ConfigError, match=f"{section}.{key}: .* is a folder, not a file"):
        load_settings(path)


def test_file_keys_are_relative_to_the_settings_file(tmp_path):
    (tmp_path / "ca.pem").write_text("not checked here\n")
    path = tmp_path / "settings.toml"
    path.write_text('[notify]\nca_file = "ca.pem"\n')
    settings = load_settings(path)
    assert settings.notify.ca_file == str(tmp_path / "ca.pem")
    assert settings.path == path.resolve()
