"""`GET /metrics` in Prometheus' text format (SPEC 21): messages by outcome and reason, when
the last pass ran, notices by status, the records the last Salesforce sync refused.

Gauges, not counters: a failed message that is retried and logged moves from one series to
another, so no series only ever grows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from store.ledger.totals import last_pass, messages_by_outcome, notices_by_status
from sync.state import errors_by_mark

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Sample = tuple[dict[str, str], float]


def metrics_text() -> str:
    messages = [({"outcome": outcome, "reason": reason}, count)
                for (outcome, reason), count in sorted(messages_by_outcome().items())]
    notices = [({"status": status}, count) for status, count in sorted(notices_by_status().items())]
    sync = [(dict(zip(("object", "direction"), name.rsplit(" ", 1), strict=True)), count)
            for name, count in sorted(errors_by_mark().items()) if " " in name]
    last = last_pass()
    seconds = last.replace(tzinfo=UTC).timestamp() if last else 0.0
    return "".join([
        _family("touchlog_messages", "Messages in the ledger, by outcome and reason (the rule "
                "for a logged one).", messages),
        _family("touchlog_last_pass_timestamp_seconds", "When the last poll pass finished "
                "(started, while it runs); 0 before the first.", [({}, seconds)]),
        _family("touchlog_notices", "Failure notices, by status.", notices),
        _family("touchlog_sync_errors", "Records refused in the last Salesforce sync, by "
                "object and direction.", sync),
    ])


def _family(name: str, text: str, samples: Iterable[Sample]) -> str:
    lines = [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        shown = ",".join(f'{key}="{_escaped(v)}"' for key, v in labels.items())
        number = str(int(value)) if float(value).is_integer() else repr(float(value))
        lines.append(f"{name}{{{shown}}} {number}" if shown else f"{name} {number}")
    return "\n".join(lines) + "\n"


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
