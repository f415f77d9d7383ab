"""settings.toml: every key documented, wrong input named precisely."""

import dataclasses
import tomllib
from pathlib import Path

import pytest

from poller.errors import ConfigError
from poller.settings import SECTIONS, Settings, load_settings, settings_from_dict

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
    ({"mailbox": {"host": "imap.example.com", "tls": "none"}}, "only for a loopback"),
    ({"touchpoints": {"internal_domains": "ourco.com"}}, "internal_domains must be a list"),
    ({"touchpoints": {"plus_addresses": "keep"}}, "touchpoints.plus_addresses must be one of"),
    ({"notify": {"enabled": "yes"}}, "notify.enabled must be a bool"),
    ({"database": {"url": "mysql://x"}}, "database.url must start with"),
    ({"smtp": {}}, "unknown section [smtp]"),
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
