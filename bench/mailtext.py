"""The bodies and headers of bench/mailgen.py's messages: words, paragraphs, HTML, attachments,
and the header block a big provider's servers add (DKIM, ARC, Exchange's own)."""

from __future__ import annotations

import base64
import hashlib
import quopri
import random

WORDS = ("pricing rollout renewal contract onboarding integration pilot budget quarter review "
         "timeline security invoice discount seats training migration roadmap support escalation "
         "forecast proposal legal procurement sign-off workshop deployment licence usage").split()


def addr(who: tuple[str, str]) -> str:
    name, email = who
    return f'"{name}" <{email}>' if name else email


def subject(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 7))).capitalize()


def text(rng: random.Random, to: str, me: str, paragraphs: tuple[int, int] = (2, 7)) -> str:
    """A greeting, `paragraphs` (a range) of prose, a signature."""
    found = []
    for _ in range(rng.randrange(*paragraphs)):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 16))).capitalize()
                     + "." for _ in range(rng.randrange(2, 6))]
        found.append(wrap(" ".join(sentences)))
    return (f"Hi {to},\n\n" + "\n\n".join(found) + f"\n\nBest regards,\n{me}\nOurCo | "
            "Account Executive | +1 555 0100\n")


def wrap(words: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in words.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def html(plain: str) -> str:
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in plain.split("\n\n"))
    return (f'<html><head><style>p {{margin:0 0 8px}}</style></head><body><div style="font-'
            f'family:Calibri,sans-serif">{paragraphs}</div></body></html>')


def qp(plain: str) -> str:
    return quopri.encodestring(plain.encode()).decode()


def plain_part(body: str) -> list[str]:
    return ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit", "",
            body]


def alternative(body: str, rng: random.Random) -> list[str]:
    boundary = f"alt-{rng.randrange(10**9)}"
    return [f'Content-Type: multipart/alternative; boundary="{boundary}"', "",
            f"--{boundary}", *plain_part(body), f"--{boundary}",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable", "", qp(html(body)),
            f"--{boundary}--", ""]


def attachment(rng: random.Random, sizes: tuple[int, ...]) -> tuple[str, str, bytes]:
    size = rng.choice(sizes)
    data = bytes(rng.getrandbits(8) for _ in range(256)) * (size // 256)
    name = rng.choice(("quote.pdf", "proposal.pdf", "pricing.xlsx", "deck.pptx", "scan.png"))
    return name, "application/octet-stream", data


def mixed(headers: list[str], body: list[str], files: list, n: int) -> bytes:
    boundary = f"mixed-{n}"
    lines = [f'Content-Type: multipart/mixed; boundary="{boundary}"', "", f"--{boundary}", *body]
    for name, ctype, data in files:
        encoded = base64.encodebytes(data).decode()
        lines += [f"--{boundary}", f'Content-Type: {ctype}; name="{name}"',
                  f'Content-Disposition: attachment; filename="{name}"',
                  "Content-Transfer-Encoding: base64", "", encoded]
    lines.append(f"--{boundary}--")
    return join(headers, lines)


def join(headers: list[str], body: list[str]) -> bytes:
    # `body` starts with the Content-Type header line(s), then a blank line, then the content.
    return ("\r\n".join(headers + body) + "\r\n").replace("\r\n", "\n").replace(
        "\n", "\r\n").encode("utf-8")


def provider_headers(n: int, domain: str, stamp: str, rng: random.Random) -> list[str]:
    """What Microsoft 365 or Google add to a message on its way: signatures, ARC, their own
    X- headers, a Thread-Index. Real business mail carries 2-4 KB of them; nothing reads most."""
    sig = _b64(f"sig-{n}-{domain}", 344)
    body_hash = _b64(f"bh-{n}", 44)
    fold = "\r\n\t"
    return [
        f"ARC-Seal: i=1; a=rsa-sha256; s=arcselector9901; d=microsoft.com; cv=none;{fold}"
        f"b={_folded(sig, 76)}",
        f"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;{fold}"
        f"s=arcselector9901;{fold}h=From:Date:Subject:Message-ID:Content-Type:MIME-Version;"
        f"{fold}bh={body_hash};{fold}b={_folded(_b64(f'arc-{n}', 344), 76)}",
        f"ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass{fold}smtp.mailfrom="
        f"{domain}; dmarc=pass action=none header.from={domain};{fold}dkim=pass header.d="
        f"{domain}; arc=none",
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};{fold}s=selector1;"
        f"{fold}h=From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-"
        f"SenderADCheck;{fold}bh={body_hash};{fold}b={_folded(sig, 76)}",
        f"Thread-Topic: {subject(rng)}",
        f"Thread-Index: {_b64(f'ti-{n}', 40)}",
        "Accept-Language: en-US",
        "Content-Language: en-US",
        "X-MS-Has-Attach: ",
        "X-MS-TNEF-Correlator: ",
        f"X-MS-Exchange-Organization-Network-Message-Id: {_uuid(n)}",
        "X-MS-PublicTrafficType: Email",
        f"X-MS-Office365-Filtering-Correlation-Id: {_uuid(n + 1)}",
        "X-MS-Exchange-SenderADCheck: 1",
        "X-MS-Exchange-AntiSpam-Relay: 0",
        f"X-Microsoft-Antispam: BCL:0;ARA:13230040|1800799024|366016|376014;{fold}"
        f"{_folded(_b64(f'as-{n}', 160), 70)}",
        f"X-Forefront-Antispam-Report: CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;"
        f"{fold}SFV:NSPM;H:mail.{domain};PTR:;CAT:NONE;SFS:(13230040)(366016);DIR:OUT;SFP:1101;",
        f"X-MS-Exchange-CrossTenant-OriginalArrivalTime: {stamp}",
        f"X-MS-Exchange-CrossTenant-Id: {_uuid(7)}",
        "X-MS-Exchange-CrossTenant-AuthAs: Internal",
        "X-MS-Exchange-Transport-CrossTenantHeadersStamped: DM6PR11MB4107",
    ]


def _b64(seed: str, length: int) -> str:
    out, i = "", 0
    while len(out) < length:
        out += base64.b64encode(hashlib.sha256(f"{seed}/{i}".encode()).digest()).decode()
        i += 1
    return out[:length]


def _folded(value: str, width: int) -> str:
    return "\r\n\t ".join(value[i:i + width] for i in range(0, len(value), width))


def _uuid(n: int) -> str:
    h = hashlib.md5(str(n).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
