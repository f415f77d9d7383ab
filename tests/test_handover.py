"""What a worker hands the pass (poller.understand.early.Ahead) travels in a flat form of its
own (`Ahead.__reduce__`): unpickled, it is equal to what was pickled, field by field, with the
same types, the same zones on its times and the same attachment bytes, however odd the
message. tests/test_corpus_pipeline.py decides the whole corpus from it."""

from __future__ import annotations

import pickle
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from poller.mail.message import Address, Attachment, Message
from poller.understand.early import Ahead, for_the_pass
from poller.understand.participants import Participant, Understanding
from poller.understand.trust import TrustFailure


def _message(date: datetime | None, inner: tuple[Message, ...] = ()) -> Message:
    me = Address("seller@ourco.com", "Séller \x00 \udcff")
    return Message(
        key="k@x", message_id="k@x", subject="Zoë \u202e", sender=me,
        to=(Address("a@cust.example"), Address("b@cust.example", "B")), cc=(me,),
        date=date, text="text\x00", html="<p>html</p>",
        headers={"sender": "s@ourco.com", "x-other": "kept until for_the_pass"},
        content_type="multipart/mixed", part_types=("text/plain", "application/pdf"),
        references=("r1@x", "r2@x"),
        attachments=(Attachment("a.pdf", "application/pdf", 3, "ab" * 32, b"\x00\xffz"),),
        attached_messages=inner, defects=("SomeDefect",), written_id="<k@X>",
        authors=(me, Address("other@ourco.com")), from_headers=2)


DATES = [None, datetime(2026, 1, 5, 8, 4, tzinfo=UTC), datetime(2026, 1, 5, 8, 4, 1, 7),
         datetime(2026, 1, 5, 8, 4, tzinfo=timezone(timedelta(hours=-7), "PDT"))]


def _same(a: object, b: object) -> None:
    """Equal, and equal in what == leaves out: types, zones, attachment bytes."""
    assert type(a) is type(b)
    if isinstance(a, tuple):
        assert len(a) == len(b)  # type: ignore[arg-type]
        for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
            _same(x, y)
    elif isinstance(a, datetime):
        assert (a, a.tzinfo) == (b, b.tzinfo)  # type: ignore[attr-defined]
        assert a.tzinfo is b.tzinfo or a.tzinfo == b.tzinfo  # type: ignore[attr-defined]
    elif isinstance(a, Attachment):
        assert a == b and a.data == b.data  # type: ignore[attr-defined]
    elif hasattr(a, "__dataclass_fields__"):
        for f in fields(a):  # type: ignore[arg-type]
            _same(getattr(a, f.name), getattr(b, f.name))
    else:
        assert a == b


@pytest.mark.parametrize("date", DATES, ids=["none", "utc", "naive", "other-zone"])
def test_an_ahead_comes_back_as_it_went(date):
    inner = _message(DATES[(DATES.index(date) + 1) % len(DATES)],
                     (replace(_message(date), sender=None, authors=()),))
    ahead = Ahead(_message(date, (inner,)), "auto_reply",
                  TrustFailure("not aligned", ("mx.ourco.com",)),
                  Understanding("forward", (Participant("a@cust.example", "A", "external"),),
                                ("a@cust.example",), "subject", None, ""))
    for original in (ahead, for_the_pass(ahead)):
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(original, protocol))
            assert back == original
            _same(back, original)


def test_for_the_pass_trims_only_the_html_and_the_headers():
    ahead = Ahead(_message(DATES[1]), None, None,
                  Understanding("note", (), ("a@cust.example",), "s", None, ""))
    handed = for_the_pass(ahead)
    assert handed.message.html == "" and handed.message.headers == {"sender": "s@ourco.com"}
    assert handed.message == replace(ahead.message, html="", headers={"sender": "s@ourco.com"})
    assert ahead.message.html == "<p>html</p>"  # the original is untouched
    assert handed.understanding is ahead.understanding
