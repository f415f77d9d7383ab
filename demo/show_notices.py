"""Print the mail an aiosmtpd Debugging sink logged, as a person reads it: decoded.

The sink logs each message raw (quoted-printable `=` line ends, `=20`); this shows who it went
to, its subject, and its text. Usage: python demo/show_notices.py demo/run/smtp.log
"""

from __future__ import annotations

import sys
from email import message_from_string, policy
from email.message import EmailMessage

START = "---------- MESSAGE FOLLOWS ----------"
END = "------------ END MESSAGE ------------"


def logged_messages(log: str) -> list[EmailMessage]:
    messages, block = [], None
    for line in log.splitlines():
        if line.startswith(START):
            block = []
        elif line.startswith(END) and block is not None:
            messages.append(message_from_string("\n".join(block) + "\n", policy=policy.default))
            block = None
        elif block is not None:
            block.append(line)
    return messages  # type: ignore[return-value]


def main(path: str) -> None:
    messages = logged_messages(open(path, encoding="utf-8", errors="replace").read())
    if not messages:
        print("(none)")
    for msg in messages:
        print(f"--- to {msg['To']}: {msg['Subject']}")
        body = msg.get_body(("plain",))
        print((body.get_content() if body is not None else "").rstrip() + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
