"""Generated mailboxes of business mail, the same bytes for every peer of bench_peers.py.

Deterministic (seeded): sellers at ourco.com BCC or CC customer mail, reply in threads, forward
customer mail inline or as an attachment, mail their notes with the customer in the subject, and
attach quotes; with them come the usual failures and skips: unknown customers, an outside
sender, auto-replies, a newsletter, and second copies of a message already in the box.

Several mixes (`MIXES`), so that no single mailbox flatters a peer: `business` (issue 22's: 9.4 KB
mean, 32 team members, 49 accounts, 195 customer users, a provider's header block, trust off),
`notes` (tiny notes only), `attachments` (big files), `threads` (long threads that quote their
history), and `today` (the mix bench_peers used first).

    mix = Mix(seed=7, profile=MIXES["business"]); mail = [mix.message(n) for n in range(2000)]
    mix.write_directory(folder)   # team.csv, accounts.csv, users.csv for `touchlog import`
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import mailtext as mt
from mixes import MIXES, Profile

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
AUTHSERV_ID = "mx.ourco.com"  # the receiving server: trust.authserv_ids of the bench settings
__all__ = ["AUTHSERV_ID", "MIXES", "Mix", "Profile"]


def seller(i: int) -> tuple[str, str]:
    return f"Seller {i}", f"seller{i}@ourco.com"


def contact(account: int, j: int) -> tuple[str, str]:
    return f"Contact {j} of {account}", f"c{j}.a{account}@cust{account}.example"


@dataclass(frozen=True)
class Sent:
    """A message a later one may answer: its id, its thread's ids, account, subject, text."""

    message_id: str
    references: tuple[str, ...]
    account: int
    subject: str
    body: str


@dataclass
class Mix:
    seed: int = 7
    profile: Profile = field(default_factory=lambda: MIXES["today"])
    _sent: list[Sent] = field(default_factory=list)
    _kinds: list[str] = field(default_factory=list)
    _users: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._kinds = [kind for share, kind in self.profile.kinds for _ in range(share)]
        p = self.profile
        every = [(a, j) for a in range(p.accounts) for j in range(p.contacts_per_account)]
        self._users = every[:p.users] if p.users else every

    # --- the directory ---------------------------------------------------------------------

    def write_directory(self, folder: Path) -> dict[str, Path]:
        p = self.profile
        team = ["email,name,role,aliases"] + [f"{seller(i)[1]},{seller(i)[0]},user,"
                                              for i in range(p.sellers)]
        accounts = ["account_id,name,parent_id,email_domains,default_bcc,contact_matches_only"]
        accounts += [f"A{a:04d},Customer {a},,cust{a}.example,false,false"
                     for a in range(p.accounts)]
        users = ["email,account_id,last_activity"]
        users += [f"{contact(a, j)[1]},A{a:04d},2026-01-01" for a, j in self._users]
        paths = {}
        for name, lines in (("team", team), ("accounts", accounts), ("users", users)):
            paths[name] = folder / f"{name}.csv"
            paths[name].write_text("\n".join(lines) + "\n")
        return paths

    # --- one message -----------------------------------------------------------------------

    def message(self, n: int) -> bytes:
        rng = random.Random(self.seed * 1_000_003 + n)
        kind = rng.choice(self._kinds)
        if kind in ("reply", "second_copy") and not self._sent:
            kind = "copy"
        return getattr(self, f"_{kind}")(n, rng)

    def _headers(self, n: int, rng: random.Random, sender: tuple[str, str], to: list,
                 subject: str, cc: list | None = None, extra: dict | None = None,
                 message_id: str | None = None) -> list[str]:
        when = START + timedelta(minutes=7 * n + rng.randrange(7))
        domain = sender[1].rpartition("@")[2]
        stamp = format_datetime(when)
        # As the receiving server delivers it: its verdict on top (SPEC 11), then the hops.
        lines = [f"Authentication-Results: {AUTHSERV_ID}; spf=pass smtp.mailfrom={domain}; "
                 f"dkim=pass header.d={domain}; dmarc=pass (p=reject) header.from={domain}",
                 f"Received: from mail.{domain} (mail.{domain} [192.0.2.{n % 250 + 1}]) by "
                 f"{AUTHSERV_ID} with ESMTPS id {n:08x}; {stamp}",
                 f"Received: from [10.1.{n % 250}.{rng.randrange(250)}] by mail.{domain} "
                 f"with ESMTPSA; {stamp}"]
        if self.profile.provider_headers:
            lines += mt.provider_headers(n, domain, stamp, rng)
        lines += [f"From: {mt.addr(sender)}", f"To: {', '.join(mt.addr(t) for t in to)}"]
        if cc:
            lines.append(f"Cc: {', '.join(mt.addr(c) for c in cc)}")
        lines += [f"Subject: {subject}", f"Date: {stamp}",
                  f"Message-ID: {message_id or self._id(n)}", "MIME-Version: 1.0"]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        return lines

    def _id(self, n: int) -> str:
        return f"<gen-{self.seed}-{n}@ourco.com>"

    def _customer(self, rng: random.Random) -> tuple[int, tuple[str, str]]:
        account, j = rng.choice(self._users)
        return account, contact(account, j)

    def _seller(self, rng: random.Random) -> tuple[str, str]:
        return seller(rng.randrange(self.profile.sellers))

    def _text(self, rng: random.Random, to: str, me: str) -> str:
        return mt.text(rng, to, me, self.profile.paragraphs)

    def _copy(self, n: int, rng: random.Random, attachment: bool = False) -> bytes:
        account, customer = self._customer(rng)
        me = self._seller(rng)
        subject = mt.subject(rng)
        cc = [self._seller(rng)] if rng.random() < 0.4 else None
        headers = self._headers(n, rng, me, [customer], subject, cc)
        text = self._text(rng, customer[0], me[0])
        self._remember(n, (), account, subject, text)
        if attachment:
            return mt.mixed(headers, mt.alternative(text, rng),
                            [mt.attachment(rng, self.profile.files)], n)
        return mt.join(headers, mt.alternative(text, rng))

    def _copy_attachment(self, n: int, rng: random.Random) -> bytes:
        return self._copy(n, rng, attachment=True)

    def _html_only(self, n: int, rng: random.Random) -> bytes:
        account, customer = self._customer(rng)
        me = self._seller(rng)
        subject = mt.subject(rng)
        headers = self._headers(n, rng, me, [customer], subject)
        text = self._text(rng, customer[0], me[0])
        self._remember(n, (), account, subject, text)
        return mt.join(headers, ['Content-Type: text/html; charset="utf-8"',
                                 "Content-Transfer-Encoding: quoted-printable", "",
                                 mt.qp(mt.html(text))])

    def _reply(self, n: int, rng: random.Random) -> bytes:
        """A seller answers a message of a thread: In-Reply-To it, References the thread, its
        history quoted below (as much as the mix's `quote_chars` keeps)."""
        p = self.profile
        parent = rng.choice(self._sent[-p.reply_window:])
        customer = contact(parent.account, rng.randrange(p.contacts_per_account))
        me = self._seller(rng)
        refs = (*parent.references, parent.message_id)[-p.max_references:]
        extra = {"In-Reply-To": parent.message_id, "References": " ".join(refs)}
        headers = self._headers(n, rng, me, [customer], f"Re: {parent.subject}", extra=extra)
        mine = self._text(rng, customer[0], me[0])
        quoted = "\n".join("> " + line for line in parent.body.splitlines())
        body = f"{mine}\n\n{quoted}"[:p.quote_chars]
        self._remember(n, refs, parent.account, parent.subject, body)
        return mt.join(headers, mt.alternative(body, rng))

    def _forward(self, n: int, rng: random.Random) -> bytes:
        _, customer = self._customer(rng)
        me = self._seller(rng)
        subject = mt.subject(rng)
        when = format_datetime(START + timedelta(minutes=7 * n - 90))
        body = (f"FYI, see below.\n\n{me[0]}\n\n---------- Forwarded message ---------\n"
                f"From: {mt.addr(customer)}\nDate: {when}\nSubject: {subject}\n"
                f"To: {mt.addr(me)}\n\n{self._text(rng, me[0], customer[0])}")
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], f"Fwd: {subject}")
        return mt.join(headers, mt.plain_part(body))

    def _forward_attached(self, n: int, rng: random.Random) -> bytes:
        account, customer = self._customer(rng)
        me = self._seller(rng)
        subject = mt.subject(rng)
        inner = mt.join(self._headers(n, rng, customer, [me], subject,
                                      message_id=f"<cust-{self.seed}-{n}@cust{account}.example>"),
                        mt.plain_part(self._text(rng, me[0], customer[0])))
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], f"Fwd: {subject}")
        boundary = f"fwd-{n}"
        parts = [f'Content-Type: multipart/mixed; boundary="{boundary}"', "",
                 f"--{boundary}", *mt.plain_part("Forwarding the customer's mail."),
                 f"--{boundary}", "Content-Type: message/rfc822", "", inner.decode(),
                 f"--{boundary}--", ""]
        return mt.join(headers, parts)

    def _note(self, n: int, rng: random.Random) -> bytes:
        _, customer = self._customer(rng)
        me = self._seller(rng)
        subject = f"{customer[1]} call notes"
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], subject)
        return mt.join(headers, mt.plain_part(self._text(rng, customer[0], me[0])))

    def _tiny_note(self, n: int, rng: random.Random) -> bytes:
        """A line or two typed on a phone after a call."""
        _, customer = self._customer(rng)
        me = self._seller(rng)
        words = " ".join(rng.choice(mt.WORDS) for _ in range(rng.randrange(4, 20)))
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], customer[1])
        return mt.join(headers, mt.plain_part(f"{words.capitalize()}.\n"))

    def _auto_reply(self, n: int, rng: random.Random) -> bytes:
        _, customer = self._customer(rng)
        headers = self._headers(n, rng, customer, [self._seller(rng)],
                                "Automatic reply: " + mt.subject(rng),
                                extra={"Auto-Submitted": "auto-replied"})
        return mt.join(headers, mt.plain_part("I am out of the office until Monday."))

    def _newsletter(self, n: int, rng: random.Random) -> bytes:
        headers = self._headers(n, rng, ("News", "news@vendor.example"),
                                [self._seller(rng)], "This month's news",
                                extra={"Precedence": "bulk", "List-Id": "<news.vendor.example>"})
        return mt.join(headers, mt.alternative(self._text(rng, "reader", "the team"), rng))

    def _unknown_customer(self, n: int, rng: random.Random) -> bytes:
        me = self._seller(rng)
        stranger = ("Someone New", f"someone{n}@prospect{n}.example")
        return mt.join(self._headers(n, rng, me, [stranger], mt.subject(rng)),
                       mt.plain_part(self._text(rng, stranger[0], me[0])))

    def _outside_sender(self, n: int, rng: random.Random) -> bytes:
        _, customer = self._customer(rng)
        return mt.join(self._headers(n, rng, customer, [("", "touchpoints@ourco.com")],
                                     mt.subject(rng)),
                       mt.plain_part(self._text(rng, "team", customer[0])))

    def _second_copy(self, n: int, rng: random.Random) -> bytes:
        # A colleague BCCs the same mail: same Message-ID, logged once, the copy skipped.
        parent = rng.choice(self._sent[-200:])
        customer = contact(parent.account, 0)
        me = self._seller(rng)
        return mt.join(self._headers(n, rng, me, [customer], parent.subject,
                                     message_id=parent.message_id),
                       mt.plain_part(self._text(rng, customer[0], me[0])))

    def _remember(self, n: int, refs: tuple[str, ...], account: int, subject: str,
                  body: str) -> None:
        self._sent.append(Sent(self._id(n), refs, account, subject, body))
        del self._sent[:-max(200, self.profile.reply_window)]
