"""The words mail clients write around a forwarded message, in the languages they ship.

Collected from the forward samples of Gmail, Outlook (2013, 2019, new, live), Apple Mail,
Thunderbird, Yahoo, HubSpot, Missive, MailMate, IONOS, mail.ru, iPlanet and KMail in about 25
languages. Labels are matched case-insensitively at the start of a (de-quoted) line, followed by
`:` or the full-width `：`, so only the bare words are listed here.
"""

from __future__ import annotations

import re

FROM_LABELS = (
    "from", "von", "de", "da", "van", "fra", "från", "od", "от", "от кого", "від", "від кого",
    "lähettäjä", "feladó", "šalje", "gönderen", "kimden", "saatja", "expeditorul", "de la",
    "mittente", "nadawca", "afsender", "absender", "afzender", "expéditeur", "remitente",
    "remetente", "отправитель", "відправник", "差出人", "送信元", "送信者", "寄件者", "发件人",
    "發件人", "보낸 사람",
)
TO_LABELS = (
    "to", "an", "à", "a", "para", "aan", "til", "till", "do", "komu", "кому", "vastaanottaja",
    "címzett", "prima", "kime", "destinatarul", "către", "pour", "adresat", "pre", "empfänger",
    "destinataire", "destinatario", "destinatário", "ontvanger", "宛先", "送信先", "收件人",
    "收件者", "받는 사람",
)
CC_LABELS = (
    "cc", "kopie", "kopie (cc)", "kopia", "kopi", "kopio", "kópia", "copie", "copie à",
    "másolat", "másolatot kap", "dw", "bilgi", "копия", "копія", "抄送", "副本", "참조",
)
SUBJECT_LABELS = (
    "subject", "betreff", "objet", "sujet", "asunto", "oggetto", "onderwerp", "assunto", "emne",
    "ämne", "předmět", "predmet", "temat", "тема", "aihe", "tárgy", "konu", "subiectul",
    "subiect", "naslov", "件名", "主题", "主旨", "제목",
)
DATE_LABELS = (
    "date", "datum", "data", "fecha", "dato", "päivämäärä", "päiväys", "dátum", "tarih", "dată",
    "дата", "日付", "日期", "날짜", "sent", "gesendet", "envoyé", "enviado", "enviada", "inviato",
    "verzonden", "verstuurd", "sendt", "skickat", "odesláno", "wysłano", "lähetetty", "elküldve",
    "gönderildi", "отправлено", "надіслано", "送信日時", "发送时间", "寄件日期",
)

FIELD_OF_LABEL: dict[str, str] = {}
for _field, _labels in (
    ("date", DATE_LABELS), ("subject", SUBJECT_LABELS), ("cc", CC_LABELS),
    ("to", TO_LABELS), ("from", FROM_LABELS),
):
    FIELD_OF_LABEL.update((label, _field) for label in _labels)

_LABEL_ALTERNATION = "|".join(
    re.escape(label) for label in sorted(FIELD_OF_LABEL, key=len, reverse=True)
)

# A known label opening a (de-quoted) line: "From: x", "*From:* x", "De : x", "件名：x".
LABEL_LINE_RE = re.compile(
    rf"^\*?(?P<label>{_LABEL_ALTERNATION})\*?[ \t\u00a0]*[:：]\*?[ \t\u00a0]*(?P<value>.*)$",
    re.IGNORECASE,
)

# Any other header a forwarded table may carry (Reply-To, Organization, Message-ID, Resent-*):
# accepted inside a block so that it does not end it, never used to start one.
OTHER_HEADER_RE = re.compile(r"^\*?[A-Za-z][A-Za-z-]{1,30}\*?[ \t]*:\*?(?:[ \t]+(?P<value>.*)|$)")

# Yahoo renders the whole table on one line after its marker ("...acme.com>To: ..."):
# a capitalised label glued to the text before it marks where the next field starts.
_GLUED_LABELS = sorted(
    {variant for label in FIELD_OF_LABEL if len(label) > 1
     for variant in (label[:1].upper() + label[1:], label.upper())},
    key=len, reverse=True,
)
# One-letter labels (Italian "A:", French "À :") only right after an address's closing bracket.
GLUED_LABEL_RE = re.compile(
    "(?=(?:" + "|".join(re.escape(label) for label in _GLUED_LABELS) + r") ?:)"
    r"|(?<=[>\"])(?=[AÀ] ?:)"
)


# The separator line before a forwarded table. Dashed lines accept any phrase: the language of
# the phrase does not matter because a block is only taken when a header table follows it.
DASHED_MARKER_RE = re.compile(
    r"^(?P<marker>-{2,}[^-\n]{3,80}?(?:-{1,3}[^-\n]{3,80}?)?-{2,})\s*(?P<rest>.*)$"
)

# Outlook's delegate sending: "X [mailto:x] On Behalf Of Name" (old) and
# "Name <n> on behalf of x" (new); localized in German, Italian, Spanish, French, Dutch, Portuguese.
BEHALF_RE = re.compile(
    r"\s+(?:on behalf of|im auftrag von|per conto di|en nombre de|de la part de|namens|"
    r"em nome de|w imieniu)\s+",
    re.IGNORECASE,
)

# Reply attribution lines ("On <date>, Jill <jill@cust.com> wrote:"): the only trace Outlook 2019
# for Mac leaves of a forwarded original, and a weaker one, so used only when no table exists.
# The verb may stand before the address (German, Danish) or after it, and the line ends in ":".
ATTRIBUTION_RE = re.compile(
    r"\b(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|geschreven|escreveu|napsal|napísal|"
    r"napisał|skrev|följande|kirjoitti|ezt írta|написал|написав|yazdı|писал)\b.*[:：]\s*$",
    re.IGNORECASE,
)
