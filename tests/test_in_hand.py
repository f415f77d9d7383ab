"""What a pass has in hand, written down so that the next pass knows what a killed one was
reading (SPEC 20, store.ledger.in_hand): a batch as one row while none of it is a suspect, a
suspect as a row of its own, and rows written by an older touchlog still counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from poller.passes.hand import Hand
from poller.passes.poll import mailbox_name
from store.db import open_database
from store.ledger import in_hand
from store.ledger.in_hand import InHand
from store.ledger.in_hand_batch import InHandBatch, packed, unpacked
from store.ledger.models import Run
from store.migrate import FINGERPRINT
from store.models import KeptValue, database
from tests.builders import make_mail
from tests.faults import committed
from tests.test_size import MB, _deck, _pass_under_an_oom_killer

MAILBOX = "sam@127.0.0.1:143/INBOX"


def _small(n: int) -> bytes:
    return make_mail(to="wile@acme.com", subject=f"Note {n}", message_id=f"<s{n}@ourco.com>")


def _ledger(world) -> str:
    """The world's database, opened in this process; the name its passes give the mailbox."""
    settings = load_settings(world.config)
    open_database(settings.database_url())
    return mailbox_name(settings)


# --- a pass killed for real (SIGKILL once it holds too much, as the OOM killer does) ----------


def test_a_batch_in_hand_when_its_pass_is_killed_is_read_one_message_at_a_time(world):
    world.write_settings(mailbox={"max_message_bytes": 60 * MB, "max_attempts": 1})
    world.imap.seed([_small(1), _small(2), _small(3), _deck(30, n=4), _small(5), _small(6)])
    assert _pass_under_an_oom_killer(world, limit_mb=120)
    _ledger(world)
    [dead] = Run.select().where(Run.status == "running")
    [batch] = InHandBatch.select()  # the whole batch, one row
    assert (batch.run, unpacked(batch.uids)) == (dead.id, [1, 2, 3, 4, 5, 6])
    assert not InHand.select().exists()
    # Each read alone: the three before the deck are committed when the deck kills the pass.
    assert _pass_under_an_oom_killer(world, limit_mb=120)
    assert committed(world.folder / "touchlog.db") == 3
    # Killed alone once (max_attempts 1): given up unread; the rest read alone and logged.
    assert not _pass_under_an_oom_killer(world, limit_mb=120)
    assert len(world.folder_contents("Touchpoints/Logged")) == 5
    [failure] = world.failures()
    assert failure["reason"] == "internal_error" and "killed while reading it" in failure["detail"]
    assert world.folder_contents("INBOX") == {}


def test_a_kill_with_a_suspect_alone_counts_though_the_pass_gave_one_up_before(world):
    """A message given up earlier in the pass is crossed off when its batch is committed: the
    pass then dies with the suspect alone in hand, and the kill is counted on the suspect."""
    world.write_settings(mailbox={"max_message_bytes": 60 * MB, "max_attempts": 2})
    world.imap.seed([_small(1), _deck(30, n=2), _small(3)])
    mailbox = _ledger(world)
    InHand.create(mailbox=mailbox, uid=1, kills=2)  # given up: read by its headers only
    InHand.create(mailbox=mailbox, uid=2, kills=1)  # killed one pass alone already
    database.close()
    kills = [_pass_under_an_oom_killer(world, limit_mb=120) for _ in range(3)]
    assert kills == [True, False, False], kills
    assert len(world.folder_contents("Touchpoints/Logged")) == 1
    failed = world.failures()
    assert [f["reason"] for f in failed] == ["internal_error", "internal_error"], failed


# --- the state a killed pass leaves, written down by hand (SQLite and PostgreSQL) ----------------


def _dead_run(mailbox: str) -> int:
    """A run its worker never closed: the next pass finds it `running` and closes it `killed`."""
    return Run.create(mailbox=mailbox, status="running", holder="pid 1 on host").id


@pytest.mark.parametrize("written", ["per message", "as a batch"])
def test_a_pass_killed_with_one_message_alone_in_hand_counts_a_kill_on_it(any_world, written):
    """A suspect row as an older touchlog wrote it (one row a message, in a database without
    the batch table) counts as the new batch row does."""
    world = any_world
    world.write_settings(mailbox={"max_attempts": 1})
    world.imap.seed([_small(1), _small(2), _small(3)])
    mailbox = _ledger(world)
    run = _dead_run(mailbox)
    if written == "per message":
        InHand.create(mailbox=mailbox, uid=2, run=run)
        database.drop_tables([InHandBatch])  # as the older touchlog left its database
        KeptValue.delete().where(KeptValue.name == FINGERPRINT).execute()
    else:
        InHandBatch.create(mailbox=mailbox, run=run, uids=packed([2]))
    database.close()
    assert world.poll().startswith("logged 2, skipped 0, failed 1 (internal_error 1)")
    [failure] = world.failures()
    assert failure["subject"] == "Note 2" and "killed while reading it" in failure["detail"]
    assert world.folder_contents("INBOX") == {}


def test_a_pass_killed_with_a_batch_in_hand_counts_no_kill(any_world):
    world = any_world
    world.write_settings(mailbox={"max_attempts": 1})
    world.imap.seed([_small(1), _small(2), _small(3)])
    mailbox = _ledger(world)
    InHandBatch.create(mailbox=mailbox, run=_dead_run(mailbox), uids=packed([1, 2, 3]))
    database.close()
    # Suspects, each read alone; none was alone when the pass died, so none is given up.
    assert world.poll().startswith("logged 3, skipped 0, failed 0")


# --- the bookkeeping itself, on each database --------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 't.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("pg_url")
    db = open_database(url)
    yield
    db.close()


def _hand(run: int, present: set[int], killed: tuple[int, ...] = ()) -> Hand:
    """A pass's hand, as Hand.batches leaves it once the dead runs are settled."""
    hand = Hand(Settings(), MAILBOX)  # mailbox.max_attempts 3
    hand.run = run
    hand.suspects = in_hand.settle(MAILBOX, killed, present)
    return hand


def test_a_stop_request_mid_batch_leaves_only_what_was_not_read_in_hand(ledger_db):
    inbox = set(range(1, 401))
    hand = _hand(7, inbox)
    hand.take(list(range(1, 201)))
    hand.take(list(range(201, 401)))  # read ahead
    with database.atomic():
        hand.done(list(range(1, 51)))  # a stop request after the 50th
    # Killed before letting go: what it lived through is no suspect of the next pass.
    assert in_hand.settle(MAILBOX, [7], inbox) == dict.fromkeys(range(51, 401), 0)


def test_a_pass_that_lives_leaves_nothing_in_hand(ledger_db):
    inbox = set(range(1, 401))
    hand = _hand(7, inbox)
    hand.take(list(range(1, 201)))
    with database.atomic():
        hand.done(list(range(1, 51)))  # a stop request after the 50th
    hand.let_go()
    assert not InHandBatch.select().exists() and not InHand.select().exists()
    assert in_hand.settle(MAILBOX, [7], inbox) == {}


def test_a_given_up_message_stays_written_down_until_it_leaves_the_folder(ledger_db):
    inbox = set(range(1, 12))
    InHand.create(mailbox=MAILBOX, uid=5, kills=3)  # given up (max_attempts 3)
    InHand.create(mailbox=MAILBOX, uid=11, kills=1)
    hand = _hand(7, inbox)
    assert hand.suspects == {5: 3, 11: 1} and hand.given_up(5)
    hand.take(list(range(1, 11)))
    with database.atomic():
        hand.done(list(range(1, 11)))
    hand.take([11])  # alone, and the pass dies
    # Killed with 11 alone in hand: a kill on it; 5 is still given up, never read whole again.
    assert in_hand.settle(MAILBOX, [7], inbox) == {5: 3, 11: 2}
    assert in_hand.settle(MAILBOX, [], inbox) == {5: 3, 11: 2}
    assert in_hand.settle(MAILBOX, [], inbox - {5}) == {11: 2}  # it left the folder
    assert in_hand.settle(MAILBOX, [], inbox) == {11: 2}


def test_uids_are_kept_as_ranges():
    for uids in ([], [7], [1, 2, 3], [1, 2, 3, 7, 9, 10], [5, 3], [4, 4]):
        assert unpacked(packed(uids)) == uids
    assert packed(range(1, 201)) == "1-200"
    assert packed([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
