"""`touchlog sync salesforce --direction in`, conflicts, stops and the exact SOQL it sends."""

from datetime import UTC, datetime, timedelta

from sync import soql
from tests.sf_world import SfWorld

EXT = "Touchlog_Id__c"


def _event(w: SfWorld, **values):
    fields = {"WhatId": w.acme_sf, "Subject": "Visit", "Description": "On site",
              "ActivityDateTime": "2026-11-28T10:00:00Z", "DurationInMinutes": 60, **values}
    return w.fake.insert("Event", fields, by=w.mia_sf)


def test_events_and_tasks_made_in_salesforce_become_touchpoints_and_tasks(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    event = _event(w)
    _event(w, Subject=None, Description=None)  # neither: skipped
    _event(w, WhatId=fake.add_account("Not linked"))  # skipped
    task = fake.insert("Task", {"WhatId": w.acme_sf, "Subject": "Send quote",
                                "Priority": "High", "ActivityDate": "2026-12-09",
                                "OwnerId": w.jill_sf}, by=w.mia_sf)
    fake.insert("Task", {"WhatId": w.acme_sf, "Description": "no subject"}, by=w.mia_sf)
    counts = w.sync("--direction", "in")
    assert counts["Event in"] == {"created": 1, "updated": 0, "deleted": 0, "skipped": 2,
                                  "conflicts": 0, "errors": 0}
    assert (counts["Task in"]["created"], counts["Task in"]["skipped"]) == (1, 1)
    tps = w.touchpoints()
    assert [(t["source"], t["external_id"], t["creator"], t["subject"], t["occurred_at"])
            for t in tps] == [("salesforce", event.lower(), "mia@ourco.com", "Visit",
                               "2026-11-28T10:00:00Z")]
    assert tps[0]["updated_by"] == "mia@ourco.com" and tps[0]["account_id"] == "ACME"
    (row,) = w.local("Task")
    assert (row.title, row.priority, row.status, str(row.due_date), row.assignee_email,
            row.assigner_email, row.external_id) == \
        ("Send quote", "High", "Open", "2026-12-09", "jill@ourco.com", "mia@ourco.com",
         task.lower())
    assert w.sync("--direction", "in")["Event in"]["created"] == 0


def test_an_all_day_event_becomes_a_touchpoint_on_its_day(sf_world: SfWorld):
    """An all-day Event has an ActivityDate and no ActivityDateTime (SPEC 15: "ActivityDateTime
    or else ActivityDate"): logged at midnight UTC of its day."""
    w = sf_world
    event = w.fake.insert("Event", {"WhatId": w.acme_sf, "Subject": "Offsite",
                                    "IsAllDayEvent": True, "ActivityDate": "2026-11-20",
                                    "DurationInMinutes": 1440}, by=w.mia_sf)
    [record] = [r for r in w.fake.records("Event") if r["Id"] == event]
    assert record["ActivityDateTime"] is None  # as Salesforce keeps an all-day Event
    assert w.sync("--direction", "in")["Event in"]["created"] == 1
    [tp] = w.touchpoints()
    assert (tp["external_id"], tp["subject"], tp["occurred_at"], tp["account_id"]) == \
        (event.lower(), "Offsite", "2026-11-20T00:00:00Z", "ACME")


def test_edits_and_deletes_in_salesforce_reach_touchlog_once(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    event = _event(w)
    w.sync("--direction", "in")
    fake.update("Event", event, {"Subject": "Visit, moved"}, by=w.mia_sf)
    assert w.sync("--direction", "in")["Event in"]["updated"] == 1
    assert w.touchpoints()[0]["subject"] == "Visit, moved"
    assert w.sync("--direction", "in")["Event in"]["updated"] == 0
    fake.delete(event, by=w.mia_sf)
    assert w.sync("--direction", "in")["Event in"]["deleted"] == 1
    assert w.touchpoints() == []
    (row,) = w.local("Touchpoint")
    assert row.deleted_at is not None and row.deleted_by == "mia@ourco.com"
    both = w.sync()
    assert both["Event in"]["deleted"] == 0 and both["Event out"]["deleted"] == 0


def test_touchlogs_own_writes_are_not_imported_back(sf_world: SfWorld):
    w = sf_world
    w.add_touchpoint()
    w.add_task()
    w.sync("--direction", "out")
    counts = w.sync("--direction", "in")
    assert all(sum(c.values()) == 0 for c in counts.values()), counts
    assert len(w.local("Touchpoint")) == 1 and len(w.local("Task")) == 1


def test_changed_on_both_sides_the_later_change_wins_on_both_and_counts(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    ours = w.add_touchpoint(subject="ours")
    theirs = w.add_touchpoint(subject="theirs")
    w.sync()
    by_local = {r[EXT]: r["Id"] for r in fake.records("Event")}
    # Salesforce's edit of `ours` is older than touchlog's; its edit of `theirs` is newer.
    fake.frozen = datetime.now(UTC) - timedelta(minutes=1)
    fake.update("Event", by_local[str(ours)], {"Subject": "ours, edited in Salesforce"})
    fake.frozen = None
    w.edit("touchpoints", ours, "--subject", "ours, edited in touchlog")
    w.edit("touchpoints", theirs, "--subject", "theirs, edited in touchlog")
    fake.frozen = datetime.now(UTC) + timedelta(minutes=1)
    fake.update("Event", by_local[str(theirs)], {"Subject": "theirs, edited in Salesforce"})
    fake.frozen = None
    counts = w.sync()
    assert counts["Event in"]["conflicts"] + counts["Event out"]["conflicts"] == 2
    assert (counts["Event in"]["updated"], counts["Event out"]["updated"]) == (1, 1)
    subjects = {r[EXT]: r["Subject"] for r in fake.records("Event")}
    assert subjects == {str(ours): "ours, edited in touchlog",
                        str(theirs): "theirs, edited in Salesforce"}
    assert {t["subject"] for t in w.touchpoints()} == set(subjects.values())
    again = w.sync()
    assert all(c["conflicts"] == 0 and c["updated"] == 0 for c in again.values())


def test_an_expired_token_stops_the_run_and_the_next_catches_up_exactly_once(
        sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    for i in range(120):  # three pages of 50
        _event(w, Subject=f"visit {i}")
    fake.expire_after = 1  # the first page is read, the second is refused
    result = w.touchlog("sync", "salesforce", expect=1)
    assert result.output.strip().splitlines() == [
        f"touchlog: salesforce {fake.url[8:]}: the session was refused "
        "(INVALID_SESSION_ID: Session expired or invalid); renew the access token"]
    event_in = w.status()[("Event", "in")]
    assert event_in["status"] == "error" and "INVALID_SESSION_ID" in event_in["stopped"]
    assert len(w.touchpoints("--limit", "500")) == 50
    fake.tokens[fake.token] = fake.integration_user  # a new token
    assert w.sync("--direction", "in")["Event in"]["created"] == 70
    assert len(w.touchpoints("--limit", "500")) == 120


def test_the_soql_each_inbound_run_sends(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    event = _event(w)
    w.sync("--direction", "in")
    sent = [q for q in fake.soql]
    assert sent == [
        ("queryAll", soql.changed_since("Event", soql.EVENT_FIELDS, EXT, None)),
        ("queryAll", soql.changed_since("Task", soql.TASK_FIELDS, EXT, None))]
    stamp = fake.records("Event")[0]["SystemModstamp"]
    fake.soql.clear()
    w.write_settings(inbound_filter="Subject != 'private'")
    w.sync("--direction", "in")
    since = stamp.replace(tzinfo=None) - timedelta(minutes=5)
    assert fake.soql[0] == ("queryAll", (
        "SELECT Id, IsDeleted, AccountId, Subject, Description, ActivityDateTime, "
        "ActivityDate, CreatedDate, CreatedBy.Email, LastModifiedDate, LastModifiedBy.Email, "
        f"SystemModstamp, Touchlog_Id__c FROM Event WHERE SystemModstamp >= "
        f"{since:%Y-%m-%dT%H:%M:%S}Z AND AccountId != null AND (Subject != 'private') "
        "ORDER BY SystemModstamp, Id"))
    assert event


def test_create_missing_false_imports_nothing_new(sf_world: SfWorld):
    w = sf_world
    _event(w)
    w.write_settings(create_missing=False)
    assert w.sync("--direction", "in")["Event in"]["skipped"] == 1
    assert w.local("Touchpoint") == []
