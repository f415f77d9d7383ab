"""The Salesforce sync against the local fake (tests/fake_salesforce.py), at scale.

    python bench/bench_sync.py --size tiny    # seconds (CI)
    python bench/bench_sync.py --size full    # 10,000 Events in, 10,000 touchpoints out

Two runs, each on its own SQLite database, against one fake Salesforce in a process of its own
(so this process's memory is touchlog's alone):
- inbound: Salesforce holds N Events on a linked account; one `sync salesforce --direction in`
  imports them (queryAll, pages of 2,000);
- outbound: touchlog holds N touchpoints (500 customer contacts, 20 sellers); the first
  `sync salesforce --direction out` sends them (sObject Collections, 200 a request).
Each prints records/s, the API requests made (target for 10,000 outbound: at most 60) and the
peak memory of Python objects during the run (tracemalloc; flat: pages are streamed) with the
process's peak RSS.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import settings_from_dict  # noqa: E402
from store.db import open_database  # noqa: E402
from store.models import Account, TeamMember, Touchpoint, database  # noqa: E402
from sync.run import SalesforceSync  # noqa: E402

SIZES = {"tiny": 300, "small": 2_000, "full": 10_000}
SELLERS, CONTACTS = 20, 500
TOKEN_ENV = "TOUCHLOG_BENCH_SF_TOKEN"


def serve_fake(events: int, conn: Any) -> None:
    """The child process: a fake Salesforce holding `events` Events on one Account."""
    from tests.fake_salesforce import FakeSalesforce

    fake = FakeSalesforce(page_size=2000)
    inbound_account, outbound_account = fake.add_account("Inbound"), fake.add_account("Out")
    author = fake.add_user("mia@ourco.com")
    for i in range(SELLERS):
        fake.add_user(f"seller{i}@ourco.com")
    for i in range(CONTACTS):
        fake.add_contact(f"c{i}@cust.example", outbound_account)
    start = datetime(2026, 1, 1, 9, 0)
    for i in range(events):
        fake.insert("Event", {"WhatId": inbound_account, "Subject": f"Visit {i}",
                              "Description": "Met on site. " * 20, "DurationInMinutes": 30,
                              "ActivityDateTime": (start + timedelta(hours=i)).isoformat()},
                    by=author)
    fake.start()
    conn.send((fake.url, fake.ca_file, fake.token, inbound_account, outbound_account))
    conn.recv()  # until told to stop
    fake.stop()


def settings(folder: Path, url: str, ca_file: str) -> Any:
    return settings_from_dict({
        "database": {"url": f"sqlite:///{folder / 'touchlog.db'}"},
        "touchpoints": {"internal_domains": ["ourco.com"]},
        "salesforce": {"enabled": True, "instance_url": url, "ca_file": ca_file,
                       "access_token_env": TOKEN_ENV}}, base_dir=folder)


def seed_touchpoints(n: int, account_sf: str) -> None:
    Account.create(account_id="OUT", name="Out", salesforce_id=account_sf)
    sellers = [TeamMember.create(email=f"seller{i}@ourco.com", name=f"S{i}")
               for i in range(SELLERS)]
    now = datetime.now()
    rows = [dict(account="OUT", flow="Default", occurred_at=now - timedelta(hours=i),
                 subject=f"Call {i}", content="We talked about the renewal. " * 20,
                 creator=sellers[i % SELLERS].id, creator_email=sellers[i % SELLERS].email,
                 creator_domain="ourco.com", source="manual", created_at=now,
                 participants=[{"email": f"c{i % CONTACTS}@cust.example", "name": "",
                                "role": "external"}]) for i in range(n)]
    with database.atomic():
        for i in range(0, n, 500):
            Touchpoint.insert_many(rows[i:i + 500]).execute()


def measure(label: str, n: int, run: Any) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {n:,} records in {seconds:.1f} s = {n / seconds:,.0f} records/s; "
          f"{report.requests} API requests; peak {peak / 1e6:.1f} MB traced, "
          f"{rss:.0f} MB RSS")
    for line in report.lines()[:-1]:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    n = SIZES[parser.parse_args().size]
    here, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve_fake, args=(n, child))
    server.start()
    try:
        url, ca_file, token, inbound_sf, outbound_sf = here.recv()
        os.environ[TOKEN_ENV] = token
        with tempfile.TemporaryDirectory(prefix="touchlog-bench-sync-") as tmp:
            for name in ("in", "out"):
                (Path(tmp) / name).mkdir()
            inbound = settings(Path(tmp) / "in", url, ca_file)
            open_database(inbound.database_url())
            Account.create(account_id="IN", name="Inbound", salesforce_id=inbound_sf)
            measure("inbound import", n,
                    lambda: SalesforceSync(inbound).run("in"))
            outbound = settings(Path(tmp) / "out", url, ca_file)
            open_database(outbound.database_url())
            seed_touchpoints(n, outbound_sf)
            measure("first outbound", n,
                    lambda: SalesforceSync(outbound).run("out"))
    finally:
        here.send("stop")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
