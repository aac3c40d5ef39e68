"""SCPI socket server of the simulated bench: each instrument on its own TCP port (raw SOCKET,
``\\n``-terminated), several clients at a time, loopback by default.

The VNA listens on the base port, the BERT on base+1 and the power analyzer on base+2 (base 0
picks free ports, for tests). Real pyvisa-py (``TCPIP::127.0.0.1::5025::SOCKET``) or any SCPI
tool can connect. Faults act on the connection: a stall sends nothing, a drop sends half the
reply and closes, a reboot closes.

Sharing model: the server is one simulated bench, as on a real bench where every client talks to
the same instruments over the same cable. All clients of a port share that instrument's settings,
traces, error queue and status: ``*RST`` resets it for everyone, and an error one client causes
is read by whoever asks ``SYST:ERR?`` next. ``SIM:DUT`` is the bench's switch matrix (a bench
file's ``connect`` command uses it), so it connects a cable for all three instruments and every
client, like an operator moving the cable. Clients that need a consistent sequence coordinate
among themselves, as they would on real instruments.

Fairness: each instrument executes one message at a time under its own lock, so a long VNA sweep
delays only the VNA's next messages, never the BERT's or the power analyzer's; a bare ``*IDN?``
is answered at once even during a sweep (the identity is fixed). Input is framed in linear time;
a program message over ``max_message_bytes`` (1 MiB by default) is discarded up to its newline
and ``-223,"Too much data"`` is queued on the instrument, as a real instrument's input buffer
does, with a warning logged; the connection stays open. Cached sweeps are bounded
(``accbench.sim.twin.SPARAMETER_CACHE``) and the listen backlog is the system's maximum.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading

from accbench.sim.base import MAX_MESSAGE_BYTES, MessageReader, Outcome, SimInstrument
from accbench.sim.personalities import device_for
from accbench.sim.twin import SimBench

ROLES = ("vna", "bert", "power")
QUICKACK = getattr(socket, "TCP_QUICKACK", 0)
RECV_BYTES = 65536
log = logging.getLogger(__name__)


MAX_CLIENTS = 64  # per instrument; a real LAN instrument takes a handful of socket clients


class _Server(socketserver.ThreadingTCPServer):
    """One instrument's listening socket: a thread per client (at most ``MAX_CLIENTS``), a backlog as deep as
    the system allows. A client past the limit is closed at once and logged, so no client can exhaust threads."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = socket.SOMAXCONN
    instrument: SimInstrument
    role: str = ""
    max_message_bytes: int = MAX_MESSAGE_BYTES

    def __init__(self, address: tuple[str, int], max_clients: int = MAX_CLIENTS) -> None:
        super().__init__(address, _Handler)
        self.max_clients = max_clients
        self._clients = threading.BoundedSemaphore(max_clients)

    def process_request(self, request, client_address) -> None:
        if not self._clients.acquire(blocking=False):
            log.warning("sim %s: refused %s: %d clients already connected", self.role, client_address,
                        self.max_clients)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._clients.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._clients.release()


class _Handler(socketserver.BaseRequestHandler):
    """One client connection: frame its bytes into program messages and answer each in turn."""

    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = MessageReader(self.server.max_message_bytes)
        while True:
            try:
                chunk = conn.recv(RECV_BYTES)
                if QUICKACK:  # answer at once: clients that write twice without TCP_NODELAY (Nagle)
                    conn.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)  # would otherwise wait 40 ms
            except OSError:
                return
            if not chunk:
                return
            for line in reader.feed(chunk):
                if line is None:
                    self._too_long()
                elif not self._answer(conn, line):
                    return

    def _too_long(self) -> None:
        """An over-long message: queue -223 on the instrument and log it (the connection stays)."""
        server = self.server
        limit = server.max_message_bytes
        server.instrument.queue_error(-223, f"Too much data;program message over {limit} bytes")
        log.warning("sim %s: a message from %s over %d bytes was discarded (-223 queued)",
                    server.role, self.client_address, limit)

    def _answer(self, conn: socket.socket, line: bytes) -> bool:
        """Execute one message and send its reply; False when the connection is to end."""
        message = line.decode(errors="replace").strip()
        if not message:
            return True
        outcome: Outcome = self.server.instrument.handle(message)
        try:
            if outcome.reply is not None:
                conn.sendall(outcome.reply + (b"" if outcome.drop else b"\n"))
        except OSError:
            return False
        if outcome.drop:
            conn.shutdown(socket.SHUT_RDWR)
            return False
        return True


class SimServer:
    """The simulated bench served on ``host``: VNA at ``base_port``, BERT at +1, power at +2.

    ``max_message_bytes``: the longest program message accepted; longer ones are discarded with
    error -223 queued (see the module docstring). ``max_clients``: connections served at once per
    instrument; one more is closed on arrival.
    """

    def __init__(self, bench: SimBench, host: str = "127.0.0.1", base_port: int = 5025,
                 max_message_bytes: int = MAX_MESSAGE_BYTES, max_clients: int = MAX_CLIENTS):
        self.bench = bench
        self.host = host
        self.servers: dict[str, _Server] = {}
        for offset, role in enumerate(ROLES):
            port = base_port + offset if base_port else 0
            server = _Server((host, port), max_clients)
            server.instrument = bench.instrument(device_for(role, bench))
            server.role = role
            server.max_message_bytes = int(max_message_bytes)
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
        """Stop serving and close the sockets (also when never started: ``shutdown`` would wait forever)."""
        for server in self.servers.values():
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
