"""`touchlog serve`: the web app (SPEC 21) served by waitress until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click

from commands.common import settings_of
from commands.output import say


@click.command()
@click.option("--listen", metavar="HOST:PORT",
              help="where to listen (default: web.listen, 127.0.0.1:8765)")
@click.pass_context
def serve(ctx: click.Context, listen: str | None) -> None:
    """Serve the web app: the accounts, timelines, touchpoints, tasks and the review queue,
    for team members who signed in. SIGTERM or Ctrl-C stops it (exit 0) once the requests in
    hand are answered. Put it behind an https proxy for anyone outside this machine.

    \b
    Examples:
      touchlog serve
      touchlog serve --listen 0.0.0.0:8765
    """
    from waitress.server import create_server

    from core.errors import TouchlogError
    from core.settings_checks import split_listen
    from web.app import create_app

    settings = settings_of(ctx)
    where = split_listen(listen or settings.web.listen)
    if where is None:
        raise click.BadParameter(f"{listen!r} is not HOST:PORT", param_hint="--listen")
    app = create_app(settings)
    try:
        server = create_server(app, host=where[0], port=where[1], ident="touchlog",
                               clear_untrusted_proxy_headers=False)
    except OSError as exc:
        raise TouchlogError(f"cannot listen on {where[0]}:{where[1]}: "
                            f"{exc.strerror or exc}") from None
    signal.signal(signal.SIGTERM, _stop)
    host = f"[{where[0]}]" if ":" in where[0] else where[0]
    say(f"serving http://{host}:{where[1]} (people open {settings.web.base_url}); "
        "SIGTERM or Ctrl-C stops it")
    sys.stdout.flush()
    try:
        server.run()  # returns on SIGTERM/SIGINT, after the requests in hand are answered
    finally:
        server.close()
        app.extensions["touchlog"].mailer.close()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # waitress's loop takes SystemExit as the sign to stop
