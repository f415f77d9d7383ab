"""Tables as cron, a pipe or less receives them: no cell broken mid-value, whatever the width."""

from __future__ import annotations

from click.testing import CliRunner

from cli import main
from commands.output import print_table

SENDER = "someone.with.a.long.name@customer-example-international.com"
STAMP = "2026-11-02T14:30:00Z"
SUBJECT = "Quarterly pricing follow-up with the whole procurement team and their lawyers"


def table(*options: str) -> list[str]:
    @main.command("table-probe")
    def probe() -> None:
        print_table("probe", ["date (UTC)", "sender", "subject"], [[STAMP, SENDER, SUBJECT]])

    try:
        result = CliRunner().invoke(main, [*options, "table-probe"], catch_exceptions=False)
    finally:
        main.commands.pop("table-probe")
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_off_a_terminal_a_row_is_one_line_however_long():
    lines = table()
    [row] = [line for line in lines if STAMP in line]
    assert SENDER in row and SUBJECT in row


def test_a_width_wraps_between_words_only():
    lines = table("--width", "130")
    assert {len(line) for line in lines} == {130}
    assert [line.split("│")[3].strip() for line in lines if line.startswith("│")] == [
        "Quarterly pricing follow-up with the", "whole procurement team and their lawyers"]


def test_too_little_room_keeps_every_value_whole():
    lines = table("--width", "60")
    body = [line for line in lines if line.startswith("│")]
    assert STAMP in body[0] and SENDER in body[0]
    assert " ".join(line.split("│")[3].strip() for line in body) == SUBJECT
    assert all(line.endswith(("│", "┃", "┓", "┩", "┘")) for line in lines[1:])  # none cut off
