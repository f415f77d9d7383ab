"""Attachment bytes on disk, kept once per hash: named by a keyed hash and sealed when
encryption is on (SPEC 12), by the plain sha256 otherwise."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from core.errors import ConfigError, DatabaseError
from core.private import private_folder, write_private
from store.encryption.keyring import KeyRing


def attachment_path(directory: Path, sha256: str, ring: KeyRing | None) -> Path:
    name = ring.keyed_name(sha256) if ring else sha256
    return directory / name[:2] / name


def find_attachment(directory: Path, sha256: str, ring: KeyRing | None) -> Path | None:
    """Where the bytes are now: named by any key of the ring, or by the plain hash."""
    names = [sha256]
    if ring is not None:
        names = [KeyRing(ring.path, (key,)).keyed_name(sha256) for key in ring.keys] + names
    for name in names:
        path = directory / name[:2] / name
        if path.exists():
            return path
    return None


def write_attachment(directory: Path, sha256: str, data: bytes, ring: KeyRing | None) -> Path:
    """Keep the bytes once per hash (sealed when a ring is set); a crash leaves at most an
    unreferenced file, never a partial one."""
    path = attachment_path(directory, sha256, ring)
    if path.exists():
        return path
    blob = ring.seal(data, f"attachment.{sha256}") if ring else data
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        _write_new(tmp, blob)
        os.replace(tmp, path)
    except OSError as exc:  # the disk, not the message: one line for every command (SPEC 20)
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"attachments {directory}: {_cause(exc)}: "
                            f"{exc.strerror or exc}") from None
    return path


_FOLDERS_MADE: set[Path] = set()  # made 0700 by this process: not looked at again each file


def _write_new(tmp: Path, blob: bytes) -> None:
    """Write `tmp` afresh, owner-only: its folder made first (SPEC 20), a file left by a crash
    of a process that had this pid removed. Each is done only when the cheap path fails: a
    pass writes thousands of files into 256 folders."""
    if tmp.parent not in _FOLDERS_MADE:
        private_folder(tmp.parent)
        _FOLDERS_MADE.add(tmp.parent)
    try:
        write_private(tmp, blob)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        write_private(tmp, blob)
    except FileNotFoundError:  # the folder went away since: make it again
        _FOLDERS_MADE.discard(tmp.parent)
        private_folder(tmp.parent)
        _FOLDERS_MADE.add(tmp.parent)
        write_private(tmp, blob)


def _cause(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full"
    if exc.errno == errno.EROFS:
        return "read-only (touchlog cannot write to it)"
    return "cannot write"


def read_attachment_file(path: Path, sha256: str, ring: KeyRing | None) -> bytes:
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() == sha256:
        return blob  # kept before encryption was on
    if ring is None:
        raise ConfigError(f"{path} is encrypted and database.encryption_key_file is not set")
    return ring.open(blob, f"attachment.{sha256}")
