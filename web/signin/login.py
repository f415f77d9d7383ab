"""Signing in and out (SPEC 21): the sign-in page, a one-time link by mail, and sign-out.

OIDC sign-in (web.signin.oidc_login) adds its own routes under /login/oidc; once it has
verified a member's address it calls web.gate.sign_in, as spending a link does here.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response

from store.access.links import ask_for_link, spend_link, usable
from web.context import client, now, settings, signed_in, state
from web.gate import sign_in, sign_out
from web.render import page
from web.signin.login_mail import link_mail

blueprint = Blueprint("login", __name__)


@blueprint.get("/login", endpoint="page")
def login_page() -> Response | tuple[str, int]:
    if signed_in() is not None:
        return redirect(url_for("home"))
    ways = settings().web.sign_in
    return page("login.html", email="email" in ways, oidc="oidc" in ways)


@blueprint.post("/login/email")
def ask() -> tuple[str, int]:
    """Always the same page, member or not, within the limits or not (SPEC 21)."""
    if "email" not in settings().web.sign_in:
        abort(404)
    address = request.form.get("email") or ""  # never 400: the answer must not differ
    st = state()
    link = ask_for_link(address, client(), st.keys.link, now())
    if link is not None:
        url = f"{st.settings.web.base_url.rstrip('/')}/login/link/{link.token}"
        st.mailer.send(link_mail(st.settings, link.address, url, client(), now()))
    return page("login_sent.html")


@blueprint.get("/login/link/<token>")
def link(token: str) -> tuple[str, int]:
    """Shows a button that POSTs the link: a mail scanner that fetches it spends nothing."""
    if usable(token, state().keys.link, now()):
        return page("login_link.html", token=token)
    return page("login_link.html", status=400, token=None)


@blueprint.post("/login/link/<token>")
def spend(token: str) -> Response | tuple[str, int]:
    member = spend_link(token, state().keys.link, now())
    if member is None:
        return page("login_link.html", status=400, token=None)
    return sign_in(member, "email")


@blueprint.post("/logout")
def logout() -> Response:
    return sign_out()
