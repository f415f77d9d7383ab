"""A real small filesystem for the tests of a full disk and a read-only database (the
`small_disk` fixture): a 4 MB tmpfs of its own, filled to the last byte or remounted read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_small_disk() -> Iterator[Path]:
    """A 4 MB tmpfs of its own (root only: `make test` runs as root in CI)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        _cannot("mounting a small filesystem needs root")
    where = Path(tempfile.mkdtemp(prefix="touchlog-small-disk-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
                      capture_output=True).returncode:
        _cannot("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        shutil.rmtree(where, ignore_errors=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Take every free byte of the disk but `leave`."""
    filler = disk / "filler"
    # Unbuffered: a buffered file keeps the chunk the full disk refused and fails again on
    # close, whenever the free space is not a whole number of chunks.
    with open(filler, "wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 65536):
                pass
        except OSError:
            pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def remount(disk: Path, mode: str) -> None:
    """`busy` for a moment after files on it were closed: try a few times."""
    for _ in range(20):
        if subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)],
                          capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"cannot remount {disk} {mode}")


def _cannot(reason: str) -> None:
    """Skipped on a developer's machine; under CI a full-disk test that cannot run fails, as
    the corpus and browser tests do, rather than passing without proving anything."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)
