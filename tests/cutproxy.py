"""A lost connection to PostgreSQL, on cue: a TCP proxy between touchlog and the server that
hangs up both sides the moment the client sends a statement containing `cut_at`, as a server
restart or a dropped network does mid-command (tests/test_one_line.py)."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class CuttingProxy:
    def __init__(self, host: str, port: int, cut_at: bytes) -> None:
        self.target = (host, port)
        self.cut_at = cut_at
        self.cuts = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()
        for sock in self._open:
            _hang_up(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._open += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, watch: bool) -> None:
        seen = b""
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            # A statement may straddle two reads: look at the end of the last one too.
            if watch and self.cut_at in seen[-len(self.cut_at):] + data:
                self.cuts += 1
                data = b""
            if not data:
                _hang_up(source)
                _hang_up(sink)
                return
            seen = data
            with suppress(OSError):
                sink.sendall(data)


def _hang_up(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()
