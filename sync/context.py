"""What the steps of one sync run share (`SyncContext`), and what the run tells (`SyncReport`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.settings import Settings
from sync import state
from sync.state import TASK, Counts


@dataclass
class SyncReport:
    counts: dict[str, Counts] = field(default_factory=dict)  # "Event in" -> Counts
    requests: int = 0
    dry_run: bool = False

    def of(self, name: str) -> Counts:
        return self.counts.setdefault(name, Counts())

    def lines(self) -> list[str]:
        prefix = "dry run, nothing written: " if self.dry_run else ""
        out = [f"{prefix}{name}: {c.summary()}" for name, c in self.counts.items()]
        return out + [f"{self.requests} Salesforce API requests"]


@dataclass
class SyncContext:
    """What the steps of one run share."""

    settings: Settings
    client: Any  # sync.client.Client
    report: SyncReport
    run: state.SyncRun | None  # None in a dry run: nothing is written
    full: bool
    dry_run: bool
    now: datetime
    renew: Callable[[], None]  # checks the run still holds its lock
    # Records whose conflict inbound already decided for touchlog's side (kind, local id):
    # outbound sends them without counting the conflict again.
    decided: set[tuple[str, int]] = field(default_factory=set)

    def sobject(self, kind: str) -> str:
        sf = self.settings.salesforce
        return sf.tasks_object if kind == TASK else sf.touchpoints_object
