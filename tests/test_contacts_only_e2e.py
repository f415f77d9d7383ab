"""A new person at an account that takes only its known contacts (contact_matches_only): the
trace, `explain`, `failures` and the notice say so, and that the fix is a customer user."""

from __future__ import annotations

import json

from tests.builders import ACCOUNTS_CSV, make_mail

UMBRELLA = ACCOUNTS_CSV + "UMB,Umbrella,,umbrella.com,false,true\n"


def test_a_contacts_only_domain_says_so_and_names_the_fix(world_with_smtp):
    world = world_with_smtp
    world.import_directory(accounts=UMBRELLA)
    world.imap.append(make_mail(to="new.person@umbrella.com", subject="Intro",
                                message_id="<cmo-new@OurCo.COM>"))
    assert "failed 1 (no_account 1)" in world.poll()
    [failure] = world.failures()
    assert "no account has the domain" not in failure["detail"]
    assert ("umbrella.com belongs to Umbrella (UMB), which takes only its known contacts "
            "(contact_matches_only): add the person as a customer user of it") \
        in failure["detail"]
    words = world.touchlog("explain", "cmo-new@ourco.com").output
    assert "umbrella.com belongs to Umbrella, which takes only its known contacts" in words
    assert "add the person as a customer user of that account" in words
    shown = json.loads(world.touchlog("failures", "show", str(failure["uid"]),
                                      "--format", "json").output)
    assert shown["message_id"] == failure["message_id"] == "cmo-new@OurCo.COM"
    assert shown["detail"] == failure["detail"]
    assert shown["explanation"][-1].startswith("not logged: no_account")
    assert shown["trace"]["steps"][-1]["contacts_only"] == ["UMB"]
    [notice] = [r.message for r in world.smtp.messages]
    assert notice["In-Reply-To"] == "<cmo-new@OurCo.COM>"
    body = notice.get_content()
    assert "takes only its known contacts" in body
    assert "add the person as a customer user (contact) of that account" in body
    assert "No account has a contact with the addresses considered" not in body
