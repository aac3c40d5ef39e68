"""A small SCPI peer on 127.0.0.1 for transport tests: line-terminated commands, text or binary
replies, and an optional dropped connection to exercise recovery. Bounded: it serves at most
``max_connections`` connections and stops when asked."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class ScpiPeer:
    def __init__(self, handler: Callable[[str], str | bytes | None], drop_after: int | None = None,
                 max_connections: int = 8):
        self.handler = handler
        self.drop_after = drop_after
        self.max_connections = max_connections
        self.received: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def resource(self) -> str:
        return f"TCPIP::127.0.0.1::{self.port}::SOCKET"

    def __enter__(self) -> ScpiPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        served = 0
        while not self._stop.is_set() and served < self.max_connections:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            served += 1
            with conn:
                conn.settimeout(0.2)
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                command = line.decode().strip()
                if not command:
                    continue
                self.received.append(command)
                if self.drop_after is not None and len(self.received) == self.drop_after:
                    self.drop_after = None
                    return  # drop the connection without answering
                reply = self.handler(command)
                if reply is None:
                    continue
                conn.sendall((reply if isinstance(reply, bytes) else reply.encode()) + b"\n")
