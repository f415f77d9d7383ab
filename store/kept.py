"""Secrets touchlog makes itself, once per database, and keeps in it (`KeptValue` rows): the key of
the thread Reply-To tokens (SPEC 14), and the web app's session, CSRF and sign-in link keys
(SPEC 21). Every process sharing the database uses the same ones."""

from __future__ import annotations

import secrets

from peewee import IntegrityError

from store.models import KeptValue, database

THREAD_SECRET = "thread_secret"


def kept_secret(name: str) -> bytes:
    """32 random bytes made on first use; two processes racing keep the first one's."""
    row = KeptValue.get_or_none(KeptValue.name == name)
    if row is None:
        try:
            with database.atomic():
                KeptValue.create(name=name, value=secrets.token_hex(32))
        except IntegrityError:
            pass
        row = KeptValue.get(KeptValue.name == name)
    return bytes.fromhex(row.value)


def thread_secret() -> bytes:
    """The key thread tokens are made with (poller.understand.threads)."""
    return kept_secret(THREAD_SECRET)
