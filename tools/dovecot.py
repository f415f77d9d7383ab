"""A throwaway Dovecot IMAP server on loopback, for tests and `make demo` (stdlib only).

Nothing under /etc is read: a self-contained dovecot.conf is rendered into a directory and
`/usr/sbin/dovecot -F -c CONF` runs as a child process. Works as root (mail belongs to
nobody:nogroup, because Dovecot refuses uid 0 for mail) and as an ordinary user (chroots off).

    python tools/dovecot.py start DIR --port 0 --user touchpoints@ourco.com:secret [--separator .]
        [--oauth2-introspection-url http://127.0.0.1:PORT/introspect]
    python tools/dovecot.py stop DIR
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
DH_FILE = Path("/usr/share/dovecot/dh.pem")
# str.format template: {{ and }} are literal braces
TEMPLATE = Path(__file__).with_name("dovecot.conf.in")
HOST = "127.0.0.1"
NOBODY = 65534
PID_FILE = "dovecot.pid"
PORT_FILE = "imap.port"
IMAPS_PORT_FILE = "imaps.port"
# Where the user-visible parts (passwd-file, mail) live when DIR is not reachable by `nobody`.
RUNTIME_LINK = "runtime.path"
OAUTH2_CONF = "dovecot-oauth2.conf.ext"
OAUTH2_MECHANISMS = ("xoauth2", "oauthbearer")


def free_port() -> int:
    """A port nobody listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _is_root() -> bool:
    return os.geteuid() == 0


def _reachable_by_others(path: Path) -> bool:
    """True when every folder up to `path` lets other users through (o+x)."""
    for part in [path, *path.parents]:
        if not part.stat().st_mode & stat.S_IXOTH:
            return False
    return True


class Dovecot:
    """One Dovecot instance; `start()` returns once it greets, `stop()` ends it."""

    def __init__(self, directory: Path, port: int = 0, users: dict[str, str] | None = None,
                 separator: str = "/", imaps_port: int | None = None, prefix: str = "",
                 oauth2_introspection_url: str = "",
                 oauth2_mechanisms: tuple[str, ...] = OAUTH2_MECHANISMS,
                 capabilities: str = "") -> None:
        self.directory = Path(directory).resolve()
        self.port = port or free_port()
        self.imaps_port = (imaps_port or free_port()) if imaps_port is not None else None
        self.users = dict(users or {})
        self.separator = separator
        self.prefix = prefix  # personal namespace prefix, e.g. "INBOX." as Courier has it
        # OAuth2 (SASL XOAUTH2/OAUTHBEARER): Dovecot's oauth2 passdb GETs this URL with the
        # token as `Authorization: Bearer` and expects JSON {"active": true, "username": ...};
        # the username must be the login name. Password logins keep working alongside.
        self.oauth2_introspection_url = oauth2_introspection_url
        self.oauth2_mechanisms = tuple(oauth2_mechanisms) if oauth2_introspection_url else ()
        # The capabilities announced after login instead of Dovecot's own ("" keeps them): a
        # server without IDLE, say.
        self.capabilities = capabilities
        self.process: subprocess.Popen[bytes] | None = None
        self.runtime = self.directory

    # --- paths -------------------------------------------------------------------------------

    @property
    def conf_path(self) -> Path:
        return self.directory / "dovecot.conf"

    @property
    def cert_path(self) -> Path:
        return self.directory / "ssl" / "cert.pem"

    @property
    def log_path(self) -> Path:
        return self.directory / "log" / "dovecot.log"

    @property
    def passwd_dir(self) -> Path:
        # One passwd-file per user: a new user's file is read at its first login, whereas
        # Dovecot re-reads a changed file at most once a second (a fresh user could fail).
        return self.runtime / "users"

    def maildir(self, user: str) -> Path:
        return self.runtime / "mail" / user / "Maildir"

    # --- life cycle --------------------------------------------------------------------------

    def start(self, timeout: float = 10.0, detach: bool = False) -> None:
        """Render the config, run dovecot, wait for its greeting (or raise with the log tail)."""
        if not Path(DOVECOT).exists():
            raise RuntimeError(f"{DOVECOT} not found: apt-get install dovecot-imapd")
        self.render()
        out = open(self.directory / "log" / "master.out", "ab")
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf_path)], stdout=out, stderr=out,
            stdin=subprocess.DEVNULL, start_new_session=detach)
        out.close()
        (self.directory / PID_FILE).write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if greets(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not come up on {HOST}:{self.port}; "
                           f"log {self.log_path}:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the master (its children exit with it) and wait for it."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
            (self.directory / PID_FILE).unlink(missing_ok=True)
        else:
            stop_directory(self.directory, timeout)
        if self.runtime != self.directory:
            shutil.rmtree(self.runtime, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kill_sessions(self, user: str) -> list[int]:
        """SIGKILL this server's imap processes serving `user`, as a crash or a dropped
        connection would end them; returns their pids."""
        master = self.process.pid if self.process is not None else None
        killed = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat[1]) == master and "/imap " in title and f"[{user} " in title:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
        return killed

    def log_tail(self, lines: int = 20) -> str:
        tails = []
        for path in (self.log_path, self.directory / "log" / "master.out"):
            if path.exists():
                tails += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(tails)

    # --- users and mail ----------------------------------------------------------------------

    def add_user(self, user: str, password: str) -> None:
        """Add a login; Dovecot re-reads the passwd-file when it changes, no restart needed."""
        if "/" in user or user.startswith("."):
            raise ValueError(f"user name {user!r} cannot be a file name")
        self.users[user] = password
        self._make_maildir(user)
        path = self.passwd_dir / user
        path.write_text(f"{user}:{{PLAIN}}{password}::::::\n", encoding="utf-8")
        path.chmod(0o644)

    def seed(self, user: str, messages: list[bytes], flags: str = "") -> None:
        """Put messages straight into the user's INBOX (Maildir/cur, unseen unless flags="S").

        Far faster than APPEND (thousands a second); seed before the first SELECT for
        deterministic UIDs (Dovecot assigns them in file-name order).
        """
        cur = self.maildir(user) / "cur"
        tmp = self.maildir(user) / "tmp"
        stamp, pid, host = int(time.time()), os.getpid(), socket.gethostname().replace("/", "_")
        for i, raw in enumerate(messages):
            # Stored with LF endings, as Dovecot's LDA does; W= is the size with CRLF.
            data = raw.replace(b"\r\n", b"\n")
            wire = len(data) + data.count(b"\n")
            name = f"{stamp}.M{i:07d}P{pid}.{host},S={len(data)},W={wire}"
            (tmp / name).write_bytes(data)
            os.replace(tmp / name, cur / f"{name}:2,{flags}")
        self._chown_mail(self.maildir(user).parent)

    def _make_maildir(self, user: str) -> None:
        for sub in ("cur", "new", "tmp"):
            (self.maildir(user) / sub).mkdir(parents=True, exist_ok=True)
        self._chown_mail(self.maildir(user).parent)

    def _chown_mail(self, top: Path) -> None:
        if not _is_root():
            return
        for root, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), NOBODY, NOBODY)
        os.chown(top, NOBODY, NOBODY)

    # --- configuration -----------------------------------------------------------------------

    def render(self) -> None:
        """Write dovecot.conf, the passwd-file, the mail folders and (for TLS) a certificate."""
        for sub in ("run", "state", "log", "ssl"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        # mkdtemp makes 0700 folders; dovecot's auth user must read the passwd-file.
        for path in (self.directory, self.directory / "log", self.directory / "ssl"):
            path.chmod(0o755)
        self.runtime = self._runtime_dir()
        for path in (self.runtime, self.runtime / "mail", self.passwd_dir):
            path.mkdir(exist_ok=True)
            path.chmod(0o755)
        for user, password in self.users.items():
            self.add_user(user, password)
        if self.imaps_port is not None:
            self._make_certificate()
        if self.oauth2_introspection_url:
            self._write_oauth2_conf()
        self.conf_path.write_text(self._config_text())
        (self.directory / PORT_FILE).write_text(f"{self.port}\n")
        if self.imaps_port is not None:
            (self.directory / IMAPS_PORT_FILE).write_text(f"{self.imaps_port}\n")

    def _runtime_dir(self) -> Path:
        # As root, mail is accessed as nobody, who cannot enter e.g. /root/project: use /tmp then.
        if not _is_root() or _reachable_by_others(self.directory):
            return self.directory
        runtime = Path(tempfile.mkdtemp(prefix="touchlog-dovecot-"))
        (self.directory / RUNTIME_LINK).write_text(f"{runtime}\n")
        return runtime

    def _make_certificate(self) -> None:
        if self.cert_path.exists():
            return
        key = self.directory / "ssl" / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(self.cert_path)],
            check=True, capture_output=True)
        key.chmod(0o600)

    def _config_text(self) -> str:
        if _is_root():
            internal, login, uid, gid = "dovecot", "dovenull", NOBODY, NOBODY
            chroots = ""
        else:
            internal = login = pwd.getpwuid(os.getuid()).pw_name
            uid, gid = os.getuid(), os.getgid()
            # An ordinary user cannot chroot: anvil and imap-login would die at start.
            chroots = "  chroot =\n"
        group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
        d = self.directory
        return TEMPLATE.read_text().format(
            dir=d, runtime=self.runtime, port=self.port, internal=internal, group=group,
            login=login, uid=uid, gid=gid, sep=self.separator, prefix=self.prefix,
            ssl=self._ssl_lines(), imaps=self._imaps_listener(), chroots=chroots,
            login_chroot="" if _is_root() else "  chroot =\n",
            mechanisms=" ".join(("plain", "login", *self.oauth2_mechanisms)),
            oauth2_passdb=self._oauth2_passdb(),
            password_mechanisms="  mechanisms = plain login\n" if self.oauth2_mechanisms else "",
            imap_extra=f"  imap_capability = {self.capabilities}\n" if self.capabilities else "")

    def _oauth2_passdb(self) -> str:
        if not self.oauth2_mechanisms:
            return ""
        return (f"passdb {{\n  driver = oauth2\n  mechanisms = {' '.join(self.oauth2_mechanisms)}"
                f"\n  args = {self.directory / OAUTH2_CONF}\n}}\n")

    def _write_oauth2_conf(self) -> None:
        # Debian 12's 2.3.19 panics in mode "post" and with %u in the URL; "auth" (the token in
        # the Authorization header, as for Microsoft Graph's /me) works.
        path = self.directory / OAUTH2_CONF
        path.write_text(f"introspection_mode = auth\n"
                        f"introspection_url = {self.oauth2_introspection_url}\n"
                        "username_attribute = username\nactive_attribute = active\n"
                        "active_value = true\n")
        path.chmod(0o644)

    def _ssl_lines(self) -> str:
        if self.imaps_port is None:
            return "ssl = no"
        lines = ["ssl = yes", f"ssl_cert = <{self.cert_path}",
                 f"ssl_key = <{self.directory / 'ssl' / 'key.pem'}"]
        if DH_FILE.exists():
            lines.append(f"ssl_dh = <{DH_FILE}")
        return "\n".join(lines)

    def _imaps_listener(self) -> str:
        if self.imaps_port is None:
            return ""
        return (f"  inet_listener imaps {{\n    address = {HOST}\n    port = {self.imaps_port}\n"
                f"    ssl = yes\n  }}\n")




def greets(port: int, host: str = HOST) -> bool:
    """True when an IMAP server answers `* OK` on the port."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            return sock.recv(4) == b"* OK"
    except OSError:
        return False


def stop_directory(directory: Path, timeout: float = 10.0) -> bool:
    """Stop the instance whose pid sits in DIR (for the CLI: a different process started it)."""
    pid_file = Path(directory) / PID_FILE
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    runtime_file = Path(directory) / RUNTIME_LINK
    if runtime_file.exists():
        shutil.rmtree(runtime_file.read_text().strip(), ignore_errors=True)
        runtime_file.unlink()
    return True


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A throwaway Dovecot on 127.0.0.1.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=0, help="IMAP port; 0 picks a free one")
    parser.add_argument("--imaps-port", type=int, default=None,
                        help="also listen with implicit TLS (0 picks a free port)")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    parser.add_argument("--separator", default="/", choices=["/", "."])
    parser.add_argument("--oauth2-introspection-url", default="", metavar="URL",
                        help="also take XOAUTH2/OAUTHBEARER, asking this URL (GET, token as "
                             "Bearer) whether a token is active and whose")
    args = parser.parse_args(argv)
    if args.action == "stop":
        stopped = stop_directory(args.directory)
        print(f"dovecot in {args.directory}: {'stopped' if stopped else 'was not running'}")
        return 0
    users = dict(u.split(":", 1) for u in args.user)
    args.directory.mkdir(parents=True, exist_ok=True)
    server = Dovecot(args.directory, args.port, users, args.separator, args.imaps_port,
                     oauth2_introspection_url=args.oauth2_introspection_url)
    try:
        server.start(detach=True)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"dovecot up pid={server.process.pid} imap={HOST}:{server.port}"
          + (f" imaps={HOST}:{server.imaps_port}" if server.imaps_port else "")
          + f" dir={server.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
