"""Turning encryption on for a database, checking its key, and rotating keys (SPEC 12)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase, fn

from core.errors import ConfigError
from store.encryption.keyring import SEALED_PREFIX, KeyRing, SealError
from store.encryption.sealed import SEALING, sealed_fields
from store.timeline.attachments import find_attachment, read_attachment_file, write_attachment


def bind(ring: KeyRing | None, check_model: Any, writable: bool) -> None:
    """Use `ring` for every sealed column, after proving it opens this database: a wrong key
    file stops the command before anything is written, never a silent plaintext fallback."""
    SEALING.ring = ring
    check = check_model.select().order_by(check_model.id).first()
    if ring is None:
        if check is not None:
            SEALING.ring = None
            raise ConfigError("the database is encrypted: set database.encryption_key_file to "
                              "the key file it was encrypted with")
        return
    if check is None:
        if writable:
            check_model.create(value="touchlog")
        return
    try:
        _ = check.value
    except SealError:
        SEALING.ring = None
        raise ConfigError(f"database.encryption_key_file: {ring.path} does not hold the key "
                          "this database was encrypted with") from None


def sealing_arrived(created: set[str]) -> bool:
    """True on the first open, by this touchlog, of a database an earlier one made: it kept
    attachment lists and its own secrets in clear (SPEC 20 seals them)."""
    from store.kept import KeptSecret
    from store.models import Touchpoint

    return KeptSecret._meta.table_name in created and Touchpoint._meta.table_name not in created


def seal_earlier_values() -> int:
    """Seal, once the key is proven, the values an earlier touchlog kept in clear beside sealed
    ones: no `touchlog keys rotate` needed, and from now on a list in clear names no file kept
    under a keyed hash (store.timeline.touchpoints.kept_files). Other plain values (kept before
    the key was set at all) remain `keys rotate`'s, as SPEC 12 says."""
    from store.kept import KeptSecret
    from store.models import Touchpoint, database

    done = 0
    with database.atomic():
        for model, field in ((Touchpoint, Touchpoint.attachments), (KeptSecret, KeptSecret.value)):
            plain = field.is_null(False) & (fn.SUBSTR(field, 1, len(SEALED_PREFIX)) !=
                                            SEALED_PREFIX)
            for row in list(model.select(model._meta.primary_key, field).where(plain)):
                row.save(only=[field])
                done += 1
    return done


@dataclass
class Rotation:
    values: int = 0
    files: int = 0


def rotate(ring: KeyRing, models: list[Any], attachments_dir: Path,
           attachment_sha256s: Iterator[str]) -> Rotation:
    """Re-seal every sealed value (and any still in plain text) with the first key, and the
    attachment files with it; the caller commits. Old files go only after the new ones exist."""
    done = Rotation()
    for model in models:
        names = [f.name for f in sealed_fields(model)]
        if not names:
            continue
        for row in model.select().iterator():
            plain = {name: getattr(row, name) for name in names}
            row.__data__.update(plain)
            row.save(only=[model._meta.fields[n] for n in names])
            done.values += len(names)
    stale = []
    for sha in set(attachment_sha256s):
        old = find_attachment(attachments_dir, sha, ring)
        if old is None:
            continue
        data = read_attachment_file(old, sha, ring)
        new = write_attachment(attachments_dir, sha, data, ring)
        if new != old:
            stale.append(old)
        done.files += 1
    for path in stale:
        path.unlink(missing_ok=True)
    return done


def rotate_all(attachments_dir: Path, extra_models: tuple[Any, ...] = ()
               ) -> tuple[Rotation, KeyRing]:
    """`touchlog keys rotate`: every sealed column of every table (the store's and the
    `extra_models` of other workers, such as the sync's), in one transaction."""
    from store.models import Touchpoint, database
    from store.schema import MODELS

    ring = SEALING.ring
    if ring is None:
        raise ConfigError("database.encryption_key_file is not set")

    def hashes() -> Iterator[str]:
        # Through instances: the lists are sealed (SPEC 20), read after they were re-sealed.
        for tp in Touchpoint.select(Touchpoint.id, Touchpoint.attachments).iterator():
            for att in tp.attachments or []:
                yield att["sha256"]

    with database.atomic():
        done = rotate(ring, [*MODELS, *extra_models], attachments_dir, hashes())
    if isinstance(database.obj, SqliteDatabase):
        # Freed pages keep the old bytes until SQLite reuses them: rewrite the file.
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.execute_sql("VACUUM")
    return done, ring
