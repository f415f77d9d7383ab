"""The mixes bench/mailgen.py generates: who is in the directory, which kinds of mail in what
shares, how big. bench_peers.py runs every one, so that no single mailbox flatters a peer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    about: str
    # (share of the mix, kind: a method `_<kind>` of mailgen.Mix); the shares add up to 100.
    kinds: tuple[tuple[int, str], ...]
    sellers: int = 20  # team members
    accounts: int = 400  # one domain each
    contacts_per_account: int = 5
    users: int = 0  # customer users in the directory (0: accounts * contacts_per_account)
    files: tuple[int, ...] = (12_000, 30_000, 60_000, 150_000)  # attachment sizes, bytes
    paragraphs: tuple[int, int] = (2, 7)  # a body's paragraphs: range(*paragraphs)
    provider_headers: bool = False  # ARC, DKIM, Exchange's X- headers (mailtext.py)
    reply_window: int = 200  # a reply answers one of the last this many messages remembered
    max_references: int = 20  # References keeps the thread's last this many ids
    quote_chars: int = 6_000  # a reply's body with the history it quotes, cut here
    trust: str = "aligned"  # [trust] require


MIXES = {p.name: p for p in (
    Profile("business", "issue 22's mailbox: 9.4 KB mean, 15% attachments, 12% forwards, 37% "
            "replies in threads, 32 team members, 49 accounts, 195 users, trust off",
            kinds=((37, "reply"), (24, "copy"), (15, "copy_attachment"), (8, "forward"),
                   (4, "forward_attached"), (5, "note"), (3, "auto_reply"), (2, "newsletter"),
                   (2, "unknown_customer")),
            sellers=32, accounts=49, contacts_per_account=4, users=195,
            files=(4_000, 8_000, 16_000, 32_000), paragraphs=(1, 4), provider_headers=True,
            reply_window=60, quote_chars=2_400, trust="none"),
    Profile("notes", "tiny notes only: a line or two to the touchpoints address, the customer "
            "in the subject", kinds=((100, "tiny_note"),)),
    Profile("attachments", "big files: 40% of the mail carries one of 40-200 KB (57 KB mean)",
            kinds=((35, "copy_attachment"), (5, "forward_attached"), (40, "copy"),
                   (20, "reply")), files=(40_000, 100_000, 200_000)),
    Profile("threads", "long threads: most mail answers an open thread, quoting its history "
            "(up to 12 KB) and naming up to 40 ids in References",
            kinds=((75, "reply"), (15, "copy"), (5, "forward"), (5, "note")),
            reply_window=8, max_references=40, quote_chars=12_000),
    Profile("today", "the mix bench_peers ran first: copies, replies, forwards, notes, "
            "attachments, auto-replies, a newsletter, unknown customers, an outside sender, "
            "second copies",
            kinds=((30, "copy"), (14, "reply"), (12, "forward"), (4, "forward_attached"),
                   (10, "note"), (10, "copy_attachment"), (6, "html_only"), (4, "auto_reply"),
                   (2, "newsletter"), (4, "unknown_customer"), (2, "outside_sender"),
                   (2, "second_copy"))),
)}
