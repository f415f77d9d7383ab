"""Debian's Chromium, headless, driven by Playwright for Python: for the browser tests
(tests/browser.py) and the README's screenshots (tools/screenshots.py).

Never `playwright install`: no browser download is reachable from these machines, and the
distribution's Chromium is the one `make test` installs (apt-get install chromium).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Nothing should reach beyond loopback: no QUIC probes, no component or safe-browsing updates,
# no sync, no first-run pages. --no-sandbox because CI runs as root.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_missing() -> str | None:
    """Why Chromium cannot be driven here, or None."""
    if not Path(CHROMIUM).exists():
        return (f"{CHROMIUM} is not installed: apt-get install chromium "
                "(`make test` does it when run as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: .venv/bin/pip install -e '.[test]'"
    return None


def launch(playwright: Any) -> Any:
    """A headless Chromium. Playwright gives each launch a fresh, throwaway user-data
    directory (a profile of its own, deleted on close)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
