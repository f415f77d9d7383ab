"""A throwaway PostgreSQL cluster on loopback, for tests (stdlib only, like tools/dovecot.py).

`initdb` and `pg_ctl` come from Debian's postgresql package (/usr/lib/postgresql/*/bin). The
cluster lives in a fresh /tmp/touchlog-pg-* folder, trusts every local connection, listens on
127.0.0.1 and a free port, and trades durability for speed (fsync off). As root, the server runs
as the `postgres` OS user: initdb and postgres refuse to run as root.

    python tools/postgres.py start [--port 0] [--dir DIR]   # prints the URL of database `touchlog`
    python tools/postgres.py stop DIR
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HOST = "127.0.0.1"
SUPERUSER = "postgres"
OS_USER = "postgres"  # who runs the server when we are root
BIN_GLOB = "/usr/lib/postgresql/*/bin"
# Durability buys nothing in a throwaway cluster; these make commits and CREATE DATABASE fast.
SPEED_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                  "max_connections": "100", "shared_buffers": "32MB"}
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_bin_dir() -> Path | None:
    """The newest installed server's bin folder (the one with initdb and pg_ctl), or None."""
    def version(path: str) -> tuple[int, ...]:
        number = Path(path).parent.name
        return tuple(int(p) for p in number.split(".") if p.isdigit())

    candidates = [p for p in glob.glob(BIN_GLOB)
                  if os.access(os.path.join(p, "initdb"), os.X_OK)
                  and os.access(os.path.join(p, "pg_ctl"), os.X_OK)]
    return Path(max(candidates, key=version)) if candidates else None


def missing_reason() -> str | None:
    """Why a cluster cannot be started here, or None when it can."""
    if find_bin_dir() is None:
        return (f"no PostgreSQL server binaries ({BIN_GLOB}/initdb): apt-get install postgresql "
                "(`make test` does it when run as root)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root but there is no `{OS_USER}` OS user to run the server as"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install '.[postgres]')"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _reachable_by_others(path: Path) -> bool:
    """True when every folder up to `path` lets other users (the server's user) through."""
    return all(part.stat().st_mode & stat.S_IXOTH for part in [path, *path.parents])


def _new_directory() -> Path:
    """A fresh /tmp/touchlog-pg-* (TMPDIR's when the server's user can get through to it)."""
    path = Path(tempfile.mkdtemp(prefix="touchlog-pg-"))
    if os.geteuid() == 0 and not _reachable_by_others(path.parent):
        path.rmdir()
        path = Path(tempfile.mkdtemp(prefix="touchlog-pg-", dir="/tmp"))
    return path


class Postgres:
    """One cluster: `start()` returns once it accepts connections, `stop()` ends it and
    `cleanup()` also removes its folder (unless the folder was given by the caller)."""

    def __init__(self, directory: Path | None = None, port: int = 0) -> None:
        self._owns_directory = directory is None
        self.directory = Path(directory or _new_directory()).resolve()
        self.port = port or free_port()
        self.bin_dir = find_bin_dir()
        self.started = False

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "run"

    @property
    def log_path(self) -> Path:
        return self.directory / "postgres.log"

    def url_for(self, name: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{name}"

    @property
    def url(self) -> str:
        """The maintenance database's URL (databases made by `create_database` have their own)."""
        return self.url_for("postgres")

    # --- life cycle --------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Postgres:
        if self.bin_dir is None:
            raise RuntimeError(missing_reason() or "no PostgreSQL server binaries")
        if os.geteuid() == 0 and not _reachable_by_others(self.directory.parent):
            raise RuntimeError(f"{self.directory}: the `{OS_USER}` user cannot get through "
                               f"{self.directory.parent}; use a folder under /tmp")
        self.directory.chmod(0o755)  # the postgres user must enter it
        self.socket_dir.mkdir(exist_ok=True)
        self._give_to_server_user(self.directory, self.socket_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run([str(self.bin_dir / "initdb"), "--auth=trust", "-U", SUPERUSER,
                       "-E", "UTF8", "--locale=C", "--no-sync", "-D", str(self.data_dir)])
        options = [f"-c listen_addresses={HOST}", f"-p {self.port}", f"-k {self.socket_dir}"]
        options += [f"-c {k}={v}" for k, v in SPEED_SETTINGS.items()]
        self._run([str(self.bin_dir / "pg_ctl"), "start", "-w", "-t", str(int(timeout)),
                   "-D", str(self.data_dir), "-l", str(self.log_path), "-o", " ".join(options)],
                  failure="postgres did not start")
        self.started = True
        return self

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists() and self.bin_dir is not None:
            self._run([str(self.bin_dir / "pg_ctl"), "stop", "-m", "fast", "-w",
                       "-D", str(self.data_dir)], check=False)
        self.started = False

    def cleanup(self) -> None:
        self.stop()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # --- databases ---------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name` (dropping an old one of that name); returns its URL."""
        if not _NAME.match(name):
            raise ValueError(f"database name {name!r}: lower-case letters, digits and _ only")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        if not _NAME.match(name):
            raise ValueError(f"database name {name!r}: lower-case letters, digits and _ only")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, *statements: str) -> None:
        import psycopg2

        conn = psycopg2.connect(host=HOST, port=self.port, user=SUPERUSER, dbname="postgres",
                                connect_timeout=10)
        try:
            conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            conn.close()

    # --- helpers -----------------------------------------------------------------------------

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _give_to_server_user(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(OS_USER)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, argv: list[str], check: bool = True,
             failure: str = "command failed") -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", OS_USER, "--", *argv]
        # cwd: the server user must be able to stand in it (root's cwd may be 0700)
        result = subprocess.run(argv, capture_output=True, text=True, cwd=self.directory,
                                stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"})
        if check and result.returncode != 0:
            raise RuntimeError(f"{failure}: {' '.join(argv)} exited {result.returncode}\n"
                               f"{result.stdout}{result.stderr}{self.log_tail()}")
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A throwaway PostgreSQL on 127.0.0.1.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory", type=Path, nargs="?",
                        help="cluster folder (start: default a fresh /tmp/touchlog-pg-*)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free one")
    parser.add_argument("--database", default="touchlog", help="database to create on start")
    args = parser.parse_args(argv)
    if args.action == "stop":
        if args.directory is None:
            parser.error("stop needs the cluster folder")
        Postgres(args.directory).stop()
        print(f"postgres in {args.directory}: stopped")
        return 0
    reason = missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    if args.directory is not None:
        args.directory.mkdir(parents=True, exist_ok=True)
    server = Postgres(args.directory, args.port)
    try:
        server.start()
        url = server.create_database(args.database)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"postgres up dir={server.directory} url={url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
