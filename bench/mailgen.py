"""A generated mailbox of business mail, the same bytes for every peer of bench_peers.py.

Deterministic (seeded): sellers at ourco.com BCC or CC customer mail, reply in threads, forward
customer mail inline or as an attachment, mail their notes with the customer in the subject, and
attach quotes; with them come the usual failures and skips: unknown customers, an outside
sender, auto-replies, a newsletter, and second copies of a message already in the box.

    mix = Mix(seed=7); mail = [mix.message(n) for n in range(2000)]
    mix.write_directory(folder)   # team.csv, accounts.csv, users.csv for `touchlog import`
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

SELLERS = 20
ACCOUNTS = 400
CONTACTS_PER_ACCOUNT = 5
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
AUTHSERV_ID = "mx.ourco.com"  # the receiving server: trust.authserv_ids of the bench settings

WORDS = ("pricing rollout renewal contract onboarding integration pilot budget quarter review "
         "timeline security invoice discount seats training migration roadmap support escalation "
         "forecast proposal legal procurement sign-off workshop deployment licence usage").split()
# (share of the mix, kind); the shares add up to 100.
KINDS = ((30, "copy"), (14, "reply"), (12, "forward"), (4, "forward_attached"), (10, "note"),
         (10, "copy_attachment"), (6, "html_only"), (4, "auto_reply"), (2, "newsletter"),
         (4, "unknown_customer"), (2, "outside_sender"), (2, "second_copy"))


def seller(i: int) -> tuple[str, str]:
    return f"Seller {i}", f"seller{i}@ourco.com"


def contact(account: int, j: int) -> tuple[str, str]:
    return f"Contact {j} of {account}", f"c{j}.a{account}@cust{account}.example"


@dataclass
class Mix:
    seed: int = 7
    _sent: list[tuple[str, int, str]] = field(default_factory=list)  # (message-id, account, subj)
    _kinds: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._kinds = [kind for share, kind in KINDS for _ in range(share)]

    # --- the directory ---------------------------------------------------------------------

    def write_directory(self, folder: Path) -> dict[str, Path]:
        team = ["email,name,role,aliases"] + [f"{seller(i)[1]},{seller(i)[0]},user,"
                                              for i in range(SELLERS)]
        accounts = ["account_id,name,parent_id,email_domains,default_bcc,contact_matches_only"]
        users = ["email,account_id,last_activity"]
        for a in range(ACCOUNTS):
            accounts.append(f"A{a:04d},Customer {a},,cust{a}.example,false,false")
            users += [f"{contact(a, j)[1]},A{a:04d},2026-01-01"
                      for j in range(CONTACTS_PER_ACCOUNT)]
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
                 f"with ESMTPSA; {stamp}",
                 f"From: {_addr(sender)}", f"To: {', '.join(_addr(t) for t in to)}"]
        if cc:
            lines.append(f"Cc: {', '.join(_addr(c) for c in cc)}")
        lines += [f"Subject: {subject}", f"Date: {stamp}",
                  f"Message-ID: {message_id or f'<gen-{self.seed}-{n}@ourco.com>'}",
                  "MIME-Version: 1.0"]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        return lines

    def _customer(self, rng: random.Random) -> tuple[int, tuple[str, str]]:
        account = rng.randrange(ACCOUNTS)
        return account, contact(account, rng.randrange(CONTACTS_PER_ACCOUNT))

    def _copy(self, n: int, rng: random.Random, attachment: bool = False) -> bytes:
        account, customer = self._customer(rng)
        me = seller(rng.randrange(SELLERS))
        subject = _subject(rng)
        cc = [seller(rng.randrange(SELLERS))] if rng.random() < 0.4 else None
        headers = self._headers(n, rng, me, [customer], subject, cc)
        self._remember(n, account, subject)
        text = _text(rng, customer[0], me[0])
        if attachment:
            return _mixed(headers, _alternative(text, rng), [_file(rng)], n)
        return _join(headers, _alternative(text, rng))

    def _copy_attachment(self, n: int, rng: random.Random) -> bytes:
        return self._copy(n, rng, attachment=True)

    def _html_only(self, n: int, rng: random.Random) -> bytes:
        account, customer = self._customer(rng)
        me = seller(rng.randrange(SELLERS))
        subject = _subject(rng)
        headers = self._headers(n, rng, me, [customer], subject)
        self._remember(n, account, subject)
        html = _html(_text(rng, customer[0], me[0]))
        return _join(headers, ['Content-Type: text/html; charset="utf-8"',
                               "Content-Transfer-Encoding: quoted-printable", "", _qp(html)])

    def _reply(self, n: int, rng: random.Random) -> bytes:
        parent_id, account, subject = rng.choice(self._sent[-200:])
        customer = contact(account, rng.randrange(CONTACTS_PER_ACCOUNT))
        me = seller(rng.randrange(SELLERS))
        extra = {"In-Reply-To": parent_id, "References": parent_id}
        headers = self._headers(n, rng, me, [customer], f"Re: {subject}", extra=extra)
        self._remember(n, account, subject)
        quoted = "\n".join("> " + line for line in _text(rng, me[0], customer[0]).splitlines())
        return _join(headers, _alternative(_text(rng, customer[0], me[0]) + "\n\n" + quoted, rng))

    def _forward(self, n: int, rng: random.Random) -> bytes:
        account, customer = self._customer(rng)
        me = seller(rng.randrange(SELLERS))
        subject = _subject(rng)
        when = format_datetime(START + timedelta(minutes=7 * n - 90))
        body = (f"FYI, see below.\n\n{me[0]}\n\n---------- Forwarded message ---------\n"
                f"From: {_addr(customer)}\nDate: {when}\nSubject: {subject}\n"
                f"To: {_addr(me)}\n\n{_text(rng, me[0], customer[0])}")
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], f"Fwd: {subject}")
        return _join(headers, _plain(body))

    def _forward_attached(self, n: int, rng: random.Random) -> bytes:
        account, customer = self._customer(rng)
        me = seller(rng.randrange(SELLERS))
        subject = _subject(rng)
        inner = _join(self._headers(n, rng, customer, [me], subject,
                                    message_id=f"<cust-{self.seed}-{n}@cust{account}.example>"),
                      _plain(_text(rng, me[0], customer[0])))
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], f"Fwd: {subject}")
        boundary = f"fwd-{n}"
        parts = [f'Content-Type: multipart/mixed; boundary="{boundary}"', "",
                 f"--{boundary}", *_plain("Forwarding the customer's mail."),
                 f"--{boundary}", "Content-Type: message/rfc822", "", inner.decode(),
                 f"--{boundary}--", ""]
        return _join(headers, parts)

    def _note(self, n: int, rng: random.Random) -> bytes:
        account, customer = self._customer(rng)
        me = seller(rng.randrange(SELLERS))
        subject = f"{customer[1]} call notes"
        headers = self._headers(n, rng, me, [("", "touchpoints@ourco.com")], subject)
        return _join(headers, _plain(_text(rng, customer[0], me[0])))

    def _auto_reply(self, n: int, rng: random.Random) -> bytes:
        _, customer = self._customer(rng)
        headers = self._headers(n, rng, customer, [seller(rng.randrange(SELLERS))],
                                "Automatic reply: " + _subject(rng),
                                extra={"Auto-Submitted": "auto-replied"})
        return _join(headers, _plain("I am out of the office until Monday."))

    def _newsletter(self, n: int, rng: random.Random) -> bytes:
        headers = self._headers(n, rng, ("News", "news@vendor.example"),
                                [seller(rng.randrange(SELLERS))], "This month's news",
                                extra={"Precedence": "bulk", "List-Id": "<news.vendor.example>"})
        return _join(headers, _alternative(_text(rng, "reader", "the team"), rng))

    def _unknown_customer(self, n: int, rng: random.Random) -> bytes:
        me = seller(rng.randrange(SELLERS))
        stranger = ("Someone New", f"someone{n}@prospect{n}.example")
        return _join(self._headers(n, rng, me, [stranger], _subject(rng)),
                     _plain(_text(rng, stranger[0], me[0])))

    def _outside_sender(self, n: int, rng: random.Random) -> bytes:
        _, customer = self._customer(rng)
        return _join(self._headers(n, rng, customer, [("", "touchpoints@ourco.com")],
                                   _subject(rng)), _plain(_text(rng, "team", customer[0])))

    def _second_copy(self, n: int, rng: random.Random) -> bytes:
        # A colleague BCCs the same mail: same Message-ID, logged once, the copy skipped.
        parent_id, account, subject = rng.choice(self._sent[-200:])
        customer = contact(account, 0)
        me = seller(rng.randrange(SELLERS))
        return _join(self._headers(n, rng, me, [customer], subject, message_id=parent_id),
                     _plain(_text(rng, customer[0], me[0])))

    def _remember(self, n: int, account: int, subject: str) -> None:
        self._sent.append((f"<gen-{self.seed}-{n}@ourco.com>", account, subject))


# --- bodies ----------------------------------------------------------------------------------


def _addr(who: tuple[str, str]) -> str:
    name, email = who
    return f'"{name}" <{email}>' if name else email


def _subject(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 7))).capitalize()


def _text(rng: random.Random, to: str, me: str) -> str:
    paragraphs = []
    for _ in range(rng.randrange(2, 7)):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 16))).capitalize()
                     + "." for _ in range(rng.randrange(2, 6))]
        paragraphs.append(_wrap(" ".join(sentences)))
    return (f"Hi {to},\n\n" + "\n\n".join(paragraphs) + f"\n\nBest regards,\n{me}\nOurCo | "
            "Account Executive | +1 555 0100\n")


def _wrap(text: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return (f'<html><head><style>p {{margin:0 0 8px}}</style></head><body><div style="font-'
            f'family:Calibri,sans-serif">{paragraphs}</div></body></html>')


def _qp(text: str) -> str:
    import quopri

    return quopri.encodestring(text.encode()).decode()


def _plain(text: str) -> list[str]:
    return ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit", "",
            text]


def _alternative(text: str, rng: random.Random) -> list[str]:
    boundary = f"alt-{rng.randrange(10**9)}"
    return [f'Content-Type: multipart/alternative; boundary="{boundary}"', "",
            f"--{boundary}", *_plain(text), f"--{boundary}",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable", "", _qp(_html(text)),
            f"--{boundary}--", ""]


def _file(rng: random.Random) -> tuple[str, str, bytes]:
    size = rng.choice((12_000, 30_000, 60_000, 150_000))
    data = bytes(rng.getrandbits(8) for _ in range(256)) * (size // 256)
    name = rng.choice(("quote.pdf", "proposal.pdf", "pricing.xlsx"))
    return name, "application/octet-stream", data


def _mixed(headers: list[str], body: list[str], files: list, n: int) -> bytes:
    boundary = f"mixed-{n}"
    lines = [f'Content-Type: multipart/mixed; boundary="{boundary}"', "", f"--{boundary}", *body]
    for name, ctype, data in files:
        encoded = base64.encodebytes(data).decode()
        lines += [f"--{boundary}", f'Content-Type: {ctype}; name="{name}"',
                  f'Content-Disposition: attachment; filename="{name}"',
                  "Content-Transfer-Encoding: base64", "", encoded]
    lines.append(f"--{boundary}--")
    return _join(headers, lines[:1] + lines[1:])


def _join(headers: list[str], body: list[str]) -> bytes:
    # `body` starts with the Content-Type header line(s), then a blank line, then the content.
    return ("\r\n".join(headers + body) + "\r\n").replace("\r\n", "\n").replace(
        "\n", "\r\n").encode("utf-8")
