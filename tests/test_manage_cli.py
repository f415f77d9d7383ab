"""Touchpoints people manage, through the command line, on SQLite and on PostgreSQL: add, show,
edit, delete and who may; the configured lists; the timeline's filters; the accounts summary;
tasks. (Sending and replies go through Dovecot and the SMTP sink: tests/test_threads_e2e.py.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import main
from tests.builders import TEAM_CSV, write_directory

TEAM = TEAM_CSV + "bob@ourco.com,Bob Other,user,\n"


@dataclass
class Desk:
    """touchlog in a folder, without a mailbox: the commands people type."""

    folder: Path

    def run(self, *args: str, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(main, ["--config", str(self.folder / "settings.toml"),
                                           *args])
        if expect is not None:
            assert result.exit_code == expect, (result.output, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--format", "json").output)

    def add(self, *args: str, who: str = "sam@ourco.com", account: str = "ACME") -> int:
        out = self.run("touchpoints", "add", "--account", account, "--as", who, *args).output
        return int(out.strip())

    def ids(self, *args: str) -> list[int]:
        return [r["id"] for r in self.json("touchpoints", *args)]


def _desk(folder: Path, url: str, **touchpoints: Any) -> Desk:
    lines = ["[database]", f"url = {json.dumps(url)}", "[touchpoints]",
             'mailbox_address = "touchpoints@ourco.com"', 'internal_domains = ["ourco.com"]']
    lines += [f"{k} = {json.dumps(v)}" for k, v in touchpoints.items()]
    lines += ["[notify]", "enabled = false"]
    (folder / "settings.toml").write_text("\n".join(lines) + "\n")
    desk = Desk(folder)
    paths = write_directory(folder, team=TEAM)
    for kind in ("team", "accounts", "users"):
        desk.run("import", kind, str(paths[kind]))
    return desk


@pytest.fixture(params=["sqlite", "postgres"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Desk:
    url = ("sqlite:///touchlog.db" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    return _desk(tmp_path, url)


@pytest.fixture
def lite(tmp_path: Path) -> Desk:
    return _desk(tmp_path, "sqlite:///touchlog.db")


# --- add and show --------------------------------------------------------------------------------


def test_add_every_field_and_show_it_whole(desk, tmp_path):
    (tmp_path / "notes.txt").write_text("Wile agreed to renew.\n")
    (tmp_path / "quote.pdf").write_bytes(b"%PDF-1.4 quote")
    tp_id = desk.add("--type", "telephone_call", "--date", "2026-11-02T15:00Z", "--subject",
                     "Renewal  call", "--content-file", str(tmp_path / "notes.txt"), "--flow",
                     "Renewal", "--reason", "pricing", "--reason", "renewal", "--participant",
                     "Wile E. <wile@acme.com>", "--participant", "ann@ourco.com", "--attach",
                     str(tmp_path / "quote.pdf"))
    tp = desk.json("touchpoints", "show", str(tp_id))
    assert {k: tp[k] for k in ("account_id", "type", "occurred_at", "subject", "content",
                               "flow", "reasons", "creator", "source", "updated_at",
                               "updated_by", "external_id", "message_id", "scenario", "rule",
                               "thread_id", "deleted_at")} == {
        "account_id": "ACME", "type": "telephone_call", "occurred_at": "2026-11-02T15:00:00Z",
        "subject": "Renewal call", "content": "Wile agreed to renew.\n", "flow": "Renewal",
        "reasons": ["pricing", "renewal"], "creator": "sam@ourco.com", "source": "manual",
        "updated_at": None, "updated_by": None, "external_id": None, "message_id": None,
        "scenario": None, "rule": None, "thread_id": tp_id, "deleted_at": None}
    assert tp["participants"] == [
        {"email": "wile@acme.com", "name": "Wile E.", "role": "external"},
        {"email": "ann@ourco.com", "name": "", "role": "internal"}]
    assert [(a["filename"], a["content_type"], a["size"]) for a in tp["attachments"]] == [
        ("quote.pdf", "application/pdf", 14)]
    shown = desk.run("touchpoints", "show", str(tp_id)).output
    assert "wile@acme.com Wile E. (external)" in shown and "Wile agreed to renew." in shown


def test_add_defaults_to_now_and_the_default_flow(lite):
    tp_id = lite.add("--type", "internal_note", "--content", "Champion leaves in January")
    tp = lite.json("touchpoints", "show", str(tp_id))
    assert (tp["flow"], tp["reasons"], tp["subject"]) == ("Default", [], "")
    assert tp["occurred_at"].startswith("20") and tp["occurred_at"].endswith("Z")


def test_add_refuses_a_non_member_an_unknown_account_and_both_contents(lite):
    out = lite.run("touchpoints", "add", "--account", "ACME", "--as", "wile@acme.com",
                   "--type", "email", expect=1).output
    assert "--as wile@acme.com: not a team member" in out
    out = lite.run("touchpoints", "add", "--account", "NOPE", "--as", "sam@ourco.com",
                   "--type", "email", expect=1).output
    assert "no account 'NOPE'" in out
    lite.run("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com", "--type",
             "email", "--content", "a", "--content-file", "settings.toml", expect=2)
    assert lite.ids() == []


# --- who may edit and delete ---------------------------------------------------------------------


@pytest.mark.parametrize("who, allowed", [("sam@ourco.com", True), ("sam.alias@ourco.com", True),
                                          ("ann@ourco.com", True), ("bob@ourco.com", False)])
def test_only_the_creator_or_an_admin_may_edit_and_delete(desk, who, allowed):
    tp_id = desk.add("--type", "email", "--subject", "Old")
    result = desk.run("touchpoints", "edit", str(tp_id), "--as", who, "--subject", "New",
                      expect=0 if allowed else 1)
    tp = desk.json("touchpoints", "show", str(tp_id))
    if not allowed:
        assert result.output.strip() == (
            f"touchlog: bob@ourco.com may not edit touchpoint {tp_id}: only its creator "
            "(sam@ourco.com) or an admin (ann@ourco.com) may")
        assert (tp["subject"], tp["updated_at"]) == ("Old", None)
        out = desk.run("touchpoints", "delete", str(tp_id), "--as", who, expect=1).output
        assert "only its creator (sam@ourco.com) or an admin (ann@ourco.com) may" in out
        assert desk.ids() == [tp_id]
        return
    member = "sam@ourco.com" if who.startswith("sam") else who
    assert (tp["subject"], tp["updated_by"]) == ("New", member)
    assert tp["updated_at"].endswith("Z")
    desk.run("touchpoints", "delete", str(tp_id), "--as", who)
    assert desk.ids() == []
    gone = desk.json("touchpoints", "show", str(tp_id))
    assert (gone["deleted_by"], gone["deleted_at"] is not None) == (member, True)
    assert f"DELETED by {member} at " in desk.run("touchpoints", "show", str(tp_id)).output
    out = desk.run("touchpoints", "edit", str(tp_id), "--as", who, "--subject", "x",
                   expect=1).output
    assert f"touchpoint {tp_id} was deleted by {member}" in out


def test_a_non_member_may_neither_edit_nor_delete(lite):
    tp_id = lite.add("--type", "email")
    for args in (("edit", str(tp_id), "--subject", "x"), ("delete", str(tp_id))):
        out = lite.run("touchpoints", *args, "--as", "wile@acme.com", expect=1).output
        assert "--as wile@acme.com: not a team member" in out
    assert lite.ids() == [tp_id]


def test_edit_never_moves_a_touchpoint_to_another_account(lite):
    tp_id = lite.add("--type", "email")
    out = lite.run("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com", "--account",
                   "ROAD", expect=2).output
    assert "the account of a touchpoint never changes" in out
    assert [r["account_id"] for r in lite.json("touchpoints")] == ["ACME"]


def test_edit_participants_and_nothing_to_change(lite):
    tp_id = lite.add("--type", "web_meeting", "--participant", "wile@acme.com")
    lite.run("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com",
             "--add-participant", "beep@road.com", "--remove-participant", "wile@acme.com")
    tp = lite.json("touchpoints", "show", str(tp_id))
    assert [p["email"] for p in tp["participants"]] == ["beep@road.com"]
    out = lite.run("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com",
                   "--remove-participant", "nobody@x.com", expect=1).output
    assert "nobody@x.com is not a participant" in out
    lite.run("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com", expect=2)


# --- configured lists ----------------------------------------------------------------------------


def test_configured_lists_refuse_other_values_naming_the_allowed_ones(tmp_path):
    desk = _desk(tmp_path, "sqlite:///touchlog.db", types=["telephone_call", "internal_note"],
                 flows=["Onboarding", "Renewal"], reasons=["pricing"])
    base = ("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com")
    out = desk.run(*base, "--type", "email", expect=2).output
    assert "'email' is not one of touchpoints.types: telephone_call, internal_note" in out
    out = desk.run(*base, "--type", "telephone_call", "--flow", "Default", expect=2).output
    assert "touchpoints.flows: Onboarding, Renewal" in out
    out = desk.run(*base, "--type", "telephone_call", "--reason", "golf", expect=2).output
    assert "touchpoints.reasons: pricing" in out
    tp_id = desk.add("--type", "telephone_call", "--flow", "Renewal", "--reason", "pricing")
    desk.run("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com", "--flow", "Golf",
             expect=2)
    desk.run("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com", "--title", "t",
             "--flow", "Golf", expect=2)
    assert desk.ids() == [tp_id]


def test_default_types_are_the_five_of_spec(lite):
    for kind in ("web_meeting", "in_person_meeting", "telephone_call", "email",
                 "internal_note"):
        lite.add("--type", kind)
    out = lite.run("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--type", "fax", expect=2).output
    assert "web_meeting, in_person_meeting, telephone_call, email, internal_note" in out


# --- the timeline's filters ---------------------------------------------------------------------


def _timeline_world(desk: Desk) -> dict[str, int]:
    made = {}
    for name, account, kind, day, flow in (
            ("call", "ACME", "telephone_call", "2026-11-01", "Renewal"),
            ("note", "ACME", "internal_note", "2026-11-02", "Renewal"),
            ("meet", "ACME", "web_meeting", "2026-11-03", "Onboarding"),
            ("mail", "ACME", "email", "2026-11-03T18:00Z", "Default"),
            ("road", "ROAD", "telephone_call", "2026-11-02", "Renewal"),
            ("gone", "ACME", "telephone_call", "2026-11-02T12:00Z", "Renewal")):
        made[name] = desk.add("--type", kind, "--date", day, "--flow", flow, account=account)
    desk.run("touchpoints", "delete", str(made["gone"]), "--as", "ann@ourco.com")
    return made


def test_filters_return_exactly_the_right_touchpoints(desk):
    t = _timeline_world(desk)
    assert desk.ids() == [t["mail"], t["meet"], t["road"], t["note"], t["call"]]
    assert desk.ids("--account", "ACME") == [t["mail"], t["meet"], t["note"], t["call"]]
    assert desk.ids("--account", "ACME", "--notes") == [t["note"]]
    assert desk.ids("--account", "ACME", "--no-notes") == [t["mail"], t["meet"], t["call"]]
    assert desk.ids("--type", "telephone_call") == [t["road"], t["call"]]
    assert desk.ids("--flow", "Renewal") == [t["road"], t["note"], t["call"]]
    assert desk.ids("--since", "2026-11-02", "--until", "2026-11-02") == [t["road"], t["note"]]
    assert desk.ids("--since", "2026-11-03") == [t["mail"], t["meet"]]
    assert desk.ids("--until", "2026-11-03T12:00:00Z") == [t["meet"], t["road"], t["note"],
                                                            t["call"]]
    assert desk.ids("--account", "ACME", "--no-notes", "--limit", "2") == [t["mail"], t["meet"]]


def test_a_filter_naming_an_unknown_account_or_type_says_so(lite):
    _timeline_world(lite)
    out = lite.run("touchpoints", "--account", "ACMEE", expect=1).output
    assert "no account 'ACMEE'" in out and "ACME" in out
    lite.run("touchpoints", "--type", "fax", expect=2)
    lite.run("touchpoints", "--type", "email", "--notes", expect=2)
    lite.run("touchpoints", "--since", "yesterday", expect=2)


# --- the accounts summary ------------------------------------------------------------------------


def test_accounts_summary_counts_notes_apart(desk):
    t = _timeline_world(desk)
    rows = {r["account_id"]: r for r in desk.json("accounts")}
    assert rows["ACME"] == {"account_id": "ACME", "name": "Acme Corp",
                            "last_touch": "2026-11-03T18:00:00Z", "touches": 3, "notes": 1}
    assert rows["ROAD"]["touches"] == 1 and rows["ROAD"]["notes"] == 0
    assert rows["GLOBEX"] == {"account_id": "GLOBEX", "name": "Globex", "last_touch": None,
                              "touches": 0, "notes": 0}
    # a later note moves neither the last touch nor the touches
    desk.add("--type", "internal_note", "--date", "2026-12-01")
    [acme] = desk.json("accounts", "--account", "ACME")
    assert (acme["last_touch"], acme["touches"], acme["notes"]) == (
        "2026-11-03T18:00:00Z", 3, 2)
    desk.run("touchpoints", "delete", str(t["mail"]), "--as", "sam@ourco.com")
    [acme] = desk.json("accounts", "--account", "ACME")
    assert (acme["last_touch"], acme["touches"]) == ("2026-11-03T00:00:00Z", 2)


def test_accounts_summary_without_notes(lite):
    lite.add("--type", "telephone_call", "--date", "2026-11-05")
    [acme] = lite.json("accounts", "--account", "ACME")
    assert (acme["last_touch"], acme["touches"], acme["notes"]) == ("2026-11-05T00:00:00Z", 1, 0)
    assert "Acme Corp" in lite.run("accounts").output


# --- tasks ---------------------------------------------------------------------------------------


def _task(desk: Desk, *args: str, who: str = "sam@ourco.com") -> int:
    out = desk.run("tasks", "add", "--account", "ACME", "--as", who, *args).output
    return int(out.strip())


def test_tasks_add_list_filter_and_json(desk):
    a = _task(desk, "--title", "Send quote", "--due", "2026-11-20", "--priority", "High",
              "--assign", "ann@ourco.com", "--flow", "Renewal", "--description", "v2")
    b = _task(desk, "--title", "Call back")
    c = int(desk.run("tasks", "add", "--account", "ROAD", "--as", "bob@ourco.com", "--title",
                     "Road trip", "--due", "2026-11-10").output)
    assert [t["id"] for t in desk.json("tasks")] == [c, a, b]
    [task] = desk.json("tasks", "--assignee", "ann@ourco.com")
    assert {k: v for k, v in task.items() if k not in ("created_at",)} == {
        "id": a, "account_id": "ACME", "title": "Send quote", "description": "v2",
        "priority": "High", "status": "Open", "due_date": "2026-11-20",
        "assignee": "ann@ourco.com", "assigner": "sam@ourco.com", "flow": "Renewal",
        "updated_at": None, "external_id": None}
    assert [t["id"] for t in desk.json("tasks", "--account", "ACME")] == [a, b]
    desk.run("tasks", "done", str(b), "--as", "sam@ourco.com")
    assert [t["id"] for t in desk.json("tasks", "--status", "Completed")] == [b]
    assert [t["id"] for t in desk.json("tasks", "--status", "Open")] == [c, a]
    desk.run("tasks", "--account", "NOPE", expect=1)
    desk.run("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com", "--title", "x",
             "--assign", "wile@acme.com", expect=1)


@pytest.mark.parametrize("who, allowed", [("sam@ourco.com", True), ("bob@ourco.com", True),
                                          ("ann@ourco.com", True), ("carl@ourco.com", False),
                                          ("wile@acme.com", False)])
def test_the_assigner_the_assignee_or_an_admin_may_change_a_task(tmp_path, who, allowed):
    desk = _desk(tmp_path, "sqlite:///touchlog.db")
    desk.run("import", "team", str(_team_with_carl(tmp_path)))
    task = _task(desk, "--title", "Quote", "--assign", "bob@ourco.com")
    code = 0 if allowed else 1
    out = desk.run("tasks", "edit", str(task), "--as", who, "--priority", "Low",
                   expect=code).output
    if not allowed:
        assert ("only its assigner (sam@ourco.com), its assignee (bob@ourco.com) or an admin "
                "(ann@ourco.com) may") in out or "not a team member" in out
        desk.run("tasks", "done", str(task), "--as", who, expect=1)
        desk.run("tasks", "delete", str(task), "--as", who, expect=1)
        assert [t["priority"] for t in desk.json("tasks")] == ["Normal"]
        return
    desk.run("tasks", "done", str(task), "--as", who)
    desk.run("tasks", "delete", str(task), "--as", who)
    assert desk.json("tasks") == []


def _team_with_carl(folder: Path) -> Path:
    path = folder / "team2.csv"
    path.write_text(TEAM + "carl@ourco.com,Carl,user,\n")
    return path


def test_done_adds_the_follow_up_touchpoint_in_the_tasks_flow(desk):
    task = _task(desk, "--title", "Quote", "--flow", "Renewal", "--description", "sent v2")
    out = desk.run("tasks", "done", str(task), "--as", "sam@ourco.com", "--touchpoint",
                   "Quote sent", "--type", "email").output
    [tp] = desk.json("touchpoints")
    assert f"follow-up touchpoint {tp['id']} on ACME" in out
    assert (tp["subject"], tp["flow"], tp["type"], tp["content"], tp["source"]) == (
        "Quote sent", "Renewal", "email", "sent v2", "manual")
    [done] = desk.json("tasks")
    assert done["status"] == "Completed" and done["updated_at"] is not None
    out = desk.run("tasks", "done", str(task), "--as", "sam@ourco.com", expect=1).output
    assert "already completed" in out
