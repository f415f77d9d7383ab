"""The processes under a process, for benches and tests that watch a pass and its workers."""

from __future__ import annotations

from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (Linux /proc), parents before their children. A child is
    listed under the thread that started it (a pass starts its forkserver from its fetch
    thread), so every thread of each process is asked; one gone meanwhile has none."""
    found: list[int] = []
    pending = [pid]
    while pending:
        children: list[int] = []
        for task in Path(f"/proc/{pending.pop()}/task").glob("*"):
            try:
                children += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        found += children
        pending += children
    return found
