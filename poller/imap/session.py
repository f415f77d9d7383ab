"""The IMAP session: folders, PEEK fetches in batches, keywords and moves (imapclient, UIDs only).

Folder names come in the settings' form ("Touchpoints/Logged") and are translated to the
server's delimiter and personal namespace prefix here, so callers never see either. Every
imapclient, socket or TLS error leaves this module as one MailboxError line naming the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Self

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from core.errors import MailboxError
from core.sections import MailboxSettings
from core.utc import aware_utc
from poller.imap.connect import Login, open_client, sign_in
from poller.imap.wire import (
    MAX_UIDS_PER_COMMAND,
    Fetched,
    FolderEntry,
    expand_uid_set,
    flags_of,
    folder_entry,
    imap_error_text,
    selectable,
    server_folder,
    text_of,
    uid_chunks,
    uid_set,
)

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"

class Mailbox:
    """One logged-in IMAP session. Use `Mailbox.connect(...)` and close it (or `with`)."""

    def __init__(self, client: IMAPClient, settings: MailboxSettings,
                 use_move: bool | None = None, use_uidplus: bool | None = None) -> None:
        self._client = client
        self.settings = settings
        self.where = f"imap {settings.host}:{settings.port}"
        # None: follow the server's capabilities; False forces the COPY/EXPUNGE fallback.
        self._use_move = use_move
        self._use_uidplus = use_uidplus
        self._selected: tuple[str, bool] | None = None  # (server name, read-only)
        self._namespace: tuple[str, str | None] | None = None  # (prefix, delimiter)
        self.signed_in = "password"  # how, in words (`touchlog check` says it)

    @classmethod
    def connect(cls, settings: MailboxSettings, password: str, timeout: float = 30.0,
                use_move: bool | None = None, use_uidplus: bool | None = None,
                login: Login | None = None) -> Self:
        client = open_client(settings, timeout)
        how = sign_in(client, settings, password, login)
        box = cls(client, settings, use_move, use_uidplus)
        if login:
            box.signed_in = how
        return box

    # --- session ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Log out; a connection that is already gone is not an error here."""
        try:
            self._client.logout()
        except Exception:  # the session is over either way
            with suppress(Exception):
                self._client.shutdown()

    @property
    def capabilities(self) -> tuple[str, ...]:
        with self._guard("capability"):
            return tuple(c.decode("ascii", "replace") for c in self._client.capabilities())

    @property
    def has_move(self) -> bool:
        forced = self._use_move  # None: as the server says
        return "MOVE" in self.capabilities if forced is None else forced

    @property
    def has_uidplus(self) -> bool:
        forced = self._use_uidplus  # None: as the server says
        return "UIDPLUS" in self.capabilities if forced is None else forced

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(f"{self.where}: {what}: {imap_error_text(exc)}") from exc

    # --- folders ------------------------------------------------------------------------------

    def folder_name(self, name: str) -> str:
        """A settings name ("Touchpoints/Logged") as this server spells it."""
        if name.upper() == "INBOX":
            return "INBOX"
        return server_folder(name, *self._server_namespace())

    def folder_label(self, name: str) -> str:
        """How messages name a folder: the server's name, and the settings name beside it
        when the two differ (a "." delimiter, a namespace prefix)."""
        server = self.folder_name(name)
        return server if server == name.strip("/") else f"{server} ({name} in settings)"

    def _server_namespace(self) -> tuple[str, str | None]:
        if self._namespace is None:
            with self._guard("list folders"):
                listing = self._client.list_folders("", "")
                prefix = ""
                if "NAMESPACE" in self.capabilities:
                    personal = self._client.namespace().personal or ()
                    prefix = personal[0][0] if personal else ""
            delimiter = listing[0][1] if listing else None
            self._namespace = (prefix, text_of(delimiter) or None)
        return self._namespace

    def _folders(self) -> dict[str, tuple[bytes, ...]]:
        """Server folder name -> its LIST flags."""
        with self._guard("list folders"):
            return {name: tuple(flags) for flags, _, name in self._client.list_folders()}

    def missing_folders(self, *names: str) -> list[str]:
        """The names (as given) that are not selectable folders on the server."""
        folders = self._folders()
        return [n for n in names if not selectable(folders, self.folder_name(n))]

    def ensure_folders(self, *names: str) -> None:
        """Create each folder with its parents when missing, and subscribe it."""
        folders = self._folders()
        for name in names:
            parts = name.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                server = self.folder_name("/".join(parts[:depth]))
                leaf = depth == len(parts)
                if server in folders and (not leaf or selectable(folders, server)):
                    continue
                self._create(server)
                folders = self._folders()
            with self._guard(f"subscribe {self.folder_name(name)}"):
                self._client.subscribe_folder(self.folder_name(name))

    def _create(self, server: str) -> None:
        try:
            self._client.create_folder(server)
        except (IMAPClientError, OSError) as exc:
            # Another worker may have created it meanwhile: only a still-missing folder is an error.
            if not selectable(self._folders(), server):
                raise MailboxError(f"{self.where}: create folder {server}: "
                                   f"{imap_error_text(exc)}") from exc

    def _select(self, folder: str, readonly: bool = False, fresh: bool = False) -> str:
        name = self.folder_name(folder)
        current = self._selected
        if fresh or current is None or current[0] != name or (current[1] and not readonly):
            self._selected = None
            with self._guard(f"select folder {name}"):
                self._client.select_folder(name, readonly=readonly)
            self._selected = (name, readonly)
        return name

    # --- messages -----------------------------------------------------------------------------

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
            # A list, not a set string: imapclient keeps only the UIDs it was given.
            data = self._client.fetch(chunk, [b"BODY.PEEK[]", b"INTERNALDATE", b"FLAGS"])
        for uid in chunk:
            item = data.get(uid)
            # Expunged meanwhile by another session (a worker that took over the mailbox):
            # Dovecot may still answer with the UID and a NIL body.
            if item is None or item.get(b"BODY[]") is None:
                continue
            yield Fetched(uid=uid, raw=bytes(item[b"BODY[]"]),
                          internal_date=aware_utc(item.get(b"INTERNALDATE")),
                          flags=flags_of(item.get(b"FLAGS", ())))

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

