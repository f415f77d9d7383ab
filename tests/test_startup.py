"""cron starts `touchlog poll --once` every few minutes, mostly on an empty inbox: that run
imports only what it uses (issue 10), and a pass over mail still finds everything it needs."""

from __future__ import annotations

import os
import subprocess
import sys

from cli import COMMANDS
from tests.builders import make_mail, write_directory
from tests.world import PASSWORD_ENV, ROOT, World, installed

# What a pass over mail, or another command, needs and an empty pass never does.
NOT_FOR_AN_EMPTY_PASS = ("mailparser", "poller.decide.pipeline", "poller.passes.workers",
                         "poller.decide.resolve",
                         "apscheduler", "multiprocessing", "commands.timeline", "commands.sync",
                         "commands.directory", "commands.accounts", "sync", "rich", "smtplib",
                         "poller.net.oauth2", "playhouse.migrate",
                         # the web app and what serves it (touchlog serve)
                         "web", "flask", "werkzeug", "jinja2", "waitress", "commands.serve",
                         "commands.audit")


def _run(world, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """touchlog as cron runs it: a process of its own (`python` options before the script)."""
    env = {**os.environ, PASSWORD_ENV: world.imap.password}
    return subprocess.run([sys.executable, *python, str(ROOT / "cli.py"), "--config",
                           str(world.config), *args], cwd=world.folder, env=env,
                          capture_output=True, text=True, timeout=120)


def modules_imported(importtime_report: str) -> set[str]:
    """The modules named in Python's `-X importtime` report (its stderr)."""
    return {line.rpartition("|")[2].strip() for line in importtime_report.splitlines()
            if line.startswith("import time:") and "|" in line}


def _imports(world, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = _run(world, *args, python=("-X", "importtime"))
    return done, modules_imported(done.stderr)


def needless(modules: set[str]) -> set[str]:
    """Those of `modules` an empty pass should never load."""
    return {m for m in modules for name in NOT_FOR_AN_EMPTY_PASS
            if m == name or m.startswith(name + ".")}


def test_an_empty_pass_imports_only_what_it_uses(world_with_smtp):
    world = world_with_smtp  # notices on: with none pending, no SMTP code is loaded either
    world.poll()  # the first pass creates the folders
    done, modules = _imports(world, "poll", "--once")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "poller.passes.poll" in modules and "imapclient" in modules
    assert needless(modules) == set()


def test_a_pass_over_mail_still_loads_what_it_needs(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>"))
    world.imap.append(make_mail(to="someone@unknown-corp.com", subject="Hello there"))
    done, modules = _imports(world, "poll", "--once")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "logged 1" in done.stdout and "failed 1 (no_account 1)" in done.stdout
    assert {"mailparser", "poller.decide.pipeline", "poller.decide.resolve", "smtplib"} <= modules
    assert "commands.timeline" not in modules
    assert world.touchpoints()[0]["account_id"] == "ACME"
    [notice] = world.smtp.messages  # the failure's notice went out, through smtplib
    assert notice.rcpt_tos == ["sam@ourco.com"]
    assert "Hello there" in notice.message["Subject"]


def test_the_help_still_lists_every_command(imap, tmp_path):
    world = installed(tmp_path, imap)
    done, _ = _imports(world, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(COMMANDS) == 14
    for name in COMMANDS:  # each one imported only when it runs, yet all listed
        assert f"  {name} " in done.stdout, name


def test_the_quick_exit_keeps_exit_statuses_output_and_a_closed_database(imap, tmp_path):
    world = World(tmp_path, imap)  # set up by commands alone: no connection of this process
    world.write_settings()
    for kind, path in write_directory(tmp_path).items():
        assert _run(world, "import", kind, str(path)).returncode == 0
    imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>"))
    done = _run(world, "poll", "--once")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("logged 1, skipped 0, failed 0")
    # Closed as a normal exit would: the last connection checkpoints the WAL and removes it.
    assert not (tmp_path / "touchlog.db-wal").exists()
    shown = _run(world, "touchpoints", "--format", "json")
    assert shown.returncode == 0 and '"account_id": "ACME"' in shown.stdout
    assert shown.stdout.rstrip().endswith("]")  # flushed whole
    usage = _run(world, "touchpoints", "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr
    unknown = _run(world, "touchpoints", "--account", "NOPE")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("touchlog: no account 'NOPE'")
