"""Forwarded blocks as mail clients write them, and the real-world corpus."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from poller.mail.forwards import Forwarded, blocks_in_text, find_forwards
from poller.mail.message import Address, Message, parse_message
from poller.mail.text import html_to_text

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def message(text: str = "", html: str = "", attached: tuple[Message, ...] = (),
            sender: str = "sam@ourco.com", to: tuple[str, ...] = ("touchpoints@ourco.com",),
            subject: str = "Fwd: hello") -> Message:
    part_types = (("text/plain",) if text else ()) + (("text/html",) if html else ())
    return Message(
        key="k", message_id="", subject=subject, sender=Address(sender), to=tuple(map(Address, to)),
        cc=(), date=None, text=text or (html_to_text(html) if html else ""), html=html,
        headers={}, content_type="text/plain", part_types=part_types, references=(),
        attached_messages=attached,
    )


def emails(addresses: tuple[Address, ...]) -> list[str]:
    return [a.email for a in addresses]


def only(text: str) -> Forwarded:
    blocks = find_forwards(message(text))
    assert len(blocks) == 1, blocks
    return blocks[0]


GMAIL = """FYI

---------- Forwarded message ---------
From: Jill Hill <jill@cust.com>
Date: Wed, Oct 27, 2021 at 9:31 AM
Subject: Renewal
To: <sam@ourco.com>
Cc: Bob <bob@cust.com>, Ann <ann@ourco.com>

Hi Sam,
"""


def test_gmail_forward_gives_original_sender_to_and_cc() -> None:
    block = only(GMAIL)
    assert block.sender == Address("jill@cust.com", "Jill Hill")
    assert emails(block.to) == ["sam@ourco.com"]
    assert emails(block.cc) == ["bob@cust.com", "ann@ourco.com"]
    assert (block.subject, block.source, block.names_only) == ("Renewal", "inline", False)


def test_outlook_original_message_with_mailto_brackets_and_semicolons() -> None:
    block = only("-----Original Message-----\nFrom: Jill Hill [mailto:jill@cust.com]\n"
                 "Sent: Monday, March 1, 2021 10:00 AM\n"
                 "To: Sam <sam@ourco.com>; Bob [mailto:bob@cust.com]\n"
                 "Subject: Renewal\n\nHello")
    assert block.sender == Address("jill@cust.com", "Jill Hill")
    assert emails(block.to) == ["sam@ourco.com", "bob@cust.com"]


def test_outlook_underscore_rule_with_angle_mailto_form() -> None:
    block = only("see below\n\n________________________________\n"
                 "From: Jill Hill <mailto:jill@cust.com>\nSent: Monday\n"
                 "To: sam@ourco.com <sam@ourco.com>\nSubject: Renewal\n\nbody")
    assert block.sender == Address("jill@cust.com", "Jill Hill")
    assert emails(block.to) == ["sam@ourco.com"]


def test_outlook_on_behalf_of_keeps_the_address_shown() -> None:
    block = only("-----Original Message-----\nFrom: list-admin@lists.example.org\n"
                 "[mailto:list-admin@lists.example.org] On Behalf Of Erich Focht\n"
                 "Sent: Friday\nTo: Paul Jackson; Xavier Bru\nSubject: NUMA\n\nHi")
    assert block.sender is not None and block.sender.email == "list-admin@lists.example.org"
    assert block.to == () and block.names == ("Paul Jackson", "Xavier Bru")


def test_apple_mail_quoted_block() -> None:
    block = only("Begin forwarded message:\n\n> From: Jill <jill@cust.com>\n> Subject: Hi\n"
                 "> Date: 2 December 2013 16:00:50 GMT-8\n> To: Sam <sam@ourco.com>\n> \n> text")
    assert block.sender == Address("jill@cust.com", "Jill")


def test_thunderbird_table_with_tabs_and_wrapped_subject() -> None:
    block = only("-------- Forwarded Message --------\nSubject: \tA long\nsubject line\n"
                 "Date: \tThu, 21 May 2020 08:25:11 +0100\nFrom: \tJill <jill@cust.com>\n"
                 "To: \tsam@ourco.com\n\nbody")
    assert block.subject == "A long subject line"
    assert block.sender == Address("jill@cust.com", "Jill")


def test_wrapped_cc_broken_mid_address_is_rejoined() -> None:
    block = only("---------- Forwarded message ---------\nFrom: Jin, Di <di@brown.edu>\n"
                 "To: Max <max@example.com>\n"
                 "Cc: A <a@example.com>, B <\nb@example.com>, c@lists.linux-\n"
                 "foundation.org\n\nbody")
    assert block.sender == Address("di@brown.edu", "Jin, Di")
    assert emails(block.cc) == ["a@example.com", "b@example.com", "c@lists.linux-foundation.org"]


@pytest.mark.parametrize("text, sender, to", [
    ("---------- Weitergeleitete Nachricht ----------\nVon: Jill <jill@cust.de>\n"
     "Datum: Montag\nBetreff: Angebot\nAn: sam@ourco.com\n", "jill@cust.de", "sam@ourco.com"),
    ("-----Ursprüngliche Nachricht-----\nVon: Jill [mailto:jill@cust.de]\nGesendet: Montag\n"
     "An: Sam <sam@ourco.com>\nBetreff: Angebot\n", "jill@cust.de", "sam@ourco.com"),
    ("-------- Message transféré --------\nSujet : Devis\nDate : lundi\nDe : Jill <jill@cust.fr>\n"
     "Pour : sam@ourco.com\n", "jill@cust.fr", "sam@ourco.com"),
    ("De : Jill <jill@cust.fr>\nEnvoyé : lundi\nÀ : Sam <sam@ourco.com>\nObjet : Devis\n",
     "jill@cust.fr", "sam@ourco.com"),
    ("---------- Mensaje reenviado ---------\nDe: Jill <jill@cust.es>\nFecha: lunes\n"
     "Asunto: Oferta\nPara: sam@ourco.com\n", "jill@cust.es", "sam@ourco.com"),
    ("De: Jill <jill@cust.es>\nEnviado: lunes\nPara: sam@ourco.com\nAsunto: Oferta\n",
     "jill@cust.es", "sam@ourco.com"),
    ("Inizio messaggio inoltrato:\n\nDa: Jill <jill@cust.it>\nOggetto: Offerta\nData: lunedì\n"
     "A: sam@ourco.com\n", "jill@cust.it", "sam@ourco.com"),
    ("Da: Jill [mailto:jill@cust.it]\nInviato: lunedì\nA: Sam <sam@ourco.com>\nOggetto: Offerta\n",
     "jill@cust.it", "sam@ourco.com"),
    ("-------- Doorgestuurd bericht --------\nOnderwerp: Offerte\nDatum: maandag\n"
     "Van: Jill <jill@cust.nl>\nAan: sam@ourco.com\n", "jill@cust.nl", "sam@ourco.com"),
    ("Van: Jill <jill@cust.nl>\nVerzonden: maandag\nAan: sam@ourco.com\nOnderwerp: Offerte\n",
     "jill@cust.nl", "sam@ourco.com"),
    ("Início da mensagem encaminhada:\n\nDe: Jill <jill@cust.br>\nAssunto: Proposta\n"
     "Data: segunda\nPara: sam@ourco.com\n", "jill@cust.br", "sam@ourco.com"),
    ("De: Jill <jill@cust.pt>\nEnviada: segunda\nPara: sam@ourco.com\nAssunto: Proposta\n",
     "jill@cust.pt", "sam@ourco.com"),
    ("---------- メッセージを転送 ---------\n差出人：Jill <jill@cust.jp>\n日付：2022年9月19日\n"
     "件名：見積\n宛先：sam@ourco.com\n", "jill@cust.jp", "sam@ourco.com"),
    ("差出人: Jill <jill@cust.jp>\n送信日時: 2022年9月19日\n宛先: sam@ourco.com\n件名: 見積\n",
     "jill@cust.jp", "sam@ourco.com"),
], ids=["de-tb", "de-outlook", "fr-tb", "fr-outlook", "es-gmail", "es-outlook", "it-apple",
        "it-outlook", "nl-tb", "nl-outlook", "pt-br-apple", "pt-outlook", "ja-hubspot",
        "ja-outlook"])
def test_localized_blocks(text: str, sender: str, to: str) -> None:
    block = only("Please log this.\n\n" + text + "\nbody text")
    assert block.sender is not None and block.sender.email == sender
    assert emails(block.to) == [to]


def test_yahoo_table_on_one_line_is_split_into_fields() -> None:
    block = only('   ----- Forwarded Message ----- From: Jill <jill@cust.com>To: "sam@ourco.com" '
                 '<sam@ourco.com>Cc: Bob <bob@cust.com>Sent: Tuesday, 09:26 AM GMT+1Subject: Hi\n')
    assert block.sender == Address("jill@cust.com", "Jill")
    assert emails(block.to) == ["sam@ourco.com"] and emails(block.cc) == ["bob@cust.com"]


def test_names_only_block_is_flagged_with_the_names() -> None:
    block = only("> -----Ursprüngliche Nachricht-----\n> Von: Coyote, Wile E. \n"
                 "> Gesendet: Donnerstag\n> An: Road Runner\n> Betreff: Anvils\n")
    assert block.sender is None and block.names_only
    assert block.names == ("Coyote, Wile E.", "Road Runner")


def test_nested_forward_lists_outer_block_first() -> None:
    text = GMAIL + "\n---------- Forwarded message ---------\nFrom: Old <old@first.com>\n" \
        "Date: Tue\nSubject: First\nTo: Jill <jill@cust.com>\n\noriginal"
    senders = [b.sender.email for b in find_forwards(message(text)) if b.sender]
    assert senders == ["jill@cust.com", "old@first.com"]


def test_attached_rfc822_uses_the_attached_headers() -> None:
    inner = message("hi", sender="jill@cust.com", to=("sam@ourco.com",), subject="Renewal")
    block = find_forwards(message("see attached", attached=(inner,)))[-1]
    assert block.source == "attached" and block.sender == Address("jill@cust.com")
    assert emails(block.to) == ["sam@ourco.com"] and block.subject == "Renewal"


def test_html_only_forward() -> None:
    html = ('<div>FYI</div><div class="gmail_quote">---------- Forwarded message ---------<br>'
            'From: <b>Jill Hill</b> &lt;<a href="mailto:jill@cust.com">jill@cust.com</a>&gt;<br>'
            'Date: Mon<br>Subject: Hi<br>To: &lt;sam@ourco.com&gt;<br></div>')
    block = find_forwards(message(html=html))[0]
    assert block.source == "html" and block.sender is not None
    assert block.sender.email == "jill@cust.com"


def test_html_part_is_read_when_the_plain_part_lost_the_table() -> None:
    html = "<p>From: Jill &lt;jill@cust.com&gt;<br>Sent: Mon<br>To: sam@ourco.com</p>"
    block = find_forwards(message("FYI, see below", html=html))[0]
    assert block.source == "html" and block.sender == Address("jill@cust.com", "Jill")


def test_reply_attribution_counts_only_without_a_table() -> None:
    blocks = blocks_in_text('On 28/10/2021 12:46, "Jill Hill" <jill@cust.com> wrote:\n\n> hi')
    assert [b.sender for b in blocks] == [Address("jill@cust.com", "Jill Hill")]


def test_plain_message_and_quoted_reply_without_headers_have_no_block() -> None:
    assert find_forwards(message("Hi all,\n\nFrom: the team\nthanks")) == []
    assert find_forwards(message("> quoted line\n> another\nmy answer")) == []


# --- the corpus ---------------------------------------------------------------------------------

_TRUTH_ADDRESS = re.compile(r"[^\s<>\"',;()]+@[^\s<>\"',;()]+")


def truth_addresses(cell: str) -> set[str]:
    """Addresses of a truth cell; `(name only)` entries and `(on behalf of: X)` carry none."""
    cell = re.sub(r"\(on behalf of:[^)]*\)", "", cell)
    parts = [p for p in re.split(r";|,(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", cell)
             if "(name only)" not in p]
    return {a.lower() for part in parts for a in _TRUTH_ADDRESS.findall(part)}


def innermost_agrees(path: str, row: dict[str, str]) -> str | None:
    """None when the innermost block matches the truth, else what differed."""
    blocks = find_forwards(parse_message((CORPUS / path).read_bytes()))
    if not blocks:
        return "no block found"
    block = blocks[-1]
    got = {"original_from": {block.sender.email.lower()} if block.sender else set(),
           "original_to": {a.email.lower() for a in block.to},
           "original_cc": {a.email.lower() for a in block.cc}}
    if "(name only)" in row["original_from"] and (block.sender or not block.names):
        return "sender should show a name only"
    wrong = [f"{k}: got {sorted(v)} want {sorted(truth_addresses(row[k]))}"
             for k, v in got.items() if v != truth_addresses(row[k])]
    return "; ".join(wrong) or None


@pytest.mark.corpus(CORPUS)
def test_corpus_forward_truth_agreement() -> None:
    with (CORPUS / "forward_truth.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    misses = {row["path"]: miss for row in rows if (miss := innermost_agrees(row["path"], row))}
    agreement = 1 - len(misses) / len(rows)
    print(f"\nforward_truth agreement: {len(rows) - len(misses)}/{len(rows)} = {agreement:.1%}")
    for path, miss in misses.items():
        print(f"  MISS {path}: {miss}")
    assert agreement >= 0.95


def forward_samples() -> list[Path]:
    """Crisp's forward bodies and quotequail's HTML forwards. quotequail's `*_unwrapped*` files are
    its expected output after the forward header was removed, so they are not samples."""
    bodies = CORPUS / "forward_bodies"
    return sorted(bodies.glob("crisp-email-forward-parser/*_body*.txt")) + sorted(
        p for p in bodies.glob("quotequail/*forward*.html") if "unwrapped" not in p.name)


@pytest.mark.corpus(CORPUS)
def test_corpus_forward_bodies_show_a_sender() -> None:
    samples = forward_samples()
    misses = []
    for path in samples:
        text = path.read_text(encoding="utf-8", errors="replace")
        text = html_to_text(text) if path.suffix == ".html" else text
        if not any(b.sender for b in blocks_in_text(text)):
            misses.append(path.name)
    print(f"\nforward bodies with a sender: {len(samples) - len(misses)}/{len(samples)}")
    print("  without:", ", ".join(misses))
    # Five samples show no sender address at all: three replies whose attribution names the
    # author without an address, and two Outlook tables that show the sender by name only.
    assert len(misses) <= 5
