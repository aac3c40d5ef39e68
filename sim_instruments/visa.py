"""The embedded simulated bench as a pyvisa backend, built on pyvisa-sim.

``AccbenchSimLibrary`` is pyvisa-sim's ``SimVisaLibrary`` with its YAML (``bench.yaml``: the
instruments' identities, dialogues and terminations) and the twin behind each session: a
message goes to the instrument's SCPI engine, which falls back to the YAML dialogues for what
it does not compute. Replies are handed back in chunks of the size pyvisa asks for (pyvisa-sim
hands out one byte per call, which made a 1.6 MB reply take seconds). Select it with the
pyvisa backend ``@accsim`` (package ``pyvisa_accsim``): ``<name>@accsim`` answers from the bench a station
registered as ``<name>`` (``accbench.sim.registry``); ``@accsim`` alone from one default bench
(a single default cable) that pyvisa's cache of libraries shares across the process, for one-off
commands such as ``accbench measure``.
Resources: ``TCPIP0::accbench-sim::vna::INSTR``, ``...::bert::INSTR``, ``...::power::INSTR``
(dialects chosen by the bench) or a device by name (``vna-zna``, ``bert-mp1900``, ...).
"""

from __future__ import annotations

import time

from accbench.sim.base import RESOURCE_PREFIX, YAML_PATH, MessageReader, Outcome
from accbench.sim.personalities import device_for
from accbench.sim.registry import lookup
from accbench.sim.twin import SimBench
from pyvisa import constants, errors, rname
from pyvisa_sim.highlevel import SimVisaLibrary

RESOURCES = {role: f"{RESOURCE_PREFIX}{role}::INSTR" for role in ("vna", "bert", "power")}


def is_simulated(resource: str) -> bool:
    """True for a resource of the in-process simulated bench."""
    return resource.upper().startswith(RESOURCE_PREFIX.upper())


class TwinSession:
    """One open session to a simulated instrument: input buffer, pending reply, link state."""

    def __init__(self, instrument):
        self.instrument = instrument
        self.inbox = MessageReader()  # the same framing and size limit as the socket server
        self.outbox = bytearray()
        self.dead = False
        self.stalled = False

    def write(self, data: bytes) -> None:
        if self.dead:
            raise errors.VisaIOError(constants.VI_ERROR_CONN_LOST)
        for line in self.inbox.feed(data):
            if line is None:
                self.instrument.queue_error(-223, f"Too much data;program message over {self.inbox.limit} bytes")
            else:
                self._deliver(self.instrument.handle(line.decode(errors="replace").strip()))

    def _deliver(self, outcome: Outcome) -> None:
        if outcome.reply is not None:
            self.outbox += outcome.reply + (b"" if outcome.drop else b"\n")
        self.stalled = outcome.stall
        if outcome.drop:
            self.dead = True

    def read(self, count: int, timeout_s: float) -> tuple[bytes, constants.StatusCode]:
        if not self.outbox:
            if self.dead:
                raise errors.VisaIOError(constants.VI_ERROR_CONN_LOST)
            time.sleep(timeout_s)  # nothing will come: the peer stalled or was never asked
            raise errors.VisaIOError(constants.VI_ERROR_TMO)
        chunk = bytes(self.outbox[:count])
        del self.outbox[:count]
        if self.outbox:
            return chunk, constants.StatusCode.success_max_count_read
        if self.dead:  # the reply was cut: the connection is gone after these bytes
            return chunk, constants.StatusCode.success_max_count_read
        return chunk, constants.StatusCode.success


class AccbenchSimLibrary(SimVisaLibrary):
    """pyvisa-sim's library with the accbench YAML and the digital twin answering."""

    def _init(self) -> None:
        from pyvisa_sim import parser

        self.sessions = {}
        self.devices = parser.get_devices(str(YAML_PATH), False)
        self.twins: dict[int, TwinSession] = {}
        name = str(self.library_path)
        self.bench_name = None if name in ("unset", "") else name
        self.own_bench = SimBench() if self.bench_name is None else None

    def bench(self) -> SimBench:
        """The bench this library answers from: the registered one it was opened with, else its own."""
        return self.own_bench if self.bench_name is None else lookup(self.bench_name)

    def open(self, session, resource_name: str, access_mode=constants.AccessModes.no_lock,
             open_timeout=constants.VI_TMO_IMMEDIATE):
        bench = self.bench()
        try:
            parsed = rname.parse_resource_name(resource_name)
        except rname.InvalidResourceName:
            return 0, constants.StatusCode.error_invalid_resource_name
        name = getattr(parsed, "lan_device_name", "")
        canonical = str(parsed)
        if canonical.startswith(RESOURCE_PREFIX):
            canonical = f"{RESOURCE_PREFIX}{device_for(name, bench)}::INSTR"
        handle, status = super().open(session, canonical, access_mode, open_timeout)
        if status != constants.StatusCode.success:
            return handle, status
        device = self.sessions[handle].device
        self.twins[handle] = TwinSession(bench.instrument(device.name))
        return handle, status

    def close(self, session):
        self.twins.pop(session, None)
        return super().close(session)

    def write(self, session, data: bytes):
        twin = self.twins.get(session)
        if twin is None:
            return super().write(session, data)
        twin.write(bytes(data))
        return len(data), constants.StatusCode.success

    def read(self, session, count: int):
        twin = self.twins.get(session)
        if twin is None:
            return super().read(session, count)
        timeout_ms, _ = self.sessions[session].get_attribute(constants.ResourceAttribute.timeout_value)
        timeout_s = 2.0 if timeout_ms in (None, constants.VI_TMO_INFINITE) else timeout_ms / 1000
        return twin.read(count, timeout_s)

    def list_resources(self, session, query: str = "?*::INSTR"):
        found = rname.filter(tuple(RESOURCES.values()) + tuple(self.devices.list_resources()), query)
        if found:
            return found
        raise errors.VisaIOError(errors.StatusCode.error_resource_not_found.value)
