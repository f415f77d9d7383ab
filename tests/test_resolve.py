"""SPEC section 4, row by row, over a real SQLite directory
(store.directory.lookups.SqlDirectory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.addresses import PersonalDomains
from poller.decide.resolve import Decision, Policy, resolve
from poller.decide.trace_words import trace_in_words as explain
from store.directory.lookups import PassDirectory, SqlDirectory
from store.models import (
    Account,
    AccountDomain,
    Association,
    CustomerUser,
    TeamMember,
    Touchpoint,
)

NOW = datetime(2024, 6, 1, 12, 0)
SENDER = "rep@ourco.com"
TEAM = (SENDER, "colleague@ourco.com", "other@partner.com")


@dataclass
class World:
    """A directory in words: accounts with flags, contacts, and past touchpoints."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: list[tuple[str, str, str | None]] = field(default_factory=list)  # email, acc, date
    touchpoints: list[tuple[str, str, datetime]] = field(default_factory=list)  # who, acc, when


def build(world: World) -> None:
    members = {email: TeamMember.create(email=email, name=email.split("@")[0]) for email in TEAM}
    for acc, flags in world.accounts.items():
        Account.create(account_id=acc, name=flags.get("name", f"Account {acc}"),
                       parent_id=flags.get("parent"), default_bcc=flags.get("default", False),
                       contact_matches_only=flags.get("cmo", False))
        for domain in flags.get("domains", ()):
            AccountDomain.create(account=acc, domain=domain)
    for email, acc, when in world.users:
        user, _ = CustomerUser.get_or_create(email=email, defaults={
            "email_lower": email.lower(), "domain": email.rpartition("@")[2].lower()})
        Association.create(user=user, account=acc,
                           last_activity=datetime.fromisoformat(when) if when else None)
    for n, (who, acc, when) in enumerate(world.touchpoints):
        Touchpoint.create(account=acc, flow="Default", occurred_at=when, creator=members[who],
                          creator_domain=who.rpartition("@")[2], message_key=f"k{n}",
                          scenario="copy", rule="contact", created_at=when)


def decide(world: World, candidates: list[str], directory: type[SqlDirectory] = SqlDirectory,
           **policy: Any) -> Decision:
    build(world)
    personal = PersonalDomains(policy.pop("personal_domains", ()))
    pol = Policy(personal_domains=personal, **policy)
    sender = TeamMember.get(TeamMember.email == SENDER)
    return resolve(candidates, sender.id, "ourco.com", directory(pol.case_sensitive_local_part),
                   pol, NOW)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


TWO = {"A": {}, "B": {}}
DOMAIN_TWO = {"A": {"domains": ["acme.com"]}, "B": {"domains": ["acme.com"]}, "C": {}}

# id, world, candidates, policy, expected (account_id, rule) or (None, reason)
CASES = [
    ("one_contact_matches_by_contact",
     World({"A": {}}, [("jill@cust.com", "A", None)]), ["jill@cust.com"], {}, ("A", "contact")),
    ("contact_on_two_accounts_prefers_default_bcc",
     World({"A": {}, "B": {"default": True}},
           [("jill@cust.com", "A", "2024-05-01"), ("jill@cust.com", "B", "2024-01-01")]),
     ["jill@cust.com"], {}, ("B", "default_bcc")),
    ("two_default_bcc_accounts_fall_back_to_recency",
     World({"A": {"default": True}, "B": {"default": True}},
           [("jill@cust.com", "A", "2024-01-01"), ("jill@cust.com", "B", "2024-03-01")]),
     ["jill@cust.com"], {}, ("B", "recency")),
    ("contact_on_two_accounts_picks_latest_activity",
     World(TWO, [("jill@cust.com", "A", "2024-05-01T10:00"), ("jill@cust.com", "B", "2024-05-01")]),
     ["jill@cust.com"], {}, ("A", "recency")),
    ("recency_tie_is_ambiguous",
     World(TWO, [("jill@cust.com", "A", "2024-05-01"), ("jill@cust.com", "B", "2024-05-01")]),
     ["jill@cust.com"], {}, (None, "ambiguous_account")),
    ("unknown_last_activity_is_ambiguous",
     World(TWO, [("jill@cust.com", "A", "2024-05-01"), ("jill@cust.com", "B", None)]),
     ["jill@cust.com"], {}, (None, "ambiguous_account")),
    ("parent_and_child_are_two_accounts",
     World({"P": {}, "C": {"parent": "P"}},
           [("jill@cust.com", "P", "2024-01-01"), ("jill@cust.com", "C", "2024-02-01")]),
     ["jill@cust.com"], {}, ("C", "recency")),
    ("parent_and_child_without_activity_are_ambiguous",
     World({"P": {}, "C": {"parent": "P"}}, [("jill@cust.com", "P", None),
                                            ("jill@cust.com", "C", None)]),
     ["jill@cust.com"], {}, (None, "ambiguous_account")),
    ("first_candidate_without_accounts_second_decides",
     World(TWO, [("bob@other.com", "B", None)]), ["nobody@cust.com", "bob@other.com"], {},
     ("B", "contact")),
    ("first_candidate_with_accounts_decides",
     World(TWO, [("jill@cust.com", "A", None), ("bob@other.com", "B", None)]),
     ["jill@cust.com", "bob@other.com"], {}, ("A", "contact")),
    ("later_contact_beats_earlier_domain",
     World({"A": {"domains": ["acme.com"]}, "B": {}}, [("bob@other.com", "B", None)]),
     ["wile@acme.com", "bob@other.com"], {}, ("B", "contact")),
    ("declared_domain_matches_by_domain",
     World({"A": {"domains": ["acme.com"]}}), ["wile@acme.com"], {}, ("A", "domain")),
    ("user_at_domain_matches_by_domain",
     World({"A": {}}, [("jill@cust.com", "A", None)]), ["new@cust.com"], {}, ("A", "domain")),
    ("contact_matches_only_excluded_from_domain",
     World({"A": {"domains": ["acme.com"], "cmo": True}}, [("jill@acme.com", "A", None)]),
     ["wile@acme.com"], {}, (None, "no_account")),
    ("contact_matches_only_leaves_the_other_domain_account",
     World({"A": {"domains": ["acme.com"], "cmo": True}, "B": {"domains": ["acme.com"]}}),
     ["wile@acme.com"], {}, ("B", "domain")),
    ("contact_matches_only_account_still_matches_by_contact",
     World({"A": {"cmo": True}}, [("jill@acme.com", "A", None)]), ["jill@acme.com"], {},
     ("A", "contact")),
    ("personal_domain_never_domain_matched",
     World({"A": {"domains": ["gmail.com"]}}, [("jill@gmail.com", "A", None)]),
     ["stranger@gmail.com"], {}, (None, "no_account")),
    ("known_contact_at_gmail_matches_by_contact",
     World({"A": {}}, [("jill@gmail.com", "A", None)]), ["jill@gmail.com"], {},
     ("A", "contact")),
    ("personal_domains_setting_extends_the_list",
     World({"A": {"domains": ["mail.example"]}}), ["x@mail.example"],
     {"personal_domains": ["mail.example"]}, (None, "no_account")),
    ("personal_domain_skipped_next_domain_decides",
     World({"A": {"domains": ["acme.com"]}}), ["x@gmail.com", "y@acme.com"], {},
     ("A", "domain")),
    ("domain_without_account_tries_next_domain",
     World({"A": {"domains": ["acme.com"]}}), ["a@nowhere.com", "b@acme.com"], {},
     ("A", "domain")),
    ("no_account_after_the_last_domain",
     World({"A": {"domains": ["acme.com"]}}), ["a@nowhere.com", "b@elsewhere.com"], {},
     (None, "no_account")),
    ("subdomain_candidate_is_its_own_domain",
     World({"A": {"domains": ["acme.com"]}}), ["wile@eu.acme.com"], {}, (None, "no_account")),
    ("subdomain_declared_matches_subdomain",
     World({"A": {"domains": ["acme.com"]}, "B": {"domains": ["eu.acme.com"]}}),
     ["wile@eu.acme.com"], {}, ("B", "domain")),
    ("plus_address_rejected",
     World({"A": {}}, [("jill@cust.com", "A", None)]), ["jill+crm@cust.com"], {},
     (None, "plus_address")),
    ("plus_address_rejected_next_candidate_decides",
     World({"A": {}, "B": {"domains": ["acme.com"]}}, [("jill@cust.com", "A", None)]),
     ["jill+crm@cust.com", "wile@acme.com"], {}, ("B", "domain")),
    ("plus_address_stripped",
     World({"A": {}}, [("jill@cust.com", "A", None)]), ["jill+crm@cust.com"],
     {"plus_addresses": "strip"}, ("A", "contact")),
    ("case_insensitive_by_default",
     World({"A": {}}, [("Jill@Cust.com", "A", None)]), ["JILL@CUST.COM"], {}, ("A", "contact")),
    ("case_sensitive_local_part_must_match_exactly",
     World({"A": {}}, [("Jill@cust.com", "A", None)]), ["jill@cust.com"],
     {"case_sensitive_local_part": True}, ("A", "domain")),
    ("case_sensitive_local_part_exact_matches_contact",
     World({"A": {}}, [("Jill@cust.com", "A", None)]), ["Jill@CUST.com"],
     {"case_sensitive_local_part": True}, ("A", "contact")),
    ("two_domain_accounts_sender_history_decides",
     World(DOMAIN_TWO, [], [(SENDER, "A", ago(100)), (SENDER, "B", ago(50))]),
     ["wile@acme.com"], {}, ("B", "sender_history")),
    ("sender_history_beats_domain_history",
     World(DOMAIN_TWO, [], [(SENDER, "A", ago(100)), ("colleague@ourco.com", "B", ago(1))]),
     ["wile@acme.com"], {}, ("A", "sender_history")),
    ("sender_history_ignores_accounts_outside_the_domain",
     World(DOMAIN_TWO, [], [(SENDER, "C", ago(1))]), ["wile@acme.com"], {},
     (None, "ambiguous_account")),
    ("sender_history_tie_is_ambiguous",
     World(DOMAIN_TWO, [], [(SENDER, "A", ago(5)), (SENDER, "B", ago(5))]),
     ["wile@acme.com"], {}, (None, "ambiguous_account")),
    ("domain_history_inside_window_decides",
     World(DOMAIN_TWO, [], [("colleague@ourco.com", "B", ago(3)),
                            ("colleague@ourco.com", "A", ago(4))]),
     ["wile@acme.com"], {}, ("B", "domain_history")),
    ("domain_history_outside_window_is_ambiguous",
     World(DOMAIN_TWO, [], [("colleague@ourco.com", "B", ago(10))]),
     ["wile@acme.com"], {}, (None, "ambiguous_account")),
    ("domain_history_window_follows_the_setting",
     World(DOMAIN_TWO, [], [("colleague@ourco.com", "B", ago(10))]),
     ["wile@acme.com"], {"domain_history_days": 30}, ("B", "domain_history")),
    ("domain_history_of_another_domain_is_ignored",
     World(DOMAIN_TWO, [], [("other@partner.com", "B", ago(1))]),
     ["wile@acme.com"], {}, (None, "ambiguous_account")),
    ("two_domain_accounts_without_history_are_ambiguous",
     World(DOMAIN_TWO), ["wile@acme.com"], {}, (None, "ambiguous_account")),
]


# A poll pass reads the directory through PassDirectory (each link asked once): the same table.
@pytest.mark.parametrize("directory", [SqlDirectory, PassDirectory])
@pytest.mark.parametrize(("world", "candidates", "policy", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_decision_table(db, world, candidates, policy, expected, directory):
    decision = decide(world, candidates, directory, **policy)
    account, rule_or_reason = expected
    assert decision.account_id == account
    if account is None:
        assert (decision.rule, decision.reason) == (None, rule_or_reason)
        assert decision.detail and "\n" not in decision.detail
    else:
        assert (decision.rule, decision.reason, decision.detail) == (rule_or_reason, None, "")
    assert decision.trace["rule"] == decision.rule
    assert decision.trace["reason"] == decision.reason


def test_a_pass_reads_each_link_once_and_a_contact_added_meanwhile_counts_next_pass(db):
    build(World({"A1": {}, "A2": {}}, [("wile@acme.com", "A1", None)]))
    sender = TeamMember.get(TeamMember.email == SENDER)
    this_pass = PassDirectory()
    first = resolve(["wile@acme.com"], sender.id, "ourco.com", this_pass, Policy(), NOW)
    this_pass.contact_accounts("wile@acme.com").clear()  # a caller's copy, not the pass's own
    # Added by the review queue while the pass runs (store.directory.review.add_contacts).
    Association.create(user=CustomerUser.get(CustomerUser.email == "wile@acme.com"),
                       account="A2", last_activity=NOW)
    again = resolve(["wile@acme.com"], sender.id, "ourco.com", this_pass, Policy(), NOW)
    assert (first.account_id, first.rule) == (again.account_id, again.rule) == ("A1", "contact")
    next_pass = resolve(["wile@acme.com"], sender.id, "ourco.com", PassDirectory(), Policy(), NOW)
    assert (next_pass.account_id, next_pass.reason) == (None, "ambiguous_account")


def test_a_pass_asks_the_history_afresh_for_every_message(db):
    """A tie-break reads what the messages before it committed: never remembered."""
    build(World(DOMAIN_TWO))
    sender = TeamMember.get(TeamMember.email == SENDER)
    this_pass = PassDirectory()
    before = resolve(["wile@acme.com"], sender.id, "ourco.com", this_pass, Policy(), NOW)
    Touchpoint.create(account="B", flow="Default", occurred_at=NOW, creator=sender,
                      creator_domain="ourco.com", message_key="just-now", scenario="copy",
                      rule="domain", created_at=NOW)
    after = resolve(["wile@acme.com"], sender.id, "ourco.com", this_pass, Policy(), NOW)
    assert before.reason == "ambiguous_account"
    assert (after.account_id, after.rule) == ("B", "sender_history")


def test_trace_names_candidates_rules_and_accounts(db):
    world = World({"A": {"name": "ACME"}, "B": {"name": "Beta", "default": True}},
                  [("jill@cust.com", "A", None), ("jill@cust.com", "B", None)])
    decision = decide(world, ["nobody@x.com", "jill@cust.com"])
    trace = decision.trace
    assert [c["address"] for c in trace["candidates"]] == ["nobody@x.com", "jill@cust.com"]
    assert [(s["rule"], s["result"]) for s in trace["steps"]] == [("contact", "none"),
                                                                   ("contact", "default_bcc")]
    assert [a["account_id"] for a in trace["steps"][1]["accounts"]] == ["A", "B"]
    assert trace["names"] == {"A": "ACME", "B": "Beta"}


def test_trace_is_json(db):
    import json

    world = World(DOMAIN_TWO, [], [("colleague@ourco.com", "B", ago(3))])
    decision = decide(world, ["jill+x@acme.com", "wile@acme.com"])
    assert json.loads(json.dumps(decision.trace)) == decision.trace


def test_policy_from_settings():
    from core.sections import TouchpointSettings

    policy = Policy.from_settings(TouchpointSettings(plus_addresses="strip",
                                                     personal_domains=("corp-mail.example",),
                                                     domain_history_days=3))
    assert (policy.plus_addresses, policy.domain_history_days) == ("strip", 3)
    assert "corp-mail.example" in policy.personal_domains and "gmail.com" in policy.personal_domains


def test_aware_now_is_taken_as_utc(db):
    from datetime import UTC

    build(World(DOMAIN_TWO, [], [("colleague@ourco.com", "B", ago(3))]))
    sender = TeamMember.get(TeamMember.email == SENDER)
    decision = resolve(["wile@acme.com"], sender.id, "OurCo.com", SqlDirectory(), Policy(),
                       NOW.replace(tzinfo=UTC))
    assert (decision.account_id, decision.rule) == ("B", "domain_history")


# --- explain ------------------------------------------------------------------------------


def test_explain_contact(db):
    decision = decide(World({"A": {"name": "ACME"}}, [("wile@acme.com", "A", None)]),
                      ["wile@acme.com"])
    assert explain(decision.trace) == [
        "customer addresses, in order: wile@acme.com",
        "wile@acme.com is a contact of 1 account: ACME → rule contact",
        "decided: ACME (A) by rule contact",
    ]


def test_explain_default_bcc_lists_the_accounts(db):
    world = World({"A": {"name": "ACME"}, "B": {"name": "ACME EMEA", "default": True}},
                  [("jill@acme.com", "A", "2024-05-01"), ("jill@acme.com", "B", None)])
    lines = explain(decide(world, ["jill@acme.com"]).trace)
    assert lines[1] == ("jill@acme.com is a contact of 2 accounts: ACME last active "
                        "2024-05-01, ACME EMEA (default_bcc) last active unknown "
                        "→ rule default_bcc")


def test_explain_plus_personal_domain_and_tie_break(db):
    world = World({"A": {"name": "ACME", "domains": ["acme.com"]},
                   "B": {"name": "Beta", "domains": ["acme.com"]}}, [],
                  [("colleague@ourco.com", "B", ago(2))])
    lines = explain(decide(world, ["jill+x@cust.com", "x@gmail.com", "wile@acme.com"]).trace)
    assert lines == [
        "customer addresses, in order: jill+x@cust.com, x@gmail.com, wile@acme.com",
        "jill+x@cust.com has a +extension: not used (plus_addresses = reject)",
        "x@gmail.com is not a contact of any account",
        "wile@acme.com is not a contact of any account",
        "gmail.com is a personal mail domain: never used for a domain match",
        "2 accounts have the domain acme.com: ACME, Beta → tie-break",
        "the sender's touchpoints: none on these accounts",
        "touchpoints by anyone at ourco.com since 2024-05-25 12:00, latest per account: "
        "Beta 2024-05-30 12:00 → rule domain_history",
        "decided: Beta (B) by rule domain_history",
    ]


def test_explain_failure_ends_with_reason_and_detail(db):
    lines = explain(decide(World({"A": {}}), ["nobody@nowhere.com"]).trace)
    assert lines[-2] == "no account has the domain nowhere.com"
    assert lines[-1].startswith("not logged: no_account: no account knows nobody@nowhere.com")


def test_explain_empty_trace():
    assert explain({}) == ["no customer address was found"]


def test_every_step_stores_its_accounts_in_one_shape(db):
    world = World({"A": {"name": "ACME", "domains": ["acme.com"]},
                   "B": {"name": "Beta", "domains": ["acme.com"]}},
                  [("jill@cust.com", "A", "2024-05-01")], [("colleague@ourco.com", "B", ago(2))])
    trace = decide(world, ["jill@cust.com", "wile@acme.com"]).trace
    assert [s["rule"] for s in trace["steps"]] == ["contact"]
    assert trace["steps"][0]["accounts"] == [
        {"account_id": "A", "default_bcc": False, "last_activity": "2024-05-01T00:00:00"}]
    trace = resolve(["wile@acme.com"], TeamMember.get(TeamMember.email == SENDER).id,
                    "ourco.com", SqlDirectory(), Policy(), NOW).trace
    assert [s["rule"] for s in trace["steps"]] == ["contact", "domain", "sender_history",
                                                   "domain_history"]
    for step in trace["steps"]:
        assert isinstance(step["accounts"], list)
        assert all(isinstance(a, dict) and a["account_id"] for a in step["accounts"])


def test_a_trace_stored_by_an_older_version_still_explains_and_suggests():
    from poller.failed.assign import candidate_accounts

    # A domain step's accounts were bare ids, a history step's {account: latest touchpoint},
    # a contact step's last_activity null when unknown.
    stored = {"candidates": [{"address": "jill@acme.com", "lookup": "jill@acme.com"}],
              "names": {"A": "ACME", "B": "Beta"}, "account_id": None, "rule": None,
              "reason": "ambiguous_account", "detail": "tied",
              "steps": [
                  {"rule": "contact", "address": "jill@acme.com", "result": "none",
                   "accounts": [{"account_id": "A", "default_bcc": False,
                                 "last_activity": None}]},
                  {"rule": "domain", "domain": "acme.com", "accounts": ["A", "B"],
                   "result": "tie"},
                  {"rule": "sender_history", "accounts": {"A": "2024-05-30T12:00:00",
                                                          "B": "2024-05-30T12:00:00"},
                   "result": "ambiguous_account"}]}
    assert explain(stored)[1:] == [
        "jill@acme.com is a contact of 1 account: ACME",
        "2 accounts have the domain acme.com: ACME, Beta → tie-break",
        "the sender's touchpoints, latest per account: ACME 2024-05-30 12:00; "
        "Beta 2024-05-30 12:00 → ambiguous_account",
        "not logged: ambiguous_account: tied",
    ]
    assert candidate_accounts(stored) == [("A", "ACME"), ("B", "Beta")]
