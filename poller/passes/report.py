"""What a pass tells: counts per outcome and reason, errors, notices; one summary line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.reasons import LOGGED, OUTCOMES
from poller.notify import notices

if TYPE_CHECKING:
    from poller.decide.verdict import Outcome


@dataclass
class PollReport:
    """What a pass did: counts by outcome and reason, errors, notices, how it ended."""

    # logged / skipped / failed / recovered / error
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # per rule, skip reason, failure code
    errors: list[str] = field(default_factory=list)
    notices: notices.NoticeReport | None = None
    total: int = 0  # messages in the inbox when the pass began
    done: int = 0  # messages handled so far
    stopped_early: bool = False  # a stop was asked for: the pass ended after the message in hand
    busy: bool = False  # another worker holds this mailbox's lock: nothing was done
    holder: str = ""  # who holds it, when busy

    def add(self, outcome: Outcome) -> None:
        if outcome.recovered:
            # Committed by an earlier pass that could not move it: only moved now.
            self.counts["recovered"] += 1
            return
        self.counts[outcome.outcome] += 1
        self.reasons[f"{outcome.outcome}:{outcome.reason}"] += 1

    def count_error(self) -> None:
        """A message that broke touchlog and stays in the inbox for another try."""
        self.counts["error"] += 1

    def summary(self) -> str:
        """`logged 3, skipped 1 (auto_generated 1), failed 1 (no_account 1)`"""
        if self.busy:
            return (f"another worker is polling this mailbox ({self.holder}); "
                    "nothing done this time")
        parts = []
        for name in OUTCOMES:
            why = ", ".join(f"{key.split(':', 1)[1]} {n}"
                            for key, n in sorted(self.reasons.items())
                            if key.startswith(name + ":") and name != LOGGED)
            parts.append(f"{name} {self.counts.get(name, 0)}" + (f" ({why})" if why else ""))
        if self.counts.get("recovered"):
            parts.append(f"recovered {self.counts['recovered']} (committed by an earlier pass, "
                         "moved now)")
        if self.counts.get("error"):
            parts.append(f"errors {self.counts['error']}")
        text = ", ".join(parts)
        if self.stopped_early:
            left = self.total - self.done
            text += f"; stopped on request, {max(left, 0)} left in the inbox for the next pass"
        return text

    def run_counts(self) -> dict[str, int]:
        counts = dict(self.counts)
        counts.update(self.reasons)
        if self.notices is not None:
            counts.update({f"notices:{k}": v for k, v in _notice_counts(self.notices)})
        return counts


def _notice_counts(report: notices.NoticeReport) -> Iterable[tuple[str, int]]:
    for name in ("sent", "suppressed", "cancelled", "failed", "pending", "withdrawn",
                 "undeliverable"):
        yield name, getattr(report, name, 0)
