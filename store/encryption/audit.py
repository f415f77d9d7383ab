"""What is still in plain text in an encrypted database (SPEC 12, 20): `touchlog check` says
"encrypted at rest" only when nothing is.

Plain values are those an earlier touchlog wrote before the key was set, or before a column
was sealed (attachment lists and kept secrets until SPEC 20), or written by someone without the
key; `touchlog keys rotate` seals them all, and the attachment files kept under their plain hash.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

from peewee import fn

from store.encryption.keyring import SEALED_PREFIX
from store.encryption.sealed import sealed_fields

_SEALED_FILE = re.compile(rb"[0-9a-f]{8}:")  # a sealed blob starts with its key's id


@dataclass(frozen=True)
class PlainLeft:
    rows: int  # rows with a value in plain text in a sealed column
    files: int  # attachment files kept unsealed

    def __bool__(self) -> bool:
        return bool(self.rows or self.files)

    def __str__(self) -> str:
        parts = [f"{self.rows} row(s) with values"] if self.rows else []
        parts += [f"{self.files} attachment file(s)"] if self.files else []
        return " and ".join(parts)


def plain_left(models: list[Any], attachments_dir: Path) -> PlainLeft:
    """One scan of each table with sealed columns, one look at the start of each file."""
    rows = 0
    for model in models:
        fields = sealed_fields(model)
        if fields:
            plain = [f.is_null(False) & (fn.SUBSTR(f, 1, len(SEALED_PREFIX)) != SEALED_PREFIX)
                     for f in fields]
            rows += model.select().where(reduce(operator.or_, plain)).count()
    return PlainLeft(rows, _plain_files(attachments_dir))


def _plain_files(directory: Path) -> int:
    if not directory.is_dir():
        return 0
    count = 0
    for path in directory.rglob("*"):
        if not path.is_file() or ".tmp" in path.name:
            continue
        try:
            with path.open("rb") as f:
                head = f.read(9)
        except OSError:
            continue
        count += not _SEALED_FILE.fullmatch(head)
    return count
