"""SPEC 20: only a record touchlog itself wrote to Salesforce can be matched by its external id
field; any other record naming a touchlog id is a new record. And the record of what touchlog
sent survives a kill -9 between Salesforce's answer and touchlog's commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sf_world import SfWorld

EXT = "Touchlog_Id__c"
ROOT = Path(__file__).resolve().parent.parent


def _event(w: SfWorld, **values: Any) -> str:
    fields = {"WhatId": w.acme_sf, "Subject": "Taken over", "Description": "by Mia",
              "ActivityDateTime": "2026-11-28T10:00:00Z", "DurationInMinutes": 60, **values}
    return w.fake.insert("Event", fields, by=w.mia_sf)


def _quiet(counts: dict[str, dict[str, int]]) -> bool:
    return all(sum(c.values()) == 0 for c in counts.values())


def test_a_salesforce_user_cannot_take_over_a_touchpoint_never_synced(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    tp = w.add_touchpoint(subject="Kickoff", content="We met.")
    mias = _event(w, **{EXT: str(tp)})
    counts = w.sync()
    assert (counts["Event in"]["created"], counts["Event in"]["updated"],
            counts["Event in"]["conflicts"]) == (1, 0, 0)
    # touchlog's upsert of the touchpoint (SPEC 15) lands on Mia's record, which already stands
    # for another touchpoint: refused as already linked, never a second link.
    assert counts["Event out"]["errors"] == 1
    ours, theirs = sorted(w.local("Touchpoint"), key=lambda t: t.id)
    assert (ours.id, ours.subject, ours.content, ours.external_id) == (tp, "Kickoff", "We met.",
                                                                       None)
    assert ours.source != "salesforce"
    assert (theirs.source, theirs.external_id) == ("salesforce", mias.lower())
    fake.update("Event", mias, {"Subject": "Taken over, edited"}, by=w.mia_sf)
    w.sync()
    assert {t.id: t.subject for t in w.local("Touchpoint")} == \
        {tp: "Kickoff", theirs.id: "Taken over, edited"}


def test_a_salesforce_user_cannot_delete_a_touchpoint_never_synced(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    tp = w.add_touchpoint(subject="Kickoff")
    fake.delete(_event(w, **{EXT: str(tp)}), by=w.mia_sf)
    counts = w.sync("--direction", "in")
    assert counts["Event in"]["deleted"] == 0
    assert [(t["id"], t["subject"]) for t in w.touchpoints()] == [(tp, "Kickoff")]


def test_a_salesforce_user_cannot_take_over_a_task_never_synced(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    task = w.add_task(title="Call back")
    mias = fake.insert("Task", {"WhatId": w.acme_sf, "Subject": "Taken over", EXT: str(task),
                                "Status": "Completed"}, by=w.mia_sf)
    w.sync()
    rows = {row.id: row for row in w.local("Task")}
    assert (rows[task].title, rows[task].status) == ("Call back", "Open")
    (theirs,) = [row for i, row in rows.items() if i != task]
    assert theirs.external_id == mias.lower()


def test_with_create_missing_off_a_record_naming_a_touchpoint_never_synced_is_skipped(
        sf_world: SfWorld):
    w = sf_world
    w.write_settings(create_missing=False)
    tp = w.add_touchpoint(subject="Kickoff")
    _event(w, **{EXT: str(tp)})
    assert w.sync("--direction", "in")["Event in"]["skipped"] == 1
    assert [(t["id"], t["subject"]) for t in w.touchpoints()] == [(tp, "Kickoff")]


def test_a_record_naming_a_touchpoint_already_synced_is_a_new_record(sf_world: SfWorld):
    w, fake = sf_world, sf_world.fake
    tp = w.add_touchpoint(subject="Kickoff")
    w.sync()
    mias = _event(w, **{EXT: str(tp)})
    assert w.sync()["Event in"]["created"] == 1
    assert {t.subject for t in w.local("Touchpoint")} == {"Kickoff", "Taken over"}
    assert [r["Subject"] for r in fake.records("Event") if r["Id"] == mias] == ["Taken over"]


def _sync_killed(w: SfWorld, hook: str) -> None:
    """`touchlog sync salesforce --direction out` in a process of its own, killed with SIGKILL
    from inside the fake Salesforce: `after` once Salesforce wrote the records (so the answer
    never reaches touchlog's commit), `before` as the write request arrives (nothing written)."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(w.config),
                             "sync", "salesforce", "--direction", "out"], cwd=w.folder,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def kill() -> None:
        setattr(w.fake, f"{hook}_write", None)
        os.kill(proc.pid, signal.SIGKILL)

    setattr(w.fake, f"{hook}_write", kill)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == -signal.SIGKILL, output


@pytest.mark.parametrize("hook", ["after", "before"])
@pytest.mark.parametrize("recovery", [("in",), ("out",), ()])
def test_a_kill_between_salesforces_answer_and_the_commit_makes_no_second_record(
        sf_world: SfWorld, hook: str, recovery: tuple[str, ...]):
    w, fake = sf_world, sf_world.fake
    tps = [w.add_touchpoint(subject=f"tp {i}") for i in range(3)]
    _sync_killed(w, hook)
    assert len(fake.records("Event")) == (3 if hook == "after" else 0)
    assert all(row.external_id is None for row in w.local("Touchpoint"))
    # The first run after the kill goes this way, then one both ways.
    runs = [w.sync("--direction", direction) for direction in recovery] + [w.sync()]
    made = [sum(run.get(f"Event {way}", {}).get("created", 0) for run in runs)
            for way in ("in", "out")]
    assert made == [0, 0 if hook == "after" else 3]
    assert _quiet(w.sync())
    events = {r[EXT]: r for r in fake.records("Event")}
    assert sorted(events) == sorted(str(tp) for tp in tps)  # one record each, no second one
    assert len(w.local("Touchpoint")) == 3  # nothing imported back as new
    for row in w.local("Touchpoint"):
        assert row.external_id == events[str(row.id)]["Id"].lower()
        assert events[str(row.id)]["Subject"] == row.subject


def test_after_a_kill_a_record_made_in_salesforce_naming_the_same_id_takes_nothing_over(
        sf_world: SfWorld):
    """The kill left touchlog's own record unlinked; Mia's record naming the same touchpoint is
    still not touchlog's: it becomes a touchpoint of its own, touchlog's is matched."""
    w, fake = sf_world, sf_world.fake
    tp = w.add_touchpoint(subject="Kickoff")
    _sync_killed(w, "after")
    (ours,) = fake.records("Event")
    fake.frozen = ours["CreatedDate"]  # the same moment: only the order of Ids tells them apart
    mias = _event(w, **{EXT: str(tp)})
    fake.frozen = None
    w.sync()
    rows = {row.id: row for row in w.local("Touchpoint")}
    assert rows[tp].subject == "Kickoff" and rows[tp].external_id == ours["Id"].lower()
    (theirs,) = [row for i, row in rows.items() if i != tp]
    assert (theirs.subject, theirs.external_id) == ("Taken over", mias.lower())
    assert {r["Id"]: r["Subject"] for r in fake.records("Event")} == \
        {ours["Id"]: "Kickoff", mias: "Taken over"}
    assert _quiet(w.sync())
