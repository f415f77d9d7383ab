"""The web app (SPEC 21): `create_app(settings)` opens the store, reads the keys once, and puts
the pieces together: the gate (web.gate: session, sign-in, CSRF), the headers (web.headers),
the error pages (web.errors), the templates (web.render) and one blueprint per page.

`touchlog serve` (commands/serve.py) serves it with waitress; tests drive it with Flask's test
client (tests/web_world.py).
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from core.settings import Settings
from store.access.keys import web_keys
from store.db import open_database
from web import accounts, audit_page, ops, review, tasks
from web.client import networks
from web.context import WebState
from web.errors import install_errors
from web.gate import install_gate
from web.headers import install_headers
from web.render import install_rendering
from web.signin import login, oidc_login
from web.signin.login_mail import Mailer
from web.signin.oidc import OidcClient
from web.timeline import account, changes, touchpoint

# One module a page (or a few close ones), each with a Flask Blueprint named `blueprint`.
BLUEPRINTS = (login.blueprint, oidc_login.blueprint, ops.blueprint, accounts.blueprint,
              audit_page.blueprint, review.blueprint, tasks.blueprint, account.blueprint,
              touchpoint.blueprint, changes.blueprint)

# Uploads (attachments of a touchpoint added by hand) as large as a mail touchlog reads.
MAX_REQUEST_BYTES = 32 * 1024 * 1024


def create_app(settings: Settings) -> Flask:
    open_database(settings.database_url(), key_file=settings.encryption_key_path())
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    app.extensions["touchlog"] = WebState(
        settings=settings, keys=web_keys(), metrics_token=settings.web_secret("metrics_token"),
        trusted_proxies=networks(settings.web.trusted_proxies), mailer=Mailer(settings),
        # Made once: it caches the provider's metadata and keys, and a missing client secret
        # is a ConfigError now rather than at the first sign-in.
        oidc=OidcClient(settings) if "oidc" in settings.web.sign_in else None)
    install_gate(app)
    install_headers(app)
    install_errors(app)
    install_rendering(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_url_rule("/", "home", _home)
    return app


def _home() -> Response:
    return redirect(url_for("accounts.index"))
