"""Secrets touchlog makes itself, once per database, and keeps in it: the key of the thread
Reply-To tokens (SPEC 14), and the web app's session, CSRF and sign-in link keys (SPEC 21).
Every process sharing the database uses the same ones.

With encryption on they are sealed, each bound to its name (SPEC 20): a stolen backup mints no
Reply-To token, and one secret copied over another does not open. A database made before
(secrets in `KeptValue`, in clear) has them moved here when its schema is brought up to date
(store.migrate), and each is sealed on first use with a key, or by `touchlog keys rotate`.
"""

from __future__ import annotations

import secrets

from peewee import IntegrityError, OperationalError

from store.encryption.keyring import is_sealed
from store.encryption.sealed import SEALING, SealedMixin, SealedTextField
from store.models import BaseModel, CharField, database

THREAD_SECRET = "thread_secret"


class KeptSecret(SealedMixin, BaseModel):
    name = CharField(primary_key=True)
    value = SealedTextField()  # 64 hex digits


def kept_secret(name: str) -> bytes:
    """32 random bytes made on first use; two processes racing keep the first one's."""
    row = KeptSecret.get_or_none(KeptSecret.name == name)
    if row is None:
        try:
            with database.atomic():
                KeptSecret.create(name=name, value=secrets.token_hex(32))
        except IntegrityError:
            pass
        row = KeptSecret.get(KeptSecret.name == name)
    value = row.value  # a sealed one that was altered or moved stops here (SealError)
    if SEALING.ring is not None and not is_sealed(row.__data__["value"]):
        _seal(row)
    return bytes.fromhex(value)


def _seal(row: KeptSecret) -> None:
    """A secret kept before encryption was turned on, sealed now; a read-only database keeps it
    as it is until a command that writes comes by."""
    try:
        with database.atomic():
            row.save()
    except OperationalError:
        pass


def thread_secret() -> bytes:
    """The key thread tokens are made with (poller.understand.threads)."""
    return kept_secret(THREAD_SECRET)
