"""Every command touchlog registers, found by walking the click tree from `cli.main` (so a new
command cannot be forgotten): its help shows an example and the README's command table names it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _walk(command, (*path, name))


COMMANDS = list(_walk(main))


def _readme_table_commands() -> list[str]:
    """The first cell of every row of the README's command table: `touchlog poll --once` etc."""
    section = README.read_text().split("## Commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `touchlog ([^`]*)`", section, flags=re.MULTILINE)


def test_the_walk_finds_the_commands_and_their_subcommands():
    assert {("poll",), ("import",), ("failures",), ("failures", "retry")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_has_an_example(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s*Examples?:\s*$", result.output, flags=re.MULTILINE), result.output
    assert f"touchlog {' '.join(path)}" in result.output, result.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_readme_command_table_names_it(path):
    name = " ".join(path)
    rows = _readme_table_commands()
    assert any(row == name or row.startswith(name + " ") for row in rows), (name, rows)
