"""`touchlog failures`: the failed folder, one failure, retry, assign by hand."""

from __future__ import annotations

import click

from commands.common import format_option, open_store
from commands.options import UID, as_option
from commands.output import print_fields, print_json, print_lines, print_table, say


@click.group(invoke_without_command=True)
@format_option
@click.pass_context
def failures(ctx: click.Context, fmt: str) -> None:
    """The failed folder: what could not be logged, and why.

    \b
    Examples:
      touchlog failures                 # list: UID, date, sender, subject, reason
      touchlog failures show 12         # one failure with its resolution trace
      touchlog failures retry 12 13     # back to the inbox for the next pass
      touchlog failures retry --all
      touchlog failures assign 12 --account ACME --as ann@ourco.com  # by hand
    """
    if ctx.invoked_subcommand is not None:
        return
    from poller.failed.folder import list_failures

    rows = [f.as_json() for f in list_failures(open_store(ctx))]
    if fmt == "json":
        print_json(rows)
        return
    print_table("failed folder", ["uid", "date (UTC)", "sender", "subject", "reason", "detail"],
                [[r["uid"], r["date"], r["sender"], r["subject"], r["reason"], r["detail"]]
                 for r in rows], optional=["detail", "sender"])


@failures.command("show")
@click.argument("uid", type=UID)
@format_option
@click.pass_context
def failures_show(ctx: click.Context, uid: int, fmt: str) -> None:
    """One failed message: the reason, the detail, the accounts the rules saw and the
    resolution trace.

    \b
    Examples:
      touchlog failures show 12
      touchlog failures show 12 --format json  # with explanation and trace
    """
    from poller.decide.trace_words import trace_in_words
    from poller.failed.assign import candidate_accounts
    from poller.failed.folder import find_failure
    from poller.notify import notices

    failure = find_failure(open_store(ctx), uid)
    trace = failure.record.trace if failure.record is not None and failure.record.trace else {}
    words = trace_in_words(trace) if trace else []
    sent = notices.states(failure.record) if failure.record is not None else []
    if fmt == "json":
        print_json({**failure.as_json(), "candidates": [
            {"account_id": acc, "name": name} for acc, name in candidate_accounts(trace)],
            "explanation": words, "trace": trace, "notices": sent})
        return
    fields = list(failure.as_json().items())
    fields += [("notice", f"to {state['to']}: {notices.state_text(state)}") for state in sent]
    if failure.record is not None:
        seen = candidate_accounts(trace)
        fields.append(("candidates", ", ".join(
            f"{acc} ({name})" if name else acc for acc, name in seen) or
            "none: the rules found no account (any account can be chosen)"))
    print_fields(fields)
    if failure.record is not None:
        print_lines([f"assign with: touchlog failures assign {uid} --account ID --as EMAIL"])
    if words:
        say("trace:")
        print_lines(words, "  ")


@failures.command("retry")
@click.argument("uids", type=UID, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="every message in the failed folder")
@click.pass_context
def failures_retry(ctx: click.Context, uids: tuple[int, ...], retry_all: bool) -> None:
    """Move failed messages back to the inbox; the next pass processes them afresh.

    \b
    Examples:
      touchlog failures retry 12 13
      touchlog failures retry --all
    """
    from poller.failed.folder import retry

    if bool(uids) == retry_all:
        raise click.UsageError("give UIDs or --all")
    moved = retry(open_store(ctx), None if retry_all else list(uids))
    say(f"moved {len(moved)} message(s) back to the inbox for the next pass")


@failures.command("assign")
@click.argument("uid", type=UID)
@click.option("--account", "account_id", metavar="ID", required=True,
              help="the account to log it on")
@as_option
@click.pass_context
def failures_assign(ctx: click.Context, uid: int, account_id: str, as_email: str) -> None:
    """Log a failed message on the account you choose (rule manual) and move it to the
    logged folder; `failures show UID` lists the accounts the rules saw.

    \b
    Example:
      touchlog failures assign 12 --account INITECH --as ann@ourco.com
    """
    from poller.failed.assign import assign
    from store.directory.lookups import require_account
    from store.models import Touchpoint
    from store.timeline.manage import author

    settings = open_store(ctx)
    member = author(as_email)
    require_account(account_id, live=True)
    tp_id = assign(settings, uid, account_id, member)
    tp = Touchpoint.get_by_id(tp_id)
    how = f"a reply in thread {tp.thread_id}, rule {tp.rule}" if tp.thread_id else \
        f"rule {tp.rule}"
    say(f"UID {uid} logged on {account_id} as touchpoint {tp_id} ({how}, chosen by "
        f"{member.email}); moved to {settings.mailbox.logged_folder}")
