"""touchlog installed against the fake Salesforce, driven by its commands, for the sync's tests.

The team, accounts (one linked by `salesforce_id`, one not) and Salesforce's own people are
set up the way a user would: CSV imports, settings.toml, and records made in the fake as a
Salesforce user makes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cli import main
from tests.fake_salesforce import FakeSalesforce

TOKEN_ENV = "TOUCHLOG_TEST_SF_TOKEN"
TEAM = "email,name,role,aliases\njill@ourco.com,Jill Seller,user,\nann@ourco.com,Ann Admin,admin,\n"


@dataclass
class SfWorld:
    folder: Path
    fake: FakeSalesforce
    salesforce: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.acme_sf = self.fake.add_account("Acme Corp")
        self.jill_sf = self.fake.add_user("jill@ourco.com", "Jill Seller")
        self.mia_sf = self.fake.add_user("mia@ourco.com", "Mia (Salesforce only)")
        self.wile_sf = self.fake.add_contact("wile@acme.com", self.acme_sf)

    @property
    def config(self) -> Path:
        return self.folder / "settings.toml"

    def write_settings(self, **salesforce: Any) -> None:
        self.salesforce.update(salesforce)
        values = {"enabled": True, "instance_url": self.fake.url, "access_token_env": TOKEN_ENV,
                  "ca_file": self.fake.ca_file, **self.salesforce}
        lines = ["[database]", 'url = "sqlite:///touchlog.db"', "[notify]", "enabled = false",
                 "[touchpoints]", 'internal_domains = ["ourco.com"]', "[salesforce]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
        self.config.write_text("\n".join(lines) + "\n")

    def install(self) -> SfWorld:
        self.write_settings()
        (self.folder / "team.csv").write_text(TEAM)
        (self.folder / "accounts.csv").write_text(
            "account_id,name,salesforce_id\n"
            f"ACME,Acme Corp,{self.acme_sf.lower()}\nROAD,Roadrunner Inc,\n")
        self.touchlog("import", "team", str(self.folder / "team.csv"))
        self.touchlog("import", "accounts", str(self.folder / "accounts.csv"))
        return self

    def touchlog(self, *args: str, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(main, ["--config", str(self.config), *args])
        if expect is not None:
            assert result.exit_code == expect, (result.output, result.exception)
        return result

    def sync(self, *args: str, expect: int | None = 0) -> dict[str, dict[str, int]]:
        """Runs `touchlog sync salesforce ARGS`; its counts by "Event out" etc."""
        output = self.touchlog("sync", "salesforce", *args, expect=expect).output
        counts: dict[str, dict[str, int]] = {}
        for line in output.splitlines():
            name, sep, rest = line.removeprefix("dry run, nothing written: ").partition(": ")
            if sep and name.count(" ") == 1:
                counts[name] = {k: int(v) for k, v in (p.split(" ") for p in rest.split(", "))}
        return counts

    def touchpoints(self, *args: str) -> list[dict[str, Any]]:
        return json.loads(self.touchlog("touchpoints", "--format", "json", *args).output)

    def status(self) -> dict[tuple[str, str], dict[str, Any]]:
        """`sync status --format json`: its rows by (object, direction)."""
        rows = json.loads(self.touchlog("sync", "status", "--format", "json").output)
        return {(r["object"], r["direction"]): r for r in rows}

    # --- touchlog's side, through touchlog's own commands ----------------------------------

    def add_touchpoint(self, account: str = "ACME", subject: str = "Kickoff",
                       content: str = "We met.", when: str = "2026-11-30T14:00Z",
                       creator: str = "jill@ourco.com",
                       external: tuple[str, ...] = ("wile@acme.com",)) -> int:
        args = ["touchpoints", "add", "--account", account, "--as", creator, "--type",
                "web_meeting", "--date", when, "--subject", subject, "--content", content]
        for address in external:
            args += ["--participant", address]
        return int(self.touchlog(*args).output.strip().split()[-1])

    def add_task(self, account: str = "ACME", title: str = "Call back",
                 assignee: str = "jill@ourco.com", due: str = "2026-12-05") -> int:
        return int(self.touchlog("tasks", "add", "--account", account, "--as", assignee,
                                 "--title", title, "--description", "about renewal", "--due",
                                 due).output.strip().split()[-1])

    def edit(self, what: str, local_id: int, *options: str) -> None:
        """`touchlog touchpoints|tasks edit ID --as jill@ourco.com OPTIONS`."""
        self.touchlog(what, "edit", str(local_id), "--as", "jill@ourco.com", *options)

    def delete(self, what: str, local_id: int) -> None:
        self.touchlog(what, "delete", str(local_id), "--as", "jill@ourco.com")

    def open(self) -> None:
        from store.db import open_database

        open_database(f"sqlite:///{self.folder / 'touchlog.db'}")

    def local(self, model: str, **where: Any) -> list[Any]:
        from store import models

        self.open()
        cls = getattr(models, model)
        query = cls.select()
        for key, value in where.items():
            query = query.where(getattr(cls, key) == value)
        return list(query.order_by(cls.id))
