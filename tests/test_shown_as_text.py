"""SPEC 20, "Text is shown as text": whatever a stranger writes into a subject, a name, a task
title, a failure's detail or a trace, every command prints it as text (control characters
escaped, markup never read) and exits 0, in tables and in JSON, on a real Dovecot."""

from __future__ import annotations

import base64
import json
import unicodedata

import pytest
from click.testing import CliRunner

from cli import main
from tests.builders import make_mail

NASTY = [
    "hello [/b]",
    "[link=https://evil.example/]your invoice[/link] [bold red]urgent",
    "\x1b]8;;https://evil.example/\x1b\\https://bank.example/\x1b]8;;\x1b\\",  # OSC 8 link
    "\x1b]0;you have been pwned\x07title",  # the terminal's title
    "\x1b[2J\x1b[H\x1b[31mscreen cleared",  # CSI: clear, home, red
    "\x9b2J C1 CSI \x9d0;osc\x9c",
    "invoice\u202efdp.exe \u2066isolated\u2069 \u200fmark",  # bidi override, isolate, RLM
    "nul\x00byte bell\x07 back\x08space\rreturn del\x7f",
    ":smile: [i]not italic[/i] \\[escaped]",
]
HUGE = "Long " + "x" * 100_000  # one 100 KB word
DIGITS = "7" * 900  # no id: a table must not keep it whole
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def stored(text: str) -> str:
    """NUL is the one character a database may refuse (PostgreSQL): store.db keeps U+FFFD."""
    return text.replace("\x00", "\ufffd")


def raw_controls(text: str) -> list[str]:
    """What may not reach a terminal: control characters but tab and newline, bidi controls,
    lone surrogates."""
    return sorted({hex(ord(c)) for c in text
                   if c in BIDI or unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t"})


def encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode() + "?="


def mail(subject: str, to: str, n: int) -> bytes:
    raw = make_mail(to=to, subject="PLACEHOLDER", message_id=f"<nasty-{n}@ourco.com>")
    return raw.replace(b"Subject: PLACEHOLDER", f"Subject: {encoded(subject)}".encode())


@pytest.fixture
def nasty_world(world):
    """Failures (in the real failed folder), touchpoints, tasks, the ledger and its traces,
    accounts and runs, each holding the nastiest text there is."""
    for n, subject in enumerate([*NASTY, HUGE]):
        world.imap.append(mail(subject, "jill@unknown-corp.com", n))
    world.imap.append(mail(NASTY[0], "wile@acme.com", 99))
    world.poll()
    for title in [*NASTY, HUGE, DIGITS]:
        world.touchlog("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com",
                       "--title", title, "--description", title)
    world.touchlog("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--type", "email", "--subject", "by hand")
    _store_nasty_values(world)
    return world


def _store_nasty_values(world) -> None:
    """What only Salesforce, an older touchlog or a hostile writer puts there: every text
    column of the rows the commands show."""
    from store.db import open_database
    from store.ledger.models import MessageRecord, Run
    from store.models import Account, Touchpoint

    db = open_database(f"sqlite:///{world.folder / 'touchlog.db'}")
    everything = "\n".join(NASTY)
    people = [{"email": f"p{i}@acme.com", "name": text, "role": "external"}
              for i, text in enumerate(NASTY)]
    Touchpoint.update(subject=everything, content=everything + "\n" + HUGE, participants=people,
                      flow=NASTY[1], reasons=NASTY[:3]).execute()
    Account.update(name=NASTY[2]).where(Account.account_id == "ACME").execute()
    trace = {"candidates": [{"address": text} for text in NASTY],
             "names": {"ACME": NASTY[4]}, "account_id": "ACME", "rule": NASTY[6],
             "steps": [{"rule": "contact", "address": text, "result": "contact",
                        "accounts": [{"account_id": "ACME", "last_activity": text}]}
                       for text in NASTY]}
    MessageRecord.update(detail=everything, trace=trace, sender=NASTY[3]).execute()
    # A trace of another shape (an older touchlog, a hand-edited row) is no traceback either.
    MessageRecord.update(trace={"steps": [{"rule": "contact"}], "candidates": "x"}).where(
        MessageRecord.key == "nasty-2@ourco.com").execute()
    Run.update(errors=[*NASTY, HUGE]).execute()
    # A lone surrogate cannot be bound as text; as a JSON escape, a trace can hold one.
    db.execute_sql("UPDATE messagerecord SET trace = ? WHERE key = ?",
                   ('{"authserv_ids_seen": ["\\ud800 lone", "\\udfff"]}', "nasty-1@ourco.com"))
    db.close()


def run(world, *args: str, width: str | None = None):
    """As a terminal would receive it: no ANSI stripping (CliRunner strips CSI otherwise)."""
    options = ["--width", width] if width else []
    result = CliRunner().invoke(main, ["--config", str(world.config), *options, *args],
                                color=True)
    assert result.exit_code == 0, (args, result.output[-3000:], result.exception)
    assert "Traceback" not in result.output
    assert raw_controls(result.output) == [], (args, raw_controls(result.output))
    return result


def commands(world) -> list[list[str]]:
    failures = json.loads(run(world, "failures", "--format", "json").stdout)
    tps = json.loads(run(world, "touchpoints", "--format", "json").stdout)
    found = [["failures"], ["touchpoints"], ["tasks"], ["accounts"], ["runs"]]
    found += [["failures", "show", str(f["uid"])] for f in failures]
    found += [["touchpoints", "show", str(tp["id"])] for tp in tps]
    found += [["explain", f"nasty-{n}@ourco.com"] for n in (0, 1, 2, 99)]
    found += [["explain", str(tp["id"])] for tp in tps]
    return found


def test_every_command_shows_stored_text_as_text_and_exits_0(nasty_world):
    world = nasty_world
    for command in commands(world):
        for width in (None, "80", "40"):
            shown = run(world, *command, width=width).stdout
            if width == "80":  # and whatever the text, it fits
                assert max(len(line) for line in shown.splitlines()) <= 80, command
        run(world, *command, "--format", "json")


def test_markup_prints_literally_and_escapes_are_visible(nasty_world):
    world = nasty_world
    listed = run(world, "failures").stdout
    assert "hello [/b]" in listed
    assert "[link=https://evil.example/]your invoice[/link] [bold red]urgent" in listed
    assert ":smile: [i]not italic[/i] \\[escaped]" in listed
    assert "\\x1b]0;you have been pwned\\x07title" in listed
    assert "invoice\\u202efdp.exe" in listed
    shown = run(world, "tasks").stdout
    assert "hello [/b]" in shown
    assert "nul\ufffdbyte bell\\x07 back\\x08space\\x0dreturn del\\x7f" in shown
    # A table shows the first 1,000 characters of a value; JSON and `show` give it whole.
    assert "(99005 more characters)" in shown


def test_json_gives_back_the_stored_value_exactly(nasty_world):
    world = nasty_world
    tasks = json.loads(run(world, "tasks", "--format", "json").stdout)
    assert sorted(t["title"] for t in tasks) == sorted(stored(t) for t in [*NASTY, HUGE, DIGITS])
    [tp, _] = [t for t in json.loads(run(world, "touchpoints", "--format", "json").stdout)]
    assert tp["subject"] == stored("\n".join(NASTY))
    assert [p["name"] for p in tp["participants"]] == NASTY  # JSON keeps NUL as \u0000
    shown = json.loads(run(world, "touchpoints", "show", str(tp["id"]), "--format",
                           "json").stdout)
    assert shown["content"] == stored("\n".join(NASTY)) + "\n" + HUGE
    failures = json.loads(run(world, "failures", "--format", "json").stdout)
    assert set(NASTY[:7]) <= {f["subject"] for f in failures}
    explained = json.loads(run(world, "explain", "nasty-1@ourco.com", "--format",
                               "json").stdout)
    assert explained["trace"]["authserv_ids_seen"] == ["\ud800 lone", "\udfff"]


def test_a_value_in_show_cannot_pass_for_another_field(nasty_world):
    world = nasty_world
    [tp, _] = json.loads(run(world, "touchpoints", "--format", "json").stdout)
    lines = run(world, "touchpoints", "show", str(tp["id"])).stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("subject:"))
    # The subject's own line breaks stay under it, indented: no line of it starts a field.
    assert [line.startswith(" ") for line in lines[at + 1:at + len(NASTY)]] == \
        [True] * (len(NASTY) - 1)


def test_every_command_prints_through_commands_output():
    """A command that printed with click.echo or print would bypass the rule: none does."""
    from pathlib import Path

    commands = Path(__file__).resolve().parents[1] / "commands"
    bare = [f"{path.name}: {line.strip()}" for path in sorted(commands.glob("*.py"))
            if path.name != "output.py"
            for line in path.read_text().splitlines()
            if "click.echo(" in line or line.lstrip().startswith("print(")]
    assert bare == []
