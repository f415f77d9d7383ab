"""Keys and sealed columns (SPEC 12) on a real SQLite file: round trips, a wrong key, a value
moved into another row, rotation across two keys, key files others can read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from peewee import AutoField, Model, SqliteDatabase

from core.errors import ConfigError
from store.encryption.keyring import KeyRing, SealError, is_sealed, new_key
from store.encryption.sealed import SEALING, SealedJSONField, SealedMixin, SealedTextField


def key_file(tmp_path: Path, *keys: str, mode: int = 0o600) -> Path:
    path = tmp_path / "keys"
    path.write_text("".join(k + "\n" for k in keys))
    os.chmod(path, mode)
    return path


@pytest.fixture
def toy(tmp_path: Path):
    db = SqliteDatabase(str(tmp_path / "toy.db"))

    class Note(SealedMixin, Model):
        id = AutoField()
        text = SealedTextField(default="")
        meta = SealedJSONField(default=dict)

        class Meta:
            database = db
            table_name = "note"

    db.create_tables([Note])
    yield Note, db
    SEALING.ring = None
    db.close()


def raw_row(db: SqliteDatabase, row_id: int) -> tuple:
    return db.execute_sql("SELECT text, meta FROM note WHERE id = ?", (row_id,)).fetchone()


def test_a_sealed_value_is_ciphertext_in_the_file_and_text_on_the_model(tmp_path, toy):
    Note, db = toy
    SEALING.ring = KeyRing.load(key_file(tmp_path, new_key()))
    note = Note.create(text="CANARY-7781 quarterly review", meta={"name": "Jill Canary"})
    text, meta = raw_row(db, note.id)
    assert is_sealed(text) and is_sealed(meta)
    assert "CANARY" not in text + meta
    again = Note.get_by_id(note.id)
    assert again.text == "CANARY-7781 quarterly review"
    assert again.meta == {"name": "Jill Canary"}
    db.close()
    assert b"CANARY" not in (tmp_path / "toy.db").read_bytes()


def test_a_value_moved_into_another_row_does_not_open(tmp_path, toy):
    Note, db = toy
    SEALING.ring = KeyRing.load(key_file(tmp_path, new_key()))
    first, second = Note.create(text="for account A"), Note.create(text="for account B")
    stolen = raw_row(db, first.id)[0]
    db.execute_sql("UPDATE note SET text = ? WHERE id = ?", (stolen, second.id))
    with pytest.raises(SealError, match=r"note\.text\.2: .*altered or moved"):
        _ = Note.get_by_id(second.id).text


def test_a_wrong_key_is_refused_naming_the_file(tmp_path, toy):
    Note, db = toy
    SEALING.ring = KeyRing.load(key_file(tmp_path, new_key()))
    note = Note.create(text="secret")
    other = tmp_path / "other"
    other.mkdir()
    SEALING.ring = KeyRing.load(key_file(other, new_key()))
    with pytest.raises(SealError, match=f"not in {other / 'keys'}"):
        _ = Note.get_by_id(note.id).text


def test_without_a_key_an_encrypted_value_is_an_error_never_ciphertext(tmp_path, toy):
    Note, db = toy
    SEALING.ring = KeyRing.load(key_file(tmp_path, new_key()))
    note = Note.create(text="secret")
    SEALING.ring = None
    with pytest.raises(SealError, match="encryption_key_file is not set"):
        _ = Note.get_by_id(note.id).text


def test_every_key_in_the_file_decrypts_and_the_first_encrypts(tmp_path, toy):
    Note, db = toy
    old, new = new_key(), new_key()
    SEALING.ring = KeyRing.load(key_file(tmp_path, old))
    note = Note.create(text="written with the old key")
    SEALING.ring = KeyRing.load(key_file(tmp_path, new, old))
    assert Note.get_by_id(note.id).text == "written with the old key"
    later = Note.create(text="written with the new key")
    SEALING.ring = KeyRing.load(key_file(tmp_path, new))
    assert Note.get_by_id(later.id).text == "written with the new key"
    with pytest.raises(SealError):
        _ = Note.get_by_id(note.id).text


def test_an_update_is_sealed_too(tmp_path, toy):
    Note, db = toy
    SEALING.ring = KeyRing.load(key_file(tmp_path, new_key()))
    note = Note.create(text="first")
    note.text = "CANARY second"
    note.save()
    assert "CANARY" not in raw_row(db, note.id)[0]
    assert note.text == "CANARY second"
    assert Note.get_by_id(note.id).text == "CANARY second"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused_as_ssh_does(tmp_path, mode):
    path = key_file(tmp_path, new_key(), mode=mode)
    with pytest.raises(ConfigError, match=f"{path} is readable by group or others; run chmod 600"):
        KeyRing.load(path)


def test_a_missing_key_file_and_a_bad_line_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match=f"{tmp_path / 'nope'} not found"):
        KeyRing.load(tmp_path / "nope")
    path = key_file(tmp_path, new_key(), "not-a-key")
    with pytest.raises(ConfigError, match=f"{path} line 2 is not a key"):
        KeyRing.load(path)


def test_attachment_names_are_keyed_and_stable_per_key(tmp_path):
    ring = KeyRing.load(key_file(tmp_path, new_key()))
    digest = "ab" * 32
    assert ring.keyed_name(digest) == ring.keyed_name(digest)
    assert ring.keyed_name(digest) != digest
    other = tmp_path / "o"
    other.mkdir()
    assert KeyRing.load(key_file(other, new_key())).keyed_name(digest) != ring.keyed_name(digest)


def test_a_refused_salesforce_record_keeps_its_message_sealed(tmp_path):
    """Salesforce quotes the refused value (STRING_TOO_LONG): the sync's error rows are sealed
    like the store's, and `keys rotate` reaches them."""
    from datetime import datetime

    from store.db import open_database
    from store.encryption.keys import rotate_all
    from sync import state

    keys = key_file(tmp_path, new_key())
    db = open_database(f"sqlite:///{tmp_path / 't.db'}", key_file=keys)
    try:
        state.ensure_tables()
        run = state.start_run("out", False, datetime(2026, 12, 1))
        state.refuse(run, "Event out", 1, None, "STRING_TOO_LONG",
                     "Subject: data value too large: CANARY-55 pricing (max length=255)")
        done, _ = rotate_all(tmp_path / "attachments", tuple(state.SYNC_MODELS))
        assert done.values >= 2  # the key check and the refusal at least
        [refused] = state.refusals(run)
        assert refused.message.startswith("Subject: data value too large: CANARY-55")
    finally:
        db.close()
        SEALING.ring = None
    assert b"CANARY-55" not in (tmp_path / "t.db").read_bytes()
