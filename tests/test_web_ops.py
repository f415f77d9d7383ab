"""What the machines that watch touchlog read (SPEC 21): `/healthz` and `/metrics`, without a
session and never redirected."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from peewee import SqliteDatabase

from core.settings import load_settings
from store.models import database
from sync.state import Counts, ensure_tables, finish_run, start_run
from tests.builders import make_mail
from tests.web_world import METRICS_ENV, METRICS_TOKEN
from web.app import create_app

BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_healthz_says_ok_while_the_database_answers(any_web):
    answer = any_web.client().get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_healthz_is_503_when_the_database_does_not_answer(web, tmp_path):
    ann = web.signed_in("ann@ourco.com")
    working = database.obj
    database.initialize(SqliteDatabase(str(tmp_path / "no-such-folder" / "x.db")))
    try:
        answer = web.client().get("/healthz")
        assert answer.status_code == 503
        assert answer.text == "unavailable"
        page = ann.get("/accounts")
        assert page.status_code == 503  # a page says so too, in words
        assert "The database is not answering" in page.text
    finally:
        database.initialize(working)
    assert web.client().get("/healthz").status_code == 200
    assert ann.get("/accounts").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {METRICS_TOKEN}"},
                                     {"Authorization": "Bearer"},
                                     {"Authorization": f"Bearer {METRICS_TOKEN}x"}])
def test_metrics_without_the_token_is_404_never_a_redirect(web, headers):
    answer = web.client().get("/metrics", headers=headers)
    assert answer.status_code == 404
    assert "Location" not in answer.headers
    signed_in = web.signed_in("ann@ourco.com")  # a session is no token either
    assert signed_in.get("/metrics", headers=headers).status_code == 404


def test_metrics_is_404_when_no_token_is_configured(tmp_path, smtp_sink, monkeypatch):
    from tests.web_world import WebWorld

    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    web = WebWorld(tmp_path, smtp_sink, metrics_token_env="")
    assert web.client().get("/metrics", headers=BEARER).status_code == 404


def _samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def test_metrics_count_what_a_pass_did(world_with_smtp, monkeypatch):
    world = world_with_smtp
    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    world.write_settings(web={"metrics_token_env": METRICS_ENV})
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>"))
    world.imap.append(make_mail(to="someone@unknown-corp.com", subject="Hello there"))
    before = datetime.now(UTC).timestamp()
    assert world.poll().startswith("logged 1, skipped 0, failed 1")
    app = create_app(load_settings(world.config))
    answer = app.test_client().get("/metrics", headers=BEARER)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = _samples(answer.text)
    assert samples['touchlog_messages{outcome="logged",reason="contact"}'] == 1
    assert samples['touchlog_messages{outcome="failed",reason="no_account"}'] == 1
    assert samples['touchlog_notices{status="sent"}'] == 1
    assert before - 1 <= samples["touchlog_last_pass_timestamp_seconds"] <= before + 120
    for family in ("touchlog_messages", "touchlog_notices", "touchlog_sync_errors",
                   "touchlog_last_pass_timestamp_seconds"):
        assert f"# TYPE {family} gauge" in answer.text


def test_metrics_count_the_records_the_last_sync_refused(web):
    samples = _samples(web.client().get("/metrics", headers=BEARER).text)
    assert samples["touchlog_last_pass_timestamp_seconds"] == 0  # no pass, no sync yet
    assert not [name for name in samples if name.startswith("touchlog_sync_errors")]
    ensure_tables()
    now = datetime(2026, 11, 2, 12, 0)
    finish_run(start_run("both", False, now), {"Event out": Counts(created=3, errors=2),
                                                "Task in": Counts(updated=1)}, "done", "", 4,
               now)
    text = web.client().get("/metrics", headers=BEARER).text
    samples = _samples(text)
    assert samples['touchlog_sync_errors{object="Event",direction="out"}'] == 2
    assert samples['touchlog_sync_errors{object="Task",direction="in"}'] == 0
    assert re.search(r"^# HELP touchlog_sync_errors ", text, flags=re.MULTILINE)
