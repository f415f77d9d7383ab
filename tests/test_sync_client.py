"""The Salesforce session against the fake: tokens, the login, TLS trust, paging, collections."""

import pytest

from core.errors import SalesforceError
from core.settings import settings_from_dict
from sync.client import connect

EXT = "Touchlog_Id__c"


def _settings(fake, tmp_path, **salesforce):
    values = {"instance_url": fake.url, "access_token_env": "TEST_SF_TOKEN",
              "ca_file": fake.ca_file, **salesforce}
    return settings_from_dict({"salesforce": values}, base_dir=tmp_path)


@pytest.fixture
def client(fake_sf, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SF_TOKEN", fake_sf.token)
    return connect(_settings(fake_sf, tmp_path))


def _event(ext, what, **fields):
    return {EXT: ext, "WhatId": what, "Subject": f"tp {ext}",
            "ActivityDateTime": "2026-12-01T09:00:00Z", "DurationInMinutes": 0, **fields}


def test_ca_file_wins_over_the_ca_bundles_of_the_environment(fake_sf, tmp_path, monkeypatch):
    # This machine sets both to the system bundle, which does not hold the fake's CA: with
    # requests' defaults they would replace ca_file and the handshake would fail.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("TEST_SF_TOKEN", fake_sf.token)
    client = connect(_settings(fake_sf, tmp_path))
    assert list(client.records("SELECT Id FROM Event")) == []


def test_without_ca_file_the_fakes_certificate_is_refused_in_one_line(fake_sf, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("TEST_SF_TOKEN", fake_sf.token)
    client = connect(_settings(fake_sf, tmp_path, ca_file=""))
    with pytest.raises(SalesforceError, match=r"^salesforce 127\.0\.0\.1:\d+: TLS failed: .*"
                                              r"certificate verify failed"):
        list(client.records("SELECT Id FROM Event"))


def test_an_expired_token_is_one_line_naming_the_host(client, fake_sf):
    fake_sf.expire_tokens()
    with pytest.raises(SalesforceError) as err:
        list(client.records("SELECT Id FROM Event"))
    assert str(err.value) == (f"salesforce {fake_sf.url[8:]}: the session was refused "
                              "(INVALID_SESSION_ID: Session expired or invalid); renew the "
                              "access token")


def test_a_dead_server_is_one_line(client, fake_sf):
    fake_sf.stop()
    with pytest.raises(SalesforceError, match="connection lost or refused"):
        list(client.records("SELECT Id FROM Event"))


def test_username_password_token_login(fake_sf, tmp_path, monkeypatch):
    user = fake_sf.add_user("sync@ourco.com")
    fake_sf.add_login("sync@ourco.com", "pw'<&", "TOKEN1", user)
    monkeypatch.setenv("SF_PW", "pw'<&")
    (tmp_path / "token").write_text("TOKEN1\n")
    settings = _settings(fake_sf, tmp_path, access_token_env="", username="sync@ourco.com",
                         password_env="SF_PW", security_token_file="token")
    client = connect(settings)
    assert client.user_id == user
    assert list(client.records("SELECT Id FROM Event")) == []
    (tmp_path / "token").write_text("WRONG\n")
    with pytest.raises(SalesforceError, match="login refused: INVALID_LOGIN"):
        connect(settings)


def test_pages_follow_next_records_url_and_deleted_rows_come_only_from_query_all(client,
                                                                                 fake_sf):
    account = fake_sf.add_account("Acme")
    results = client.upsert("Event", EXT, [_event(str(i), account) for i in range(120)])
    assert all(r.success and r.created for r in results)
    client.delete([results[0].id])
    pages = list(client.pages("SELECT Id FROM Event ORDER BY Id"))
    assert [len(p) for p in pages] == [50, 50, 19]
    assert len(list(client.records("SELECT Id, IsDeleted FROM Event", deleted=True))) == 120
    assert client.requests == 2 + 3 + 3


def test_upsert_on_the_external_id_never_makes_a_second_record(client, fake_sf):
    account = fake_sf.add_account("Acme")
    first = client.upsert("Event", EXT, [_event("1", account)])
    again = client.upsert("Event", EXT, [_event("1", account, Subject="edited")])
    assert first[0].created and not again[0].created and again[0].id == first[0].id
    assert [r["Subject"] for r in fake_sf.records("Event")] == ["edited"]


def test_per_record_errors_come_back_with_salesforces_codes(client, fake_sf):
    account = fake_sf.add_account("Acme")
    results = client.upsert("Event", EXT, [
        _event("1", account, Subject="x" * 256), _event("2", account),
        {EXT: "3", "WhatId": account, "Subject": "no time"},
        _event("4", account, AccountId=account)])
    assert [r.success for r in results] == [False, True, False, False]
    assert [r.code() for r in results] == ["STRING_TOO_LONG", "", "REQUIRED_FIELD_MISSING",
                                           "INVALID_FIELD_FOR_INSERT_UPDATE"]
    assert "max length=255" in results[0].message()
    row = fake_sf.records("Event")[0]
    assert row["AccountId"] == account  # derived from WhatId
    assert len(row["Id"]) == 18


def test_a_bad_query_is_one_line_with_salesforces_message(client):
    with pytest.raises(SalesforceError, match="MALFORMED_QUERY"):
        list(client.records("SELECT Id FROM Event WHERE Subject = = 'x'"))
