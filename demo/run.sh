#!/usr/bin/env bash
# `make demo`: a throwaway Dovecot and SMTP sink on loopback, six sample mails, one poll.
# Everything lives in demo/run/ (gitignored) and both servers stop when this script exits.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
RUN=demo/run
MAILBOX=touchpoints@ourco.com
export TOUCHLOG_DEMO_IMAP_PASSWORD="demo-$RANDOM$RANDOM"
SMTP_PID=""
# rich sizes tables to the terminal; piped output would otherwise be 80 columns
export COLUMNS=${COLUMNS:-160}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
touchlog() { echo "\$ touchlog $*"; .venv/bin/touchlog --config "$RUN/settings.toml" "$@"; }
cleanup() {
  "$PY" tools/dovecot.py stop "$RUN/dovecot" >/dev/null 2>&1 || true
  [ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null || true
}
trap cleanup EXIT

rm -rf "$RUN"
mkdir -p "$RUN"

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

cat >"$RUN/settings.toml" <<TOML
# Written by demo/run.sh: the throwaway servers on loopback.
[mailbox]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
username = "$MAILBOX"
password_env = "TOUCHLOG_DEMO_IMAP_PASSWORD"
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

say "the timeline"
touchlog touchpoints

say "the failed folder"
touchlog failures

say "failure notices the SMTP sink received"
sleep 0.3
if grep -q . "$RUN/smtp.log"; then cat "$RUN/smtp.log"; else echo "(none)"; fi
