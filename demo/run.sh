#!/usr/bin/env bash
# `make demo`: a throwaway Dovecot and SMTP sink on loopback, seven sample mails, one poll; then a
# touchpoint added by hand, an internal note, and a customer's reply joining a mailed thread;
# and the web app (`touchlog serve`) with a sign-in link for a demo member.
# Everything lives in demo/run/ (gitignored; DEMO_RUN_DIR=... elsewhere, for the tests) and stays
# there after it: the database, the settings and the IMAP password file, so
# `touchlog --config demo/run/settings.toml ...` works afterwards. On a terminal the servers stay
# up until Enter or Ctrl-C (DEMO_WAIT=1/0 forces either); `make demo` again starts afresh. The web
# app listens on 127.0.0.1:8765, or a free port when that is taken (DEMO_WEB_PORT=... chooses).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
RUN=${DEMO_RUN_DIR:-demo/run}
MAILBOX=touchpoints@ourco.com
DEMO_MEMBER=road.runner@ourco.com
export TOUCHLOG_DEMO_IMAP_PASSWORD="demo-$RANDOM$RANDOM"
if [ -t 0 ] && [ -t 1 ]; then DEMO_WAIT=${DEMO_WAIT:-1}; else DEMO_WAIT=${DEMO_WAIT:-0}; fi
SMTP_PID=""
SERVE_PID=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
touchlog() { echo "\$ touchlog $*"; .venv/bin/touchlog --config "$RUN/settings.toml" "$@"; }
quiet() { .venv/bin/touchlog --config "$RUN/settings.toml" "$@"; }  # output kept, not shown
cleanup() {
  if [ -n "$SERVE_PID" ]; then  # SIGTERM: serve answers what it has in hand and exits 0
    kill "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  "$PY" tools/dovecot.py stop "$RUN/dovecot" >/dev/null 2>&1 || true
  [ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null || true
}
trap cleanup EXIT

rm -rf "$RUN"
mkdir -p "$RUN"
# In a file, not only the environment: commands typed in another shell find it too.
( umask 077; printf '%s\n' "$TOUCHLOG_DEMO_IMAP_PASSWORD" >"$RUN/imap-password" )

say "starting Dovecot (IMAP) and an SMTP sink on 127.0.0.1"
"$PY" tools/dovecot.py start "$RUN/dovecot" --port 0 --user "$MAILBOX:$TOUCHLOG_DEMO_IMAP_PASSWORD"
IMAP_PORT=$(cat "$RUN/dovecot/imap.port")
SMTP_PORT=$(free_port)
# Unbuffered, or the captured notices would sit in the sink's buffer when it is stopped.
PYTHONUNBUFFERED=1 "$PY" -m aiosmtpd -n -c aiosmtpd.handlers.Debugging \
  -l "127.0.0.1:$SMTP_PORT" >"$RUN/smtp.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 50); do
  "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT), 1).close()" \
    2>/dev/null && break
  sleep 0.1
done
echo "smtp sink up pid=$SMTP_PID smtp=127.0.0.1:$SMTP_PORT"
WEB_PORT=${DEMO_WEB_PORT:-$("$PY" -c 'import socket
s = socket.socket()
try: s.bind(("127.0.0.1", 8765))
except OSError: s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')}
WEB="http://127.0.0.1:$WEB_PORT"

cat >"$RUN/settings.toml" <<TOML
# Written by demo/run.sh: the throwaway servers on loopback.
[mailbox]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
username = "$MAILBOX"
password_file = "imap-password"
batch_size = 50

[database]
url = "sqlite:///touchlog.db"

[touchpoints]
mailbox_address = "$MAILBOX"
internal_domains = ["ourco.com"]

[notify]
smtp_host = "127.0.0.1"
smtp_port = $SMTP_PORT
smtp_tls = "none"
from_address = "$MAILBOX"

[trust]
# The demo's mails carry the Authentication-Results of its pretend inbound server. Without
# authserv_ids (the shipped settings) \`touchlog poll\` would not start: it names the ids it sees.
authserv_ids = ["mx.ourco.com"]
require = "aligned"

[web]
listen = "127.0.0.1:$WEB_PORT"
base_url = "$WEB"
TOML
echo "wrote $RUN/settings.toml"

say "delivering demo/mail/*.eml to $MAILBOX's INBOX"
"$PY" - "$IMAP_PORT" demo/mail/*.eml <<'PYTHON'
import os, sys
from pathlib import Path
from imapclient import IMAPClient

port, files = int(sys.argv[1]), sys.argv[2:]
with IMAPClient("127.0.0.1", port=port, ssl=False) as client:
    client.login("touchpoints@ourco.com", os.environ["TOUCHLOG_DEMO_IMAP_PASSWORD"])
    for name in files:
        raw = Path(name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        client.append("INBOX", raw)
        print(f"  {Path(name).name}")
PYTHON

say "importing the directory"
touchlog import team demo/team.csv
touchlog import accounts demo/accounts.csv
touchlog import users demo/users.csv

say "one pass over the inbox"
touchlog poll --once

say "the web app: touchlog serve, in the background (log in $RUN/serve.log)"
.venv/bin/touchlog --config "$RUN/settings.toml" serve >"$RUN/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do
  "$PY" -c "import urllib.request; urllib.request.urlopen('$WEB/healthz', timeout=1)" \
    2>/dev/null && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$RUN/serve.log" >&2; exit 1; }
  sleep 0.1
done
head -n 1 "$RUN/serve.log"

say "the timeline"
touchlog touchpoints

say "the failed folder"
touchlog failures

say "failure notices the SMTP sink received (decoded; raw in $RUN/smtp.log)"
sleep 0.3
"$PY" demo/show_notices.py "$RUN/smtp.log"

say "touchpoints people manage: a call added by hand, and an internal note (not a touch)"
touchlog touchpoints add --account ACME --as chuck.jones@ourco.com --type telephone_call \
  --date 2025-03-04T10:00Z --subject "Skates: delivery call" \
  --content "Wile wants the skates before the race on the 20th." --participant wile@acme.com
touchlog touchpoints add --account ACME --as chuck.jones@ourco.com --type internal_note \
  --content "Wile pays late: ask for a deposit."
touchlog accounts

say "mailing the logged copy to its customer: the Reply-To joins its thread"
FIRST=$(quiet touchpoints --format json | "$PY" -c \
  'import json, sys; print(next(t["id"] for t in json.load(sys.stdin) if t["message_id"] == "demo-01@mail.ourco.com"))')
touchlog touchpoints send "$FIRST" --as road.runner@ourco.com --to external --yes
sleep 0.3
"$PY" - "$IMAP_PORT" "$RUN/smtp.log" <<'PYTHON'
import os, re, sys
from email.message import EmailMessage
from imapclient import IMAPClient

log = open(sys.argv[2], encoding="utf-8", errors="replace").read()
reply_to = re.findall(r"^Reply-To: (\S+)", log, re.M)[-1]
copy_id = re.findall(r"^Message-ID: (<[^>]*tl-tp[^>]*>)", log, re.M)[-1]
print(f"  the copy's Reply-To: {reply_to}")
msg = EmailMessage()
# As the demo's inbound server delivers it: its own verdict on top (SPEC 11).
msg["Authentication-Results"] = ("mx.ourco.com; dkim=pass header.d=acme.com header.s=s1; "
                                 "dmarc=pass (policy=none) header.from=acme.com")
msg["From"] = "Wile E. Coyote <wile@acme.com>"
msg["To"] = reply_to
msg["Subject"] = "Re: Pricing for the rocket skates"
msg["Date"] = "Tue, 04 Mar 2025 08:00:00 -0700"
msg["Message-ID"] = "<demo-reply@acme.com>"
msg["In-Reply-To"] = copy_id
msg.set_content("Two pairs, please. The race is on the 20th.")
with IMAPClient("127.0.0.1", port=int(sys.argv[1]), ssl=False) as client:
    client.login("touchpoints@ourco.com", os.environ["TOUCHLOG_DEMO_IMAP_PASSWORD"])
    client.append("INBOX", bytes(msg))
print("  delivered Wile's answer to that address")
PYTHON
touchlog poll --once
touchlog touchpoints show "$FIRST"
touchlog touchpoints --account ACME-EU

SIGN_IN=$("$PY" demo/sign_in_link.py "$RUN/settings.toml" "$DEMO_MEMBER")
FAILED_UID=$(quiet failures --format json | "$PY" -c \
  'import json, sys; print(next((f["uid"] for f in json.load(sys.stdin)), ""))')
say "what to try next"
T=".venv/bin/touchlog --config $RUN/settings.toml"
cat <<TRY
  # why a message failed, in words, and why one was logged where it was, as JSON
  $T explain demo-05@mail.ourco.com
  $T explain demo-01@mail.ourco.com --format json
  # one failure from the failed folder: its detail and trace (needs the servers)
  $T failures show ${FAILED_UID:-UID}
  # after fixing the directory: back to the inbox, and another pass (needs the servers)
  $T failures retry --all && $T poll --once
  # the passes so far
  $T runs
The database and settings stay in $RUN/; commands that read the mailbox (failures, poll) need
the demo's servers, which stop when this script ends. \`make demo\` starts afresh.
TRY
say "the web app"
cat <<WEBAPP
  $WEB  (the accounts, timelines, the review queue, tasks; log in $RUN/serve.log)
  Open this link to sign in as Road Runner ($DEMO_MEMBER, an admin); it works once, for 15 minutes:
  $SIGN_IN
  Later: the sign-in page mails a new link, to the demo's SMTP sink ($RUN/smtp.log), or
  $PY demo/sign_in_link.py $RUN/settings.toml $DEMO_MEMBER
WEBAPP
if [ "$DEMO_WAIT" = 1 ]; then
  read -r -p "The servers are up (IMAP, SMTP, the web app): try the above, then press Enter (or Ctrl-C) to stop them. " _ || true
else
  echo "(DEMO_WAIT=0: the servers stop now; \`$T serve\` serves the web app again.)"
fi
