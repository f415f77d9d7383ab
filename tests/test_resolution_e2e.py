"""Issue 3 end to end: which account a message lands on, through Dovecot and the `touchlog`
commands, for every rule of SPEC section 4 a user can meet, and the words that explain it."""

from __future__ import annotations

from tests.builders import ACCOUNTS_CSV, USERS_CSV, make_mail

MAILBOX = "touchpoints@ourco.com"
# carol is a known contact of INITECH2 only; the domain initech.com stays declared by both.
USERS_WITH_CAROL = USERS_CSV + "carol@initech.com,INITECH2,2026-05-01\n"
USERS_WITH_IVY = USERS_CSV + "ivy@initech.com,INITECH,2026-05-01\n"


def _by_mid(world) -> dict[str, dict]:
    return {tp["message_id"]: tp for tp in world.touchpoints()}


def _explain(world, key: str | int) -> str:
    return world.touchlog("explain", str(key)).output


# --- domain tie-breaks --------------------------------------------------------------------------


def test_shared_domain_without_history_is_ambiguous(world):
    world.imap.append(make_mail(to=MAILBOX, subject="bob@initech.com call notes",
                                message_id="<amb-1@ourco.com>"))
    assert "failed 1 (ambiguous_account 1)" in world.poll()
    assert world.touchpoints() == []
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_ambiguous_account" in flags
    [failure] = world.failures()
    assert failure["reason"] == "ambiguous_account"
    assert failure["subject"] == "bob@initech.com call notes"
    assert "initech.com" in failure["detail"]
    assert "INITECH, INITECH2" in failure["detail"]
    words = _explain(world, "amb-1@ourco.com")
    assert "2 accounts have the domain initech.com" in words
    assert "ambiguous_account" in words


def test_sender_history_breaks_the_domain_tie(any_world):
    world = any_world
    # 1. No history yet: ambiguous.
    world.imap.append(make_mail(to=MAILBOX, subject="bob@initech.com call notes",
                                message_id="<sh-note@ourco.com>"))
    assert "ambiguous_account 1" in world.poll()
    # 2. Sam logs a touchpoint on INITECH2 through a contact there.
    world.import_directory(users=USERS_WITH_CAROL)
    world.imap.append(make_mail(to="carol@initech.com", message_id="<sh-carol@ourco.com>"))
    assert world.poll().startswith("logged 1")
    assert _by_mid(world)["sh-carol@ourco.com"]["rule"] == "contact"
    # 3. A new, unknown address at the shared domain follows Sam's history.
    world.imap.append(make_mail(to="dave@initech.com", message_id="<sh-dave@ourco.com>"))
    world.poll()
    dave = _by_mid(world)["sh-dave@ourco.com"]
    assert (dave["account_id"], dave["rule"], dave["scenario"]) == (
        "INITECH2", "sender_history", "copy")
    words = _explain(world, dave["id"])
    assert "the sender's touchpoints, latest per account" in words
    assert "by rule sender_history" in words
    # 4. The note that failed, retried, now resolves the same way.
    world.touchlog("failures", "retry", "--all")
    assert world.poll().startswith("logged 1")
    note = _by_mid(world)["sh-note@ourco.com"]
    assert (note["account_id"], note["rule"], note["scenario"]) == (
        "INITECH2", "sender_history", "note")
    assert note["subject"] == "call notes"
    assert world.failures() == []


def test_sender_history_comes_before_domain_history(any_world):
    world = any_world
    # Sam once logged on INITECH; Ann (same domain) logged on INITECH2 since.
    world.import_directory(users=USERS_WITH_IVY + "carol@initech.com,INITECH2,2026-05-01\n")
    world.imap.append(make_mail(to="ivy@initech.com", message_id="<p-ivy@ourco.com>"))
    world.poll()
    world.imap.append(make_mail(sender="Ann Admin <ann@ourco.com>", to="carol@initech.com",
                                message_id="<p-carol@ourco.com>"))
    world.poll()
    world.imap.append(make_mail(to="dave@initech.com", message_id="<p-dave@ourco.com>"))
    world.poll()
    dave = _by_mid(world)["p-dave@ourco.com"]
    assert (dave["account_id"], dave["rule"]) == ("INITECH", "sender_history")


def test_domain_history_of_a_colleague_breaks_the_tie(any_world):
    world = any_world
    world.import_directory(users=USERS_WITH_CAROL)
    world.imap.append(make_mail(sender="Ann Admin <ann@ourco.com>", to="carol@initech.com",
                                message_id="<dh-carol@ourco.com>"))
    world.poll()
    assert _by_mid(world)["dh-carol@ourco.com"]["creator"] == "ann@ourco.com"
    world.imap.append(make_mail(to="dave@initech.com", message_id="<dh-dave@ourco.com>"))
    world.poll()
    dave = _by_mid(world)["dh-dave@ourco.com"]
    assert (dave["account_id"], dave["rule"], dave["creator"]) == (
        "INITECH2", "domain_history", "sam@ourco.com")
    words = _explain(world, dave["id"])
    assert "the sender's touchpoints: none on these accounts" in words
    assert "touchpoints by anyone at ourco.com since" in words
    assert "by rule domain_history" in words


def test_domain_history_outside_the_window_does_not_count(any_world):
    world = any_world
    world.write_settings(touchpoints={"domain_history_days": 0})
    world.import_directory(users=USERS_WITH_CAROL)
    world.imap.append(make_mail(sender="Ann Admin <ann@ourco.com>", to="carol@initech.com",
                                message_id="<w-carol@ourco.com>"))
    world.poll()
    world.imap.append(make_mail(to="dave@initech.com", message_id="<w-dave@ourco.com>"))
    assert "failed 1 (ambiguous_account 1)" in world.poll()
    assert set(_by_mid(world)) == {"w-carol@ourco.com"}
    [failure] = world.failures()
    assert failure["reason"] == "ambiguous_account"
    assert "neither you nor anyone at ourco.com" in failure["detail"]
    # With the default window Ann's touchpoint decides for Sam once the failure is retried.
    world.write_settings()
    world.touchlog("failures", "retry", "--all")
    assert world.poll().startswith("logged 1")
    dave = _by_mid(world)["w-dave@ourco.com"]
    assert (dave["account_id"], dave["rule"], dave["creator"]) == (
        "INITECH2", "domain_history", "sam@ourco.com")


def test_contact_matches_only_account_is_left_out_of_the_domain_pass(world):
    accounts = ACCOUNTS_CSV.replace("INITECH2,Initech Labs,,initech.com,false,false",
                                    "INITECH2,Initech Labs,,initech.com,false,true")
    world.import_directory(accounts=accounts)
    world.imap.append(make_mail(to="dave@initech.com", message_id="<cmo@ourco.com>"))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"]) == ("INITECH", "domain")


# --- contact rules ------------------------------------------------------------------------------


def test_contact_on_parent_and_child_goes_by_recency_and_explains_it(world):
    world.imap.append(make_mail(to="Hank <hank@globex.com>", message_id="<hank-1@ourco.com>"))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"]) == ("GLOBEX-EU", "recency")
    words = _explain(world, tp["id"])
    assert "hank@globex.com is a contact of 2 accounts" in words
    assert "Globex Europe last active 2026-04-01" in words
    assert "recency" in words


def test_default_bcc_beats_recency(world):
    accounts = ACCOUNTS_CSV.replace("GLOBEX,Globex,,globex.com,false,false",
                                    "GLOBEX,Globex,,globex.com,true,false")
    assert accounts != ACCOUNTS_CSV
    world.import_directory(accounts=accounts)
    world.imap.append(make_mail(to="hank@globex.com", message_id="<hank-2@ourco.com>"))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"]) == ("GLOBEX", "default_bcc")
    assert "default_bcc" in _explain(world, tp["id"])


def test_tied_recency_is_ambiguous(world):
    users = USERS_CSV.replace("hank@globex.com,GLOBEX-EU,2026-04-01",
                              "hank@globex.com,GLOBEX-EU,2026-03-01")
    world.import_directory(users=users)
    world.imap.append(make_mail(to="hank@globex.com", message_id="<hank-3@ourco.com>"))
    assert "ambiguous_account 1" in world.poll()
    [failure] = world.failures()
    assert failure["reason"] == "ambiguous_account"
    assert "hank@globex.com is a contact of 2 accounts" in failure["detail"]


def test_first_candidate_with_a_contact_decides(world):
    # An unknown address first, then Wile in Cc: the contact pass goes on to Wile.
    world.imap.append(make_mail(to="stranger@nowhere-known.com", cc="wile@acme.com",
                                message_id="<order@ourco.com>"))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"]) == ("ACME", "contact")


# --- address rules ------------------------------------------------------------------------------


def test_plus_address_is_rejected_by_default(world):
    world.imap.append(make_mail(to="wile+promo@acme.com", message_id="<plus-1@ourco.com>"))
    assert "failed 1 (plus_address 1)" in world.poll()
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_plus_address" in flags
    [failure] = world.failures()
    assert failure["reason"] == "plus_address"
    assert "wile+promo@acme.com" in failure["detail"]
    assert "plus_addresses = reject" in _explain(world, "plus-1@ourco.com")


def test_plus_address_is_stripped_when_set(world):
    world.write_settings(touchpoints={"plus_addresses": "strip"})
    world.imap.append(make_mail(to="wile+promo@acme.com", message_id="<plus-2@ourco.com>"))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"]) == ("ACME", "contact")
    assert "looked up as wile@acme.com" in _explain(world, tp["id"])


def test_customer_address_case_does_not_matter(world):
    world.imap.append(make_mail(to="Wile@ACME.com", message_id="<case@ourco.com>"))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"]) == ("ACME", "contact")


def test_unknown_sender_fails(world):
    world.imap.append(make_mail(sender="Mallory <mallory@outside.example>", to="wile@acme.com",
                                message_id="<mallory@outside.example>"))
    assert "failed 1 (unknown_sender 1)" in world.poll()
    assert world.touchpoints() == []
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_unknown_sender" in flags
    [failure] = world.failures()
    assert failure["reason"] == "unknown_sender"
    assert failure["sender"] == "mallory@outside.example"
    assert "mallory@outside.example" in failure["detail"]


def test_alias_sender_is_credited_to_the_team_member(world):
    world.imap.append(make_mail(sender="Sam <sam.alias@ourco.com>", to="wile@acme.com",
                                message_id="<alias-1@ourco.com>"))
    world.imap.append(make_mail(sender="Sam <SAM.S@Sales.OurCo.com>", to="wile@acme.com",
                                message_id="<alias-2@ourco.com>"))
    assert world.poll().startswith("logged 2")
    by_mid = _by_mid(world)
    for mid in ("alias-1@ourco.com", "alias-2@ourco.com"):
        assert by_mid[mid]["creator"] == "sam@ourco.com"
        assert by_mid[mid]["account_id"] == "ACME"
    # The alias is internal, never a customer participant.
    roles = {p["email"].lower(): p["role"] for p in by_mid["alias-2@ourco.com"]["participants"]}
    assert roles["sam.s@sales.ourco.com"] == "internal"


def test_failures_json_matches_the_reasons_of_a_mixed_pass(world):
    world.imap.append(make_mail(to="wile+x@acme.com", subject="plus", message_id="<m1@ourco.com>"))
    world.imap.append(make_mail(to="someone@unknown-corp.com", subject="unknown",
                                message_id="<m2@ourco.com>"))
    world.imap.append(make_mail(to="dave@initech.com", subject="tie",
                                message_id="<m3@ourco.com>"))
    world.imap.append(make_mail(to="wile@acme.com", subject="fine", message_id="<m4@ourco.com>"))
    out = world.poll()
    assert out.startswith("logged 1, skipped 0, failed 3"), out
    by_subject = {f["subject"]: f for f in world.failures()}
    assert {s: f["reason"] for s, f in by_subject.items()} == {
        "plus": "plus_address", "unknown": "no_account", "tie": "ambiguous_account"}
    assert "unknown-corp.com" in by_subject["unknown"]["detail"]
    assert "initech.com" in by_subject["tie"]["detail"]
    flags = {raw.split(b"Subject: ")[1].split(b"\n")[0].strip().decode(): f
             for f, raw in world.folder_contents("Touchpoints/Failed").values()}
    assert "$tl_plus_address" in flags["plus"]
    assert "$tl_no_account" in flags["unknown"]
    assert "$tl_ambiguous_account" in flags["tie"]
