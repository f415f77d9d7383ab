"""SPEC 20, "Encryption covers what names a file": with encryption on, an attachment's name,
content type and plain sha256 are sealed with their row, and so are touchlog's own secrets;
every reader still shows them plain; a database writer without the key cannot point a
touchpoint at another kept file; a database made before is sealed and `check` says when."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from email import message_from_bytes, policy

import pytest

from store.encryption.keyring import new_key
from tests.builders import authenticated, make_mail
from tests.world import World

pytestmark = pytest.mark.imap

NAME = "ACME-layoffs-Q3.pdf"
TYPE = "application/x-canary-kind"
OTHER = "Board-minutes.pdf"


def with_file(message_id: str, name: str, data: bytes) -> bytes:
    msg = message_from_bytes(make_mail(to="wile@acme.com", message_id=message_id, auth=None),
                             policy=policy.default)
    maintype, subtype = TYPE.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return authenticated(bytes(msg))



def database_bytes(world: World) -> bytes:
    return b"".join(p.read_bytes() for p in world.folder.glob("touchlog.db*"))


def sql(world: World, statement: str, *params: object) -> list[tuple]:
    """What a database writer without the key can do."""
    with sqlite3.connect(world.folder / "touchlog.db") as con:
        return con.execute(statement, params).fetchall()


def database_line(world: World) -> str:
    out = world.touchlog("check", expect=None).output
    return next(line for line in out.splitlines() if line.startswith("database"))


def two_touchpoints(world: World) -> tuple[dict, dict, bytes, bytes]:
    secret, other = b"layoff plan " * 300, b"board minutes " * 300
    world.imap.append(with_file("<a@ourco.com>", NAME, secret))
    world.imap.append(with_file("<b@ourco.com>", OTHER, other))
    assert world.poll().startswith("logged 2,")
    by_id = {tp["message_id"]: tp for tp in world.touchpoints()}
    return by_id["a@ourco.com"], by_id["b@ourco.com"], secret, other


def test_name_type_and_plain_hash_are_sealed_yet_every_reader_shows_them(world_with_smtp):
    world = world_with_smtp
    world.encrypt(new_key())
    first, _, secret, _ = two_touchpoints(world)
    sha = hashlib.sha256(secret).hexdigest()
    assert first["attachments"] == [{"filename": NAME, "content_type": TYPE,
                                     "size": len(secret), "sha256": sha}]
    disk = database_bytes(world)
    for clear in (NAME, TYPE, sha):
        assert clear.encode() not in disk, clear
    [(stored,)] = sql(world, "SELECT attachments FROM touchpoint WHERE id = ?", first["id"])
    assert stored.startswith("tl1:")
    shown = world.touchlog("touchpoints", "show", str(first["id"])).output
    assert f"{NAME} {TYPE} {len(secret)} bytes sha256 {sha}" in shown
    whole = json.loads(world.touchlog("touchpoints", "show", str(first["id"]),
                                      "--format", "json").output)
    assert whole["attachments"] == first["attachments"]
    world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com",
                   "--to", "me")
    [copy] = world.smtp.messages
    [part] = list(copy.message.iter_attachments())
    assert (part.get_filename(), part.get_content_type()) == (NAME, TYPE)
    assert part.get_content() == secret


def test_the_thread_secret_is_sealed(world_with_smtp):
    world = world_with_smtp
    world.encrypt(new_key())
    world.imap.append(make_mail(to="wile@acme.com"))
    world.poll()
    tp = world.touchpoints()[0]
    world.touchlog("touchpoints", "send", str(tp["id"]), "--as", "sam@ourco.com", "--to", "me")
    assert "+tp" in world.smtp.messages[0].message["Reply-To"]
    [(value,)] = sql(world, "SELECT value FROM keptsecret WHERE name = 'thread_secret'")
    assert value.startswith("tl1:")
    assert not sql(world, "SELECT * FROM keptvalue WHERE name <> 'schema'")


def test_a_sealed_list_copied_to_another_row_does_not_open(world):
    world.encrypt(new_key())
    first, second, _, _ = two_touchpoints(world)
    sql(world, "UPDATE touchpoint SET attachments = (SELECT attachments FROM touchpoint "
               "WHERE id = ?) WHERE id = ?", second["id"], first["id"])
    result = world.touchlog("touchpoints", "show", str(first["id"]), expect=1)
    [line] = result.output.strip().splitlines()
    assert f"touchpoint.attachments.{first['id']}" in line and "altered or moved" in line
    assert "Traceback" not in result.output and OTHER not in result.output


def test_a_clear_list_written_without_the_key_reaches_no_kept_file(world_with_smtp):
    world = world_with_smtp
    world.encrypt(new_key())
    first, _, _, other = two_touchpoints(world)
    forged = [{"filename": "harmless.txt", "content_type": "text/plain", "size": len(other),
               "sha256": hashlib.sha256(other).hexdigest()}]
    sql(world, "UPDATE touchpoint SET attachments = ? WHERE id = ?", json.dumps(forged),
        first["id"])
    world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com",
                   "--to", "me")
    [copy] = world.smtp.messages
    assert list(copy.message.iter_attachments()) == []
    assert b"board minutes" not in bytes(copy.message)


def as_before_spec_20(world: World) -> None:
    """The database as the touchlog before SPEC 20 left it: attachment lists and the thread
    secret in clear (the secret beside the schema fingerprint), files under keyed names."""
    rows = sql(world, "SELECT id, attachments FROM touchpoint")
    ring_opened = [(tp["id"], tp["attachments"]) for tp in world.touchpoints()]
    assert len(rows) == len(ring_opened)
    for tp_id, attachments in ring_opened:
        sql(world, "UPDATE touchpoint SET attachments = ? WHERE id = ?",
            json.dumps(attachments, sort_keys=True), tp_id)
    sql(world, "DROP TABLE keptsecret")
    sql(world, "INSERT INTO keptvalue (name, value) VALUES ('thread_secret', ?)", "ab" * 32)
    sql(world, "UPDATE keptvalue SET value = 'an earlier schema' WHERE name = 'schema'")


def test_a_database_made_before_is_sealed_on_first_open(world_with_smtp):
    world = world_with_smtp
    world.encrypt(new_key())
    first, _, secret, _ = two_touchpoints(world)
    as_before_spec_20(world)
    assert NAME.encode() in database_bytes(world)
    # The first command with the key seals them; the list still names its kept file.
    world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com",
                   "--to", "me")
    [part] = list(world.smtp.messages[0].message.iter_attachments())
    assert part.get_content() == secret
    [(secret_value,)] = sql(world, "SELECT value FROM keptsecret WHERE name = 'thread_secret'")
    assert secret_value.startswith("tl1:")
    sql(world, "PRAGMA wal_checkpoint(TRUNCATE)")
    sql(world, "VACUUM")
    assert NAME.encode() not in database_bytes(world)
    assert "encrypted at rest with key" in database_line(world)


def test_turning_encryption_on_later_check_warns_until_rotate_seals_everything(world):
    first, _, secret, _ = two_touchpoints(world)
    sha = hashlib.sha256(secret).hexdigest()
    world.encrypt(new_key())
    line = database_line(world)
    assert " warn " in line and "still in plain text" in line and "keys rotate" in line
    assert "encrypted at rest" not in line
    # Until then the plain list still names the plain file.
    assert world.touchpoints()[-1]["attachments"][0]["filename"] == NAME
    out = world.touchlog("keys", "rotate").output
    assert "re-encrypted" in out
    line = database_line(world)
    assert " ok " in line and "encrypted at rest with key" in line, line
    disk = database_bytes(world)
    assert NAME.encode() not in disk and sha.encode() not in disk
    files = [p for p in (world.folder / "attachments").rglob("*") if p.is_file()]
    assert sha not in [p.name for p in files] and len(files) == 2
    assert {tp["message_id"]: tp["attachments"][0]["filename"] for tp in
            world.touchpoints()} == {"a@ourco.com": NAME, "b@ourco.com": OTHER}
    assert first["id"] in [tp["id"] for tp in world.touchpoints()]


def test_check_rows_line_up(world):
    lines = world.touchlog("check", expect=None).output.splitlines()
    statuses = {line.split()[0]: line.index(line.split()[1]) for line in lines}
    texts = {line.split()[0]: line.index(line.split()[2]) for line in lines}
    assert "salesforce" in statuses
    assert len(set(statuses.values())) == 1 and len(set(texts.values())) == 1, lines
