"""Who gets which copy of a touchpoint (SPEC 14, 20): one function below the command line,
poller.notify.copies, that `touchpoints send`, `edit --notify` and the web app all call."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.errors import TouchlogError
from poller.notify.copies import Copy, copies_for_edit, copies_to
from store.models import TeamMember
from store.timeline.manage import Changes, Draft, add_touchpoint, edit_touchpoint
from tests.builders import import_directory, settings_for


def _people(*pairs: tuple[str, str]) -> tuple[dict[str, str], ...]:
    return tuple({"email": e, "name": "", "role": r} for e, r in pairs)


@pytest.fixture
def tp(db, tmp_path):
    import_directory(tmp_path)
    sam = TeamMember.get(TeamMember.email == "sam@ourco.com")
    # Stored roles as an older touchlog wrote a customer's reply: the customer "internal".
    return add_touchpoint(Draft(
        "ACME", "web_meeting", datetime(2026, 11, 2), "Demo", "", "Default",
        participants=_people(("ann@ourco.com", "internal"), ("wile@acme.com", "internal"),
                             ("touchpoints+tp1.abc@ourco.com", "internal"),
                             ("beep@road.com", "external"))), sam)


def test_send_splits_by_the_roles_of_today(tp, tmp_path):
    settings = settings_for(tmp_path)
    sam = TeamMember.get(TeamMember.email == "sam@ourco.com")
    assert copies_to(settings, tp, sam, ["internal", "external", "me"]) == [
        Copy("internal", ("ann@ourco.com",)),
        Copy("external", ("wile@acme.com", "beep@road.com")),
        Copy("me", ("sam@ourco.com",))]


def test_an_audience_nobody_is_in_is_an_error(tp, tmp_path):
    settings = settings_for(tmp_path, internal_domains=["elsewhere.example"])
    sam = TeamMember.get(TeamMember.email == "sam@ourco.com")
    # ann is on the team wherever the internal domains are; nobody else is internal
    assert copies_to(settings, tp, sam, ["internal"]) == [Copy("internal", ("ann@ourco.com",))]
    edit_touchpoint(tp.id, sam, Changes(remove_participants=("ann@ourco.com",)))
    tp = type(tp).get_by_id(tp.id)
    with pytest.raises(TouchlogError, match="no internal participants"):
        copies_to(settings, tp, sam, ["internal"])


def test_edit_notify_is_worked_out_before_the_edit(tp, tmp_path):
    settings = settings_for(tmp_path)
    changes = Changes(add_participants=_people(("road@acme.com", "external"),
                                               ("sam@ourco.com", "internal")),
                      remove_participants=("beep@road.com",))
    assert copies_for_edit(settings, tp, changes, "new") == [
        Copy("internal", ("sam@ourco.com",)), Copy("external", ("road@acme.com",))]
    assert copies_for_edit(settings, tp, changes, "all") == [
        Copy("internal", ("ann@ourco.com", "sam@ourco.com")),
        Copy("external", ("wile@acme.com", "road@acme.com"))]
    assert copies_for_edit(settings, tp, changes, "none") == []
    with pytest.raises(TouchlogError, match="not a participant"):
        copies_for_edit(settings, tp, Changes(remove_participants=("x@y.example",)), "all")
