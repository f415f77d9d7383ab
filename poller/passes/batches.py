"""How a pass cuts its inbox into batches (SPEC 20): by count (`mailbox.batch_size`) and by bytes
(`mailbox.batch_bytes`), from the RFC822.SIZE of the messages over `small_bound`, read first.

A message over `mailbox.max_message_bytes` is never fetched whole: only its header fields
(poller.decide.unread). A suspect (a message in hand when a pass died, store.ledger.in_hand) is a
batch of its own, read with nothing else in hand, so that a pass dying again names it alone; one
whose kills used up `mailbox.max_attempts` is not read again at all, only its headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from core.sections import MailboxSettings
from poller.understand.trust import EXCHANGE_HEADERS

# All that is fetched of a message not read whole (at most HEADER_COST bytes of them): what
# the ledger keys it by, what its sender is authenticated by (poller.understand.trust), and what
# the record and the notice quote.
HEADER_FIELDS = ("From", "Sender", "Subject", "Date", "Message-ID",
                 "Authentication-Results", *EXCHANGE_HEADERS)
HEADER_COST = 65_536


@dataclass
class Batch:
    whole: list[int] = field(default_factory=list)  # UIDs fetched whole
    unread: list[int] = field(default_factory=list)  # UIDs of which only headers are fetched
    bytes: int = 0  # what fetching it costs, from RFC822.SIZE
    alone: bool = False  # a suspect: read in the pass's own process, nothing else in hand

    @property
    def uids(self) -> list[int]:
        return sorted(self.whole + self.unread)

    def __len__(self) -> int:
        return len(self.whole) + len(self.unread)


def small_bound(mb: MailboxSettings) -> int:
    """The size under which a message's own size is not asked for: two full batches of such
    messages still fit in `batch_bytes`, so they are cut by count and always read ahead."""
    return max(1, mb.batch_bytes // (2 * mb.batch_size))


def plan(uids: Sequence[int], sizes: Mapping[int, int], mb: MailboxSettings,
         suspects: Mapping[int, int] | None = None) -> Iterator[Batch]:
    """The batches of `uids` in order. `sizes` holds the messages over small_bound (and
    max_message_bytes); any other counts as small_bound. `suspects`: UID -> kills (passes
    that died with it alone in hand)."""
    suspects = suspects or {}
    bound = small_bound(mb)
    batch = Batch()
    for uid in uids:
        size = sizes.get(uid, bound)
        unread = size > mb.max_message_bytes or suspects.get(uid, 0) >= mb.max_attempts
        if uid in suspects and not unread:
            if batch:
                yield batch
                batch = Batch()
            yield Batch(whole=[uid], bytes=size, alone=True)
            continue
        cost = min(size, HEADER_COST) if unread else size
        if batch and (len(batch) >= mb.batch_size or batch.bytes + cost > mb.batch_bytes):
            yield batch
            batch = Batch()
        (batch.unread if unread else batch.whole).append(uid)
        batch.bytes += cost
    if batch:
        yield batch


def may_read_ahead(current: Batch, following: Batch, batch_bytes: int) -> bool:
    """Whether `following` may be fetched while `current` is still in hand: never next to a
    suspect, and never beyond `mailbox.batch_bytes` in hand at once."""
    return not (current.alone or following.alone) and \
        current.bytes + following.bytes <= batch_bytes
