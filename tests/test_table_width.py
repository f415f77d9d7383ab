"""Tables as a terminal, cron, a pipe or less receives them: at 80 columns (and at 60) every
table and `show` fits, text wraps, ids and dates are never broken; off a terminal a row is one
line however long. `--help` fits 80 columns too."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from click.testing import CliRunner

from cli import main
from commands.output import print_table
from tests.builders import make_mail
from tests.test_commands_documented import COMMANDS
from tests.world import PASSWORD_ENV, ROOT

SENDER = "someone.with.a.long.name@customer-example-international.com"
STAMP = "2026-11-02T14:30:00Z"
SUBJECT = "Quarterly pricing follow-up with the whole procurement team and their lawyers"
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def table(*options: str, optional: tuple[str, ...] = ()) -> list[str]:
    @main.command("table-probe")
    def probe() -> None:
        print_table("probe", ["date (UTC)", "sender", "subject"], [[STAMP, SENDER, SUBJECT]],
                    optional=optional)

    try:
        result = CliRunner().invoke(main, [*options, "table-probe"], catch_exceptions=False)
    finally:
        main.commands.pop("table-probe")
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def cells(lines: list[str], column: int) -> str:
    """A column's text, its wrapped lines joined again as they were split."""
    return "".join(line.split("│")[column].strip() for line in lines if line.startswith("│"))


def test_off_a_terminal_a_row_is_one_line_however_long():
    lines = table()
    [row] = [line for line in lines if STAMP in line]
    assert SENDER in row and SUBJECT in row


def test_a_width_wraps_between_words_only():
    lines = table("--width", "130")
    assert {len(line) for line in lines} == {130}
    assert [line.split("│")[3].strip() for line in lines if line.startswith("│")] == [
        "Quarterly pricing follow-up with the", "whole procurement team and their lawyers"]


def test_too_little_room_breaks_long_words_at_an_at_or_a_dot_and_keeps_dates_whole():
    lines = table("--width", "60")
    assert {len(line) for line in lines} == {60}
    assert STAMP in [line.split("│")[1].strip() for line in lines if line.startswith("│")]
    sender = [part for line in lines if line.startswith("│")
              if (part := line.split("│")[2].strip())]
    assert "".join(sender) == SENDER
    assert all(part.endswith((".", "@", "-")) for part in sender[:-1]), sender
    assert " ".join(line.split("│")[3].strip() for line in lines
                    if line.startswith("│") and line.split("│")[3].strip()) == SUBJECT


def test_an_optional_column_gives_way_before_text_becomes_unreadable_and_says_so():
    narrow = table("--width", "45", optional=("sender",))
    assert all(len(line) <= 45 for line in narrow)
    assert SENDER[:10] not in "\n".join(narrow)
    assert "not shown at this width: sender" in " ".join(narrow)
    wide = table("--width", "120", optional=("sender",))
    assert "not shown" not in "\n".join(wide) and cells(wide, 2) == SENDER


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_fits_80_columns(path):
    result = CliRunner().invoke(main, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert [line for line in result.output.splitlines() if len(line) > 80] == []


# --- every table, with the values a real installation has --------------------------------------


@pytest.fixture
def busy_world(world):
    """Failures in the real failed folder, a touchpoint with many participants, a task, a run
    with an error, so that every table has long values to fit."""
    world.imap.append(make_mail(sender=f"Someone <{SENDER}>", to="wile@acme.com",
                                subject=SUBJECT, message_id="<stranger@customer.example>"))
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject=SUBJECT,
                                message_id="<unknown@ourco.com>"))
    world.imap.append(make_mail(
        to="Wile E. Coyote <wile@acme.com>, road@road.com",
        cc=f"{SENDER}, procurement.department@acme.com", subject=SUBJECT,
        message_id="<AM0PR01MB1234@AM0PR01MB1234.eurprd01.prod.outlook.com>"))
    world.poll()
    world.touchlog("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com", "--title",
                   SUBJECT, "--assign", "ann@ourco.com", "--due", "2026-11-20")
    _an_error_in_the_last_run(world)
    return world


def _an_error_in_the_last_run(world) -> None:
    from store.db import open_database
    from store.ledger.models import Run

    db = open_database(f"sqlite:///{world.folder / 'touchlog.db'}")
    Run.update(errors=["mailbox: server said: [UNAVAILABLE] Temporary failure, the mailbox is "
                       "being moved to another server; try again later"]).execute()
    db.close()


def fits(lines: list[str], width: int) -> None:
    wide = [line for line in lines if len(line) > width]
    assert wide == [], "\n".join(wide)


def _count(pattern: str, line: str) -> int:
    return len(re.findall(pattern, line))


def shown_lines(world, *args: str, width: int) -> list[str]:
    result = world.touchlog("--width", str(width), *args)
    return result.output.splitlines()


@pytest.mark.parametrize("width", [80, 60])
def test_every_table_and_show_fits_the_terminal_with_ids_and_dates_whole(busy_world, width):
    world = busy_world
    [failure, *_] = world.failures()
    [tp] = world.touchpoints()
    for args in (["touchpoints"], ["failures"], ["runs"], ["tasks"], ["accounts"],
                 ["touchpoints", "show", str(tp["id"])], ["failures", "show", str(failure["uid"])],
                 ["explain", str(tp["id"])]):
        lines = shown_lines(world, *args, width=width)
        fits(lines, width)
        if "show" not in args and "explain" not in args:
            # Each row's id (the first column) and every date, whole on one line.
            # A piece of a date on a line is always part of a whole one: a year-month of a
            # day (a task's due date is a day alone), a day-and-"T" or a time of an instant.
            assert all(_count(r"\d{4}-\d\d", line) == _count(r"\d{4}-\d\d-\d\d", line)
                       and _count(r"\d{4}-\d\d-\d\dT", line) == len(DATE.findall(line))
                       == _count(r"\d\dT\d\d:\d\d", line) for line in lines), args
    listed = "\n".join(shown_lines(world, "touchpoints", width=width))
    assert tp["occurred_at"] in listed and f"│ {tp['id']} " in listed


def test_tables_fit_a_real_terminal_of_80_columns(busy_world):
    """Through a pseudo-terminal 80 columns wide (no --width): what an operator sees."""
    world = busy_world
    for args in (["touchpoints"], ["failures"], ["runs"]):
        lines = _on_terminal(world, 80, *args)
        fits(lines, 80)
        assert any(line.startswith("┏") for line in lines), lines


def _on_terminal(world, columns: int, *args: str) -> list[str]:
    main_fd, other = pty.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env[PASSWORD_ENV] = world.imap.password
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(world.config),
                             *args], stdout=other, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(other)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the other end closed: all was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert proc.wait(timeout=120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())  # rich's styles
    return text.replace("\r\n", "\n").splitlines()


def test_sync_status_fits_80_columns(sf_world):
    w = sf_world
    w.add_touchpoint()
    w.sync()
    for width in (80, 60):
        lines = w.touchlog("--width", str(width), "sync", "status").output.splitlines()
        fits(lines, width)
        assert any(DATE.search(line) for line in lines)
