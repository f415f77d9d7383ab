"""touchlog on PostgreSQL (SPEC section 9: `[database] url = "postgresql://user@host/db"`), end to
end through Dovecot, against a real throwaway cluster (tools/postgres.py, the `postgres` and
`pg_url` fixtures in tests/conftest.py). Skipped, with the reason, when no PostgreSQL server is
installed; `make test` installs one when run as root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import ACCOUNTS_CSV, USERS_CSV, make_mail
from tests.world import installed, new_account

pytestmark = pytest.mark.postgres
psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 is not installed (extra `postgres`)")

ROOT = Path(__file__).resolve().parents[1]


def _sql(url: str, query: str) -> list[tuple]:
    """Read the PostgreSQL database directly, not through touchlog."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()
    finally:
        conn.close()


# --- the same pass on SQLite and on PostgreSQL ----------------------------------------------------


def test_copy_and_failure_are_handled_exactly_as_on_sqlite(imap, dovecot, tmp_path, pg_url):
    (tmp_path / "pg").mkdir()
    (tmp_path / "lite").mkdir()
    worlds = {"postgres": installed(tmp_path / "pg", imap, database_url=pg_url),
              "sqlite": installed(tmp_path / "lite", new_account(dovecot))}
    mails = [make_mail(to="Wile E. Coyote <wile@acme.com>", cc="ann@ourco.com",
                       message_id="<pg-copy@ourco.com>", body="Hi Wile,\nthe rockets ship."),
             make_mail(to="someone@unknown-corp.com", subject="Hello there",
                       message_id="<pg-nobody@ourco.com>")]
    seen: dict[str, dict[str, object]] = {}
    for kind, world in worlds.items():
        for raw in mails:
            world.imap.append(raw)
        out = world.poll()
        assert out.startswith("logged 1, skipped 0, failed 1 (no_account 1)"), (kind, out)
        [tp] = world.touchpoints()
        [failure] = world.failures()
        runs = json.loads(world.touchlog("runs", "--format", "json").output)
        seen[kind] = {
            "poll": out,
            "touchpoints": world.touchpoints(),
            "account": world.touchpoints("--account", "ACME"),
            "failures": world.failures(),
            "explain touchpoint": world.touchlog("explain", str(tp["id"])).output,
            "explain message-id": world.touchlog("explain", "pg-copy@ourco.com").output,
            "explain failure": world.touchlog("explain", "pg-nobody@ourco.com").output,
            "failures show": world.touchlog("failures", "show", str(failure["uid"])).output,
            "failures table": world.touchlog("failures").output,
            "inbox": world.folder_contents("INBOX"),
            "logged": sorted(world.folder_contents("Touchpoints/Logged").values()),
            "failed": sorted(world.folder_contents("Touchpoints/Failed").values()),
            # times differ between the two passes; everything else must not
            "runs": [{k: v for k, v in r.items() if not k.endswith("_at")} for r in runs],
            "run times": [sorted(k for k in r if k.endswith("_at")) for r in runs],
        }
    pg, lite = seen["postgres"], seen["sqlite"]
    for name in lite:
        assert pg[name] == lite[name], name
    # and the PostgreSQL world really wrote to PostgreSQL
    assert _sql(pg_url, "SELECT account_id, subject, message_id FROM touchpoint") == [
        ("ACME", "Pricing follow-up", "pg-copy@ourco.com")]
    assert sorted(_sql(pg_url, "SELECT outcome, reason FROM messagerecord")) == [
        ("failed", "no_account"), ("logged", "contact")]
    assert not (tmp_path / "pg" / "touchlog.db").exists()
    # the details a user sees
    [tp] = pg["touchpoints"]
    assert (tp["account_id"], tp["rule"], tp["scenario"]) == ("ACME", "contact", "copy")
    assert tp["occurred_at"] == "2026-11-02T14:30:00Z"
    assert {p["email"].lower(): p["role"] for p in tp["participants"]} == {
        "sam@ourco.com": "internal", "wile@acme.com": "external", "ann@ourco.com": "internal"}
    [failure] = pg["failures"]
    assert failure["reason"] == "no_account" and failure["message_id"] == "pg-nobody@ourco.com"
    assert set(failure) == {"uid", "message_id", "date", "sender", "subject", "reason", "detail",
                            "suggestions"}
    [(flags, _raw)] = pg["failed"]
    assert "$tl_no_account" in flags
    assert f"touchpoint {tp['id']} on account ACME" in pg["explain touchpoint"]
    assert "no_account" in pg["explain failure"]
    assert pg["inbox"] == {}
    assert [r["status"] for r in pg["runs"]] == ["done"]


def test_a_nul_character_in_the_mail_is_logged_not_stuck_in_the_inbox(pg_world):
    """PostgreSQL text cannot hold NUL; a base64 text part (or encoded-word) can carry one."""
    raw = (b"From: Sam Seller <sam@ourco.com>\r\nTo: wile@acme.com\r\n"
           b"Subject: =?utf-8?b?bnVsAHN1Ympl?=\r\nDate: Mon, 02 Nov 2026 14:30:00 +0000\r\n"
           b"Message-ID: <pg-nul@ourco.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nYmVmb3JlAGFmdGVy\r\n")
    pg_world.imap.append(raw)
    assert pg_world.poll() == "logged 1, skipped 0, failed 0\n"
    [tp] = pg_world.touchpoints()
    assert tp["content"].startswith("before\ufffdafter")
    assert "\x00" not in tp["subject"]
    assert pg_world.folder_contents("INBOX") == {}


def test_values_longer_than_255_characters_fit_as_on_sqlite(pg_world, pg_url):
    """Peewee's CharField is VARCHAR(255); SQLite never enforced it, PostgreSQL would."""
    long_id = "x" * 300 + "@ourco.com"
    pg_world.imap.append(make_mail(to="wile@acme.com", message_id=f"<{long_id}>"))
    pg_world.imap.append(make_mail(to="nobody@unknown-corp.com", message_id=f"<y{long_id}>"))
    assert pg_world.poll() == "logged 1, skipped 0, failed 1 (no_account 1)\n"
    assert [tp["message_id"] for tp in pg_world.touchpoints()] == [long_id]
    assert "logged" in pg_world.touchlog("explain", long_id).output
    name = "Acme " + "n" * 300
    pg_world.import_directory(accounts=ACCOUNTS_CSV + f"LONG,{name},,,false,false\n",
                              users=USERS_CSV + f"{'u' * 250}@long.com,LONG,\n")
    assert _sql(pg_url, "SELECT name FROM account WHERE account_id = 'LONG'") == [(name,)]


# --- several workers, one database ---------------------------------------------------------------
# (Exactly once with two worker processes, and the history tie-breaks, run on both databases
# through conftest's `any_world`: tests/test_poll.py, tests/test_resolution_e2e.py.)


# --- the store's own tests, on PostgreSQL --------------------------------------------------------


def test_directory_and_resolution_tests_pass_on_postgres(postgres):
    """tests/test_directory.py and tests/test_resolve.py run on PostgreSQL when
    TOUCHLOG_TEST_POSTGRES_URL is set (each test drops and creates the tables)."""
    url = postgres.create_database("touchlog_store_suites")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
             "tests/test_directory.py", "tests/test_resolve.py"],
            cwd=ROOT, env={**os.environ, "TOUCHLOG_TEST_POSTGRES_URL": url},
            capture_output=True, text=True, timeout=300)
    finally:
        postgres.drop_database("touchlog_store_suites")
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # only the SQLite-only query-plan test may skip
    assert " passed" in summary and ("skipped" not in summary or "1 skipped" in summary), summary
    assert "EXPLAIN QUERY PLAN is SQLite's" in result.stdout or "skipped" not in summary
