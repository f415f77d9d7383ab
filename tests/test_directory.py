"""store.directory: index-backed lookups, the team, and the CSV imports of SPEC section 10."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from peewee import SqliteDatabase

from core.directory import Link
from core.errors import ConfigError
from store.directory.csvfile import ImportOptions
from store.directory.import_accounts import import_accounts
from store.directory.import_team import import_team
from store.directory.import_users import import_users
from store.directory.lookups import SqlDirectory
from store.models import (
    Account,
    AccountDomain,
    Association,
    CustomerUser,
    TeamMember,
    Touchpoint,
)

ACCOUNTS = """account_id,name,parent_id,email_domains,default_bcc,contact_matches_only
A,ACME,,acme.com;ACME.co.uk,true,
B,ACME EMEA,A,,false,false
C,Cust,,,,true
"""
USERS = """email,account_id,last_activity
Jill@Cust.com,A,2024-05-01
jill@cust.com,B,2024-05-02T10:30:00+02:00
bob@acme.com,B,
"""
TEAM = """email,name,role,aliases
Rep@OurCo.com,Rita Rep,user,rita@ourco.com;r.rep@ourco.com
boss@ourco.com,Bo Boss,admin,
"""


CASE_SENSITIVE = ImportOptions(case_sensitive_local_part=True)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def directory(db, tmp_path):
    import_accounts(write(tmp_path, "accounts.csv", ACCOUNTS))
    # Jill@ and jill@ stay two people: the case_sensitive_local_part tests need both.
    import_users(write(tmp_path, "users.csv", USERS), options=CASE_SENSITIVE)
    import_team(write(tmp_path, "team.csv", TEAM))
    return SqlDirectory()


# --- imports ------------------------------------------------------------------------------


def test_import_good_files(db, tmp_path):
    report = import_accounts(write(tmp_path, "accounts.csv", ACCOUNTS))
    assert (report.kind, report.rows, report.added, report.changed) == ("accounts", 3, 3, 0)
    assert import_users(write(tmp_path, "users.csv", USERS), options=CASE_SENSITIVE).added == 3
    assert import_team(write(tmp_path, "team.csv", TEAM)).added == 2
    acme = Account.get_by_id("A")
    assert (acme.name, acme.default_bcc, acme.contact_matches_only) == ("ACME", True, False)
    assert Account.get_by_id("B").parent_id == "A" and Account.get_by_id("C").contact_matches_only
    assert sorted(d.domain for d in acme.domains) == ["acme.co.uk", "acme.com"]
    assert sorted((u.email, u.email_lower, u.domain) for u in CustomerUser.select()) == [
        ("Jill@cust.com", "jill@cust.com", "cust.com"), ("bob@acme.com", "bob@acme.com",
                                                         "acme.com"),
        ("jill@cust.com", "jill@cust.com", "cust.com")]
    # An offset is turned into naive UTC; a date is its midnight.
    times = {(a.user.email, a.account_id): a.last_activity for a in Association.select()}
    assert times[("jill@cust.com", "B")] == datetime(2024, 5, 2, 8, 30)
    assert times[("Jill@cust.com", "A")] == datetime(2024, 5, 1)
    assert times[("bob@acme.com", "B")] is None


def test_import_upsert_updates(db, tmp_path):
    import_accounts(write(tmp_path, "accounts.csv", ACCOUNTS))
    import_users(write(tmp_path, "users.csv", USERS))
    import_team(write(tmp_path, "team.csv", TEAM))
    report = import_accounts(write(tmp_path, "a2.csv", "account_id,name,email_domains\n"
                                   "A,ACME Inc,acme.org\nD,Delta,\n"))
    assert (report.rows, report.added, report.changed) == (2, 1, 1)
    # A column the file leaves out (default_bcc) keeps what is stored.
    assert Account.get_by_id("A").name == "ACME Inc" and Account.get_by_id("A").default_bcc
    assert [d.domain for d in AccountDomain.select().where(AccountDomain.account == "A")] == [
        "acme.org"]
    report = import_users(write(tmp_path, "u2.csv", "email,account_id,last_activity\n"
                                "bob@acme.com,B,2024-06-01\nbob@acme.com,D,\n"))
    assert (report.rows, report.added, report.changed) == (2, 1, 1)
    bob = CustomerUser.get(CustomerUser.email == "bob@acme.com")
    assert {a.account_id: a.last_activity for a in bob.associations} == {
        "B": datetime(2024, 6, 1), "D": None}
    report = import_team(write(tmp_path, "t2.csv", "email,name,role,aliases\n"
                               "rep@ourco.com,Rita R.,admin,rr@ourco.com\n"))
    assert (report.added, report.changed) == (0, 1)
    rep = TeamMember.get(TeamMember.email == "rep@ourco.com")
    assert (rep.name, rep.role, [a.email for a in rep.aliases]) == ("Rita R.", "admin",
                                                                     ["rr@ourco.com"])


@pytest.mark.parametrize(("name", "text", "message"), [
    ("users.csv", "email,account_id,last_activity\nok@x.com,A,\nbad@x.com,X,\n",
     "users.csv line 3: account_id 'X' is not a known account"),
    ("users.csv", "email,account_id,last_activity\nok@x.com,A,\nnot-an-address,A,\n",
     "users.csv line 3: email 'not-an-address' is not an email address"),
    ("users.csv", "email,account_id,last_activity\nok@x.com,A,yesterday\n",
     "users.csv line 2: last_activity 'yesterday' is not an ISO 8601 date or datetime"),
    ("users.csv", "email,account_id\nok@x.com,A\nother@x.com,A\nok@x.com,A\n",
     "users.csv line 4: ok@x.com on account 'A' repeats line 2"),
    ("users.csv", "mail,account_id\nok@x.com,A\n", "users.csv line 1: unexpected column 'mail'"),
    ("users.csv", "", "users.csv line 1: empty file; a header row is required"),
    ("accounts.csv", "account_id,name,parent_id\nN,New,\nM,Other,ZZ\n",
     "accounts.csv line 3: parent_id 'ZZ' is not a known account"),
    ("accounts.csv", "account_id,name,default_bcc\nN,New,yes\n",
     "accounts.csv line 2: default_bcc must be true, false or empty, not 'yes'"),
    ("accounts.csv", "account_id,name\nN,New\nN,Again\n",
     "accounts.csv line 3: account_id 'N' repeats line 2"),
    ("accounts.csv", "account_id,name,email_domains\nN,New,acme com\n",
     "accounts.csv line 2: email_domains: 'acme com' is not a domain"),
    ("team.csv", "email,name,role\nnew@ourco.com,New,boss\n",
     "team.csv line 2: role must be user or admin, not 'boss'"),
    ("team.csv", "email,name,role,aliases\nnew@ourco.com,New,user,rita@ourco.com\n",
     "team.csv line 2: rita@ourco.com is already an address of team member rep@ourco.com"),
])
def test_bad_row_names_its_line_and_imports_nothing(directory, tmp_path, name, text, message):
    before = _counts()
    importer = {"users.csv": import_users, "accounts.csv": import_accounts,
                "team.csv": import_team}[name]
    with pytest.raises(ConfigError) as exc:
        importer(write(tmp_path, name, text))
    assert str(exc.value).startswith(message)
    assert _counts() == before


def _counts() -> tuple[int, ...]:
    return tuple(model.select().count() for model in
                 (Account, AccountDomain, CustomerUser, Association, TeamMember))


def test_parent_may_come_later_in_the_file(db, tmp_path):
    import_accounts(write(tmp_path, "a.csv", "account_id,name,parent_id\nK,Kid,P\nP,Parent,\n"))
    assert Account.get_by_id("K").parent_id == "P"


def test_progress_is_reported(db, tmp_path):
    import_accounts(write(tmp_path, "accounts.csv", ACCOUNTS))
    calls = []
    import_users(write(tmp_path, "users.csv", USERS), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3, 3)


# --- lookups ------------------------------------------------------------------------------


def test_contact_accounts_case_insensitive_by_default(directory):
    links = directory.contact_accounts("jill@cust.com")
    assert links == [Link("A", datetime(2024, 5, 1), True, "ACME"),
                     Link("B", datetime(2024, 5, 2, 8, 30), False, "ACME EMEA")]


def test_contact_accounts_case_sensitive_local_part(directory):
    exact = SqlDirectory(case_sensitive_local_part=True)
    assert [link.account_id for link in exact.contact_accounts("Jill@cust.com")] == ["A"]
    assert [link.account_id for link in exact.contact_accounts("jill@cust.com")] == ["B"]
    assert exact.contact_accounts("JILL@cust.com") == []


def test_domain_accounts(directory):
    assert directory.domain_accounts("acme.com") == ["A", "B"]
    assert directory.domain_accounts("ACME.co.uk") == ["A"]
    assert directory.domain_accounts("cust.com") == ["A", "B"]
    assert directory.domain_accounts("nowhere.com") == []


def test_domain_accounts_leave_out_contact_matches_only(directory, tmp_path):
    import_users(write(tmp_path, "u.csv", "email,account_id\nzed@zed.com,C\n"))
    assert directory.domain_accounts("zed.com") == []


def test_team_member_by_email_or_alias(directory):
    assert directory.team_member("REP@ourco.com").email == "rep@ourco.com"
    assert directory.team_member("<R.Rep@OurCo.com>").email == "rep@ourco.com"
    assert directory.team_member("stranger@ourco.com") is None
    assert directory.team_addresses() == frozenset(
        {"rep@ourco.com", "rita@ourco.com", "r.rep@ourco.com", "boss@ourco.com"})


def test_account_names(directory):
    assert directory.account_names(["A", "C", "nope"]) == {"A": "ACME", "C": "Cust"}


def test_histories(directory):
    rep = directory.team_member("rep@ourco.com")
    for n, (acc, when) in enumerate([("A", datetime(2024, 5, 1)), ("A", datetime(2024, 5, 3)),
                                     ("B", datetime(2024, 4, 1))]):
        Touchpoint.create(account=acc, flow="Default", occurred_at=when, creator=rep,
                          creator_domain="ourco.com", message_key=f"k{n}", scenario="copy",
                          rule="contact", created_at=when)
    assert directory.sender_history(rep.id, ["A", "B", "C"]) == {
        "A": datetime(2024, 5, 3), "B": datetime(2024, 4, 1)}
    assert directory.sender_history(rep.id + 99, ["A"]) == {}
    assert directory.domain_history("OurCo.com", ["A", "B"], datetime(2024, 4, 2)) == {
        "A": datetime(2024, 5, 3)}
    assert directory.domain_history("ourco.com", [], datetime(2024, 1, 1)) == {}


def test_every_lookup_uses_an_index(directory, db, caplog):
    """One statement per lookup, and no full scan of a directory or timeline table."""
    if not isinstance(db, SqliteDatabase):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    rep = directory.team_member("rep@ourco.com")
    lookups = [
        lambda: directory.contact_accounts("jill@cust.com"),
        lambda: SqlDirectory(True).contact_accounts("Jill@cust.com"),
        lambda: directory.domain_accounts("acme.com"),
        lambda: directory.sender_history(rep.id, ["A", "B"]),
        lambda: directory.domain_history("ourco.com", ["A", "B"], datetime(2024, 1, 1)),
        lambda: directory.account_names(["A", "B"]),
    ]
    for lookup in lookups:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            lookup()
        statements = [r.msg for r in caplog.records if r.name == "peewee"]
        assert len(statements) == 1
        sql, params = statements[0]
        plan = [row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
        scans = [step for step in plan if step.startswith("SCAN") and "INDEX" not in step]
        assert not scans, (sql, plan)


def test_team_is_read_once_per_directory(directory, caplog):
    assert directory.team_member("rep@ourco.com") is not None
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        for _ in range(3):
            directory.team_member("REP@ourco.com")
    assert [r for r in caplog.records if r.name == "peewee"] == []
