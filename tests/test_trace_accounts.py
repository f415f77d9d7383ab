"""The accounts a stored trace saw (poller.decide.trace.account_ids_seen), read from every shape a
version of touchlog stored a step's `accounts` in: the same ids, in the same order, as reading
each step through `seen_accounts` gives. `failures assign` suggests these accounts."""

from __future__ import annotations

from poller.decide.trace import SeenAccount, account_ids_seen, accounts_json, seen_accounts

TRACE = {"steps": [
    {"rule": "contact", "accounts": accounts_json([SeenAccount("ACME", True, "2026-01-01"),
                                                   SeenAccount("ROAD")])},
    {"rule": "domain", "accounts": ["ROAD", "BETA", 7]},  # an older version's bare ids
    {"rule": "domain_history", "accounts": {"GAMMA": "2026-02-02", "ACME": None}},  # older
    {"rule": "recency", "accounts": [{"latest": "2026-03-03"}, {"account_id": "DELTA"}]},
    {"rule": "sender_history", "accounts": None, "contacts_only": ["ONLY", "ACME"]},
    {"rule": "contact"},
]}


def test_the_accounts_seen_are_those_each_step_reads_back_in_order():
    by_steps: dict[str, None] = {}
    for step in TRACE["steps"]:
        for account in seen_accounts(step):
            by_steps.setdefault(account.account_id, None)
    assert account_ids_seen(TRACE) == list(by_steps) == [
        "ACME", "ROAD", "BETA", "7", "GAMMA", "", "DELTA"]
    assert account_ids_seen(TRACE, contacts_only=True) == [*by_steps, "ONLY"]
    assert account_ids_seen({}) == []
