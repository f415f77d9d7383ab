"""Fixtures only: real Dovecot servers (one per hierarchy delimiter), a fresh IMAP user per
test, a fresh database, an SMTP sink, whole installations (`world`), and a throwaway PostgreSQL
cluster with a fresh database per test (`postgres`, `pg_url`). What builds them lives in
tests/world.py and tests/builders.py; import from there, never from this file.

Tests that use `dovecot`, `dovecot_dot`, `imap` or `imap_dot` are marked `imap` automatically
and skipped only when /usr/sbin/dovecot is not installed (`make test` installs it as root).
Tests marked `corpus(PATH)` read the shared mail corpus: skipped when it is absent, failed
instead when $CI is set (a CI run that skipped them would prove nothing). Tests marked `browser`
drive Debian's Chromium (tests/browser.py): skipped without it or Playwright, failed instead
when $CI is set.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import Database

from tests.browser import Browser, Served, served_installation
from tests.disks import mounted_small_disk
from tests.fake_salesforce import FakeSalesforce
from tests.review_world import ReviewWorld
from tests.sf_world import TOKEN_ENV, SfWorld
from tests.smtpsink import SmtpSink
from tests.web_world import METRICS_ENV, METRICS_TOKEN, WebWorld
from tests.world import (
    PASSWORD,
    PASSWORD_ENV,
    ImapAccount,
    World,
    installed,
    new_account,
    running_dovecot,
)
from tools.chromium import chromium_missing, launch
from tools.dovecot import DOVECOT, Dovecot
from tools.postgres import Postgres, missing_reason
from tools.shared import corpus_missing

_IMAP_FIXTURES = {"dovecot", "dovecot_dot", "imap", "imap_dot"}
_pg_database_numbers = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = not Path(DOVECOT).exists()
    skip = pytest.mark.skip(reason=f"{DOVECOT} is not installed: apt-get install dovecot-imapd "
                                   "(`make test` does it when run as root)")
    for item in items:
        if _IMAP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.imap)
        if missing and "imap" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("corpus")
    reason = corpus_missing(mark.args[0]) if mark else None
    if reason is None and item.get_closest_marker("browser"):
        reason = chromium_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot announcing "/" as its hierarchy delimiter."""
    with running_dovecot("/") as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_dot() -> Iterator[Dovecot]:
    """Dovecot announcing "." (the Maildir++ habit): Touchpoints/Logged is Touchpoints.Logged."""
    with running_dovecot(".") as server:
        yield server


@pytest.fixture
def imap(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> ImapAccount:
    """A fresh, empty IMAP user on the "/" server; its password is in $TOUCHLOG_TEST_IMAP_PASSWORD
    so `account.settings()` works with Settings.imap_password()."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return new_account(dovecot)


@pytest.fixture
def imap_dot(dovecot_dot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> ImapAccount:
    """A fresh, empty IMAP user on the "." server."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return new_account(dovecot_dot)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def world(imap: ImapAccount, tmp_path: Path) -> World:
    """touchlog installed in a folder against a fresh IMAP user, directory imported."""
    return installed(tmp_path, imap)


@pytest.fixture
def pg_world(imap: ImapAccount, tmp_path: Path, pg_url: str) -> World:
    """As `world`, with its database on PostgreSQL."""
    return installed(tmp_path, imap, database_url=pg_url)


@pytest.fixture(params=["sqlite", "postgres"])
def any_world(request: pytest.FixtureRequest) -> World:
    """`world` on each database: for the behaviours that must not depend on it (exactly once,
    several workers, the history tie-breaks' aggregates and time comparisons)."""
    return request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")


@pytest.fixture
def world_with_smtp(imap: ImapAccount, tmp_path: Path, smtp_sink: SmtpSink) -> World:
    """As `world`, with notices on and sent to a real SMTP sink."""
    return installed(tmp_path, imap, smtp=smtp_sink)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (tools/postgres.py), one per session; skipped
    when the server binaries are not installed (`make test` installs them as root), an error
    then instead when $TOUCHLOG_REQUIRE_POSTGRES is set (CI)."""
    reason = missing_reason()
    if reason and os.environ.get("TOUCHLOG_REQUIRE_POSTGRES"):
        pytest.fail(f"TOUCHLOG_REQUIRE_POSTGRES is set but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(postgres: Postgres) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test: its URL (CREATE DATABASE, ~40 ms)."""
    name = f"touchlog_t{next(_pg_database_numbers)}"
    url = postgres.create_database(name)
    yield url
    from store.models import database

    # The models may still be bound to it (in-process CLI commands): close before dropping.
    if getattr(database.obj, "database", None) == name and not database.obj.is_closed():
        database.obj.close()
    postgres.drop_database(name)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database with every table, bound to the models; TOUCHLOG_TEST_POSTGRES_URL
    runs the same tests on PostgreSQL (tests/test_postgres.py does)."""
    from store.db import open_database
    from store.schema import MODELS

    url = os.environ.get("TOUCHLOG_TEST_POSTGRES_URL")
    database = open_database(url or "sqlite:///" + str(tmp_path / "t.db"))
    if url:
        database.drop_tables(MODELS, cascade=True)
        database.create_tables(MODELS)
    yield database
    database.close()


@pytest.fixture
def fake_sf() -> Iterator[FakeSalesforce]:
    """A fresh fake Salesforce (tests/fake_salesforce.py) on a free loopback port, with its own
    throwaway CA; pages of 50 records so paging is exercised on small data."""
    fake = FakeSalesforce(page_size=50).start()
    yield fake
    fake.stop()


@pytest.fixture
def sf_world(fake_sf: FakeSalesforce, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SfWorld:
    """touchlog installed in a folder against the fake Salesforce: team, accounts (ACME linked
    by salesforce_id, ROAD not), [salesforce] enabled with the fake's token and CA."""
    monkeypatch.setenv(TOKEN_ENV, fake_sf.token)
    return SfWorld(tmp_path, fake_sf).install()


@pytest.fixture
def web(tmp_path: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> WebWorld:
    """touchlog's web app over a fresh SQLite installation (tests/web_world.py), sign-in mail
    going to a real SMTP sink, /metrics behind METRICS_TOKEN."""
    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    return WebWorld(tmp_path, smtp_sink)


@pytest.fixture
def pg_web(tmp_path: Path, smtp_sink: SmtpSink, pg_url: str,
           monkeypatch: pytest.MonkeyPatch) -> WebWorld:
    """As `web`, on PostgreSQL."""
    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    return WebWorld(tmp_path, smtp_sink, database_url=pg_url)


@pytest.fixture(params=["sqlite", "postgres"])
def any_web(request: pytest.FixtureRequest) -> WebWorld:
    """`web` on each database, for the behaviours that must hold on both (sessions, links,
    the gate, the audit trail)."""
    return request.getfixturevalue("web" if request.param == "sqlite" else "pg_web")


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright (never a browser Playwright downloads:
    none is reachable from these machines). Playwright gives each launch a fresh, throwaway
    user-data directory (tools/chromium.py); each test gets a context (cookies) of its own
    from `browser`."""
    reason = chromium_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def served(imap: ImapAccount, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Served]:
    """`touchlog serve` for real (waitress, a process of its own) over an installation polling
    a fresh IMAP user on the real Dovecot, mailing through the SMTP sink, on SQLite."""
    server = served_installation(tmp_path, imap, smtp_sink)
    yield server
    server.stop()


@pytest.fixture
def browser(chromium: object, served: Served, request: pytest.FixtureRequest) -> Iterator[Browser]:
    """A fresh browser context on `served`, watched: the test fails if any page it opened broke
    the CSP, logged an error or opened a dialog."""
    opened = Browser(chromium, served.base, request.node.name, served)
    yield opened
    opened.close()
    assert not opened.problems, "\n".join(opened.problems)


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 4 MB filesystem of its own, to fill or remount read-only (tests/disks.py)."""
    with mounted_small_disk() as where:
        yield where


@pytest.fixture
def review_web(tmp_path: Path, smtp_sink: SmtpSink, imap: ImapAccount,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewWorld]:
    """`web` that also polls a fresh user of the real Dovecot (tests/review_world.py), failure
    notices going to the SMTP sink: the review queue and the runs page. The IMAP sessions the
    app kept (poller.imap.reuse) are closed at the end."""
    from poller.imap.reuse import forget

    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    yield ReviewWorld(tmp_path, smtp_sink, imap)
    forget()


@pytest.fixture
def pg_review_web(tmp_path: Path, smtp_sink: SmtpSink, imap: ImapAccount, pg_url: str,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewWorld]:
    """As `review_web`, on PostgreSQL."""
    from poller.imap.reuse import forget

    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    yield ReviewWorld(tmp_path, smtp_sink, imap, database_url=pg_url)
    forget()


@pytest.fixture(params=["sqlite", "postgres"])
def any_review_web(request: pytest.FixtureRequest) -> ReviewWorld:
    """`review_web` on each database."""
    return request.getfixturevalue("review_web" if request.param == "sqlite"
                                   else "pg_review_web")
