"""Raw bytes → Message: what a user sees of charsets, bodies, attachments and headers."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.errors import MessageError
from poller.mail.message import Address, parse_message

HEAD = "From: Sam Seller <sam@ourco.com>\nTo: wile@acme.com\nMessage-ID: <Abc.1@Mail.OurCo.com>\n"


def mail(body: bytes | str, headers: str = "", head: str = HEAD) -> bytes:
    """A message from header lines and a body; str parts are UTF-8."""
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    return (head + headers + "\n").encode("utf-8") + raw_body


def single(text: str, charset: str, cte: str = "8bit", subject: str | None = None) -> bytes:
    data = text.encode(charset)
    if cte == "base64":
        data = base64.encodebytes(data)
    subject_line = ""
    if subject is not None:
        word = base64.b64encode(subject.encode(charset)).decode("ascii")
        subject_line = f"Subject: =?{charset}?B?{word}?=\n"
    headers = (
        f"{subject_line}Content-Type: text/plain; charset={charset}\n"
        f"Content-Transfer-Encoding: {cte}\n"
    )
    return mail(data, headers)


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Grüße aus Köln, à bientôt"),
        ("iso-8859-2", "Zażółć gęślą jaźń, Nikad više"),
        ("iso-8859-15", "Prix: 20 € net"),
        ("windows-1252", "“Quoted” – dash … and €"),
        ("windows-1251", "Привет, как дела?"),
        ("windows-1250", "Příliš žluťoučký kůň"),
        ("koi8-r", "Это сообщение по-русски"),
        ("iso-2022-jp", "こんにちは、テストです"),
        ("shift_jis", "あいうえお、今後ともよろしく"),
        ("gb2312", "测试邮件内容"),
        ("big5", "媽！我上電視了！"),
        ("euc-kr", "한국말로 하는 것"),
        ("utf-8", "Mixed: Grüße, Привет, 你好, 😊"),
    ],
)
def test_text_and_subject_are_decoded_from_the_declared_charset(charset: str, text: str) -> None:
    msg = parse_message(single(text, charset, cte="base64", subject=text))
    assert msg.text == text
    assert msg.subject == text


def test_gb2312_label_decodes_gbk_only_characters() -> None:
    # Mailers labelling GB2312 routinely send GBK characters (here 镕 and 喆).
    msg = parse_message(single("朱镕基 李喆", "gb18030", cte="8bit").replace(b"gb18030", b"gb2312"))
    assert msg.text == "朱镕基 李喆"


def test_ks_c_5601_label_is_read_as_korean() -> None:
    msg = parse_message(single("스티해", "cp949").replace(b"cp949", b"ks_c_5601-1987"))
    assert msg.text == "스티해"


def test_bogus_charset_label_falls_back_to_utf8_then_windows_1252() -> None:
    utf8 = mail("naïve café".encode(), "Content-Type: text/plain; charset=x-bogus-42\n")
    legacy = mail("naïve café".encode("cp1252"), "Content-Type: text/plain; charset=x-bogus-42\n")
    assert parse_message(utf8).text == "naïve café"
    assert parse_message(legacy).text == "naïve café"


def test_utf8_mislabelled_as_single_byte_charset_is_read_as_utf8() -> None:
    raw = mail("Это сообщение".encode(), "Content-Type: text/plain; charset=windows-1251\n")
    assert parse_message(raw).text == "Это сообщение"


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    raw = mail(b"Hello \xff\xfe world \xe2\x82\xac", "Content-Type: text/plain; charset=utf-8\n")
    msg = parse_message(raw)
    assert msg.text.startswith("Hello ")
    assert "world €" in msg.text
    assert "\ufffd" in msg.text
    assert any(d.startswith("CharsetDecodeDefect") for d in msg.defects)


def test_missing_charset_with_8bit_latin1_body_stays_readable() -> None:
    raw = mail("Grüße".encode("latin-1"), "Content-Type: text/plain\n")
    assert parse_message(raw).text == "Grüße"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Grüße aus Köln"),
        ("=?iso-8859-1?q?caf=E9?= =?iso-8859-1?q?_cr=E8me?=", "café crème"),
        ("Re: =?UTF-8?B?0J/RgNC40LLQtdGC?=", "Re: Привет"),
        # one UTF-8 character split across two encoded words
        ("=?utf-8?B?w6==?= =?utf-8?B?pA==?=", "ä"),
        ("=?UTF-8?Q?AutoRespons?= :Nyaan?", "AutoRespons :Nyaan?"),
        ("=?x-unknown?Q?caf=C3=A9?=", "café"),
        ("=?utf-8?B?SGVsbG8gV29ybGQ?=", "Hello World"),  # padding missing
        ("no\n  words   here", "no words here"),
    ],
)
def test_subject_encoded_words_are_decoded(header: str, expected: str) -> None:
    assert parse_message(mail("x", f"Subject: {header}\n")).subject == expected


def test_raw_8bit_subject_and_display_name_use_the_body_charset() -> None:
    head = "From: Wilhelmsen H\xe5vard <hw@nordkapp.net>\nTo: a@b.com\nSubject: R\xe9union\n"
    raw = head.encode("latin-1") + b"Content-Type: text/plain; charset=iso-8859-1\n\nok"
    msg = parse_message(raw)
    assert msg.subject == "Réunion"
    assert msg.sender == Address("hw@nordkapp.net", "Wilhelmsen Håvard")


def test_html_only_mail_is_turned_into_readable_text() -> None:
    html = "<html><body><p>Hello <b>Wile</b>,</p><ul><li>one</li><li>two</li></ul></body></html>"
    msg = parse_message(mail(html, "Content-Type: text/html; charset=utf-8\n"))
    assert msg.html == html
    assert "Hello Wile," in msg.text
    assert "* one" in msg.text and "* two" in msg.text
    assert "<" not in msg.text


ALTERNATIVE = """Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Plain words
--b1
Content-Type: text/html; charset=utf-8

<p>HTML words</p>
--b1--
"""


def test_alternative_picks_the_plain_part_and_keeps_the_html() -> None:
    msg = parse_message(mail("", ALTERNATIVE))
    assert msg.text == "Plain words"
    assert msg.html == "<p>HTML words</p>"
    assert msg.part_types == ("text/plain", "text/html")
    assert msg.attachments == ()


MIXED = """Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain; charset=utf-8

First part.
--m
Content-Type: application/pdf; name="quote.pdf"
Content-Disposition: attachment; filename*=UTF-8''Angebot%20M%C3%BCller.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--m
Content-Type: text/plain; charset=utf-8
Content-Disposition: inline

Second part.
--m--
"""


def test_mixed_joins_inline_text_and_lists_files_with_hash_and_size() -> None:
    msg = parse_message(mail("", MIXED))
    assert msg.text == "First part.\n\nSecond part."
    [pdf] = msg.attachments
    assert pdf.filename == "Angebot Müller.pdf"  # RFC 2231
    assert pdf.content_type == "application/pdf"
    assert pdf.data == b"%PDF-1.4\n"
    assert pdf.size == 9
    assert pdf.sha256 == hashlib.sha256(b"%PDF-1.4\n").hexdigest()


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("filename*0*=utf-8''%E6%96%B0%E3%81%97;\n filename*1*=%E3%81%84.txt", "新しい.txt"),
        ('filename="=?utf-8?B?5pel5pys6KqeLnR4dA==?="', "日本語.txt"),  # Outlook's RFC 2047
        ("filename*=iso-8859-1''r%E9sum%E9.txt", "résumé.txt"),
    ],
)
def test_attachment_file_names_are_decoded(param: str, expected: str) -> None:
    body = f"""Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain

hi
--m
Content-Type: text/plain
Content-Disposition: attachment; {param}

file
--m--
"""
    [attachment] = parse_message(mail("", body)).attachments
    assert attachment.filename == expected


def test_attached_message_is_parsed_and_not_listed_as_a_file() -> None:
    body = """Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain

See below.
--m
Content-Type: message/rfc822

From: Wile Coyote <wile@acme.com>
To: sam@ourco.com
Subject: =?utf-8?Q?Anfrage_f=C3=BCr_Raketen?=
Message-ID: <inner@acme.com>

Please quote 10 rockets.
--m--
"""
    msg = parse_message(mail("", body))
    assert msg.text == "See below."
    assert msg.attachments == ()
    [inner] = msg.attached_messages
    assert inner.sender == Address("wile@acme.com", "Wile Coyote")
    assert inner.subject == "Anfrage für Raketen"
    assert inner.text == "Please quote 10 rockets."
    assert inner.key == "inner@acme.com"


def forward_chain(levels: int, bottom: bytes = b"From: a@b.com\nSubject: bottom\n\nbottom"
                  ) -> bytes:
    raw = bottom
    for level in range(levels):
        raw = (
            b"From: a@b.com\nSubject: level\nContent-Type: multipart/mixed; boundary=x%d\n\n"
            b"--x%d\nContent-Type: message/rfc822\n\n%s\n--x%d--\n" % (level, level, raw, level)
        )
    return raw


def test_attached_messages_nest_to_a_limit_that_says_so() -> None:
    from poller.mail.message import MAX_DEPTH, depth_limit_hit

    for levels, expected in ((10, 10), (MAX_DEPTH, MAX_DEPTH), (MAX_DEPTH + 3, MAX_DEPTH)):
        msg = top = parse_message(forward_chain(levels))
        depth = 0
        while msg.attached_messages:
            msg, depth = msg.attached_messages[0], depth + 1
        assert depth == expected
        assert (msg.subject == "bottom") == (levels == expected)
        assert depth_limit_hit(top) == ("" if levels == expected else
                                        f"forwards nested more than {MAX_DEPTH} deep not read")


@pytest.mark.parametrize("raw", [bytes(range(256)) * 4, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
                                 b"just some text\nwith lines\n", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_bytes_without_a_header_block_are_not_a_mail(raw: bytes) -> None:
    with pytest.raises(MessageError, match="not a mail: no header block"):
        parse_message(raw)


def _tnef(files: dict[str, bytes], body: bytes = b"") -> bytes:
    """A minimal winmail.dat: attachment title + data attributes, optional body attribute."""

    def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
        checksum = sum(data) & 0xFFFF
        header = struct.pack("<BHHI", level, name, kind, len(data))
        return header + data + struct.pack("<H", checksum)

    out = io.BytesIO()
    out.write(struct.pack("<IH", 0x223E9F78, 1))
    if body:
        out.write(attribute(1, 0x800C, 0x0002, body))
    for name, data in files.items():
        out.write(attribute(2, 0x9002, 0x0006, b"\x01\x00\x00\x00"))  # attRendData starts one
        out.write(attribute(2, 0x8010, 0x0001, name.encode() + b"\x00"))
        out.write(attribute(2, 0x800F, 0x0006, data))
    return out.getvalue()


def test_winmail_dat_is_unpacked_into_its_files_and_text() -> None:
    tnef = base64.encodebytes(_tnef({"report.pdf": b"%PDF-data"}, body=b"Body from Outlook"))
    body = f"""Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64

{tnef.decode()}
--m--
"""
    msg = parse_message(mail("", body))
    [report] = msg.attachments
    assert (report.filename, report.content_type, report.data) == (
        "report.pdf",
        "application/pdf",
        b"%PDF-data",
    )
    assert msg.text == "Body from Outlook"


def test_unreadable_winmail_dat_is_kept_as_it_came() -> None:
    body = """Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64

Rml4dHVyZQ==
"""
    msg = parse_message(mail("", body))
    [kept] = msg.attachments
    assert (kept.filename, kept.data) == ("winmail.dat", b"Fixture")
    assert any(d.startswith("TnefDefect") for d in msg.defects)


def test_unclosed_multipart_still_yields_its_text() -> None:
    body = 'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nKept'
    msg = parse_message(mail("", body))
    assert msg.text == "Kept"
    assert "CloseBoundaryNotFoundDefect" in msg.defects


def test_bad_base64_attachment_is_repaired_as_far_as_possible() -> None:
    body = """Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: application/octet-stream; name="a.bin"
Content-Transfer-Encoding: base64

aGVsbG8gd29ybGQ*!
--b--
"""
    [attachment] = parse_message(mail("", body)).attachments
    assert attachment.data.startswith(b"hello world")


@pytest.mark.parametrize("cte", ["quoted printable", "Quoted-Printable;", " quoted-printable "])
def test_misspelt_transfer_encodings_are_still_decoded(cte: str) -> None:
    headers = f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {cte}\n"
    raw = mail(b"caf=C3=A9", headers)
    assert parse_message(raw).text == "café"


def test_headers_after_a_blank_first_line_are_still_headers() -> None:
    msg = parse_message(b"\n" + mail("body"))
    assert msg.sender == Address("sam@ourco.com", "Sam Seller")
    assert msg.text == "body"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"Coyote, Wile" <wile@acme.com>, beep@road.com', ["wile@acme.com", "beep@road.com"]),
        ("Wile <wile@acme.com", ["wile@acme.com"]),  # missing bracket
        ("Wile wile@acme.com", ["wile@acme.com"]),  # no brackets at all
        ("team: a@acme.com, b@acme.com;, c@acme.com", ["a@acme.com", "b@acme.com", "c@acme.com"]),
        ("undisclosed-recipients:;", []),
        ("Wile <wile@acme.com>, no-address-here", ["wile@acme.com"]),
        ("a@acme.com;b@acme.com", ["a@acme.com", "b@acme.com"]),
        ('"wile@acme.com" <real@acme.com>', ["real@acme.com"]),
    ],
)
def test_to_tolerates_what_mailers_write(header: str, expected: list[str]) -> None:
    msg = parse_message(mail("x", head=f"From: sam@ourco.com\nTo: {header}\n"))
    assert [a.email for a in msg.to] == expected


def test_address_broken_across_lines_without_folding_is_kept() -> None:
    raw = b"From: sam@ourco.com\nTo: x@ourco.com\nCc: C <c@acme.com>, D <d@\nacme.com>\n\nbody"
    msg = parse_message(raw)
    assert [a.email for a in msg.cc] == ["c@acme.com", "d@acme.com"]
    assert msg.text == "body"


def test_display_names_are_decoded() -> None:
    head = (
        "From: =?utf-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@acme.de>\n"
        'Cc: "=?utf-8?B?0JjQstCw0L0=?=" <i@a.ru>\n'
    )
    msg = parse_message(mail("x", head=head))
    assert msg.sender == Address("jm@acme.de", "Jürgen Müller")
    assert msg.cc == (Address("i@a.ru", "Иван"),)


def test_date_is_utc() -> None:
    msg = parse_message(mail("x", "Date: Fri, 1 Jun 2012 14:39:38 +0200\n"))
    assert msg.date == datetime(2012, 6, 1, 12, 39, 38, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "Thu, 01 Jan 1970 00:00:00 +0000",  # before 1990
        format_datetime(datetime.now(UTC) + timedelta(days=3)),  # in the future
    ],
)
def test_missing_unreadable_or_absurd_date_is_none(value: str) -> None:
    assert parse_message(mail("x", f"Date: {value}\n")).date is None


def test_references_come_from_in_reply_to_then_references_without_repeats() -> None:
    headers = "In-Reply-To: <b@Acme.COM>\nReferences: <a@acme.com>\n <b@acme.com> <c@acme.com>\n"
    msg = parse_message(mail("x", headers))
    assert msg.references == ("b@acme.com", "a@acme.com", "c@acme.com")


def test_key_is_normalized_message_id_else_sha256_of_the_bytes() -> None:
    assert parse_message(mail("x")).key == "Abc.1@mail.ourco.com"
    raw = b"From: a@b.com\n\nno id"
    assert parse_message(raw).key == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_repeated_headers_are_joined_by_newlines() -> None:
    msg = parse_message(mail("x", "X-Tag: one\nX-Tag: =?utf-8?Q?zw=C3=B6lf?=\n"))
    assert msg.headers["x-tag"] == "one\nzwölf"


@pytest.mark.parametrize("raw", [b"", b"  \r\n\r\n"])
def test_empty_input_is_a_message_error(raw: bytes) -> None:
    with pytest.raises(MessageError):
        parse_message(raw)


def test_iso_2022_jp_with_windows_extensions_is_read() -> None:
    # ① and ㈱ (NEC row 13) are common in Japanese business mail; strict ISO-2022-JP lacks them.
    raw = mail(b"\x1b$B-!-j\x1b(B Rocket", "Content-Type: text/plain; charset=iso-2022-jp\n")
    assert parse_message(raw).text == "①㈱ Rocket"


def test_a_huge_message_id_still_gives_a_short_stable_key():
    raw = b"Message-ID: <" + b"x" * 5000 + b"@ourco.com>\r\nSubject: hi\r\n\r\nbody\r\n"
    first, second = parse_message(raw), parse_message(raw + b"changed")
    assert first.key == second.key
    assert first.key.startswith("mid-sha256:") and len(first.key) < 100


def test_a_nul_in_subject_or_text_is_stored_as_a_replacement_character():
    raw = (b"From: sam@ourco.com\r\nSubject: =?utf-8?b?bnVsAHN1Ympl?=\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
           b"\r\nYmVmb3JlAGFmdGVy\r\n")
    msg = parse_message(raw)
    assert (msg.subject, msg.text) == ("nul\ufffdsubje", "before\ufffdafter")


def test_dates_in_rfc_5322_form_read_as_mail_parser_reads_them():
    """poller.mail.message.plain_date, the fast path, finds the instant mail-parser finds."""
    import random
    from datetime import UTC, datetime, timedelta

    from mailparser.dates import parse_mail_date

    from poller.mail.message import plain_date

    rng = random.Random(3)
    days = ["Mon, ", "Tue, ", "Sun, ", ""]
    for _ in range(3000):
        when = datetime(1995, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**9))
        sign = rng.choice("+-")
        text = (f"{rng.choice(days)}{when.day if rng.random() < 0.5 else f'{when.day:02d}'} "
                f"{when:%b %Y %H:%M:%S} {sign}{rng.randrange(15):02d}{rng.choice((0, 30, 45)):02d}")
        assert plain_date(text) == parse_mail_date(text).value, text
    for text in ["Mon, 30 Feb 2026 08:00:00 +0000", "5 Jan 26 08:00:00 +0000",
                 "Mon, 5 Jan 2026 08:00 +0000", "Mon, 5 Jan 2026 08:00:00 GMT",
                 "Mon, 5 Jan 2026 24:00:00 +0000", "Mon, 5 Jan 2026 08:00:00 +2400"]:
        assert plain_date(text) is None, text
