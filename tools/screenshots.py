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
# What the README shows: (file, how to get there from the accounts page, the whole page or
# the window). The demo's mail is from March 2025, so the timeline is shown whole: its chart of
# the last 26 weeks has little in it, the table below has the story.
SHOTS = (
    ("accounts.png", lambda page: None, False),
    ("timeline.png", lambda page: page.get_by_role("link", name="ACME Corporation").click(), True),
    ("review.png", lambda page: page.get_by_role("link", name="Review").click(), False),
)


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="touchlog-shots-") as folder, \
            running_demo(Path(folder) / "demo") as demo, sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=demo.base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(demo.sign_in_link)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/accounts")
        for name, step, whole in SHOTS:
            page.goto("/accounts")
            step(page)
            page.wait_for_load_state("networkidle")
            title = page.title()
            if "Not found" in title:
                print(f"skipped {name}: {page.url} is not there yet", file=sys.stderr)
                continue
            page.screenshot(path=str(OUT / name), full_page=whole)
            print(f"{OUT / name}: {page.url} ({(OUT / name).stat().st_size // 1024} KB)")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
