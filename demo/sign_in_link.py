"""Print a sign-in link for a demo member: `python demo/sign_in_link.py SETTINGS EMAIL`.

The demo makes the link straight through the store (store.access.links, as POST /login/email
does), not by mail, so opening the web app needs no mailbox. Like a mailed one it works once,
for 15 minutes; after that, the sign-in page mails a new one to the demo's SMTP sink.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the checkout's packages

from core.settings import load_settings  # noqa: E402
from core.utc import utcnow  # noqa: E402
from store.access.keys import web_keys  # noqa: E402
from store.access.links import ask_for_link  # noqa: E402
from store.db import open_database  # noqa: E402


def main(config: str, address: str) -> int:
    settings = load_settings(Path(config))
    open_database(settings.database_url(), key_file=settings.encryption_key_path())
    link = ask_for_link(address, "demo", web_keys().link, utcnow())
    if link is None:
        print(f"no sign-in link for {address}: not on the team, or 5 links this hour",
              file=sys.stderr)
        return 1
    print(f"{settings.web.base_url.rstrip('/')}/login/link/{link.token}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
