"""Remake the README's screenshots (docs/img/*.png) from the real app with the demo's data:
`.venv/bin/python tools/screenshots.py`. It runs `make demo`'s script in a throwaway folder
(tools/demo.py), signs in with the link the demo prints, and shoots each page at laptop size in
Debian's Chromium (tools/chromium.py)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.chromium import launch  # noqa: E402
from tools.demo import running_demo  # noqa: E402

OUT = ROOT / "docs" / "img"
# What the README shows: (file, how to get there from the accounts page). Each step is a
# Playwright call on the page; the page must answer 200 or the picture is not taken.
SHOTS = (
    ("accounts.png", lambda page: None),
    ("timeline.png", lambda page: page.get_by_role("link", name="ACME Corporation").click()),
    ("review.png", lambda page: page.goto("/review")),
)


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="touchlog-shots-") as folder, \
            running_demo(Path(folder) / "demo") as demo, sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=demo.base, viewport={"width": 1200, "height": 760})
        page = context.new_page()
        page.goto(demo.sign_in_link)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/accounts")
        for name, step in SHOTS:
            page.goto("/accounts")
            step(page)
            page.wait_for_load_state("networkidle")
            title = page.title()
            if "Not found" in title:
                print(f"skipped {name}: {page.url} is not there yet", file=sys.stderr)
                continue
            page.screenshot(path=str(OUT / name))
            print(f"{OUT / name}: {page.url} ({(OUT / name).stat().st_size // 1024} KB)")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
