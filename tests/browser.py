"""What the browser tests are built from: Debian's Chromium driven headless by Playwright, and
`touchlog serve` running for real (waitress, in a process of its own) over an installation
that polls a real Dovecot, mails through a real SMTP sink and keeps SQLite. tests/conftest.py
turns these into the fixtures `chromium`, `served` and `browser`.

    @pytest.mark.browser
    def test_something(browser, served):
        browser.sign_in("sam@ourco.com")           # typed, mailed, the link opened, the button
        browser.page.get_by_role("link", name="Acme Corp").click()
        browser.shoot("timeline")                  # tests/artifacts/<test>/timeline-*.png

Every page a test opens is watched: a Content-Security-Policy violation (the
`securitypolicyviolation` event, or Chromium's console line about a blocked inline script or
style), a console error, an uncaught exception or a dialog (`alert()` from a hostile name) is
kept in `browser.problems`, and the fixture fails the test at its end when there are any.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.builders import USERS_CSV
from tests.smtpsink import Received, SmtpSink, free_port
from tests.web_world import WEB_ACCOUNTS_CSV
from tests.world import PASSWORD_ENV, ROOT, ImapAccount, World
from tools.chromium import LAPTOP, PHONE

ARTIFACTS = ROOT / "tests" / "artifacts"  # .gitignore'd: screenshots to look at, not to keep
BROWSER_TEAM_CSV = """email,name,role,aliases
sam@ourco.com,Sam Seller,user,sam.alias@ourco.com
ann@ourco.com,Ann Admin,admin,
"""
_LINK = re.compile(r"https?://\S+/login/link/[A-Za-z0-9_-]+")
# What Chromium prints to the console when the CSP blocks something.
_BLOCKED = re.compile(r"Content Security Policy|Refused to (execute|apply|load)", re.I)


@dataclass
class Served:
    """`touchlog serve` over an installation in `world.folder`, at `base` (which is also its
    `web.base_url`, so the links it mails open it)."""

    world: World
    smtp: SmtpSink
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Served:
        self.world.write_settings(web={"base_url": self.base,
                                       "listen": f"127.0.0.1:{self.port}"})
        self.world.import_directory(team=BROWSER_TEAM_CSV, accounts=WEB_ACCOUNTS_CSV,
                                    users=USERS_CSV)
        log = (self.world.folder / "serve.log").open("w")
        env = {**os.environ, PASSWORD_ENV: self.world.imap.password}
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "--config", str(self.world.config), "serve"],
            cwd=self.world.folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not answer within 30 s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.world.folder / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def mails_to(self, address: str, timeout: float = 15) -> list[Received]:
        """The mails the sink received for `address`, waiting up to `timeout` for the first
        (the server mails from a thread of its own, after the page answered)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.smtp.messages
                     if address.lower() in [r.lower() for r in m.rcpt_tos]]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def link_for(self, address: str) -> str:
        """The sign-in link in the newest mail the sink received for `address`."""
        mails = self.mails_to(address)
        assert mails, f"no sign-in mail to {address}:\n{self.log()}"
        body = mails[-1].message.get_content()
        found = _LINK.search(body)
        assert found, body
        return found.group(0)


def served_installation(folder: Path, imap: ImapAccount, smtp: SmtpSink) -> Served:
    return Served(World(folder, imap, smtp=smtp), smtp).start()


class Browser:
    """One browser context (its own cookies) with one page, watched for CSP violations and
    script errors, at laptop size unless a test says otherwise."""

    def __init__(self, chromium: Any, base: str, name: str, served: Served | None = None) -> None:
        self.served, self.name = served, name
        self.problems: list[str] = []
        self.context = chromium.new_context(base_url=base, viewport=LAPTOP)
        self.context.set_default_timeout(15_000)
        # Reported from the page itself: the console line alone does not say which document.
        self.context.expose_binding("touchlogCspViolation", self._violation)
        self.context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => window."
            "touchlogCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')"
            " + ' at ' + e.sourceFile + ':' + e.lineNumber + ' (' + e.sample + ')'));")
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("dialog", self._dialog)

    def _violation(self, source: Any, what: str) -> None:
        self.problems.append(f"CSP violation on {source['frame'].url}: {what}")

    def _console(self, message: Any) -> None:
        if message.text.startswith("Failed to load resource"):
            return  # a page's own status is the test's to check; a part's, _response's
        if message.type == "error" or _BLOCKED.search(message.text):
            self.problems.append(f"console {message.type} on {self.page.url}: {message.text}")

    def _response(self, response: Any) -> None:
        """A page whose style sheet, script or image fails is broken, whatever its status."""
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.request.resource_type} {response.url} answered "
                                 f"{response.status} on {self.page.url}")

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"a {dialog.type} dialog opened on {self.page.url}: "
                             f"{dialog.message!r}")
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()

    def sign_in(self, address: str) -> None:
        """As a person does: the address typed on the sign-in page, the link from the mail
        opened, its button pressed. Ends on the page the app shows after sign-in."""
        from playwright.sync_api import expect

        page = self.page
        page.goto("/accounts")
        expect(page).to_have_url(re.compile(r"/login$"))
        page.get_by_label("Your work email address").fill(address)
        page.get_by_role("button", name="Mail me a sign-in link").click()
        expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
        assert self.served is not None, "sign_in needs the server's SMTP sink"
        page.goto(self.served.link_for(address))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        # The page is shown before its scripts have run: a test that types at once (search as
        # you type) would beat htmx to the field, as no person does. Its load event comes after.
        page.wait_for_load_state("load")

    def shoot(self, what: str) -> list[Path]:
        """Screenshots of the page as it is, at laptop and at phone size, under
        tests/artifacts/<test>/. At phone size the page must fit the width: nothing scrolls
        sideways but what is made to (a wide chart in its own box)."""
        folder = ARTIFACTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        shots = []
        for size_name, size in (("laptop", LAPTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            path = folder / f"{what}-{size_name}.png"
            self.page.screenshot(path=str(path), full_page=True)
            shots.append(path)
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (f"{what} at {size_name} size scrolls sideways by {overflow}px: "
                                   f"{self.too_wide()}")
        self.page.set_viewport_size(LAPTOP)
        return shots

    def too_wide(self) -> list[str]:
        """The innermost elements that reach past the window's right edge, or whose text
        (a long address, a Message-ID) runs out of them."""
        return self.page.evaluate("""() => {
            const w = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')].filter(e =>
                e.getBoundingClientRect().right > w + 0.5
                || (e.clientWidth && e.scrollWidth > e.clientWidth + 1
                    && getComputedStyle(e).overflowX === 'visible'));
            return wide.filter(e => !wide.some(o => o !== e && e.contains(o)))
                .map(e => e.tagName.toLowerCase() + '.' + e.className + ': '
                          + (e.textContent || '').trim().slice(0, 60));
        }""")

    def focused(self) -> dict[str, Any]:
        """What has the keyboard focus: its tag, id, text and whether its outline shows."""
        return self.page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {tag: e.tagName.toLowerCase(), id: e.id, text: e.innerText || '',
                    name: e.getAttribute('name') || '',
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
        }""")

    def unlabelled_fields(self) -> list[str]:
        """The form fields a person fills in that no label (or aria-label) names."""
        return self.page.evaluate("""() => [...document.querySelectorAll(
                'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.getAttribute('aria-labelledby'))
            .map(e => e.outerHTML.slice(0, 120))""")

    def low_contrast(self) -> list[str]:
        """Text on the page whose contrast with what is behind it is below WCAG AA: 4.5:1, or
        3:1 for large text (24px, or 18.66px bold)."""
        return self.page.evaluate(_CONTRAST_JS)


# The colours of each element that holds text, against the first opaque background up its
# ancestors (the page has no background images); sRGB relative luminance as WCAG defines it.
_CONTRAST_JS = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const blend = (top, bottom) => { const a = top.length > 3 ? top[3] : 1;
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)); };
  const behind = e => { const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length > 3 && c[3] === 0) continue;
      layers.push(c); if (c.length === 3 || c[3] === 1) break; }
    return layers.reduceRight((under, top) => blend(top, under), [255, 255, 255]); };
  const bad = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length) continue;
    const s = getComputedStyle(e);
    if (s.visibility === 'hidden' || parseFloat(s.opacity) === 0) continue;
    const r = e.getBoundingClientRect();
    if (r.right < 0 || r.bottom < 0) continue;  // parked off-screen (the skip link)
    const back = behind(e), fore = blend(rgb(s.color), back);
    const [hi, lo] = [lum(fore), lum(back)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(`${e.tagName.toLowerCase()}.${e.className} "${
      e.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}:1 < ${need}:1`);
  }
  return bad;
}"""
