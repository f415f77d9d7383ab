"""SPEC 20: every URL Salesforce returns (nextRecordsUrl, login()'s serverUrl, a redirect) must
be on the configured instance (https, same host, same port), or the run stops with one line
naming it and never follows it. A second fake Salesforce, trusted like the first, stands for
the other host and records whether anything reached it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_salesforce import FakeSalesforce
from tests.sf_world import SfWorld


@pytest.fixture
def other(fake_sf: FakeSalesforce) -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(page_size=50, ca=fake_sf.ca).start()
    yield server
    server.stop()


def _events(w: SfWorld, n: int) -> None:
    for i in range(n):
        w.fake.insert("Event", {"WhatId": w.acme_sf, "Subject": f"visit {i}",
                                "ActivityDateTime": "2026-11-28T10:00:00Z",
                                "DurationInMinutes": 60}, by=w.mia_sf)


def _stopped(w: SfWorld, *args: str) -> str:
    result = w.touchlog("sync", "salesforce", *args, expect=1)
    assert "Traceback" not in result.output and result.output.count("\n") == 1, result.output
    return result.output.strip()


ELSEWHERE = {
    "another port": lambda fake, other, path: other.url + path,
    "user info": lambda fake, other, path: "@" + other.url.removeprefix("https://") + path,
    "another host name": lambda fake, other, path: fake.url.replace("127.0.0.1", "localhost")
    + path,
    "plain http": lambda fake, other, path: fake.url.replace("https:", "http:") + path,
    "no scheme": lambda fake, other, path: "//" + other.url.removeprefix("https://") + path,
    "a host suffix": lambda fake, other, path: ".evil.example" + path,
    "a backslash": lambda fake, other, path: "/\\" + other.url.removeprefix("https://") + path,
}


@pytest.mark.parametrize("where", list(ELSEWHERE))
def test_a_next_records_url_on_another_host_stops_the_run_unfollowed(sf_world: SfWorld,
                                                                    other: FakeSalesforce,
                                                                    where: str):
    w, fake = sf_world, sf_world.fake
    _events(w, 60)  # two pages of 50
    sent: list[str] = []

    def elsewhere(path: str) -> str:
        sent.append(ELSEWHERE[where](fake, other, path))
        return sent[-1]

    fake.next_url = elsewhere
    line = _stopped(w, "--direction", "in")
    host = fake.url.removeprefix("https://")
    assert line == (f"touchlog: salesforce {host}: nextRecordsUrl {json.dumps(sent[0])} is not "
                    f"on {fake.url}; not followed")
    assert other.requests == []
    assert len(w.touchpoints()) == 50  # the first page was committed
    event_in = w.status()[("Event", "in")]
    assert event_in["status"] == "error" and "nextRecordsUrl" in event_in["stopped"]
    fake.next_url = None
    assert w.sync("--direction", "in")["Event in"]["created"] == 10


def test_a_next_records_url_on_the_instance_itself_is_followed(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    _events(w, 60)
    fake.next_url = lambda path: fake.url + path  # absolute, but the same https host and port
    assert w.sync("--direction", "in")["Event in"]["created"] == 60


def test_a_redirect_elsewhere_is_never_followed(sf_world: SfWorld, other: FakeSalesforce):
    w, fake = sf_world, sf_world.fake
    target = f"{other.url}/services/data/v62.0/query?q=SELECT+Id+FROM+User"
    fake.redirect_to = target
    line = _stopped(w)
    assert line == (f"touchlog: salesforce {fake.url.removeprefix('https://')}: answered HTTP "
                    f"307, a redirect to {json.dumps(target)}; not followed")
    assert other.requests == []


def test_a_login_answering_another_server_url_is_refused(sf_world: SfWorld,
                                                         other: FakeSalesforce,
                                                         monkeypatch: pytest.MonkeyPatch):
    w, fake = sf_world, sf_world.fake
    user = fake.add_user("sync@ourco.com")
    fake.add_login("sync@ourco.com", "pw", "TOKEN1", user)
    monkeypatch.setenv("TEST_SF_PW", "pw")
    monkeypatch.setenv("TEST_SF_SECRET", "TOKEN1")
    w.write_settings(access_token_env="", username="sync@ourco.com", password_env="TEST_SF_PW",
                     security_token_env="TEST_SF_SECRET")
    w.add_touchpoint()
    fake.server_url = other.url
    line = _stopped(w)
    server = f"{other.url}/services/Soap/u/62.0/00DDk0000000001"
    assert line == (f"touchlog: salesforce {fake.url.removeprefix('https://')}: login()'s "
                    f"serverUrl {json.dumps(server)} is not on {fake.url}; not followed")
    assert other.requests == []
    fake.server_url = ""
    assert w.sync()["Event out"]["created"] == 1


@pytest.mark.parametrize("answer", [
    {"not": "a list"}, [], ["text"], [{"success": True, "id": "../../x"}],
    [{"success": True, "errors": []}], None, 7,
])
def test_a_write_answered_with_something_else_stops_the_run_in_one_line(
        sf_world: SfWorld, answer: Any, monkeypatch: pytest.MonkeyPatch):
    """An sObject Collections answer that is not one result per record sent: stop, nothing
    linked; the next run's upsert finds what Salesforce made (no second record)."""
    w, fake = sf_world, sf_world.fake
    w.add_touchpoint()
    real = fake._write

    def garbled(body: Any, one: Any) -> Any:
        real(body, one)
        return answer

    monkeypatch.setattr(fake, "_write", garbled)
    result = w.touchlog("sync", "salesforce", "--direction", "out", expect=None)
    assert "Traceback" not in result.output, result.output
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], dict):
        assert result.exit_code == 0 and "Event out: created 0" in result.output
        (error,) = w.status()[("Event", "out")]["errors"]
        assert error["code"] == "unusable_answer", error
    else:
        assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
        assert "composite/sobjects" in result.output
        assert "not one result per record sent (1); stopped" in result.output
    monkeypatch.setattr(fake, "_write", real)
    counts = w.sync("--direction", "out")["Event out"]
    assert counts["created"] == 0 and len(fake.records("Event")) == 1
    assert all(row.external_id for row in w.local("Touchpoint"))
