"""The review queue on the web (SPEC 21, 22): the failed folder a page at a time, newest first,
and who may fix a failure there.

A page reads the folder's UIDs (one SEARCH) and the envelopes of its own messages only, then
joins the ledger for the rest, as `touchlog failures` does for the whole folder: the mailbox
stays the truth of what is waiting, and a page costs the same with 50 failures or 50,000
(bench/bench_review.py). The IMAP session is kept between page views (poller.imap.reuse).

Who may assign or retry a failed message from the web: an admin, or the team member who sent it
(its From is their address or alias). The command line keeps SPEC 13's rule (any team member
named by `--as`): whoever runs it holds the settings file, and so the mailbox's password, and
could move the message by hand anyway; the web is open to the whole team, where a member may
fix their own mail but not a colleague's.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotFound, Refused
from core.settings import Settings
from poller.failed.folder import Failure, failures_in, imap_uids
from poller.failed.suggest import with_suggestions
from poller.imap.reuse import reused_mailbox
from store.directory.lookups import SqlDirectory
from store.models import TeamMember
from store.timeline.manage import admins

PAGE = 50


@dataclass(frozen=True)
class QueuePage:
    total: int  # messages in the failed folder
    failures: list[Failure]  # this page's, newest first, with their suggestions


def queue_page(settings: Settings, number: int, size: int = PAGE) -> QueuePage:
    """Page `number` (from 1) of the failed folder, newest first, each failure with the
    accounts the rules saw, best first (poller.failed.suggest, as `touchlog failures`)."""
    failed = settings.mailbox.failed_folder
    with reused_mailbox(settings) as box:
        box.ensure_folders(failed)
        uids = box.uids(failed)[::-1]
        window = uids[(number - 1) * size:number * size]
        found = {f.uid: f for f in failures_in(box, failed, window)} if window else {}
    return QueuePage(len(uids), with_suggestions([found[uid] for uid in window if uid in found]))


def may_fix(sender: str, member: TeamMember, directory: SqlDirectory | None = None) -> bool:
    """Assign or retry a failed message from `sender` on the web: an admin, or the team member
    who sent it. The page offers the controls only then; require_may_fix is the check."""
    if member.role == "admin":
        return True
    found = (directory or SqlDirectory()).team_member(sender) if sender else None
    return found is not None and found.id == member.id


def require_may_fix(settings: Settings, uid: int, member: TeamMember, verb: str) -> None:
    """Refused (the words say who may) unless `member` may fix failed message `uid`; NotFound
    when the failed folder holds no such UID."""
    if member.role == "admin":
        return  # assign and retry say themselves when the UID is not there
    failed = settings.mailbox.failed_folder
    with reused_mailbox(settings) as box:
        box.ensure_folders(failed)
        entries = box.list_entries(failed, imap_uids([uid]))
        label = box.folder_label(failed)
    if not entries:
        raise NotFound(f"no message with UID {uid} in {label}")
    sender = entries[0].sender
    if may_fix(sender, member):
        return
    raise Refused(f"{member.email} may not {verb} UID {uid}: only the team member who sent it "
                  f"({sender or 'unknown'}) or an admin "
                  f"({', '.join(admins()) or 'none on the team'}) may")
