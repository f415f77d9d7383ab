"""The IMAP session itself: sign-in, capabilities, errors as one line, and folders
(imapclient). poller.imap.session.Mailbox adds what is done to messages.

Folder names come in the settings' form ("Touchpoints/Logged") and are translated to the
server's delimiter and personal namespace prefix here, so callers never see either. Every
imapclient, socket or TLS error leaves the session as one MailboxError line naming the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Self

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from core.errors import MailboxError
from core.sections import MailboxSettings
from poller.imap.connect import Login, open_client, sign_in
from poller.imap.wire import imap_error_text, selectable, server_folder, text_of


class Session:
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
