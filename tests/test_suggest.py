"""Suggestions for a failure, best first (poller.failed.suggest), from traces the real resolver
writes over a real SQLite directory (tests/test_resolve.py's worlds), from the shapes older
versions stored, and from traces no version wrote."""

from __future__ import annotations

from datetime import datetime

import pytest

from poller.failed.suggest import ranked_accounts, suggestion_text, suggestions
from store.models import Account
from tests.test_resolve import SENDER, World, ago, decide

ACME3 = {acc: {"domains": ["acme.com"]} for acc in ("A", "B", "C")}

CASES = [
    # The tied latest activity first, then the older one, though A sorts first.
    ("recency_tie_then_the_older",
     World({"A": {}, "B": {}, "C": {}}, [("jill@cust.com", "A", "2024-01-01"),
                                        ("jill@cust.com", "B", "2024-05-01"),
                                        ("jill@cust.com", "C", "2024-05-01")]),
     ["jill@cust.com"], ["B", "C", "A"]),
    ("known_activity_before_unknown",
     World({"A": {}, "B": {}}, [("jill@cust.com", "A", None),
                                ("jill@cust.com", "B", "2024-05-01")]),
     ["jill@cust.com"], ["B", "A"]),
    ("no_activity_known_in_the_order_seen",
     World({"B": {}, "A": {}}, [("jill@cust.com", "B", None), ("jill@cust.com", "A", None)]),
     ["jill@cust.com"], ["A", "B"]),
    ("sender_history_tie_then_the_older",
     World(ACME3, [], [(SENDER, "A", ago(50)), (SENDER, "B", ago(5)), (SENDER, "C", ago(5))]),
     ["wile@acme.com"], ["B", "C", "A"]),
    ("domain_history_tie_then_the_rest",
     World(ACME3, [], [("colleague@ourco.com", "C", ago(2)),
                       ("colleague@ourco.com", "B", ago(2))]),
     ["wile@acme.com"], ["B", "C", "A"]),
    ("domain_without_history_in_the_order_seen",
     World(ACME3), ["wile@acme.com"], ["A", "B", "C"]),
    ("domain_history_outside_its_window_is_not_seen",
     World(ACME3, [], [("colleague@ourco.com", "C", ago(30))]), ["wile@acme.com"],
     ["A", "B", "C"]),
    ("contacts_only_account_is_suggested_for_no_account",
     World({"A": {"domains": ["acme.com"], "cmo": True}}), ["wile@acme.com"], ["A"]),
    ("no_account_seen_nothing_suggested",
     World({"A": {"domains": ["acme.com"]}}), ["wile@nowhere.com"], []),
]


@pytest.mark.parametrize(("world", "candidates", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_best_first(db, world, candidates, expected):
    decision = decide(world, candidates)
    assert decision.account_id is None
    assert ranked_accounts(decision.trace) == expected


def test_older_trace_shapes_rank_alike():
    old = {"steps": [
        {"rule": "domain", "domain": "acme.com", "accounts": ["A", "B", "C"], "result": "tie"},
        {"rule": "sender_history", "accounts": {"A": "2024-01-01T00:00:00",
                                                "C": "2024-05-01T00:00:00",
                                                "B": "2024-05-01T00:00:00"},
         "result": "ambiguous_account"}]}
    typed = {"steps": [
        {"rule": "domain", "accounts": [{"account_id": a} for a in "ABC"], "result": "tie"},
        {"rule": "sender_history", "result": "ambiguous_account",
         "accounts": [{"account_id": "A", "latest": "2024-01-01T00:00:00"},
                      {"account_id": "B", "latest": "2024-05-01T00:00:00Z"},
                      {"account_id": "C", "latest": "2024-05-01T00:00:00"}]}]}
    assert ranked_accounts(old) == ranked_accounts(typed) == ["B", "C", "A"]


@pytest.mark.parametrize(("trace", "expected"), [
    ({}, []), ({"steps": "x"}, []), ({"steps": [1, None, "s"]}, []),
    ({"steps": [{"accounts": 5}, {"accounts": [{"x": 1}, {"account_id": ""}]}]}, []),
    ({"steps": [{"accounts": [{"account_id": "A", "last_activity": "not a date"}, "B"],
                 "result": "ambiguous_account", "contacts_only": ["C", "A"]}]}, ["A", "B", "C"]),
])
def test_a_trace_no_version_wrote_suggests_what_it_can_and_never_raises(trace, expected):
    assert ranked_accounts(trace) == expected


def test_only_live_accounts_with_their_names_today(db):
    Account.create(account_id="A", name="Alpha (renamed)")
    Account.create(account_id="B", name="Beta", removed_at=datetime(2026, 1, 1))
    trace = {"steps": [{"rule": "domain", "accounts": ["B", "A", "GONE"], "result": "tie"}],
             "names": {"A": "Alpha"}}
    assert suggestions({7: trace, 8: None}) == {7: (("A", "Alpha (renamed)"),), 8: ()}


def test_text_names_each_with_its_id_and_says_how_many_more():
    found = (("B", "Beta, Inc."), ("A", "Alpha"), ("C", ""))
    assert suggestion_text(found) == "Beta, Inc. (B); Alpha (A); C"
    assert suggestion_text(found, most=1) == "Beta, Inc. (B); +2 more"
    assert suggestion_text(()) == ""
