"""The sync's pure parts: Salesforce Ids, the SOQL it sends (a contract), the default mapping."""

from datetime import date, datetime

import pytest

from core.salesforce_ids import restore_case, with_suffix
from sync import mapping, soql
from sync.mapping import LocalTask, LocalTouchpoint
from sync.remote import read

EXT = "Touchlog_Id__c"


@pytest.mark.parametrize("id15", ["001Dk00000AbCdE", "00U5g000003XyZq", "005000000000000"])
def test_a_lower_case_external_id_gives_back_the_exact_salesforce_id(id15):
    exact = with_suffix(id15)
    assert len(exact) == 18
    assert restore_case(exact.lower()) == exact
    assert restore_case(exact) == exact


def test_the_case_safe_suffix_is_salesforces():
    # Salesforce's documented example pair.
    assert with_suffix("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    with pytest.raises(ValueError):
        restore_case("001A0000006Vm9r")


def test_inbound_soql_is_exactly_this():
    since = datetime(2026, 12, 1, 8, 55, 0)
    assert soql.changed_since("Event", soql.EVENT_FIELDS, EXT, since) == (
        "SELECT Id, IsDeleted, AccountId, Subject, Description, ActivityDateTime, ActivityDate, "
        "CreatedDate, CreatedBy.Email, LastModifiedDate, LastModifiedBy.Email, SystemModstamp, "
        "Touchlog_Id__c FROM Event WHERE SystemModstamp >= 2026-12-01T08:55:00Z AND "
        "AccountId != null ORDER BY SystemModstamp, Id")
    assert soql.changed_since("Task", soql.TASK_FIELDS, EXT, None, "Type = 'Call'") == (
        "SELECT Id, IsDeleted, AccountId, Subject, Description, Priority, Status, IsClosed, "
        "ActivityDate, Owner.Email, CreatedDate, CreatedBy.Email, LastModifiedDate, "
        "LastModifiedBy.Email, SystemModstamp, Touchlog_Id__c FROM Task WHERE "
        "AccountId != null AND (Type = 'Call') ORDER BY SystemModstamp, Id")


def test_lookup_soql_is_exactly_this_and_quotes_what_it_embeds():
    assert soql.users_by_email(["jill@ourco.com", "o'neil@ourco.com"]) == (
        "SELECT Id, Email FROM User WHERE IsActive = true AND Email IN "
        "('jill@ourco.com', 'o\\'neil@ourco.com')")
    assert soql.contacts_by_email(["a@cust.com"]) == (
        "SELECT Id, Email, AccountId FROM Contact WHERE Email IN ('a@cust.com')")
    assert soql.current("Task", soql.TASK_FIELDS, EXT, ["00T000000000001AAA"]) == (
        "SELECT Id, IsDeleted, AccountId, Subject, Description, Priority, Status, IsClosed, "
        "ActivityDate, Owner.Email, CreatedDate, CreatedBy.Email, LastModifiedDate, "
        "LastModifiedBy.Email, SystemModstamp, Touchlog_Id__c FROM Task "
        "WHERE Id IN ('00T000000000001AAA')")


def _touchpoint(**changes):
    values = dict(id=7, what_id="001Dk0000000001IAA", subject="Kickoff", content="Notes",
                  occurred_at=datetime(2026, 11, 30, 14, 5, 9, 123456), creator="jill@ourco.com",
                  external=("bob@cust.com", "ann@cust.com"))
    values.update(changes)
    return LocalTouchpoint(**values)


def test_a_touchpoint_maps_to_an_event_with_whatid_only_on_create():
    users = {"jill@ourco.com": "005Dk0000000001IAA"}
    contacts = {"ann@cust.com": "003Dk0000000002IAA"}
    created = mapping.event_record(_touchpoint(subject="S" * 300, content="C" * 40_000), EXT,
                                   users, contacts, creating=True)
    assert created == {EXT: "7", "Subject": "S" * 255, "Description": "C" * 32_000,
                       "ActivityDateTime": "2026-11-30T14:05:09Z", "DurationInMinutes": 0,
                       "WhatId": "001Dk0000000001IAA", "OwnerId": "005Dk0000000001IAA",
                       "WhoId": "003Dk0000000002IAA"}
    updated = mapping.event_record(_touchpoint(creator="new@ourco.com"), EXT, users, {},
                                   creating=False)
    assert "WhatId" not in updated and "OwnerId" not in updated and "WhoId" not in updated


def test_a_task_maps_to_a_task():
    task = LocalTask(3, "001Dk0000000001IAA", "Call back", "about renewal", "High", "Completed",
                     date(2026, 12, 5), "jill@ourco.com")
    assert mapping.task_record(task, EXT, {"jill@ourco.com": "005X"}, creating=True) == {
        EXT: "3", "Subject": "Call back", "Description": "about renewal", "Priority": "High",
        "Status": "Completed", "ActivityDate": "2026-12-05", "WhatId": "001Dk0000000001IAA",
        "OwnerId": "005X"}
    open_task = LocalTask(3, "w", "t", "", "Normal", "Open", None, "")
    assert mapping.task_record(open_task, EXT, {}, creating=False)["Status"] == "Not Started"


def test_an_event_read_back_has_the_fingerprint_of_what_was_sent():
    tp = _touchpoint(subject="S" * 300)
    sent = mapping.touchpoint_fingerprint(tp.subject, tp.content, tp.occurred_at)
    record = {**EVENT, "AccountId": tp.what_id, "Subject": "S" * 255, "Description": "Notes",
              "ActivityDateTime": "2026-11-30T14:05:09.000+0000",
              "CreatedBy": {"Email": "Jill@OurCo.com"}, "LastModifiedBy": None}
    remote = read(record, soql.EVENT_FIELDS, EXT, False, NOW)
    assert mapping.remote_fingerprint(remote, is_task=False) == sent
    assert remote.created_by == "jill@ourco.com" and remote.modified_by == ""
    assert remote.modstamp == datetime(2026, 12, 1, 9, 0, 1) and remote.claim == 7


def test_records_without_subject_or_description_are_not_importable():
    def event(**fields):
        return read({**EVENT, **fields}, soql.EVENT_FIELDS, EXT, False, NOW)

    def task(**fields):
        return read({**TASK, **fields}, soql.TASK_FIELDS, EXT, True, NOW)

    assert not mapping.importable(event(Subject=" ", Description=None), False)
    assert mapping.importable(event(Subject=None, Description="d"), False)
    assert not mapping.importable(task(Subject=None), True)
    assert task(Subject="s", IsClosed=True).status == "Completed"


NOW = datetime(2026, 12, 1, 10, 0)
EVENT = {"Id": "00UDk0000000001IAA", "IsDeleted": False, "AccountId": "001Dk0000000001IAA",
         "Subject": "s", "Description": "d", "ActivityDateTime": None,
         "ActivityDate": "2026-11-30", "CreatedDate": "2026-12-01T09:00:00.000+0000",
         "CreatedBy": None, "LastModifiedDate": "2026-12-01T09:00:00.000+0000",
         "LastModifiedBy": None, "SystemModstamp": "2026-12-01T09:00:01.000+0000", EXT: "7"}
TASK = {**{k: v for k, v in EVENT.items() if k != "ActivityDateTime"}, "Id": "00TDk0000000001IAA",
        "Priority": "Normal", "Status": "Not Started", "IsClosed": False, "Owner": None}
