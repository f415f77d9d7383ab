"""A resolution trace (poller.decide.resolve) in plain words: what `touchlog explain` and
`failures show` print.

Reads only the trace's JSON (its accounts through poller.decide.trace), so a trace stored months
ago, by an older version, still explains itself.
"""

from __future__ import annotations

from typing import Any

from core.learning import REMEMBERED, remembered_line
from core.reasons import (
    AMBIGUOUS_ACCOUNT,
    CONTACT,
    DOMAIN,
    MANUAL,
    REPLY,
    SENDER_HISTORY,
    THREAD,
)
from poller.decide.trace import SeenAccount, seen_accounts

UNREADABLE = ("this trace is not one this touchlog can put in words: `--format json` shows it "
              "as it was stored")


def trace_in_words(trace: dict[str, Any]) -> list[str]:
    """The trace as plain sentences, one per step, ending with the decision. A trace of
    another shape (an older or newer touchlog, a hand-edited row) says so: never a traceback
    (SPEC 20: no stored value can make a command fail)."""
    try:
        return _sentences(trace)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        return [UNREADABLE]


def _sentences(trace: dict[str, Any]) -> list[str]:
    names = trace.get("names", {})
    lines = []
    if "authserv_ids_seen" in trace:  # SPEC 11 stopped it before anyone looked for customers
        seen = ", ".join(trace["authserv_ids_seen"]) or "none"
        lines.append(f"the sender was not authenticated; Authentication-Results (topmost "
                     f"first) from: {seen}")
        if not trace.get("steps"):
            return lines
    elif trace.get("scenario") != REPLY:  # a reply names its thread, not customer candidates
        lines.append(_candidates_line(trace.get("candidates", [])))
    lines += [_candidate_note(c) for c in trace.get("candidates", []) if c.get("note")]
    lines += [_step_line(step, names) for step in trace.get("steps", [])]
    if trace.get("account_id"):
        acc = trace["account_id"]
        lines.append(f"decided: {_label(acc, names)} ({acc}) by rule {trace.get('rule')}")
    elif trace.get("reason"):
        lines.append(f"not logged: {trace['reason']}: {trace.get('detail', '')}".rstrip(": "))
    return lines


def _candidates_line(candidates: list[dict[str, Any]]) -> str:
    if not candidates:
        return "no customer address was found"
    return "customer addresses, in order: " + ", ".join(c["address"] for c in candidates)


def _candidate_note(c: dict[str, Any]) -> str:
    return {"plus_rejected": f"{c['address']} has a +extension: not used (plus_addresses = reject)",
            "plus_stripped": f"{c['address']} is looked up as {c['lookup']} "
                             "(plus_addresses = strip)",
            "repeated": f"{c['address']} repeats an earlier address"}.get(c["note"], "")


def _step_line(step: dict[str, Any], names: dict[str, str]) -> str:
    rule, result = step.get("rule"), step.get("result")
    if rule == CONTACT:
        return _contact_line(step, names)
    if rule == DOMAIN:
        return _domain_line(step, names)
    if rule == REMEMBERED:
        return remembered_line(step, names)
    if rule == THREAD:
        return _thread_line(step, names)
    if rule == MANUAL:
        return _manual_line(step, names)
    history = seen_accounts(step)
    who = ("the sender's touchpoints" if rule == SENDER_HISTORY else
           f"touchpoints by anyone at {step.get('domain')} since {_when(step.get('since'))}")
    if not history:
        return f"{who}: none on these accounts"
    seen = "; ".join(f"{_label(a.account_id, names)} {_when(a.latest)}" for a in history)
    return f"{who}, latest per account: {seen}{_arrow(result)}"


def _manual_line(step: dict[str, Any], names: dict[str, str]) -> str:
    was = f" (it had failed {step['was']})" if step.get("was") else ""
    text = (f"chosen by hand by {step.get('by')} at {_when(step.get('at'))}: "
            f"{_label(step.get('account_id', ''), names)}{was} → rule "
            f"{step.get('result') or MANUAL}")
    if step.get("sender_verified") is False:
        # SPEC 20: who wrote a forged or an outsider's mail was never established.
        text += (f"; its sender {step.get('claimed_sender') or '(none)'} is unverified (not "
                 f"an authenticated team member), so {step.get('by')} is credited as creator")
    return text


def _thread_line(step: dict[str, Any], names: dict[str, str]) -> str:
    text = f"a reply to thread {step.get('thread_id')} ({step.get('address')})"
    if step.get("sender_is"):
        text += (f" from {step.get('sender')}, {step['sender_is']} of "
                 f"{_label(step.get('account_id', ''), names)}")
    if step.get("parent_id"):
        text += f", answering touchpoint {step['parent_id']}"
    result = step.get("result")
    return text + (f" → rule {THREAD}" if result == THREAD else f" → {result}" if result else "")


def _contact_line(step: dict[str, Any], names: dict[str, str]) -> str:
    links = seen_accounts(step)
    if not links:
        return f"{step['address']} is not a contact of any account"
    if len(links) == 1:
        return (f"{step['address']} is a contact of 1 account: "
                f"{_label(links[0].account_id, names)}{_arrow(step.get('result'))}")
    shown = ", ".join(_link_words(link, names) for link in links)
    return (f"{step['address']} is a contact of {len(links)} accounts: {shown}"
            f"{_arrow(step.get('result'))}")


def _link_words(link: SeenAccount, names: dict[str, str]) -> str:
    default = " (default_bcc)" if link.default_bcc else ""
    return f"{_label(link.account_id, names)}{default} last active {_when(link.last_activity)}"


def _domain_line(step: dict[str, Any], names: dict[str, str]) -> str:
    domain, accounts = step["domain"], [a.account_id for a in seen_accounts(step)]
    if step.get("result") == "personal_domain":
        return f"{domain} is a personal mail domain: never used for a domain match"
    if not accounts and step.get("contacts_only"):
        shown = ", ".join(_label(acc, names) for acc in step["contacts_only"])
        return (f"{domain} belongs to {shown}, which takes only its known contacts "
                "(contact_matches_only): the address is not one of them; add the person as "
                "a customer user of that account")
    if not accounts:
        return f"no account has the domain {domain}"
    shown = ", ".join(_label(acc, names) for acc in accounts)
    if step.get("result") == "tie":
        return f"{len(accounts)} accounts have the domain {domain}: {shown} → tie-break"
    return f"1 account has the domain {domain}: {shown}{_arrow(step.get('result'))}"


def _arrow(result: str | None) -> str:
    if result == AMBIGUOUS_ACCOUNT:
        return " → ambiguous_account"
    return f" → rule {result}" if result and result != "none" else ""


def _label(account_id: str, names: dict[str, str]) -> str:
    return names.get(account_id) or account_id


def _when(value: str | None) -> str:
    """`2026-11-15T21:23:51.966620` → `2026-11-15 21:23`; midnight (a date) → `2026-11-15`."""
    if not value:
        return "unknown"
    return value.replace("T", " ")[:16].removesuffix(" 00:00")
