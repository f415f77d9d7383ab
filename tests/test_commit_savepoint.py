"""A pass writes each message in the savepoint it decides it in (poller.passes.commit's
`savepoint`): when another worker committed the key first, the message's writes are taken back,
it is left for that worker to move, and the rest of the batch goes on."""

from __future__ import annotations

from poller.decide.pipeline import decide
from poller.decide.reading import Context, Source
from poller.passes.commit import commit
from store.ledger.models import MessageRecord
from store.models import Touchpoint, database
from tests.builders import import_directory, make_mail, settings_for


def test_a_key_another_worker_committed_first_takes_back_only_this_message(db, tmp_path):
    import_directory(tmp_path)
    ctx = Context(settings_for(tmp_path))
    first = make_mail(to="Wile <wile@acme.com>", message_id="<first@ourco.com>")
    second = make_mail(to="Wile <wile@acme.com>", message_id="<second@ourco.com>")
    with database.atomic():  # the pass's batch
        verdict = decide(first, ctx, Source("INBOX", uid=1))
        assert verdict.outcome == "logged"
        # Meanwhile another worker commits the same key.
        MessageRecord.create(key=verdict.key, outcome="logged", reason="contact",
                             sender="sam@ourco.com", mailbox="INBOX", uid=1)
        with database.atomic() as savepoint:
            outcome = commit(verdict, savepoint)
        assert (outcome.reason, outcome.movable) == ("duplicate", False)
        with database.atomic() as savepoint:
            logged = commit(decide(second, ctx, Source("INBOX", uid=2)), savepoint)
    assert logged.outcome == "logged" and logged.touchpoint_id is not None
    # The first message's touchpoint went with its savepoint; the other worker's record stays.
    assert [tp.message_key for tp in Touchpoint.select()] == ["second@ourco.com"]
    assert MessageRecord.select().count() == 2
