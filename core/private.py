"""Files touchlog keeps are its owner's alone (SPEC 20): the SQLite database and its -wal/-shm,
the attachments folder and its files, any secret it writes. Created 0600 (files) and 0700
(folders) whatever the umask, since the umask only ever takes bits away and a shared machine's
usual 022 would hand every customer's mail to every local user.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> None:
    """`path` and any missing parent, each made 0700 (`mkdir -p` would give the parents the
    umask's mode)."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # another process made it first: its mode is its own
            continue
        os.chmod(folder, FOLDER_MODE)  # exactly 0700, even under a umask of 0o700


def create_private(path: Path) -> int:
    """A new file, open for writing, 0600; FileExistsError when it is there already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: bytes) -> None:
    """Write a new file owner-only (the caller renames it into place)."""
    fd = create_private(path)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def touch_private(path: Path) -> None:
    """Make an empty file 0600 unless one is there; a folder that cannot be written is left to
    whoever writes next to report."""
    try:
        os.close(create_private(path))
    except (FileExistsError, PermissionError, OSError):
        pass


def open_to_others(paths: Iterable[Path]) -> list[Path]:
    """Those of `paths` that exist and that group or others may read, write or enter."""
    found = []
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_IMODE(mode) & (stat.S_IRWXG | stat.S_IRWXO):
            found.append(path)
    return found
