"""`touchlog check`'s rows about what touchlog keeps: the database (and whether it is encrypted
at rest, with nothing left in plain text), and whether its files are the owner's alone."""

from __future__ import annotations

from pathlib import Path

from core.errors import TouchlogError
from core.private import open_to_others
from core.secrets import without_url_password
from core.settings import Settings

_SHOWN = 3  # paths named in the files row; the rest are counted

Row = tuple[str, str, str]  # name, status, text: commands.health's Check


def database_check(settings: Settings) -> Row:
    from store.db import open_database
    from store.ledger.models import MessageRecord
    from store.models import Touchpoint

    url = settings.database_url()
    try:
        open_database(url, key_file=settings.encryption_key_path())
        counts = f"{Touchpoint.select().count()} touchpoints, " \
                 f"{MessageRecord.select().count()} messages handled"
        status, encryption = _encryption(settings.attachments_path())
    except TouchlogError as exc:
        return ("database", "FAIL", str(exc))
    except Exception as exc:  # a driver's own error class: still one line, no password
        return ("database", "FAIL", without_url_password(f"database: {exc}", url).strip())
    return ("database", status, counts + encryption)


def _encryption(attachments_dir: Path) -> tuple[str, str]:
    from store.encryption.audit import plain_left
    from store.encryption.sealed import SEALING
    from store.schema import MODELS
    from sync.state import SYNC_MODELS

    ring = SEALING.ring
    if ring is None:
        return "ok", "; encryption at rest off (database.encryption_key_file)"
    keys = f"key {ring.current_id} ({len(ring.keys)} key(s) in {ring.path})"
    models = MODELS + [m for m in SYNC_MODELS if m.table_exists()]
    left = plain_left(models, attachments_dir)
    if left:
        return "warn", (f"; encryption on with {keys}, but {left} still in plain text: "
                        "touchlog keys rotate encrypts them")
    return "ok", f"; encrypted at rest with {keys}"


def files_check(settings: Settings) -> Row:
    """SPEC 20: the database, its -wal/-shm and locks, the attachments folder and its files."""
    paths: list[Path] = []
    url = settings.database_url()
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        db = Path(url[len("sqlite:///"):])
        paths += [db, *(db.with_name(db.name + end) for end in ("-wal", "-shm", "-journal"))]
        paths += sorted(db.parent.glob(f"{db.name}.poll-*.lock"))
    attachments = settings.attachments_path()
    paths.append(attachments)
    if attachments.is_dir():
        paths += sorted(attachments.rglob("*"))
    key = settings.encryption_key_path()
    paths += [key] if key else []
    open_ = open_to_others(paths)
    if not open_:
        what = "the database, its attachments and the key file" if key else \
            "the database and its attachments"
        return ("files", "ok", f"{what} are readable by their owner only")
    named = ", ".join(str(p) for p in open_[:_SHOWN])
    more = f" and {len(open_) - _SHOWN} more" if len(open_) > _SHOWN else ""
    return ("files", "warn", f"readable by group or others: {named}{more} (chmod 600 "
                 "the files, 700 the folders: they hold customers' mail)")
