"""SCPI socket server of the simulated bench: each instrument on its own TCP port (raw SOCKET,
``\\n``-terminated), several clients at a time, loopback by default.

The VNA listens on the base port, the BERT on base+1 and the power analyzer on base+2 (base 0
picks free ports, for tests). Real pyvisa-py (``TCPIP::127.0.0.1::5025::SOCKET``) or any SCPI
tool can connect. Faults act on the connection: a stall sends nothing, a drop sends half the
reply and closes, a reboot closes.
"""

from __future__ import annotations

import socket
import socketserver
import threading

from accbench.sim.personalities import device_for
from accbench.sim.twin import SimBench

ROLES = ("vna", "bert", "power")
QUICKACK = getattr(socket, "TCP_QUICKACK", 0)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        instrument = self.server.instrument  # type: ignore[attr-defined]
        conn: socket.socket = self.request
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while True:
            try:
                chunk = conn.recv(65536)
                if QUICKACK:  # answer at once: clients that write twice without TCP_NODELAY (Nagle)
                    conn.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)  # would otherwise wait 40 ms
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = line.decode(errors="replace").strip()
                if not message:
                    continue
                outcome = instrument.handle(message)
                try:
                    if outcome.reply is not None:
                        conn.sendall(outcome.reply + (b"" if outcome.drop else b"\n"))
                except OSError:
                    return
                if outcome.drop:
                    conn.shutdown(socket.SHUT_RDWR)
                    return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SimServer:
    """The simulated bench served on ``host``: VNA at ``base_port``, BERT at +1, power at +2."""

    def __init__(self, bench: SimBench, host: str = "127.0.0.1", base_port: int = 5025):
        self.bench = bench
        self.host = host
        self.servers: dict[str, _Server] = {}
        for offset, role in enumerate(ROLES):
            port = base_port + offset if base_port else 0
            server = _Server((host, port), _Handler)
            server.instrument = bench.instrument(device_for(role, bench))
            self.servers[role] = server
        self._threads: list[threading.Thread] = []

    def port(self, role: str) -> int:
        return self.servers[role].server_address[1]

    def resource(self, role: str) -> str:
        return f"TCPIP::{self.host}::{self.port(role)}::SOCKET"

    def resources(self) -> dict[str, str]:
        return {role: self.resource(role) for role in ROLES}

    def start(self) -> SimServer:
        for server in self.servers.values():
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
