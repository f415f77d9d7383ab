"""store.statements.execute raises the driver's errors as peewee's (a pass catches IntegrityError
to learn another worker committed a message first, OperationalError for a lost database), and
lets any other error through as it is."""

from __future__ import annotations

import pytest
from peewee import IntegrityError, OperationalError, ProgrammingError

from store.statements import execute


class _Odd(str):
    def isascii(self) -> bool:
        raise ValueError("not the driver's")


def test_the_drivers_errors_are_peewees_and_others_pass_through(db):
    execute(db, "CREATE TABLE twice (k TEXT UNIQUE)")
    execute(db, "INSERT INTO twice (k) VALUES (?)", ["a\x00b"])
    with pytest.raises(IntegrityError):
        execute(db, "INSERT INTO twice (k) VALUES (?)", ["a\ufffdb"])  # NUL stored as U+FFFD
    with pytest.raises(OperationalError):
        execute(db, "SELEC k FROM twice")
    with pytest.raises(ProgrammingError):
        execute(db, "SELECT k FROM twice WHERE k = ?", [object()])
    with pytest.raises(ValueError, match="not the driver's"):
        execute(db, "SELECT k FROM twice WHERE k = ?", [_Odd("x")])
    assert execute(db, "SELECT k FROM twice").fetchall() == [("a\ufffdb",)]
