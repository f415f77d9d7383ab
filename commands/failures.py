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
    from poller.failed.suggest import review_queue, suggestion_text

    found = review_queue(open_store(ctx))
    rows = [f.as_json() for f in found]
    if fmt == "json":
        print_json(rows)
        return
    print_table("failed folder", ["uid", "date (UTC)", "sender", "subject", "reason", "detail",
                                  "suggestions"],
                [[r["uid"], r["date"], r["sender"], r["subject"], r["reason"], r["detail"],
                  suggestion_text(f.suggestions, most=3)]
                 for r, f in zip(rows, found, strict=True)], optional=["detail", "sender"])


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
    from poller.failed.suggest import review_one, suggestion_text
    from poller.notify import notices

    failure = review_one(open_store(ctx), uid)
    trace = failure.record.trace if failure.record is not None and failure.record.trace else {}
    words = trace_in_words(trace) if trace else []
    sent = notices.states(failure.record) if failure.record is not None else []
    if fmt == "json":
        print_json({**failure.as_json(), "candidates": [
            {"account_id": acc, "name": name} for acc, name in candidate_accounts(trace)],
            "explanation": words, "trace": trace, "notices": sent})
        return
    fields = [(name, value) for name, value in failure.as_json().items()
              if name != "suggestions"]
    fields += [("notice", f"to {state['to']}: {notices.state_text(state)}") for state in sent]
    if failure.record is not None:  # best first (poller.failed.suggest)
        fields.append(("suggestions", suggestion_text(failure.suggestions) or
                       "none: the rules saw no account (any account can be chosen)"))
    print_fields(fields)
    if failure.record is not None:
        print_lines([f"assign with: touchlog failures assign {uid} --account ID --as EMAIL "
                     "[--remember]"])
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
@click.option("--remember", is_flag=True,
              help="also make its customer addresses that are not yet customer users contacts "
                   "of the account, so their next mail resolves by contact")
@click.pass_context
def failures_assign(ctx: click.Context, uid: int, account_id: str, as_email: str,
                    remember: bool) -> None:
    """Log a failed message on the account you choose (rule manual) and move it to the
    logged folder; `failures show UID` lists the accounts the rules saw. With --remember the
    account learns its customer addresses (the trace says who remembered what).

    \b
    Examples:
      touchlog failures assign 12 --account INITECH --as ann@ourco.com
      touchlog failures assign 12 --account INITECH --as ann@ourco.com --remember
    """
    from poller.failed.assign import assign
    from poller.failed.learn import remembered
    from store.directory.lookups import require_account
    from store.models import Touchpoint
    from store.timeline.manage import author

    settings = open_store(ctx)
    member = author(as_email)
    require_account(account_id, live=True)
    tp_id = assign(settings, uid, account_id, member, remember=remember)
    tp = Touchpoint.get_by_id(tp_id)
    how = f"a reply in thread {tp.thread_id}, rule {tp.rule}" if tp.thread_id else \
        f"rule {tp.rule}"
    say(f"UID {uid} logged on {account_id} as touchpoint {tp_id} ({how}, chosen by "
        f"{member.email}); moved to {settings.mailbox.logged_folder}")
    learnt = remembered(tp_id) if remember else None
    if learnt is not None:
        print_lines([learnt.words])
