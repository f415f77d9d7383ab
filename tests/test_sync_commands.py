"""The sync as the rest of touchlog shows it: settings, accounts.csv links, check, status, poll."""

from __future__ import annotations

import signal
import time
from datetime import datetime

import pytest

from core.errors import ConfigError
from core.settings import settings_from_dict
from store.lock import lock_for
from sync.run import LOCK
from tests.builders import ACCOUNTS_CSV
from tests.fake_salesforce import FakeSalesforce
from tests.sf_world import TOKEN_ENV, SfWorld


@pytest.mark.parametrize("salesforce, message", [
    ({"instance_url": "http://x.my.salesforce.com"}, "instance_url must start with https://"),
    ({"api_version": "v62"}, "api_version must look like"),
    ({"external_id_field": "Touchlog Id"}, "external_id_field must be a Salesforce API name"),
    ({"outbound_days": 0}, "salesforce.outbound_days"),
    ({"enabled": True}, "salesforce.enabled needs access_token_env"),
    ({"access_token_file": "missing-token"}, "salesforce.access_token_file"),
])
def test_wrong_salesforce_settings_name_the_key(salesforce, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        settings_from_dict({"salesforce": salesforce}, base_dir=tmp_path)


def test_accounts_csv_links_by_salesforce_id_and_a_file_without_it_keeps_them(sf_world: SfWorld):
    w = sf_world
    from store.models import Account

    w.open()
    assert Account.get_by_id("ACME").salesforce_id == w.acme_sf
    (w.folder / "a.csv").write_text("account_id,name,salesforce_id\nROAD,Roadrunner,"
                                    f"{w.acme_sf[:15]}\n")
    w.touchlog("import", "accounts", str(w.folder / "a.csv"))
    (w.folder / "a.csv").write_text(ACCOUNTS_CSV)  # no salesforce_id column
    w.touchlog("import", "accounts", str(w.folder / "a.csv"))
    w.open()
    assert Account.get_by_id("ROAD").salesforce_id == w.acme_sf  # 15 characters made 18
    assert Account.get_by_id("ACME").salesforce_id == w.acme_sf
    (w.folder / "a.csv").write_text("account_id,name,salesforce_id\nROAD,Roadrunner,003abc\n")
    result = w.touchlog("import", "accounts", str(w.folder / "a.csv"), expect=1)
    assert "a.csv line 2: salesforce_id '003abc' is not a Salesforce Account Id" in result.output


def test_check_has_a_salesforce_line(sf_world: SfWorld):
    output = sf_world.touchlog("check", expect=None).output
    line = next(x for x in output.splitlines() if x.startswith("salesforce"))
    assert line.split()[1] == "ok"
    assert "Event and Task readable, Touchlog_Id__c is an External ID on both" in line


def test_check_says_when_the_external_id_field_is_missing(tmp_path, monkeypatch):
    fake = FakeSalesforce(external_id_field="Other_Id__c").start()
    try:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        w = SfWorld(tmp_path, fake).install()
        result = w.touchlog("check", expect=1)
        line = next(x for x in result.output.splitlines() if x.startswith("salesforce"))
        assert "FAIL" in line and "Event has no field Touchlog_Id__c" in line
    finally:
        fake.stop()


def test_sync_needs_it_enabled_and_runs_one_at_a_time(sf_world: SfWorld):
    w = sf_world
    w.write_settings(enabled=False)
    result = w.touchlog("sync", "salesforce", expect=1)
    assert "salesforce.enabled is false" in result.output
    w.write_settings(enabled=True)
    w.sync()
    other = lock_for(f"sqlite:///{w.folder / 'touchlog.db'}", LOCK)
    assert other.take(datetime(2026, 12, 1, 9, 0))
    try:
        assert w.touchlog("sync", "salesforce").output.strip().startswith(
            "another Salesforce sync is running (pid ")
    finally:
        other.release()
    assert "Event in" in w.touchlog("sync", "salesforce").output


def test_sync_status_shows_watermarks_last_run_and_counts(sf_world: SfWorld):
    w = sf_world
    assert "no Salesforce sync has run yet" in w.touchlog("sync", "status").output
    w.add_touchpoint()
    w.sync()
    marks = w.status()
    assert set(marks) == {("Event", "in"), ("Event", "out"), ("Task", "in"), ("Task", "out")}
    assert marks[("Event", "out")]["counts"]["created"] == 1
    assert marks[("Event", "out")]["watermark"].endswith("Z")
    assert all(m["status"] == "done" and m["errors"] == [] for m in marks.values())
    assert all(m["last_run"].endswith("Z") and m["stopped"] is None for m in marks.values())
    assert marks[("Event", "out")]["requests"] >= 4
    table = w.touchlog("sync", "status").output
    assert "Event" in table and "done" in table


def test_the_poll_service_also_syncs_on_its_interval(world, fake_sf, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, fake_sf.token)
    account = fake_sf.add_account("Acme Corp")
    world.import_directory(accounts="account_id,name,email_domains,salesforce_id\n"
                                    f"ACME,Acme Corp,acme.com,{account}\n",
                           users="email,account_id,last_activity\n")
    world.write_settings(salesforce={"enabled": True, "instance_url": fake_sf.url,
                                     "access_token_env": TOKEN_ENV, "ca_file": fake_sf.ca_file,
                                     "interval_seconds": 1})
    world.touchlog("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--type", "web_meeting", "--subject", "Kickoff", "--content", "We met.")
    proc = world.spawn("poll")
    try:
        deadline = time.monotonic() + 60
        while not fake_sf.records("Event") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [e["Subject"] for e in fake_sf.records("Event")] == ["Kickoff"]
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert "salesforce: Event in: created 0" in output
    assert len(fake_sf.records("Event")) == 1
