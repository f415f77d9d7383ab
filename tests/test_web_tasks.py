"""The tasks on the web (SPEC 13, 21): `GET /tasks` lists what `touchlog tasks` lists with the
same filters; `POST /tasks`, `/tasks/ID/edit`, `/done`, `/delete` change them as the CLI does,
with the signed-in member as `--as`, for every role: anonymous, the member, another member, an
admin, a member who left the team."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from tests.review_world import assert_safe
from tests.web_world import HOSTILE, WebWorld, text_of


def cli_tasks(web: WebWorld, *args: str) -> list[dict]:
    return json.loads(web.touchlog("tasks", "--format", "json", *args))


def add_by_cli(web: WebWorld, *args: str, account: str = "ACME", who: str = "sam@ourco.com",
               title: str = "Send the quote") -> int:
    return int(web.touchlog("tasks", "add", "--account", account, "--as", who,
                            "--title", title, *args).strip())


def listed_ids(page_text: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="task-(\d+)">', page_text)]


# --- the list ------------------------------------------------------------------------------------


def test_the_list_and_its_filters_are_touchlog_tasks(any_web):
    web = any_web
    one = add_by_cli(web, "--due", "2026-11-20", "--priority", "High")
    two = add_by_cli(web, "--assign", "ann@ourco.com", account="ROAD", title="Call back")
    three = add_by_cli(web, who="ann@ourco.com", title="Renewal")
    web.touchlog("tasks", "done", str(three), "--as", "ann@ourco.com")
    sam = web.signed_in("sam@ourco.com")
    for query, cli in [({}, ()), ({"account": "ACME"}, ("--account", "ACME")),
                       ({"assignee": "ann@ourco.com"}, ("--assignee", "ann@ourco.com")),
                       ({"status": "Completed"}, ("--status", "Completed")),
                       ({"status": "Open", "account": "ACME"},
                        ("--status", "Open", "--account", "ACME"))]:
        page = sam.get("/tasks", query_string=query)
        assert page.status_code == 200, query
        assert listed_ids(page.text) == [t["id"] for t in cli_tasks(web, *cli)], query
    page = text_of(sam.get("/tasks"))
    assert listed_ids(sam.get("/tasks").text) == [one, two, three]  # soonest due first
    for words in ("Send the quote", "Acme Corp", "High", "2026-11-20", "ann@ourco.com",
                  "Call back", "Roadrunner Inc"):
        assert words in page, words


@pytest.mark.parametrize("query, field", [
    ({"status": "Someday"}, "status: 'Someday' is not one of Open, Completed"),
    ({"account": "NOPE"}, "account: no account 'NOPE'"),
    ({"page": "0"}, "page: '0' is not a page number"),
])
def test_a_bad_filter_is_400_naming_it(web, query, field):
    answer = web.signed_in("sam@ourco.com").get("/tasks", query_string=query)
    assert answer.status_code == 400
    assert field in text_of(answer)


def test_a_hostile_title_is_shown_as_text(web):
    add_by_cli(web, title=HOSTILE, account="EVIL")
    page = web.signed_in("sam@ourco.com").get("/tasks").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_every_field_is_labelled_and_the_table_reads_on_a_phone(web):
    add_by_cli(web)
    page = web.signed_in("sam@ourco.com").get("/tasks").text
    ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page)
    assert len(ids) > 10 and all(f'<label for="{i}">' in page for i in ids)
    assert len(ids) == len(set(ids))
    for label in ("Task", "Account", "Priority", "Status", "Due", "Assignee", "Change"):
        assert f'data-label="{label}"' in page


# --- adding --------------------------------------------------------------------------------------


def test_a_member_adds_a_task_as_its_assigner(any_web):
    web = any_web
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, "/tasks?status=Open", {
        "account": "ACME", "title": "Send the renewal quote", "description": "line 1\r\nline 2",
        "priority": "High", "due": "2026-11-20", "assign": "ann@ourco.com", "flow": "Renewal"},
        form_page="/tasks")
    assert answer.status_code == 303
    [task] = cli_tasks(web)
    assert answer.headers["Location"] == f"/tasks?status=Open&done=added&task={task['id']}"
    assert {k: task[k] for k in ("account_id", "title", "description", "priority", "status",
                                 "due_date", "assignee", "assigner", "flow")} == {
        "account_id": "ACME", "title": "Send the renewal quote", "description": "line 1\nline 2",
        "priority": "High", "status": "Open", "due_date": "2026-11-20",
        "assignee": "ann@ourco.com", "assigner": "sam@ourco.com", "flow": "Renewal"}
    assert web.changes() == [("sam@ourco.com", "add", f"task {task['id']}")]
    assert f"Task {task['id']} added." in text_of(sam.get(answer.headers["Location"]))


def test_a_task_is_assigned_to_its_author_by_default(web):
    sam = web.signed_in("sam.alias@ourco.com")  # an alias signs in as its member
    web.post(sam, "/tasks", {"account": "ROAD", "title": "Follow up"}, form_page="/tasks")
    [task] = cli_tasks(web)
    assert (task["assignee"], task["assigner"], task["priority"]) == \
        ("sam@ourco.com", "sam@ourco.com", "Normal")


@pytest.mark.parametrize("form, words", [
    ({"title": "x"}, "account: required"),
    ({"account": "ACME"}, "title: required"),
    ({"account": "NOPE", "title": "x"}, "account: no account 'NOPE'"),
    ({"account": "ACME", "title": "x", "priority": "Urgent"},
     "priority: 'Urgent' is not one of High, Normal, Low"),
    ({"account": "ACME", "title": "x", "due": "tomorrow"},
     "due: 'tomorrow' is not a date (2026-11-02)"),
    ({"account": "ACME", "title": "x", "assign": "bob@elsewhere.com"},
     "assign: not a team member"),
    ({"account": "ACME", "title": "x" * 1001}, "title: at most 1,000 characters"),
])
def test_bad_input_is_400_naming_the_field_and_adds_nothing(web, form, words):
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, "/tasks", form, form_page="/tasks")
    assert answer.status_code == 400
    assert words in text_of(answer)
    assert cli_tasks(web) == [] and web.changes() == []


def test_a_flow_outside_touchpoints_flows_is_400(web):
    st = web.app.extensions["touchlog"]
    st.settings = replace(st.settings, touchpoints=replace(st.settings.touchpoints,
                                                           flows=("Renewal", "Onboarding")))
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, "/tasks", {"account": "ACME", "title": "x", "flow": "Upsell"},
                      form_page="/tasks")
    assert answer.status_code == 400
    assert "flow: 'Upsell' is not one of touchpoints.flows: Renewal, Onboarding" in \
        text_of(answer)
    assert '<datalist id="flows">' in sam.get("/tasks").text


def test_a_removed_account_takes_no_new_task(web):
    path = web.folder / "accounts-next.csv"
    path.write_text("account_id,name\nACME,Acme Corp\n")
    web.touchlog("import", "accounts", str(path), "--replace")
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, "/tasks", {"account": "ROAD", "title": "x"}, form_page="/tasks")
    assert answer.status_code == 400
    assert "account: account 'ROAD' was removed from the directory" in text_of(answer)


# --- who may change a task -----------------------------------------------------------------------

CHANGES = [("edit", {"title": "Renamed"}), ("done", {}), ("delete", {})]


@pytest.mark.parametrize("verb, form", CHANGES)
def test_another_member_is_refused_with_the_clis_words(any_web, verb, form):
    web = any_web
    task = add_by_cli(web, "--assign", "ann@ourco.com")
    eve = web.signed_in("eve@ourco.com")
    answer = web.post(eve, f"/tasks/{task}/{verb}", form, form_page="/tasks")
    assert answer.status_code == 403
    said = "complete" if verb == "done" else verb
    assert (f"eve@ourco.com may not {said} task {task}: only its assigner (sam@ourco.com), "
            f"its assignee (ann@ourco.com) or an admin (ann@ourco.com) may") in text_of(answer)
    [after] = cli_tasks(web)
    assert (after["title"], after["status"]) == ("Send the quote", "Open")
    assert web.changes() == []
    # Eve sees the task, but no control that would only be refused.
    page = eve.get("/tasks").text
    assert f'action="/tasks/{task}/{verb}"' not in page
    assert "its assigner, its assignee or an admin" in page


@pytest.mark.parametrize("who", ["sam@ourco.com", "ann@ourco.com"])
@pytest.mark.parametrize("verb, form", CHANGES)
def test_the_assigner_the_assignee_and_an_admin_may(web, who, verb, form):
    task = add_by_cli(web, "--assign", "eve@ourco.com")  # ann is here as the admin
    for person in (who, "eve@ourco.com"):
        if verb != "edit" and person != who:
            continue
        browser = web.signed_in(person)
        assert f'action="/tasks/{task}/{verb}"' in browser.get("/tasks").text
        answer = web.post(browser, f"/tasks/{task}/{verb}",
                          {"title": f"by {person}"} if verb == "edit" else form,
                          form_page="/tasks")
        assert answer.status_code == 303, text_of(answer)
    action = {"edit": "edit", "done": "done", "delete": "delete"}[verb]
    assert (who, action, f"task {task}") in web.changes()


def test_editing_changes_only_what_the_form_changed(any_web):
    web = any_web
    task = add_by_cli(web, "--assign", "eve@ourco.com", "--due", "2026-11-20",
                      "--description", "as agreed")
    web.import_team("email,name,role\nsam@ourco.com,Sam,user\nann@ourco.com,Ann,admin\n",
                    "--replace")  # the assignee left: the form still shows her address
    ann = web.signed_in("ann@ourco.com")
    shown = {"title": "Send the quote", "description": "as agreed", "priority": "Normal",
             "status": "Open", "due": "2026-11-20", "assign": "eve@ourco.com", "flow": ""}
    same = web.post(ann, f"/tasks/{task}/edit", shown, form_page="/tasks")
    assert same.status_code == 303 and "done=unchanged" in same.headers["Location"]
    assert "left as it was" in text_of(ann.get(same.headers["Location"]))
    answer = web.post(ann, f"/tasks/{task}/edit?account=ACME",
                      {**shown, "priority": "Low", "due": "2026-12-01"}, form_page="/tasks")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/tasks?account=ACME&done=edited&task={task}"
    [after] = cli_tasks(web)
    assert (after["priority"], after["due_date"], after["assignee"], after["description"]) == \
        ("Low", "2026-12-01", "eve@ourco.com", "as agreed")
    assert web.changes() == [("ann@ourco.com", "edit", f"task {task}")]


def test_done_with_a_follow_up_touchpoint_as_tasks_done_touchpoint(any_web):
    web = any_web
    task = add_by_cli(web, "--flow", "Renewal", "--description", "Quote for 2027")
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/tasks/{task}/done",
                      {"touchpoint": "Quote sent", "type": "email"}, form_page="/tasks")
    assert answer.status_code == 303
    tps = json.loads(web.touchlog("touchpoints", "--account", "ACME", "--format", "json"))
    [tp] = tps
    assert (tp["subject"], tp["type"], tp["flow"], tp["content"], tp["creator"]) == \
        ("Quote sent", "email", "Renewal", "Quote for 2027", "sam@ourco.com")
    assert cli_tasks(web)[0]["status"] == "Completed"
    assert web.changes() == [("sam@ourco.com", "add", f"touchpoint {tp['id']}"),
                               ("sam@ourco.com", "done", f"task {task}")]
    assert f"Task {task} completed; follow-up touchpoint {tp['id']} added." in \
        text_of(sam.get(answer.headers["Location"]))
    again = web.post(sam, f"/tasks/{task}/done", {}, form_page="/tasks")
    assert again.status_code == 400 and "is already completed" in text_of(again)


def test_done_without_a_subject_adds_no_touchpoint(web):
    task = add_by_cli(web)
    sam = web.signed_in("sam@ourco.com")
    assert web.post(sam, f"/tasks/{task}/done", {"touchpoint": " "},
                    form_page="/tasks").status_code == 303
    assert json.loads(web.touchlog("touchpoints", "--format", "json")) == []
    answer = web.post(sam, f"/tasks/{add_by_cli(web)}/done",
                      {"touchpoint": "x", "type": "carrier_pigeon"}, form_page="/tasks")
    assert answer.status_code == 400 and "type: 'carrier_pigeon' is not one of" in \
        text_of(answer)


def test_a_deleted_task_is_gone_from_the_list_and_cannot_be_changed(web):
    task = add_by_cli(web)
    sam = web.signed_in("sam@ourco.com")
    assert web.post(sam, f"/tasks/{task}/delete", form_page="/tasks").status_code == 303
    assert listed_ids(sam.get("/tasks").text) == [] and cli_tasks(web) == []
    answer = web.post(sam, f"/tasks/{task}/edit", {"title": "x"}, form_page="/tasks")
    assert answer.status_code == 400
    assert f"task {task} was deleted by sam@ourco.com" in text_of(answer)


@pytest.mark.parametrize("task_id", ["0", "abc", "9223372036854775808", "999", "-1"])
@pytest.mark.parametrize("verb", ["edit", "done", "delete"])
def test_an_id_that_names_no_task_is_404(web, task_id, verb):
    sam = web.signed_in("sam@ourco.com")
    assert web.post(sam, f"/tasks/{task_id}/{verb}", {"title": "x"},
                    form_page="/tasks").status_code == 404


# --- without a session ---------------------------------------------------------------------------


def test_anonymous_and_departed_members_get_nothing(any_web):
    web = any_web
    task = add_by_cli(web)
    sam = web.signed_in("sam@ourco.com")
    token = web.csrf(sam, "/tasks")
    anon = web.client()
    assert anon.get("/tasks").headers["Location"] == "/login"
    assert anon.post("/tasks", data={"account": "ACME", "title": "x"}).status_code == 401
    web.import_team("email,name,role\nann@ourco.com,Ann,admin\n", "--replace")
    assert sam.get("/tasks").status_code == 302
    for path in ("/tasks", f"/tasks/{task}/edit", f"/tasks/{task}/done",
                 f"/tasks/{task}/delete"):
        answer = sam.post(path, data={"csrf_token": token, "account": "ACME", "title": "x"})
        assert answer.status_code == 401, path
    assert [t["status"] for t in cli_tasks(web)] == ["Open"] and web.changes() == []


def test_a_post_without_the_csrf_token_changes_nothing(web):
    task = add_by_cli(web)
    sam = web.signed_in("sam@ourco.com")
    assert sam.post(f"/tasks/{task}/delete").status_code == 400
    assert sam.post("/tasks", data={"account": "ACME", "title": "x"}).status_code == 400
    assert len(cli_tasks(web)) == 1


def test_every_answer_sends_the_security_headers_and_no_inline_script(web):
    task = add_by_cli(web, "--assign", "ann@ourco.com")
    sam, eve = web.signed_in("sam@ourco.com"), web.signed_in("eve@ourco.com")
    assert_safe(sam.get("/tasks"))
    assert_safe(sam.get("/tasks?status=x"), 400)
    assert_safe(web.post(eve, f"/tasks/{task}/done", form_page="/tasks"), 403)
    assert_safe(web.post(sam, "/tasks/0/done", form_page="/tasks"), 404)
    added = web.post(sam, "/tasks", {"account": "ACME", "title": "x"}, form_page="/tasks")
    assert added.status_code == 303 and added.headers["X-Frame-Options"] == "DENY"
    assert_safe(sam.get(added.headers["Location"]))
