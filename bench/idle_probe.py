"""The IDLE delivery time of bench_peers.py: filled in with SPEC 16 (schedule.idle)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def delivery_seconds(folder: Path, touchlog: list[str], settings_text: Callable[..., str],
                     password: str) -> float | None:
    return None
