"""Where the project's shared folder (../shared: SPEC, the mail corpus) is, from any checkout.

The main checkout has it beside itself; a `git worktree` elsewhere (/work/wt/NAME) finds it
beside the main checkout, so the corpus tests and benches run in worktrees too, not only on main.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    try:
        common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return beside
    return (ROOT / common.strip()).resolve().parent.parent / "shared"


def corpus_missing(path: Path) -> str | None:
    """Why the tests that read the shared mail corpus at `path` cannot run, or None."""
    if path.exists():
        return None
    return (f"the shared mail corpus is not at {path} (tools/shared.py looks for a folder "
            "`shared` beside this checkout, then beside the main checkout)")
