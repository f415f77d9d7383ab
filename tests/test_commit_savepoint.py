"""A pass writes each message in the savepoint it decides it in (poller.passes.commit's
`savepoint`): when another worker committed the key first, the message's writes are taken back,
it is left for that worker to move, and the rest of the batch goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poller.decide.pipeline import decide
from poller.decide.reading import Context, Source
from poller.passes.commit import commit
from store.db import journal_savepoints_in_memory
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


def _write_calls() -> int:
    """Write system calls this process made so far (Linux /proc)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="Linux /proc only")
def test_a_batch_of_savepoints_costs_few_writes(db, tmp_path):
    """A pass's batch: one transaction, a savepoint a message. A pass keeps SQLite's
    sub-journal of each savepoint in memory (store.db.journal_savepoints_in_memory): a batch
    writes its pages to the WAL once at COMMIT. On SQLite's default the second batch here, once
    the indexes have grown, spilled the sub-journal to a file and cost 5,178 write calls (26 a
    message) instead of 226."""
    if os.environ.get("TOUCHLOG_TEST_POSTGRES_URL"):
        pytest.skip("SQLite's journal")
    import_directory(tmp_path)
    ctx = Context(settings_for(tmp_path))
    mail = [make_mail(to="Wile <wile@acme.com>", message_id=f"<b{n}@ourco.com>",
                      subject=f"Rollout {n}") for n in range(400)]
    with journal_savepoints_in_memory():
        writes = [_batch(ctx, mail[:200], 1), _batch(ctx, mail[200:], 201)]
    assert Touchpoint.select().count() == 400
    assert max(writes) < 4 * 200, f"{writes} write calls for two batches of 200 messages"


def _batch(ctx: Context, mail: list[bytes], first_uid: int) -> int:
    """Commit `mail` as a pass commits a batch; the write calls it cost."""
    before = _write_calls()
    with database.atomic():
        for uid, raw in enumerate(mail, first_uid):
            with database.savepoint() as savepoint:
                assert commit(decide(raw, ctx, Source("INBOX", uid=uid)), savepoint).outcome \
                    == "logged"
    return _write_calls() - before


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="Linux /proc only")
def test_a_pass_keeps_its_savepoint_journal_in_memory(world):
    """The whole pass, in this process (under PARALLEL_MIN: no workers): 400 notes in two
    batches cost a few write calls each (the WAL at each COMMIT, the pass's own rows), not a
    journal file rewritten for every message (over 5,000 for the second batch before)."""
    world.write_settings(mailbox={"batch_size": 200})
    world.imap.seed([make_mail(to="Wile <wile@acme.com>", message_id=f"<p{n}@ourco.com>",
                               subject=f"Rollout {n}") for n in range(400)])
    before = _write_calls()
    assert world.poll().startswith("logged 400,")
    writes = _write_calls() - before
    assert writes < 4 * 400, f"{writes} write calls for 400 messages"


def test_the_journal_goes_back_to_disk_when_the_pass_ends(db):
    """temp_store also keeps SQLite's sort files in memory: what the same connection does after
    a pass (a sync in `touchlog poll`'s process) has the setting it had before, even when the
    pass failed."""
    if os.environ.get("TOUCHLOG_TEST_POSTGRES_URL"):
        pytest.skip("SQLite's setting")

    def temp_store() -> int:
        return database.execute_sql("PRAGMA temp_store").fetchone()[0]

    assert temp_store() == 0  # SQLite's default: as the compile-time choice says (a file)
    with journal_savepoints_in_memory():
        assert temp_store() == 2  # MEMORY
    assert temp_store() == 0
    with pytest.raises(RuntimeError), journal_savepoints_in_memory():
        raise RuntimeError("the pass failed")
    assert temp_store() == 0
