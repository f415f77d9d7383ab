"""`touchlog sync salesforce --direction out` against the fake Salesforce, as a user runs it."""

from tests.sf_world import SfWorld


def test_touchpoints_and_tasks_of_linked_accounts_become_events_and_tasks(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    tp = w.add_touchpoint(subject="S" * 300, content="We met.")
    w.add_touchpoint(account="ROAD", subject="not linked")
    task = w.add_task()
    counts = w.sync("--direction", "out")
    assert counts["Event out"] == {"created": 1, "updated": 0, "deleted": 0, "skipped": 1,
                                   "conflicts": 0, "errors": 0}
    assert counts["Task out"]["created"] == 1
    (event,) = fake.records("Event")
    assert event["WhatId"] == event["AccountId"] == w.acme_sf
    assert event["Subject"] == "S" * 255 and event["Description"] == "We met."
    assert event["DurationInMinutes"] == 0 and event["Touchlog_Id__c"] == str(tp)
    assert event["OwnerId"] == w.jill_sf and event["WhoId"] == w.wile_sf
    (sf_task,) = fake.records("Task")
    assert (sf_task["Subject"], sf_task["Status"], sf_task["OwnerId"]) == \
        ("Call back", "Not Started", w.jill_sf)
    assert str(sf_task["ActivityDate"]) == "2026-12-05"
    (row,) = w.local("Touchpoint", id=tp)
    assert row.external_id == event["Id"].lower()
    assert w.local("Task", id=task)[0].external_id == sf_task["Id"].lower()


def test_a_rerun_creates_nothing_an_edit_updates_the_same_record_a_delete_deletes_it(
        sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    tp = w.add_touchpoint()
    w.sync("--direction", "out")
    writes = [r for r in fake.requests if r[0] in ("PATCH", "DELETE")]
    assert w.sync("--direction", "out")["Event out"]["created"] == 0
    assert [r for r in fake.requests if r[0] in ("PATCH", "DELETE")] == writes
    (before,) = fake.records("Event")
    fake.update("Event", before["Id"], {"WhatId": fake.add_account("Other")})
    w.edit("touchpoints", tp, "--subject", "Kickoff, corrected")
    assert w.sync("--direction", "out")["Event out"]["updated"] == 1
    (after,) = fake.records("Event")
    assert after["Id"] == before["Id"] and after["Subject"] == "Kickoff, corrected"
    assert after["WhatId"] != w.acme_sf  # WhatId is set on create, never rewritten
    w.delete("touchpoints", tp)
    assert w.sync("--direction", "out")["Event out"]["deleted"] == 1
    assert fake.records("Event") == [] and len(fake.records("Event", deleted=True)) == 1
    assert w.sync("--direction", "out")["Event out"]["deleted"] == 0


def test_an_answer_lost_after_salesforce_wrote_never_makes_a_second_record(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    for i in range(3):
        w.add_touchpoint(subject=f"tp {i}")
    fake.drop_after_write = 1  # Salesforce commits the upsert, its answer never arrives
    result = w.touchlog("sync", "salesforce", "--direction", "out", expect=1)
    assert result.output.count("\n") == 1 and "connection lost" in result.output
    assert len(fake.records("Event")) == 3
    assert all(row.external_id is None for row in w.local("Touchpoint"))
    counts = w.sync("--direction", "out")["Event out"]
    assert (counts["created"], counts["updated"]) == (0, 3)
    assert len(fake.records("Event")) == 3
    assert all(row.external_id for row in w.local("Touchpoint"))


def test_refused_records_are_counted_and_shown_and_the_run_goes_on(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    (w.folder / "accounts.csv").write_text(
        "account_id,name,salesforce_id\nROAD,Roadrunner Inc,001Dk00000Zz9yXIAR\n")
    w.touchlog("import", "accounts", str(w.folder / "accounts.csv"))
    w.add_touchpoint(account="ROAD", subject="on a deleted Salesforce account")
    w.add_touchpoint(subject="fine")
    counts = w.sync("--direction", "out")["Event out"]
    assert (counts["created"], counts["errors"]) == (1, 1)
    status = w.status()
    (error,) = status[("Event", "out")]["errors"]
    assert error["code"] == "FIELD_INTEGRITY_EXCEPTION" and "Related To ID" in error["message"]
    assert [r["errors"] for key, r in status.items() if key != ("Event", "out")] == [[], [], []]
    table = w.touchlog("sync", "status").output
    assert "refused: Event out" in table and "FIELD_INTEGRITY_EXCEPTION" in table
    assert [r["Subject"] for r in fake.records("Event")] == ["fine"]


def test_dry_run_writes_nothing_anywhere(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    w.add_touchpoint()
    w.add_task()
    output = w.touchlog("sync", "salesforce", "--dry-run").output
    assert "dry run, nothing written: Event out: created 1" in output
    assert not [r for r in fake.requests if r[0] in ("PATCH", "DELETE", "POST")]
    assert fake.records("Event") == [] and all(r["last_run"] is None for r in w.status().values())
    assert all(row.external_id is None for row in w.local("Touchpoint"))


def test_create_missing_false_creates_nothing_but_updates_what_is_linked(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    linked = w.add_touchpoint(subject="linked")
    w.sync("--direction", "out")
    w.write_settings(create_missing=False)
    w.add_touchpoint(subject="new")
    w.edit("touchpoints", linked, "--subject", "linked, edited")
    counts = w.sync("--direction", "out")["Event out"]
    assert (counts["created"], counts["updated"], counts["skipped"]) == (0, 1, 1)
    assert [r["Subject"] for r in fake.records("Event")] == ["linked, edited"]
