"""The simulated-instrument socket server is fair to its clients: a long VNA sweep does not hold up
another client's ``*IDN?`` or the other instruments, caches and input buffers stay bounded, and
a burst of connections is served (issue 14, "Twin server fairness").

Assertions are on the order of events and on the server's own accounting, never on durations;
every socket has a timeout and every wait a bound, so a regression fails instead of hanging.
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
import tracemalloc

import numpy as np
import pytest
from accbench.sim import twin
from accbench.sim.base import MAX_MESSAGE_BYTES, MessageReader
from accbench.sim.faults import FaultPlan
from accbench.sim.scpi import HEADER_CACHE_ENTRIES
from accbench.sim.server import SimServer
from accbench.sim.twin import ArrayCache, SimBench, parse_dut

TIMEOUT_S = 30.0  # socket and join bound: only reached when something is broken
SWEEP_POINTS = 20_001  # a sweep that computes for a good fraction of a second, vs ~1 ms for *IDN?
LOAD_ROUNDS = 20  # the other client's bounded load loop
A1 = parse_dut("serial=A1,awg=26,length_m=2.93")  # a length no other test uses: a cache miss
B2 = parse_dut("serial=B2,awg=28,length_m=1.5")


class Client:
    """A raw SCPI socket client on 127.0.0.1: newline-terminated messages and replies."""

    def __init__(self, port: int, timeout_s: float = TIMEOUT_S):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.replies = self.sock.makefile("rb")

    def write(self, message: str | bytes) -> None:
        """Send one message (its terminator added)."""
        data = message.encode() if isinstance(message, str) else message
        self.sock.sendall(data + b"\n")

    def read(self) -> bytes:
        """One reply, without its terminator."""
        return self.replies.readline().rstrip(b"\n")

    def ask(self, message: str) -> bytes:
        """Send a query and return its reply."""
        self.write(message)
        return self.read()

    def close(self) -> None:
        self.replies.close()
        self.sock.close()


@pytest.fixture
def bench() -> SimBench:
    return SimBench([A1, B2], seed=3)


@pytest.fixture
def server(bench):
    with SimServer(bench, base_port=0) as running:
        yield running


class Timeline:
    """Events in the order they happened (a counter under a lock, no clocks)."""

    def __init__(self):
        self.events: list[str] = []
        self._lock = threading.Lock()

    def mark(self, event: str) -> None:
        with self._lock:
            self.events.append(event)

    def first(self, event: str) -> int:
        return self.events.index(event)


def _gate_sweeps(bench: SimBench, started: threading.Event, release: threading.Event) -> None:
    """Make the bench's sweep computation announce it has begun and then wait (bounded) for
    ``release``: the sweep is certainly in progress while the other client asks, so the test's
    outcome depends only on whether the server serves that client meanwhile, not on speeds."""
    compute = bench.sparameters

    def gated(*args, **kwargs):
        started.set()
        release.wait(TIMEOUT_S / 3)
        return compute(*args, **kwargs)

    bench.sparameters = gated


def _sweep_client(server: SimServer, timeline: Timeline, data: list[bytes]) -> None:
    """Client A: a large single sweep on the VNA, then its data."""
    a = Client(server.port("vna"))
    try:
        a.write(f"SENS1:SWE:POIN {SWEEP_POINTS};:CALC1:MEAS1:DEF 'S21';:SENS1:SWE:MODE SING;*OPC?")
        assert a.read() == b"1"
        timeline.mark("A sweep done")
        data.append(a.ask("CALC1:MEAS1:DATA:SDATA?"))
        timeline.mark("A data")
    finally:
        a.close()


def _load_client(server: SimServer, timeline: Timeline, started: threading.Event,
                 answered: threading.Event, replies: dict[str, bytes]) -> None:
    """Client B: once A's sweep is computing, a bounded loop of identity and status queries to the
    VNA, the BERT and the power analyzer, each completion marked on the timeline."""
    assert started.wait(TIMEOUT_S), "client A's sweep never started"
    clients = {role: Client(server.port(role)) for role in ("vna", "bert", "power")}
    queries = [("vna", "*IDN?"), ("bert", "*IDN?"), ("bert", "SYST:ERR?"), ("power", "SYST:ERR?")]
    try:
        for _ in range(LOAD_ROUNDS):
            for role, query in queries:
                replies[f"{role} {query}"] = clients[role].ask(query)
                timeline.mark(f"B {role} {query}")
            answered.set()
            if "A sweep done" in timeline.events:
                break
    finally:
        answered.set()
        for client in clients.values():
            client.close()


def test_idn_and_other_instruments_answered_while_a_large_sweep_computes(server, bench):
    started, answered = threading.Event(), threading.Event()
    _gate_sweeps(bench, started, answered)
    timeline, data, replies = Timeline(), [], {}
    a = threading.Thread(target=_sweep_client, args=(server, timeline, data), daemon=True)
    b = threading.Thread(target=_load_client, args=(server, timeline, started, answered, replies), daemon=True)
    a.start()
    b.start()
    a.join(TIMEOUT_S)
    b.join(TIMEOUT_S)
    assert not a.is_alive() and not b.is_alive()
    sweep_done = timeline.first("A sweep done")
    for event in ("B vna *IDN?", "B bert *IDN?", "B bert SYST:ERR?", "B power SYST:ERR?"):
        assert timeline.first(event) < sweep_done, timeline.events
    assert replies["vna *IDN?"].startswith(b"Keysight Technologies,N5247B")
    assert replies["bert *IDN?"].startswith(b"Keysight Technologies,M8040A")
    assert replies["power SYST:ERR?"] == b'+0,"No error"'
    values = np.array(data[0].split(b","), dtype=float)
    assert values.size == 2 * SWEEP_POINTS and np.all(np.isfinite(values))


def test_idn_fast_path_still_counts_for_the_fault_schedule():
    bench = SimBench([A1], seed=3, faults=FaultPlan("vna.stall@2", 3))
    vna = bench.instrument("vna-pna")
    assert vna.handle("*IDN?").reply.startswith(b"Keysight")
    assert vna.handle("*IDN?").stall  # the second message stalls, *IDN? or not
    assert bench.faults.counts["vna"] == 2


def test_array_cache_is_lru_and_bounded_in_bytes_and_entries():
    cache = ArrayCache(max_bytes=3 * 800, max_entries=2)
    for key in "abc":
        cache.get(key, lambda: np.zeros(100))  # 800 bytes each
    assert len(cache) == 2 and cache.nbytes == 1600  # 'a' evicted by the entry bound
    cache.get("b", lambda: pytest.fail("'b' is cached"))
    cache.get("d", lambda: np.zeros(200))  # 1600 bytes: evicts the least recently used, 'c'
    assert cache.nbytes <= cache.max_bytes and len(cache) <= 2
    kept = cache.get("b", lambda: np.ones(100))
    assert not kept.any() and not kept.flags.writeable
    big = cache.get("e", lambda: np.zeros(1000))  # over the whole budget: returned, not kept
    assert big.size == 1000 and cache.nbytes <= cache.max_bytes


def test_repeated_sweeps_of_different_sizes_keep_memory_bounded(monkeypatch):
    cache = ArrayCache(max_bytes=2**20, max_entries=8)
    monkeypatch.setattr(twin, "SPARAMETER_CACHE", cache)
    vna = SimBench([A1], seed=3).instrument("vna-pna")
    vna.handle("CALC1:MEAS1:DEF 'S21'")
    sizes = list(range(501, 6002, 500))  # 128 kB .. 1.5 MB of S-parameters each

    def sweep(points: int) -> None:
        assert vna.handle(f"SENS1:SWE:POIN {points};:SENS1:SWE:MODE SING;*OPC?").reply == b"1"

    tracemalloc.start()
    try:
        sweep(sizes[-1])  # the largest first: what any one sweep needs is in the baseline
        gc.collect()
        baseline, _ = tracemalloc.get_traced_memory()
        for _ in range(2):
            for points in sizes:
                sweep(points)
                assert cache.nbytes <= cache.max_bytes and len(cache) <= cache.max_entries
                assert cache.nbytes == sum(a.nbytes for a in cache._items.values())
        gc.collect()
        grown, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert grown - baseline < cache.max_bytes + 2 * 2**20  # the cache's bound and a little slack


def test_header_cache_of_the_engine_is_bounded():
    engine = SimBench([A1]).instrument("vna-pna").engine
    for channel in range(1, HEADER_CACHE_ENTRIES + 200):
        engine.execute(f"SENS{channel}:FREQ:STAR?")
    assert len(engine._cache) <= HEADER_CACHE_ENTRIES


def test_message_reader_frames_across_chunks_and_refuses_overlong_messages():
    reader = MessageReader(limit=9)
    assert reader.feed(b"*IDN?\nSYST") == [b"*IDN?"]
    assert reader.feed(b":ERR?\n\n") == [b"SYST:ERR?", b""]
    assert reader.feed(b"0123456789") == [None]  # reported once, as soon as it overflows
    assert reader.feed(b"more of it") == []  # still the same message: discarded
    assert reader.feed(b"end\nok\n0123456789\nok2\n") == [b"ok", None, b"ok2"]  # 10 bytes: over


def test_overlong_line_is_refused_and_the_server_goes_on(server, caplog):
    with caplog.at_level(logging.WARNING, logger="accbench.sim.server"):
        hostile, other = Client(server.port("vna")), Client(server.port("vna"))
        try:
            chunk = b"X" * 2**20
            for _ in range(8 * MAX_MESSAGE_BYTES // len(chunk)):  # 8 MiB without a newline
                hostile.sock.sendall(chunk)
            assert other.ask("*IDN?").startswith(b"Keysight")  # another client meanwhile
            hostile.write(b"")  # the terminator ends the discarded message
            assert hostile.ask("SYST:ERR?").startswith(b'-223,"Too much data')
            assert hostile.ask("SYST:ERR?") == b'+0,"No error"'  # one error for one message
            assert other.ask("*OPC?") == b"1"
        finally:
            hostile.close()
            other.close()
    assert "-223" in caplog.text


def _connect_before_serving(server: SimServer, count: int) -> list[Client]:
    """Open ``count`` connections while the server listens but does not accept yet (so the listen
    backlog must hold them all), then start it."""
    clients: list[Client] = []
    try:
        for _ in range(count):
            clients.append(Client(server.port("vna"), timeout_s=5.0))
    except OSError:
        for client in clients:
            client.close()
        raise
    finally:
        server.start()
    return clients


def test_a_burst_of_connections_is_queued_and_all_answered(bench):
    server = SimServer(bench, base_port=0)
    try:
        clients = _connect_before_serving(server, 32)
        try:
            for client in clients:
                client.write("*IDN?")
            assert all(client.read().startswith(b"Keysight") for client in clients)
        finally:
            for client in clients:
                client.close()
    finally:
        server.stop()


def test_the_bench_is_shared_by_all_clients(server):
    a, b, c = Client(server.port("vna")), Client(server.port("bert")), Client(server.port("vna"))
    try:
        assert a.ask("SIM:DUT 'B2';*OPC?") == b"1"  # the switch matrix: every instrument and client
        assert b.ask("SIM:DUT?") == b'"B2",1'
        assert a.ask("SENS1:SWE:POIN 401;*OPC?") == b"1"
        assert c.ask("SENS1:SWE:POIN?") == b"401"  # one instrument, one set of settings
        assert c.ask("*RST;*OPC?") == b"1"
        assert a.ask("SENS1:SWE:POIN?") == b"201"  # *RST resets it for everyone
    finally:
        for client in (a, b, c):
            client.close()


def test_clients_past_the_limit_are_closed_and_the_others_served(bench, caplog):
    server = SimServer(bench, base_port=0, max_clients=2).start()
    try:
        first, second = Client(server.port("power")), Client(server.port("power"))
        assert first.ask("*IDN?").startswith(b"Keysight") and second.ask("*IDN?").startswith(b"Keysight")
        with caplog.at_level(logging.WARNING, logger="accbench.sim.server"):
            third = Client(server.port("power"))
            assert third.replies.readline() == b""  # closed on arrival, no thread spent on it
            third.close()
        assert "2 clients already connected" in caplog.text
        assert first.ask("*IDN?").startswith(b"Keysight")  # the others go on
        second.close()
        for _ in range(100):  # the freed place is taken by the next client (bounded wait)
            fourth = Client(server.port("power"))
            fourth.write("*IDN?")
            reply = fourth.read()
            fourth.close()
            if reply:
                break
            threading.Event().wait(0.05)
        assert reply.startswith(b"Keysight")
        first.close()
    finally:
        server.stop()


def test_a_server_never_started_stops_at_once(bench):
    done = threading.Event()
    server = SimServer(bench, base_port=0)
    thread = threading.Thread(target=lambda: (server.stop(), done.set()), daemon=True)
    thread.start()
    assert done.wait(TIMEOUT_S)


def test_vna_measurements_are_bounded(server):
    from accbench.sim.vna import MAX_TRACES

    vna = Client(server.port("vna"))
    try:
        for n in range(1, MAX_TRACES + 2):
            vna.write(f"CALC1:MEAS{n}:DEF 'S21'")
        assert vna.ask("SYST:ERR?").startswith(b"-225")
        assert vna.ask("CALC1:MEAS:DEL:ALL;*OPC?") == b"1"
        assert vna.ask("CALC1:MEAS1:DEF 'S21';*OPC?") == b"1"  # deleting frees them
    finally:
        vna.close()
