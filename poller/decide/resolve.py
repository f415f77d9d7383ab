"""Customer candidates → the account a message belongs to: the rules of SPEC section 4.

Pure rules over a small `Directory` interface (core.directory; in production
store.directory.lookups.SqlDirectory), so the decision table is tested row by row. A wrong
account is worse than no account: every tie, every unknown `last_activity` on the deciding step,
fails `ambiguous_account` instead of guessing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core import reasons as R
from core.addresses import PersonalDomains, domain_of, has_plus, normalize, strip_plus
from core.directory import Directory, Link
from core.sections import TouchpointSettings
from core.utc import naive_utc
from poller.decide.trace import SeenAccount, account_ids_seen, accounts_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    case_sensitive_local_part: bool = False
    plus_addresses: str = "reject"  # "reject" | "strip"
    personal_domains: PersonalDomains = field(default_factory=PersonalDomains)
    domain_history_days: int = 7

    @classmethod
    def from_settings(cls, t: TouchpointSettings) -> Policy:
        return cls(t.case_sensitive_local_part, t.plus_addresses,
                   PersonalDomains(t.personal_domains), t.domain_history_days)


@dataclass(frozen=True)
class Decision:
    account_id: str | None
    rule: str | None  # contact | default_bcc | recency | domain | sender_history | domain_history
    reason: str | None  # plus_address | no_account | ambiguous_account
    detail: str
    trace: dict[str, Any]


# What a rule step returns: (account_id, rule) on success, (None, reason, detail) on failure,
# or None when the step did not decide and the next one runs.
_Result = tuple[str | None, str, str] | None


def resolve(candidates: Sequence[str], sender_id: int, sender_domain: str,
            directory: Directory, policy: Policy, now: datetime) -> Decision:
    """Decide the account for ordered customer `candidates`, keeping a trace of every step."""
    trace: dict[str, Any] = {"candidates": [], "steps": [], "sender_domain": sender_domain.lower(),
                             "policy": {"case_sensitive_local_part":
                                        policy.case_sensitive_local_part,
                                        "plus_addresses": policy.plus_addresses,
                                        "domain_history_days": policy.domain_history_days}}
    lookups = _lookups(candidates, policy, trace)
    result: _Result
    if not lookups:
        result = _nothing_to_look_up(trace)
    else:
        result = _contact_pass(lookups, directory, trace) or _domain_pass(
            lookups, sender_id, sender_domain, directory, policy, now, trace)
    return _decision(result, directory, trace)


def _lookups(candidates: Sequence[str], policy: Policy, trace: dict[str, Any]) -> list[str]:
    """The addresses to look up, in order, after the plus-address and case rules."""
    lookups: dict[str, None] = {}  # ordered, and a membership test that stays O(1)
    for raw in candidates:
        address = normalize(raw, policy.case_sensitive_local_part)
        entry: dict[str, Any] = {"address": raw, "lookup": address}
        if has_plus(address):
            if policy.plus_addresses == "strip":
                entry["lookup"] = address = strip_plus(address)
                entry["note"] = "plus_stripped"
            else:
                entry["lookup"] = None
                entry["note"] = "plus_rejected"
        if entry["lookup"] is not None and address in lookups:
            entry["note"] = "repeated"
        elif entry["lookup"] is not None:
            lookups[address] = None
        trace["candidates"].append(entry)
    return list(lookups)


def _nothing_to_look_up(trace: dict[str, Any]) -> _Result:
    rejected = [c["address"] for c in trace["candidates"] if c.get("note") == "plus_rejected"]
    if rejected:
        return None, R.PLUS_ADDRESS, (f"{', '.join(rejected)} has a +extension; plus addresses "
                                      "are not recorded (use the address without +...)")
    return None, R.NO_ACCOUNT, "there was no customer address to look up"


# --- contact pass -------------------------------------------------------------------------


def _contact_pass(lookups: list[str], directory: Directory, trace: dict[str, Any]) -> _Result:
    for address in lookups:
        links = _one_link_per_account(directory.contact_accounts(address))
        step: dict[str, Any] = {"rule": R.CONTACT, "address": address,
                                "accounts": accounts_json(_seen(link) for link in links)}
        trace["steps"].append(step)
        _remember_names(trace, {link.account_id: link.name for link in links if link.name})
        if links:
            result = _choose_link(address, links)
            step["result"] = result[1]
            return result
        step["result"] = "none"
    return None


def _one_link_per_account(links: list[Link]) -> list[Link]:
    """Case-insensitive lookups can find Jill@ and jill@ on one account: count it once."""
    best: dict[str, Link] = {}
    for link in links:
        seen = best.get(link.account_id)
        if seen is None or _later(link.last_activity, seen.last_activity):
            best[link.account_id] = link
    return sorted(best.values(), key=lambda link: link.account_id)


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


def _choose_link(address: str, links: list[Link]) -> tuple[str | None, str, str]:
    if len(links) == 1:
        return links[0].account_id, R.CONTACT, ""
    defaults = [link for link in links if link.default_bcc]
    if len(defaults) == 1:
        return defaults[0].account_id, R.DEFAULT_BCC, ""
    ids = ", ".join(link.account_id for link in links)
    if any(link.last_activity is None for link in links):
        return None, R.AMBIGUOUS_ACCOUNT, (
            f"{address} is a contact of {len(links)} accounts ({ids}), none is the default and "
            "the last activity of some is unknown")
    latest = max(link.last_activity for link in links if link.last_activity)
    winners = [link for link in links if link.last_activity == latest]
    if len(winners) > 1:
        return None, R.AMBIGUOUS_ACCOUNT, (
            f"{address} is a contact of {len(links)} accounts ({ids}), none is the default and "
            "the latest activity is tied")
    return winners[0].account_id, R.RECENCY, ""


# --- domain pass --------------------------------------------------------------------------


def _domain_pass(lookups: list[str], sender_id: int, sender_domain: str, directory: Directory,
                 policy: Policy, now: datetime, trace: dict[str, Any]) -> _Result:
    domains = list(dict.fromkeys(domain_of(address) for address in lookups))
    for domain in domains:
        if domain in policy.personal_domains:
            trace["steps"].append({"rule": R.DOMAIN, "domain": domain,
                                   "result": "personal_domain"})
            continue
        accounts = directory.domain_accounts(domain)
        step = {"rule": R.DOMAIN, "domain": domain,
                "accounts": accounts_json(SeenAccount(acc) for acc in accounts)}
        trace["steps"].append(step)
        if len(accounts) == 1:
            step["result"] = R.DOMAIN
            return accounts[0], R.DOMAIN, ""
        if accounts:
            step["result"] = "tie"
            return _tie_break(domain, accounts, sender_id, sender_domain, directory, policy,
                              now, trace)
        step["result"] = "none"
        only = directory.contacts_only_accounts(domain)
        if only:
            step["contacts_only"] = only
    return None, R.NO_ACCOUNT, _no_account_detail(lookups, domains, trace, directory)


def _no_account_detail(lookups: list[str], domains: list[str], trace: dict[str, Any],
                       directory: Directory) -> str:
    """Say which domains belong to accounts that take only their known contacts: there the fix
    is to add the person as a customer user, not to declare the domain."""
    only = {step["domain"]: step["contacts_only"] for step in trace["steps"]
            if step.get("contacts_only")}
    others = [d for d in domains if d not in only]
    known = f"no account knows {', '.join(lookups)}"
    parts = [f"no account has the domain {', '.join(others)}"] if others else []
    names = _names_of(directory, [acc for ids in only.values() for acc in ids])
    for domain, ids in only.items():
        shown = ", ".join(f"{names.get(acc) or acc} ({acc})" for acc in ids)
        parts.append(f"{domain} belongs to {shown}, which takes only its known contacts "
                     "(contact_matches_only): add the person as a customer user of it")
    return f"{known}; {'; '.join(parts)}" if only else f"{known} and {parts[0]}"


def _tie_break(domain: str, accounts: list[str], sender_id: int, sender_domain: str,
               directory: Directory, policy: Policy, now: datetime,
               trace: dict[str, Any]) -> _Result:
    history = directory.sender_history(sender_id, accounts)
    result = _latest(history, R.SENDER_HISTORY, trace, {})
    if result is not None:
        return result
    since = naive_utc(now) - timedelta(days=policy.domain_history_days)
    history = directory.domain_history(sender_domain.lower(), accounts, since)
    result = _latest(history, R.DOMAIN_HISTORY, trace,
                     {"domain": sender_domain.lower(), "since": since.isoformat()})
    if result is not None:
        return result
    return None, R.AMBIGUOUS_ACCOUNT, (
        f"{len(accounts)} accounts have the domain {domain} ({', '.join(accounts)}) and neither "
        f"you nor anyone at {sender_domain.lower()} logged a recent touchpoint on one of them")


def _latest(history: dict[str, datetime], rule: str, trace: dict[str, Any],
            extra: dict[str, Any]) -> _Result:
    step = {"rule": rule, **extra,
            "accounts": accounts_json(SeenAccount(acc, latest=ts.isoformat())
                                      for acc, ts in sorted(history.items()))}
    trace["steps"].append(step)
    if not history:
        step["result"] = "none"
        return None
    latest = max(history.values())
    winners = sorted(acc for acc, ts in history.items() if ts == latest)
    if len(winners) > 1:
        step["result"] = R.AMBIGUOUS_ACCOUNT
        return None, R.AMBIGUOUS_ACCOUNT, (
            f"the latest touchpoints on {', '.join(winners)} were logged at the same time")
    step["result"] = rule
    return winners[0], rule, ""


# --- the decision and its trace -------------------------------------------------------------


def _decision(result: _Result, directory: Directory, trace: dict[str, Any]) -> Decision:
    assert result is not None  # the domain pass always decides
    if result[0] is not None:
        account_id, rule, reason, detail = result[0], result[1], None, ""
    else:
        account_id, rule, reason, detail = None, None, result[1], result[2]
    trace.update(account_id=account_id, rule=rule, reason=reason, detail=detail)
    known = trace.get("names", {})
    unnamed = [acc for acc in account_ids_seen(trace, contacts_only=True) if acc not in known]
    _remember_names(trace, _names_of(directory, unnamed))
    if log.isEnabledFor(logging.DEBUG):  # its list is built only for the debug log
        log.debug("resolved %s: %s", [c["address"] for c in trace["candidates"]],
                  account_id or reason)
    return Decision(account_id, rule, reason, detail, trace)


def _names_of(directory: Directory, ids: list[str]) -> dict[str, str]:
    """Names make the trace readable; a Directory without `account_names` just gives ids."""
    lookup = getattr(directory, "account_names", None)
    return lookup(ids) if ids and lookup is not None else {}


def _remember_names(trace: dict[str, Any], names: dict[str, str]) -> None:
    if names:
        trace.setdefault("names", {}).update(names)


def _seen(link: Link) -> SeenAccount:
    return SeenAccount(link.account_id, link.default_bcc,
                       link.last_activity.isoformat() if link.last_activity else None)
