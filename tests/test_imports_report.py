"""CSV imports as an ops user meets them: every wrong row at once, files from spreadsheets in
the wrong encoding or separator, rows that can never match, one person spelled two ways, and
`--replace` / `--dry-run` saying what was added, changed and removed."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from store.directory.csvfile import MAX_SHOWN, ImportOptions
from store.directory.import_accounts import import_accounts
from store.directory.import_team import import_team
from store.directory.import_users import import_users
from store.models import Account, Association, CustomerUser, TeamAlias, TeamMember

ACCOUNTS = "account_id,name,email_domains\nA,Alpha,alpha.com\nB,Beta,beta.com\nC,Gamma,\n"
REPLACE = ImportOptions(replace=True)
DRY_REPLACE = ImportOptions(replace=True, dry_run=True)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def accounts(db, tmp_path):
    import_accounts(write(tmp_path, "accounts.csv", ACCOUNTS))


def _users() -> list[tuple[str, str]]:
    return sorted((a.user.email, a.account_id) for a in Association.select())


def test_every_wrong_row_is_reported_up_to_a_cap(accounts, tmp_path):
    rows = "".join(f"u{i}@x.com,NOPE{i}\n" for i in range(MAX_SHOWN + 5))
    text = "email,account_id\nok@x.com,A\nbad address,A\n" + rows + "twice@x.com,A\ntwice@x.com,A\n"
    with pytest.raises(ConfigError) as err:
        import_users(write(tmp_path, "users.csv", text))
    lines = str(err.value).splitlines()
    assert lines[0] == f"users.csv: {MAX_SHOWN + 7} wrong rows, nothing was imported:"
    assert lines[1] == "  line 3: email 'bad address' is not an email address"
    assert lines[2] == "  line 4: account_id 'NOPE0' is not a known account"
    assert lines[-1] == "  ... and 7 more"
    assert len(lines) == MAX_SHOWN + 2
    assert _users() == []


def test_wrong_rows_of_accounts_and_team_are_all_reported(accounts, tmp_path):
    with pytest.raises(ConfigError) as err:
        import_accounts(write(tmp_path, "a.csv", "account_id,name,default_bcc\n"
                              "N,,false\nM,Em,yes\nK,Kay,true\n"))
    assert str(err.value).splitlines()[1:] == [
        "  line 2: name is empty", "  line 3: default_bcc must be true, false or empty, not 'yes'"]
    with pytest.raises(ConfigError) as err:
        import_team(write(tmp_path, "t.csv", "email,role\nx,user\ny@ourco.com,boss\n"))
    assert "2 wrong rows" in str(err.value)
    assert Account.select().count() == 3 and TeamMember.select().count() == 0


def test_a_short_row_is_refused(accounts, tmp_path):
    with pytest.raises(ConfigError) as err:
        import_accounts(write(tmp_path, "accounts.csv",
                              "account_id,name,parent_id,email_domains,default_bcc,"
                              "contact_matches_only\nA3,Gamma,,,false\n"))
    assert str(err.value) == ("accounts.csv line 2: 5 fields but the header has 6 (account_id,"
                              "name,parent_id,email_domains,default_bcc,contact_matches_only)")


def test_a_latin1_file_names_its_line_and_the_fix(accounts, tmp_path):
    path = write(tmp_path, "team.csv", "email,name\nann@ourco.com,Ann\nrene@ourco.com,René\n",
                 encoding="latin-1")
    with pytest.raises(ConfigError) as err:
        import_team(path)
    message = str(err.value)
    assert message.startswith("team.csv line 3: not UTF-8 (byte 0xe9 in ")
    assert "looks like Latin-1/Windows-1252: save it as UTF-8" in message
    assert TeamMember.select().count() == 0


def test_a_semicolon_separated_file_says_so(accounts, tmp_path):
    with pytest.raises(ConfigError) as err:
        import_users(write(tmp_path, "users.csv", "email;account_id\njill@alpha.com;A\n"))
    assert "the columns are separated by ';', touchlog reads comma-separated files" \
        in str(err.value)


@pytest.mark.parametrize("mode", ["reject", "strip"])
def test_a_plus_address_imports_with_a_warning(accounts, tmp_path, mode):
    report = import_users(write(tmp_path, "users.csv", "email,account_id\njill+x@alpha.com,A\n"),
                          options=ImportOptions(plus_addresses=mode))
    [warning] = report.warnings
    assert warning.startswith(f"users.csv line 2: jill+x@alpha.com has a +extension and can "
                              f"never match (plus_addresses = \"{mode}\"")
    assert warning.endswith("import it as jill@alpha.com")
    assert _users() == [("jill+x@alpha.com", "A")]


def test_two_spellings_of_one_person_are_merged_and_said(accounts, tmp_path):
    report = import_users(write(tmp_path, "users.csv",
                                "email,account_id\nX@Alpha.com,A\nx@alpha.com,B\n"))
    assert report.warnings == ["users.csv line 3: x@alpha.com is the same person as X@alpha.com "
                               "(case_sensitive_local_part = false): merged into one customer "
                               "user"]
    assert _users() == [("X@alpha.com", "A"), ("X@alpha.com", "B")]
    report = import_users(write(tmp_path, "u2.csv", "email,account_id\nx@ALPHA.com,C\n"))
    assert "already in the directory as X@alpha.com" in report.warnings[0]
    assert CustomerUser.select().count() == 1
    with pytest.raises(ConfigError, match="line 3: X@alpha.com on account 'A' repeats line 2"):
        import_users(write(tmp_path, "u3.csv", "email,account_id\nX@Alpha.com,A\nx@alpha.com,A\n"))
    kept = import_users(write(tmp_path, "u4.csv", "email,account_id\nx@alpha.com,A\n"),
                        options=ImportOptions(case_sensitive_local_part=True))
    assert (kept.warnings, kept.added) == ([], 1)


def test_replace_makes_the_directory_the_file_and_dry_run_only_says_so(accounts, tmp_path):
    import_team(write(tmp_path, "team.csv", "email,name,aliases\nann@ourco.com,Ann,a@ourco.com\n"
                      "bob@ourco.com,Bob,b@ourco.com\n"))
    import_users(write(tmp_path, "users.csv", "email,account_id\njill@alpha.com,A\n"
                       "jill@alpha.com,B\nbo@beta.com,B\n"))
    team = "email,name\nann@ourco.com,Ann A.\ncid@ourco.com,Cid\n"
    dry = import_team(write(tmp_path, "t2.csv", team), options=DRY_REPLACE)
    assert (dry.added, dry.changed, dry.removed, dry.dry_run) == (1, 1, 1, True)
    assert dry.examples == {"added": ["cid@ourco.com"], "changed": ["ann@ourco.com"],
                            "removed": ["bob@ourco.com"]}
    assert sorted(m.email for m in TeamMember.select()) == ["ann@ourco.com", "bob@ourco.com"]
    done = import_team(write(tmp_path, "t2.csv", team), options=REPLACE)
    assert (done.added, done.changed, done.removed) == (1, 1, 1)
    assert sorted(m.email for m in TeamMember.select()) == ["ann@ourco.com", "cid@ourco.com"]
    assert [a.email for a in TeamAlias.select()] == ["a@ourco.com"]
    users = import_users(write(tmp_path, "u2.csv", "email,account_id\njill@alpha.com,A\n"),
                         options=REPLACE)
    assert (users.unchanged, users.removed) == (1, 2)
    assert users.examples["removed"] == ["bo@beta.com on B", "jill@alpha.com on B"]
    assert _users() == [("jill@alpha.com", "A")]
    assert [c.email for c in CustomerUser.select()] == ["jill@alpha.com"]
    gone = import_accounts(write(tmp_path, "a2.csv", "account_id,name\nB,Beta\n"),
                           options=REPLACE)
    assert (gone.unchanged, gone.removed, gone.examples["removed"]) == (1, 2, ["A", "C"])
    assert _users() == []
    assert [a.account_id for a in Account.select().where(Account.removed_at.is_null())] == ["B"]
    again = import_accounts(write(tmp_path, "a3.csv", "account_id,name\nA,Alpha\nB,Beta\n"))
    assert (again.added, again.unchanged) == (1, 1)  # a removed account comes back
