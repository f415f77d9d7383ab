"""How a pass cuts its inbox into batches (poller/passes/batches.py, SPEC 20)."""

from __future__ import annotations

from core.sections import MailboxSettings
from poller.passes.batches import HEADER_COST, Batch, may_read_ahead, plan, small_bound

MB = 1024 * 1024
MAILBOX = MailboxSettings(batch_size=3, batch_bytes=10 * MB, max_message_bytes=8 * MB,
                          max_attempts=2)


def _cut(sizes: dict[int, int], suspects: dict[int, int] | None = None) -> list[tuple]:
    return [(b.whole, b.unread, b.alone) for b in plan(sorted(sizes), sizes, MAILBOX, suspects)]


def test_batches_are_cut_by_count_and_by_bytes():
    sizes = {1: MB, 2: MB, 3: MB, 4: MB, 5: 6 * MB, 6: 5 * MB, 7: MB}
    assert _cut(sizes) == [([1, 2, 3], [], False), ([4, 5], [], False), ([6, 7], [], False)]


def test_a_message_over_the_limit_is_planned_as_headers_only():
    batches = list(plan([1, 2, 3], {1: MB, 2: 9 * MB, 3: MB}, MAILBOX))
    assert [(b.whole, b.unread) for b in batches] == [([1, 3], [2])]
    assert batches[0].bytes == 2 * MB + HEADER_COST and batches[0].uids == [1, 2, 3]


def test_a_message_without_a_size_counts_as_a_small_one():
    assert small_bound(MAILBOX) == 10 * MB // 6
    [first, second] = plan([1, 2, 3, 4], {1: 5 * MB, 3: 6 * MB}, MAILBOX)
    assert (first.uids, second.uids) == ([1, 2], [3, 4])
    assert first.bytes == 5 * MB + small_bound(MAILBOX)


def test_a_suspect_is_read_alone_and_one_killed_too_often_is_not_read():
    sizes = {1: MB, 2: MB, 3: MB, 4: MB, 5: MB}
    assert _cut(sizes, {2: 0, 4: 2}) == [
        ([1], [], False), ([2], [], True), ([3, 5], [4], False)]


def test_reading_ahead_stays_within_batch_bytes_and_away_from_suspects():
    small, large = Batch([1], bytes=MB), Batch([2], bytes=9 * MB)
    assert may_read_ahead(small, small, 10 * MB)
    assert not may_read_ahead(small, Batch([3], bytes=10 * MB), 10 * MB)
    assert not may_read_ahead(large, Batch([3], bytes=2 * MB), 10 * MB)
    assert not may_read_ahead(small, Batch([3], bytes=MB, alone=True), 10 * MB)
