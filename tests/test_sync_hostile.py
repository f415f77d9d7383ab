"""SPEC 20, "Salesforce is input too": a record touchlog cannot use is an error with its reason,
never a stop; what a Salesforce user writes is kept as text. Against the fake Salesforce, whose
`tampered` answers stand for a broken or hostile server (see tests/fake_salesforce.py)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from tests.fake_salesforce import DROP
from tests.sf_world import SfWorld

EXT = "Touchlog_Id__c"


def _event(w: SfWorld, account: str | None = None, **values: Any) -> str:
    fields = {"WhatId": account or w.acme_sf, "Subject": "Visit", "Description": "On site",
              "ActivityDateTime": "2026-11-28T10:00:00Z", "DurationInMinutes": 60, **values}
    return w.fake.insert("Event", fields, by=w.mia_sf)


def _task(w: SfWorld, **values: Any) -> str:
    fields = {"WhatId": w.acme_sf, "Subject": "Send quote", "ActivityDate": "2026-12-09",
              **values}
    return w.fake.insert("Task", fields, by=w.mia_sf)


def _stamp(w: SfWorld, sobject: str, record_id: str) -> str:
    (row,) = [r for r in w.fake.records(sobject, deleted=True) if r["Id"] == record_id]
    return f"{row['SystemModstamp'].astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def _sync_goes_on(w: SfWorld) -> dict[str, dict[str, int]]:
    """`sync salesforce` (both directions) exits 0 without a traceback, whatever it read."""
    result = w.touchlog("sync", "salesforce", expect=None)
    assert result.exit_code == 0 and "Traceback" not in result.output, \
        (result.output, result.exception)
    return w.sync()  # and again: nothing it read the first time stops the second


@pytest.mark.parametrize("external_id", [
    "²", "99999999999999999999", "9223372036854775808", "-1", "007", "0", "SAP-4711", " 7",
    "+7", "1_000", "٣", "7\n",
])
def test_an_external_id_touchlog_never_wrote_is_an_error_and_the_run_goes_on(
        sf_world: SfWorld, external_id: str):
    w = sf_world
    local = w.add_touchpoint(subject="ours")
    bad = _event(w, **{EXT: external_id, "Subject": "foreign"})
    _event(w, account=w.fake.add_account("Not linked"), **{EXT: external_id})
    good = _event(w, Subject="fine")
    first = w.touchlog("sync", "salesforce", expect=None)
    assert first.exit_code == 0 and "Traceback" not in first.output, first.output
    status = w.status()
    event_in = status[("Event", "in")]
    assert event_in["counts"] == {"created": 1, "updated": 0, "deleted": 0, "skipped": 1,
                                  "conflicts": 0, "errors": 1}
    (error,) = event_in["errors"]
    assert (error["salesforce_id"], error["code"]) == (bad, "unusable_external_id")
    assert error["message"].startswith(f"{EXT} ") and "is not a touchlog id" in error["message"]
    assert event_in["watermark"] >= _stamp(w, "Event", good) >= _stamp(w, "Event", bad)
    assert status[("Event", "out")]["counts"]["created"] == 1  # outbound still ran
    assert {t["subject"] for t in w.touchpoints()} == {"ours", "fine"}
    assert [r["Subject"] for r in w.fake.records("Event") if r[EXT] == str(local)] == ["ours"]
    table = w.touchlog("sync", "status").output
    assert "unusable_external_id" in table and bad in table


# (field, the value the answer carries instead, what the reason says)
EVENT_SHAPES = [
    ("CreatedBy", "mia@ourco.com", "CreatedBy is text, not an object"),
    ("CreatedBy", {"Name": "Mia"}, "CreatedBy.Email is missing"),
    ("LastModifiedBy", {"Email": 5}, "LastModifiedBy.Email is a number, not text"),
    ("SystemModstamp", "yesterday", "SystemModstamp is not a date and time"),
    ("ActivityDateTime", "2026-13-45T99:00:00Z", "ActivityDateTime is not a date and time"),
    ("ActivityDate", "soon", "ActivityDate is not a date"),
    ("CreatedDate", 1764583200, "CreatedDate is a number, not text"),
    ("Subject", 42, "Subject is a number, not text"),
    ("Description", ["On", "site"], "Description is a list, not text"),
    ("IsDeleted", "yes", "IsDeleted is text, not true or false"),
    ("AccountId", 5, "AccountId is a number, not text"),
    ("Subject", DROP, "Subject is missing"),
    ("CreatedBy", DROP, "CreatedBy is missing"),
    ("SystemModstamp", DROP, "SystemModstamp is missing"),
    (EXT, 5, f"{EXT} 5 is not a touchlog id"),
    (EXT, ["7"], f'{EXT} ["7"] is not a touchlog id'),
    ("SystemModstamp", "9999-12-31T23:59:59.000+0000",
     "SystemModstamp is in the future (9999-12-31T23:59:59Z)"),
]


@pytest.mark.parametrize("field, value, reason", EVENT_SHAPES,
                         ids=[f"{f}={v!r}"[:40] for f, v, _ in EVENT_SHAPES])
def test_an_event_of_the_wrong_shape_is_an_error_with_its_reason(sf_world: SfWorld, field, value,
                                                                  reason):
    w = sf_world
    w.add_touchpoint(subject="ours")
    bad = _event(w, Subject="broken")
    good = _event(w, Subject="fine")
    w.fake.tampered[bad] = {field: value}
    counts = _sync_goes_on(w)
    event_in = w.status()[("Event", "in")]
    (error,) = event_in["errors"]
    code = "unusable_external_id" if field == EXT else "unusable_field"
    assert (error["salesforce_id"], error["code"]) == (bad, code)
    assert error["message"] == reason or (field == EXT and error["message"].startswith(reason))
    assert event_in["watermark"] >= _stamp(w, "Event", good)
    assert {t["subject"] for t in w.touchpoints()} == {"ours", "fine"}
    assert counts["Event in"]["errors"] == 1 and counts["Event out"]["errors"] == 0


@pytest.mark.parametrize("tampered, reason", [
    ({"Id": 12345}, "Id is a number, not text"),
    ({"Id": "../../sobjects/User"}, 'Id "../../sobjects/User" is not a Salesforce Id'),
    ({"Id": DROP}, "Id is missing"),
    ("just text", "the record is text, not an object"),
    (None, "the record is null, not an object"),
])
def test_a_record_without_a_usable_id_is_an_error_too(sf_world: SfWorld, tampered, reason):
    w = sf_world
    bad = _event(w, Subject="broken")
    _event(w, Subject="fine")
    w.fake.tampered[bad] = tampered
    _sync_goes_on(w)
    (error,) = w.status()[("Event", "in")]["errors"]
    assert (error["salesforce_id"], error["code"], error["message"]) == \
        (None, "unusable_field", reason)
    assert [t["subject"] for t in w.touchpoints()] == ["fine"]


@pytest.mark.parametrize("field, value, reason", [
    ("IsClosed", "no", "IsClosed is text, not true or false"),
    ("Priority", 3, "Priority is a number, not text"),
    ("ActivityDate", "soon", "ActivityDate is not a date"),
    ("Owner", "jill@ourco.com", "Owner is text, not an object"),
    ("Status", DROP, "Status is missing"),
])
def test_a_task_of_the_wrong_shape_is_an_error_with_its_reason(sf_world: SfWorld, field, value,
                                                                reason):
    w = sf_world
    bad = _task(w, Subject="broken")
    _task(w, Subject="fine")
    w.fake.tampered[bad] = {field: value}
    counts = _sync_goes_on(w)
    (error,) = w.status()[("Task", "in")]["errors"]
    assert (error["salesforce_id"], error["code"], error["message"]) == \
        (bad, "unusable_field", reason)
    assert [t.title for t in w.local("Task")] == ["fine"]
    assert counts["Task in"]["errors"] == 1


def test_an_unlinked_account_stays_skipped_whatever_its_record_holds(sf_world: SfWorld):
    w = sf_world
    other = w.fake.add_account("Not linked")
    bad = _event(w, account=other, **{EXT: "²"})
    w.fake.tampered[bad] = {"CreatedBy": "mia", "Subject": 42}
    assert w.sync()["Event in"] == {"created": 0, "updated": 0, "deleted": 0, "skipped": 1,
                                    "conflicts": 0, "errors": 0}
    assert w.status()[("Event", "in")]["errors"] == []


def test_no_value_in_any_field_stops_the_sync(sf_world: SfWorld):
    """Every field the queries ask for, each holding each wrong kind of value: one error each,
    and the run goes on (no traceback, whatever a record holds)."""
    from sync import soql

    w = sf_world
    garbage: list[Any] = [12, 2.5, True, ["x"], {"x": 1}, "\x00\ud800", "9" * 400]
    expected = {"Event": 0, "Task": 0}
    for sobject, fields in (("Event", soql.EVENT_FIELDS), ("Task", soql.TASK_FIELDS)):
        for name in [*(f.split(".")[0] for f in fields), EXT]:
            for value in garbage:
                if isinstance(value, str) and name in ("Subject", "Description", "Priority",
                                                       "Status"):
                    continue  # text in a text field is fine
                if value is True and name in ("IsDeleted", "IsClosed"):
                    continue
                made = _event(w) if sobject == "Event" else _task(w)
                w.fake.tampered[made] = {name: value}
                expected[sobject] += 1
    _event(w, Subject="fine")
    result = w.touchlog("sync", "salesforce", expect=None)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    status = w.status()
    assert len(status[("Event", "in")]["errors"]) == expected["Event"]
    assert len(status[("Task", "in")]["errors"]) == expected["Task"]
    assert [t["subject"] for t in w.touchpoints()] == ["fine"]


NASTY = ("[/b] [link=file:///etc/passwd]click[/link] \x1b]8;;https://evil.example\x1b\\x\x1b]8;;"
         "\x1b\\ \x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c %s {0} ${HOME} $(id) `id` <b>&amp;")


def test_salesforce_text_is_stored_as_text_and_nothing_interprets_it(sf_world: SfWorld):
    w = sf_world
    odd = w.fake.add_user("mia\x1b[31m+[b]@acme.com", "Mia \x1b[31m[b]")
    description = NASTY + "\x00" + "\u0085\u009b" + "é" * 20_000
    event = _event(w, Subject=NASTY[:255], Description=description)
    task = w.fake.insert("Task", {"WhatId": w.acme_sf, "Subject": NASTY[:255],
                                  "Description": NASTY, "OwnerId": odd}, by=odd)
    counts = _sync_goes_on(w)
    (tp,) = w.local("Touchpoint")
    assert (tp.subject, tp.content) == (NASTY[:255], description.replace("\x00", "\ufffd"))
    assert tp.external_id == event.lower() and tp.creator_email == "mia@ourco.com"
    (row,) = w.local("Task")
    assert (row.title, row.description, row.assignee_email, row.assigner_email) == \
        (NASTY[:255], NASTY, "mia\x1b[31m+[b]@acme.com", "mia\x1b[31m+[b]@acme.com")
    assert row.external_id == task.lower()
    assert all(c["updated"] == c["created"] == c["errors"] == 0 for c in counts.values()), counts
    (sf_event,) = w.fake.records("Event")
    assert sf_event["Subject"] == NASTY[:255] and sf_event["Description"] == description
    listed = {t["subject"] for t in w.touchpoints()}
    assert listed == {NASTY[:255]}


def test_an_event_read_twice_within_the_lookback_is_counted_each_time_until_it_is_fixed(
        sf_world: SfWorld):
    w = sf_world
    bad = _event(w, **{EXT: "²"})
    assert w.sync("--direction", "in")["Event in"]["errors"] == 1
    w.fake.update("Event", bad, {EXT: None}, by=w.mia_sf)  # a Salesforce user clears it
    counts = w.sync("--direction", "in")["Event in"]
    assert (counts["created"], counts["errors"]) == (1, 0)
    assert w.status()[("Event", "in")]["errors"] == []


def test_a_page_naming_one_record_twice_makes_it_once(sf_world: SfWorld):
    w = sf_world
    good = _event(w, Subject="fine")
    twin = _event(w, Subject="twin")
    w.fake.tampered[twin] = {"Id": good}
    counts = _sync_goes_on(w)
    assert len(w.local("Touchpoint")) == 1 and counts["Event in"]["errors"] == 0
