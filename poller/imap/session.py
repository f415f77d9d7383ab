"""What a pass does to messages over its IMAP session (poller.imap.server.Session): search,
sizes, PEEK fetches in batches, keywords and moves (imapclient, UIDs only)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence

from core.errors import MailboxError
from core.utc import aware_utc
from poller.imap.bodies import fetch_bodies
from poller.imap.server import Session
from poller.imap.wire import (
    MAX_UIDS_PER_COMMAND,
    Fetched,
    FolderEntry,
    expand_uid_set,
    flags_of,
    folder_entry,
    uid_chunks,
    uid_set,
)

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"


class Mailbox(Session):
    """A logged-in IMAP session and what it does to messages. Use `Mailbox.connect(...)` and
    close it (or `with`)."""

    def uids(self, folder: str) -> list[int]:
        """UIDs of the messages not marked \\Deleted, oldest first (selects read-write)."""
        name = self._select(folder, fresh=True)
        with self._guard(f"search {name}"):
            return sorted(self._client.search(["UNDELETED"]))

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Fetched]:
        """Whole messages of one batch, in one FETCH, without setting \\Seen; vanished UIDs
        are skipped. The caller sizes the batch (`mailbox.batch_size`)."""
        name = self._select(folder)
        chunk = list(uids)
        if not chunk:
            return
        with self._guard(f"fetch from {name}"):
            data = fetch_bodies(self._client, chunk)
        for uid in chunk:
            item = data.get(uid)
            # Expunged meanwhile by another session (a worker that took over the mailbox):
            # Dovecot may still answer with the UID and a NIL body.
            if item is None:
                continue
            raw, internal_date, flags = item
            yield Fetched(uid=uid, raw=raw, internal_date=internal_date, flags=flags_of(flags))

    def sizes_over(self, folder: str, limit: int) -> dict[int, int]:
        """RFC822.SIZE of each message larger than `limit` bytes, by UID: read before any is
        fetched, so that none larger than `mailbox.max_message_bytes` ever is. One SEARCH
        LARGER finds them; the size of every message would cost its FETCH line read through
        imapclient (~0.15 ms a message, a tenth of a pass's own time per message)."""
        name = self._select(folder)
        with self._guard(f"search {name}"):
            large = sorted(self._client.search(["UNDELETED", "LARGER", str(limit)]))
        sizes: dict[int, int] = {}
        for start in range(0, len(large), MAX_UIDS_PER_COMMAND):
            chunk = large[start:start + MAX_UIDS_PER_COMMAND]
            with self._guard(f"fetch sizes from {name}"):
                data = self._client.fetch(chunk, [b"RFC822.SIZE"])
            sizes.update({uid: int(item[b"RFC822.SIZE"]) for uid, item in data.items()
                          if b"RFC822.SIZE" in item})
        return sizes

    def fetch_headers(self, folder: str, uids: Sequence[int], fields: Sequence[str],
                      limit: int) -> Iterator[Fetched]:
        """These header fields only (at most `limit` bytes of them, in the message's order),
        without setting \\Seen: all that is read of a message not to be fetched whole."""
        name = self._select(folder)
        chunk = list(uids)
        if not chunk:
            return
        item = f"BODY.PEEK[HEADER.FIELDS ({' '.join(fields).upper()})]<0.{limit}>".encode()
        with self._guard(f"fetch headers from {name}"):
            data = self._client.fetch(chunk, [item, b"RFC822.SIZE", b"INTERNALDATE", b"FLAGS"])
        for uid in chunk:
            got = data.get(uid, {})
            # The answer names the part without .PEEK and with only the partial's start.
            block = next((v for k, v in got.items() if k.startswith(b"BODY[HEADER.FIELDS")),
                         None)
            if block is None:
                continue
            yield Fetched(uid=uid, raw=bytes(block),
                          internal_date=aware_utc(got.get(b"INTERNALDATE")),
                          flags=flags_of(got.get(b"FLAGS", ())),
                          size=int(got.get(b"RFC822.SIZE", 0)), whole=False)

    def latest_headers(self, folder: str, field: str, limit: int) -> list[bytes]:
        """One header field of the newest `limit` messages, newest first, read-only (what
        `touchlog check` shows of the inbox without touching it)."""
        name = self._select(folder, readonly=True, fresh=True)
        with self._guard(f"search {name}"):
            uids = sorted(self._client.search(["UNDELETED"]))[-limit:]
        if not uids:
            return []
        item = f"BODY.PEEK[HEADER.FIELDS ({field.upper()})]".encode()
        with self._guard(f"fetch from {name}"):
            data = self._client.fetch(uids, [item])
        key = item.replace(b".PEEK", b"")
        return [bytes(data[uid].get(key, b"")) for uid in reversed(uids) if uid in data]

    def fetch_raw(self, folder: str, uid: int) -> bytes | None:
        name = self._select(folder, readonly=True)
        with self._guard(f"fetch from {name}"):
            data = self._client.fetch([uid], [b"BODY.PEEK[]"])
        item = data.get(uid)
        body = item.get(b"BODY[]") if item else None
        return bytes(body) if body is not None else None

    def add_keyword(self, folder: str, uids: Iterable[int], keyword: str) -> None:
        name = self._select(folder)
        for chunk in uid_chunks(uids):
            self._on_live(chunk, f"flag {keyword} in {name}",
                          lambda live: self._client.add_flags(live, [keyword], silent=True))

    def remove_keywords(self, folder: str, uids: Iterable[int], keywords: Iterable[str]) -> None:
        name = self._select(folder)
        keywords = list(keywords)
        for chunk in uid_chunks(uids):
            self._on_live(chunk, f"unflag {' '.join(keywords)} in {name}",
                          lambda live: self._client.remove_flags(live, keywords, silent=True))

    def move(self, folder: str, uids: Iterable[int], dest: str) -> None:
        """Move exactly these UIDs: one MOVE per set, else COPY + \\Deleted + UID EXPUNGE."""
        name = self._select(folder)
        target = self.folder_name(dest)
        for chunk in uid_chunks(uids):
            if self.has_move:
                self._on_live(chunk, f"move {name} to {target}",
                              lambda live: self._client.move(live, target))
                continue
            self._on_live(chunk, f"copy {name} to {target}", lambda live: (
                self._client.copy(live, target),
                self._client.add_flags(live, [DELETED], silent=True)))
            self._expunge(name, chunk)

    def _on_live(self, chunk: str, what: str, command: Callable[[str], object]) -> None:
        """Run `command` on the UIDs of `chunk` that still exist. Another worker on the same
        mailbox may have moved some of them away ([EXPUNGEISSUED]): that is not an error, its
        commit owns them; we retry on what is left."""
        for _ in range(3):
            try:
                with self._guard(what):
                    command(chunk)
                return
            except MailboxError as exc:
                if "EXPUNGEISSUED" not in str(exc):
                    raise
            with self._guard(what):
                self._client.noop()
                live = self._client.search(["UID", chunk])
            if not live:
                return
            chunk = uid_set(live)
        raise MailboxError(f"{self.where}: {what}: messages kept vanishing under another client")

    def _expunge(self, name: str, chunk: str) -> None:
        with self._guard(f"expunge {name}"):
            if self.has_uidplus:
                self._client.uid_expunge(chunk)
                return
            # Without UIDPLUS, EXPUNGE removes every \Deleted message, also ones another client
            # marked and may still undelete: expunge only when all of them are ours. Otherwise
            # ours stay marked \Deleted; uids() never returns them, so nothing is done twice.
            ours = expand_uid_set(chunk)
            others = set(self._client.search(["DELETED"])) - ours
            if others:
                log.warning("%s: %d moved message(s) left \\Deleted in %s: no UIDPLUS and "
                            "others are marked too", self.where, len(ours), name)
                return
            self._client.expunge()

    def list_entries(self, folder: str, only: Sequence[int] | None = None) -> list[FolderEntry]:
        """Envelope, flags and date of every message in the folder (or `only` these), by UID."""
        name = self._select(folder, readonly=True, fresh=True)
        entries = []
        with self._guard(f"list messages in {name}"):
            uids = sorted(self._client.search(["ALL"]) if only is None else only)
            for start in range(0, len(uids), MAX_UIDS_PER_COMMAND):
                chunk = uids[start:start + MAX_UIDS_PER_COMMAND]
                data = self._client.fetch(chunk, [b"ENVELOPE", b"FLAGS", b"INTERNALDATE"])
                entries += [folder_entry(uid, data[uid]) for uid in chunk
                            if b"ENVELOPE" in data.get(uid, {})]
        return entries

