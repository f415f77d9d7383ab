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


# What became of the notices a pass handled, each counted once, in the order they are told.
# `failed` in a run's counts is tries that failed (those notices stay pending): told with
# the pending ones, never added to them ("failed 3, pending 3" were three notices, not six).
_FATES = ("sent", "suppressed", "cancelled", "withdrawn", "undeliverable", "pending")


def notice_counts(counts: dict[str, int]) -> dict[str, int]:
    """A run's notice counts by what became of them, plus `tries_failed`."""
    found = {name: counts.get(f"notices:{name}", 0) for name in _FATES}
    found["tries_failed"] = counts.get("notices:failed", 0)
    return found


def notices_text(found: dict[str, int]) -> str:
    """`sent 2, suppressed 1, cancelled 1, pending 3 (3 tries failed)`"""
    parts = [f"{name} {found[name]}" for name in _FATES if found.get(name)]
    if found.get("tries_failed"):
        tries = found["tries_failed"]
        note = f"{tries} {'try' if tries == 1 else 'tries'} failed"
        parts = [f"{p} ({note})" if p.startswith("pending ") else p for p in parts] \
            if found.get("pending") else [*parts, note]
    return ", ".join(parts)
