"""Poison mail (issue 9): 500 seeded mutants of the real-world corpus through Dovecot; every one
ends with an outcome in one pass, moved out of the inbox, none left behind, no traceback."""

from __future__ import annotations

import re

import pytest

from tests.faults import FOLDERS
from tests.mutants import CORPUS, mutants

pytestmark = pytest.mark.corpus(CORPUS)

SEED = 9
SAM = b"From: Sam Seller <sam@ourco.com>"


def as_from_the_team(raw: bytes) -> bytes:
    """The same mail sent by a team member, so it goes past the sender check into the
    participants, the forwards and the account rules."""
    replaced, n = re.subn(rb"(?im)^from:[^\n]*(\n[ \t][^\n]*)*", SAM, raw, count=1)
    return replaced if n else SAM + b"\n" + raw


def test_five_hundred_mutants_each_end_with_an_outcome(world):
    world.write_settings(mailbox={"batch_size": 100})
    originals = mutants(500, SEED)
    world.imap.seed([as_from_the_team(raw) if i % 2 else raw
                     for i, raw in enumerate(originals)])
    proc = world.spawn("poll", "--once")
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "errors" not in out and "error:" not in out, out
    held = {folder: world.folder_contents(folder) for folder in FOLDERS}
    assert held["INBOX"] == {}
    assert len(held["Touchpoints/Logged"]) + len(held["Touchpoints/Failed"]) == 500
    # Every failure says why, by its keyword.
    assert all(any(f.startswith("$tl_") for f in flags)
               for flags, _ in held["Touchpoints/Failed"].values())
    summary = out.strip().splitlines()[-1]
    assert re.match(r"logged \d+, skipped \d+.*, failed \d+", summary), summary


@pytest.mark.parametrize("raw", [
    # a NUL in the charset label
    b"From: sam@ourco.com\nTo: wile@acme.com\nSubject: x\n"
    b"Content-Type: text/plain; charset=\"utf\x00-8\"\n\n\xc3\xa9t\xc3\xa9\n",
    # ISO-2022-JP escapes around bytes that are no JIS pair
    b"From: sam@ourco.com\nTo: wile@acme.com\n"
    b"Subject: =?iso-2022-jp?b?GyRCJCIbKEI=?=\x1b$B\xff\xfe\x1b(B\n\nhi\n",
    # an encoded word whose base64 is broken, in a display name
    b"From: =?UTF-8?B?0YHQu9GD0LbQsdCw\x9e\x80RgNC+0LI=?= <sam@ourco.com>\n"
    b"To: wile@acme.com\nSubject: x\n\nhi\n",
], ids=["nul-charset", "iso2022-junk", "bad-base64-name"])
def test_damage_the_fuzz_found_is_read_not_raised(tmp_path, raw):
    from poller.decide.pipeline import decide
    from poller.decide.reading import Context, Source
    from poller.passes.commit import commit
    from store.db import open_database
    from tests.builders import import_directory, settings_for

    settings = settings_for(tmp_path)
    open_database(settings.database_url())
    import_directory(tmp_path)
    outcome = commit(decide(raw, Context(settings), Source("INBOX", 1)))
    assert outcome.outcome in ("logged", "skipped", "failed")
