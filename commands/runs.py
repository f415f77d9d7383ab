"""`touchlog runs`: recent poll passes."""

from __future__ import annotations

import click

from commands.common import format_option, open_store
from commands.options import LIMIT
from commands.output import print_json, print_table


@click.command()
@click.option("--limit", type=LIMIT, default=20, show_default=True)
@format_option
@click.pass_context
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """Recent poll passes: when, the counts per outcome, notices, errors.

    Notices are counted by what became of them: sent, suppressed (over the hourly limit),
    cancelled (the recipient left the team), withdrawn (the message was handled since),
    undeliverable, pending (with the tries that failed this pass).

    A run is `done`, `stopped` (SIGTERM/SIGINT: it ended after the message in hand), `error`
    (the error says why), `killed` (its worker died; closed by the next pass) or `running`.

    \b
    Example:
      touchlog runs --limit 5 --format json
    """
    from core.utc import iso_utc
    from store.ledger.records import recent_runs
    from store.ledger.totals import notice_counts, notices_text

    open_store(ctx)
    rows = [{"id": r.id, "started_at": iso_utc(r.started_at),
             "finished_at": iso_utc(r.finished_at), "status": r.status, "counts": r.counts,
             "errors": r.errors} for r in recent_runs(limit)]
    if fmt == "json":
        print_json(rows)
        return
    print_table("runs", ["id", "started (UTC)", "finished (UTC)", "status", "counts",
                         "notices", "errors"],
                [[r["id"], r["started_at"], r["finished_at"], r["status"],
                  ", ".join(f"{k} {v}" for k, v in r["counts"].items() if ":" not in k),
                  notices_text(notice_counts(r["counts"])), "; ".join(r["errors"])]
                 for r in rows],
                optional=["finished (UTC)", "notices", "errors"])

