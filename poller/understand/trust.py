"""Is the From genuine? SPEC 11: the verdict of a trusted receiving server, aligned with the From.

A From header proves nothing. The receiving server checks SPF, DKIM and DMARC and writes what it
found in an Authentication-Results header on top of the message; touchlog believes only the
topmost such header of a server listed in `[trust] authserv_ids` (an attacker can add his own
further down, never above the server's). A message that does not name exactly one author — two
From headers, two From addresses, or a Sender who is neither the From nor a team member — fails
too: crediting the first address is what a forger would count on.

Alignment uses the organisational domain (poller.understand.suffixes: the Public Suffix List the
`publicsuffixlist` package ships, no network at run time), as DMARC's relaxed mode does: a DKIM
signature of mail.ourco.com counts for sam@ourco.com, one of ourco.com.evil.example does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.addresses import domain_of, is_under
from core.sections import TrustSettings
from poller.mail.message import Message
from poller.understand.authres import NO_AUTHSERV_ID, AuthResults, parse
from poller.understand.suffixes import organisational_domain

MAX_IDS_NAMED = 3  # authserv-ids named in a detail; the topmost is the one that matters

# Microsoft 365 (SPEC 20, `trust.microsoft365_tenant_id`): mail a seller sends inside the tenant
# carries `dmarc=none`, but Exchange Online stamps it as its own. The X-MS-Exchange-Organization-*
# headers are Exchange's: its header firewall removes them from every message that enters the
# organization from outside (another tenant, the Internet, an unauthenticated client) before it
# writes its own, so in a mailbox of the tenant an AuthAs of Internal with a directionality of
# Originating says that Exchange itself authenticated the sender as one of the organization's.
# The tenant id says which organization: it is public, and outside the tenant (a mailbox
# elsewhere, a gateway that keeps what the sender wrote) anyone can write all three, so the
# setting is only for a mailbox hosted in that tenant. Each is read only as Exchange writes it:
# exactly once, with exactly its value; a second copy means someone else wrote one.
AUTH_AS = "X-MS-Exchange-Organization-AuthAs"
DIRECTIONALITY = "X-MS-Exchange-Organization-MessageDirectionality"
CROSS_TENANT = "X-MS-Exchange-CrossTenant-Id"
EXCHANGE_HEADERS = (AUTH_AS, DIRECTIONALITY, CROSS_TENANT)


@dataclass(frozen=True)
class TrustFailure:
    detail: str  # one line for the record, `failures show` and the notice
    seen_ids: tuple[str, ...] = ()  # authserv-ids of the message's headers, topmost first


def authenticate(msg: Message, trust: TrustSettings, is_team_member: Callable[[str], bool],
                 ahead: Callable[[], TrustFailure | None] | None = None,
                 internal_domains: Sequence[str] = ()) -> TrustFailure | None:
    """None when the message's one author is authenticated (or the check is off), else why not.

    A message with no From address at all is left to the team check (`unknown_sender`): it
    claims nobody, so there is nobody to impersonate. `ahead`: what `verdict` already said of
    this message elsewhere (a worker process, poller.understand.early)."""
    if msg.sender is None:
        return None
    failure = _one_author(msg, is_team_member)
    if failure or trust.require == "none":
        return failure
    return ahead() if ahead is not None else _verdict(msg, trust, internal_domains)


def verdict(msg: Message, trust: TrustSettings,
            internal_domains: Sequence[str] = ()) -> TrustFailure | None:
    """The part of `authenticate` that reads only the message: the trusted server's verdict
    (or Exchange's own stamp, for a From under `internal_domains`)."""
    if msg.sender is None or trust.require == "none":
        return None
    return _verdict(msg, trust, internal_domains)


def sent_inside_tenant(msg: Message, tenant_id: str, internal_domains: Sequence[str]) -> bool:
    """Exchange Online authenticated the sender inside tenant `tenant_id`, and the From is
    under `internal_domains` (see EXCHANGE_HEADERS above for why this can be believed)."""
    tenant = tenant_id.strip().lower()
    if not tenant or msg.sender is None or not is_under(msg.sender.domain, internal_domains):
        return False
    wanted = {AUTH_AS: "internal", DIRECTIONALITY: "originating", CROSS_TENANT: tenant}
    for name, value in wanted.items():
        written = msg.headers.get(name.lower())
        if written is None or "\n" in written or written.strip().lower() != value:
            return False
    return True


def _one_author(msg: Message, is_team_member: Callable[[str], bool]) -> TrustFailure | None:
    if msg.from_headers > 1:
        return TrustFailure(f"the message has {msg.from_headers} From headers, so who wrote it "
                            "cannot be told; it is credited to none of them")
    if len(msg.authors) > 1:
        names = ", ".join(a.email for a in msg.authors)
        return TrustFailure(f"the From header names {len(msg.authors)} addresses ({names}); "
                            "a message is credited to one author only, so to none of them")
    sender, author = _sender_field(msg), msg.sender.email.lower() if msg.sender else ""
    if sender and sender != author and not is_team_member(sender):
        return TrustFailure(f"the Sender header names {sender}, who is neither the From address "
                            "nor a team member: the message was sent by someone else")
    return None


def _sender_field(msg: Message) -> str:
    from email.utils import parseaddr

    value = msg.headers.get("sender", "").split("\n")[0]
    return parseaddr(value)[1].strip().lower() if value.strip() else ""


def _verdict(msg: Message, trust: TrustSettings,
             internal_domains: Sequence[str]) -> TrustFailure | None:
    if sent_inside_tenant(msg, trust.microsoft365_tenant_id, internal_domains):
        return None
    headers = [parse(v) for v in msg.headers.get("authentication-results", "").split("\n")
               if v.strip()]
    seen = tuple(dict.fromkeys(h.authserv_id for h in headers if h.authserv_id))
    domain = msg.sender.domain if msg.sender else ""
    if not trust.authserv_ids:
        return TrustFailure(_nothing_trusted(seen), seen)
    trusted = trusted_header(headers, trust.authserv_ids)
    if trusted is None:
        listed = ", ".join(trust.authserv_ids)
        found = f"; the message's come from {_named(seen)}" if seen else \
            "; the message carries no Authentication-Results header"
        return TrustFailure(f"no Authentication-Results header of a trusted server "
                            f"(authserv_ids: {listed}){found}", seen)
    if aligned(trusted, domain):
        return None
    said = "; ".join(r.text() for r in trusted.results if r.method in _METHODS) or "nothing"
    return TrustFailure(f"{trusted.authserv_id} did not authenticate {domain}: it says {said}",
                        seen)


def _nothing_trusted(seen: tuple[str, ...]) -> str:
    if not seen:
        return ("no [trust] authserv_ids are configured, so no verdict can be trusted; the "
                "message carries no Authentication-Results header")
    return ("no [trust] authserv_ids are configured, so no verdict can be trusted; the "
            f"message's Authentication-Results come from {_named(seen)}: if the first is your "
            f"inbound mail server, set authserv_ids = [\"{seen[0]}\"]")


def _named(ids: tuple[str, ...]) -> str:
    more = len(ids) - MAX_IDS_NAMED
    return ", ".join(ids[:MAX_IDS_NAMED]) + (f" and {more} more" if more > 0 else "")


def trusted_header(headers: list[AuthResults], authserv_ids: tuple[str, ...]
                   ) -> AuthResults | None:
    """The topmost header of a listed server; one without an authserv-id (Microsoft 365) only
    when it is the topmost header of all and "(none)" is listed."""
    listed = {i.strip().lower() for i in authserv_ids}
    for index, header in enumerate(headers):
        if header.authserv_id == NO_AUTHSERV_ID:
            if index == 0 and NO_AUTHSERV_ID in listed:
                return header
        elif header.authserv_id in listed:
            return header
    return None


_METHODS = ("dmarc", "dkim", "spf")
def aligned(header: AuthResults, from_domain: str) -> bool:
    """SPEC 11's `aligned`: DMARC pass for the From domain, or a DKIM or SPF pass in its
    organisational domain. The Public Suffix List is read only when a pass names a domain
    other than the From's own."""
    if not from_domain:
        return False
    passed = [r for r in header.results if r.result == "pass"]
    if any(r.method == "dmarc" and r.props.get("header.from", "").lower().rstrip(".")
           == from_domain for r in passed):
        return True
    domains = {_domain(r.props.get(k, "")) for r in passed for k in _IDENTITIES.get(r.method, ())}
    domains.discard("")
    if from_domain in domains:
        return True
    if not domains:
        return False
    org = organisational_domain(from_domain)
    return any(d == org or d.endswith("." + org) for d in domains)


_IDENTITIES = {"dkim": ("header.d", "header.i"), "spf": ("smtp.mailfrom",)}


def _domain(value: str) -> str:
    """`@ourco.com`, `sam@ourco.com`, `<sam@ourco.com>` and `ourco.com` → `ourco.com`."""
    return domain_of(value.strip().strip("<>")).rstrip(".")
