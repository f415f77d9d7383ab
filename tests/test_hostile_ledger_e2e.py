"""SPEC 20 on the mail side, the ledger and the notices, end to end (Dovecot, the SMTP sink,
the `touchlog` commands): a Message-ID is no capability, notices cannot be silenced, and a
message that breaks touchlog quotes its sender's claims to the admins, never repeats them."""

from __future__ import annotations

import json

from tests.builders import TEAM_CSV, USERS_CSV, break_on, make_mail
from tests.world import World

FAILED = "Touchpoints/Failed"


def _notices_shown(world: World) -> str:
    """The notices cell `touchlog runs` shows for the newest pass (read from its JSON, so that
    how the table wraps its cells does not matter)."""
    from store.ledger.totals import notice_counts, notices_text

    newest = json.loads(world.touchlog("runs", "--format", "json").output)[0]
    world.touchlog("runs")  # the table itself renders
    return notices_text(notice_counts(newest["counts"]))


def test_a_message_id_is_no_capability(world):
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Deal",
                                message_id="<deal@ourco.com>"))
    assert "no_account 1" in world.poll()
    # Strangers reuse its Message-ID, one of them in sam's very name, marked auto-generated
    world.imap.append(make_mail(sender="mallory@evil.example", to="touchpoints@ourco.com",
                                subject="x", message_id="<deal@ourco.com>",
                                headers={"Auto-Submitted": "auto-replied"}))
    world.imap.append(make_mail(sender="sam@ourco.com", to="touchpoints@ourco.com",
                                subject="x", message_id="<deal@ourco.com>",
                                headers={"Auto-Submitted": "auto-replied"},
                                auth="dmarc=fail header.from=ourco.com"))
    assert world.poll().startswith("logged 0, skipped 2 (auto_generated 2), failed 0")
    # The admin fixes the directory and retries: the original is decided afresh and logged
    world.import_directory(users=USERS_CSV + "jill@unknown-corp.com,ROAD,2026-05-01\n")
    world.touchlog("failures", "retry", "--all")
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"], tp["creator"]) == ("ROAD", "contact", "sam@ourco.com")
    # Another author's message with the same Message-ID is another message; the same
    # author's second copy is a duplicate, as ever
    world.imap.append(make_mail(sender="ann@ourco.com", to="wile@acme.com",
                                subject="Ann's own", message_id="<deal@ourco.com>"))
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Deal",
                                message_id="<deal@ourco.com>"))
    assert world.poll().startswith("logged 1, skipped 1 (duplicate 1), failed 0")
    by_creator = {t["creator"]: t for t in world.touchpoints()}
    assert by_creator["ann@ourco.com"]["account_id"] == "ACME"
    assert by_creator["ann@ourco.com"]["message_id"] == "deal@ourco.com"


def test_a_stranger_cannot_fail_a_members_message_for_it(world_with_smtp):
    """A forged copy of a failed message, sent while the original waits for a fix, gets a
    failure of its own and leaves the original's record (and its retry) alone."""
    world = world_with_smtp
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Deal",
                                message_id="<deal@ourco.com>"))
    world.poll()
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Deal (forged)",
                                message_id="<deal@ourco.com>",
                                auth="dmarc=fail header.from=ourco.com"))
    assert "unauthenticated_sender 1" in world.poll()
    reasons = sorted(f["reason"] for f in world.failures())
    assert reasons == ["no_account", "unauthenticated_sender"]
    details = {f["reason"]: f["detail"] for f in world.failures()}
    assert "unknown-corp.com" in details["no_account"]
    world.import_directory(users=USERS_CSV + "jill@unknown-corp.com,ROAD,2026-05-01\n")
    [original] = [f for f in world.failures() if f["reason"] == "no_account"]
    world.touchlog("failures", "retry", str(original["uid"]))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")


def test_forgeries_have_a_budget_of_their_own(world_with_smtp):
    world = world_with_smtp
    world.write_settings(notify={"max_per_sender_per_hour": 3})
    for n in range(4):
        world.imap.append(make_mail(to="wile@acme.com", subject=f"Forged {n}",
                                    message_id=f"<forged-{n}@ourco.com>",
                                    auth="dmarc=fail header.from=ourco.com"))
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Genuine",
                                message_id="<genuine@ourco.com>"))
    assert "failed 5 (no_account 1, unauthenticated_sender 4)" in world.poll()
    subjects = [m.message["Subject"] for m in world.smtp.messages]
    assert "Touchpoint not logged: Genuine" in subjects  # the three before it spent nothing
    assert len(subjects) == 4  # the fourth forgery is over its own budget
    assert _notices_shown(world) == "sent 4, suppressed 1"


def test_pending_notices_to_people_who_left_the_team_are_cancelled(world_with_smtp):
    world = world_with_smtp
    world.import_directory(team=TEAM_CSV + "joe@partner.example,Joe Contractor,user,\n")
    world.smtp.stop()
    for sender in ("sam@ourco.com", "joe@partner.example", "ann@ourco.com"):
        world.imap.append(make_mail(sender=sender, to="jill@unknown-corp.com",
                                    subject=f"From {sender}"))
    world.poll()
    assert _notices_shown(world) == "pending 3 (3 tries failed)"
    (world.folder / "team.csv").write_text("email,name,role,aliases\n"
                                           "ann@ourco.com,Ann Admin,admin,\n")
    world.touchlog("import", "team", str(world.folder / "team.csv"), "--replace")
    world.smtp.start()
    world.poll()
    assert [m.rcpt_tos for m in world.smtp.messages] == [["ann@ourco.com"]]
    assert _notices_shown(world) == "sent 1, cancelled 2"
    shown = {f["sender"]: world.touchlog("failures", "show", str(f["uid"])).output
             for f in world.failures()}
    assert ("to sam@ourco.com: cancelled: sam@ourco.com is no longer a team member"
            in shown["sam@ourco.com"])
    assert "to joe@partner.example: cancelled" in shown["joe@partner.example"]


def test_a_stranger_whose_mail_breaks_touchlog_writes_no_word_of_the_admins_notice(
        world_with_smtp, monkeypatch):
    world = world_with_smtp
    break_on(monkeypatch, "boom", "boom at http://evil.example/pay")
    world.imap.append(make_mail(sender="Mallory <mallory@evil.example>", to="wile@acme.com",
                                subject="boom: pay http://evil.example/pay",
                                message_id="<boom@evil.example>"))
    for _ in range(3):
        world.poll()
    [notice] = world.smtp.messages
    assert notice.rcpt_tos == ["ann@ourco.com"]
    msg = notice.message
    assert msg["Subject"] == "touchlog: a message broke touchlog and was not logged"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    body = msg.get_content()
    assert "mallory[@]evil[.]example" in body and "hxxp[:]//evil[.]example/pay" in body
    assert "http://" not in body and "mallory@evil.example" not in body


def test_a_thread_address_past_every_id_never_breaks_a_pass(world_with_smtp):
    """The address of issue 20 that broke three passes and then mailed the admins an outsider's
    subject: one pass, unknown_thread, and no notice to anyone (the sender is an outsider)."""
    world = world_with_smtp
    world.imap.append(make_mail(sender="mallory@evil.example",
                                to="touchpoints+tp99999999999999999999999.x@ourco.com",
                                subject="click http://evil.example", message_id="<x@evil.example>"))
    out = world.poll()
    assert out.startswith("logged 0, skipped 0, failed 1 (unknown_thread 1)"), out
    assert world.smtp.messages == []
    [run] = json.loads(world.touchlog("runs", "--format", "json").output)[:1]
    assert run["errors"] == []


def test_the_key_a_message_is_recorded_under(db):
    """store.ledger.records.place, row by row, records of an older touchlog (no digest)
    included: they keep working as before for their own author."""
    from core.message_ids import raw_digest
    from store.ledger.models import MessageRecord
    from store.ledger.records import place

    one, two, nine = b"one", b"two", b"nine"

    def record(key: str, outcome: str, sender: str = "sam@ourco.com",
               raw: bytes | None = one) -> None:
        MessageRecord.create(key=key, outcome=outcome, sender=sender,
                             raw_sha256=raw_digest(raw) if raw else None)

    assert place("new@ourco.com", "sam@ourco.com", one) == ("new@ourco.com", None)
    record("a@ourco.com", "logged", raw=None)
    assert place("a@ourco.com", "Sam@OurCo.com", two)[0] == "a@ourco.com"  # a duplicate
    assert place("a@ourco.com", "eve@evil.example", two) == (f"sha256:{raw_digest(two)}", None)
    record("b@ourco.com", "failed")
    assert place("b@ourco.com", "sam@ourco.com", one)[0] == "b@ourco.com"  # its retry
    assert place("b@ourco.com", "sam@ourco.com", two)[0] == f"sha256:{raw_digest(two)}"
    record("c@ourco.com", "failed", raw=None)  # written by an older touchlog
    assert place("c@ourco.com", "sam@ourco.com", nine)[0] == "c@ourco.com"
    assert place("c@ourco.com", "eve@evil.example", nine)[0] == f"sha256:{raw_digest(nine)}"
    record(f"sha256:{raw_digest(nine)}", "skipped", sender="eve@evil.example")  # seen again
    key, found = place("c@ourco.com", "eve@evil.example", nine)
    assert key == f"sha256:{raw_digest(nine)}" and found is not None
    assert found.outcome == "skipped"
