"""Issue 5 benchmark cases: the simulated bench's round trips and 4-port captures, each beside
pyvisa-sim's own YAML replay of the same byte count."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.timing import median_time_s, rate_per_s

REPLAY_YAML = """spec: "1.1"
devices:
  replay:
    eom:
      TCPIP INSTR: {{q: "\\n", r: "\\n"}}
    error: ERROR
    dialogues:
      - q: "*IDN?"
        r: "Keysight Technologies,N5247B,MY00SIM001,A.17.20.09"
      - q: "FREQ?"
        r: "{freq}"
      - q: "TRACE?"
        r: "{trace}"
resources:
  TCPIP0::replay::INSTR: {{device: replay}}
"""


def run_cases(add, repeat: int) -> None:
    """Add the rows: *IDN? rate, in-process and socket 2001-point 4-port capture, pyvisa-sim replay."""
    import pyvisa
    from accbench.instruments import open_instrument
    from accbench.instruments.vna import SweepSettings
    from accbench.sim.registry import backend_for, register
    from accbench.sim.server import SimServer
    from accbench.sim.twin import SimBench
    from accbench.sim.visa import RESOURCES

    points = 2001
    freq_bytes, trace_bytes = 8 * points + 6, 16 * points + 6  # REAL,64 blocks with their '#5nnnnn' headers
    backend = backend_for(register(SimBench(seed=1)))
    rm = pyvisa.ResourceManager(backend)
    res = rm.open_resource(RESOURCES["vna"])
    idn_rate = rate_per_s(lambda: res.query("*IDN?"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replay.yaml"
        path.write_text(REPLAY_YAML.format(freq="1" * freq_bytes, trace="2" * trace_bytes))
        replay = pyvisa.ResourceManager(f"{path}@sim").open_resource("TCPIP0::replay::INSTR")
        replay.read_termination = replay.write_termination = "\n"
        replay_idn = rate_per_s(lambda: replay.query("*IDN?"))

        def replay_capture():
            replay.query("FREQ?")
            for _ in range(16):
                replay.query("TRACE?")

        t_replay = median_time_s(replay_capture, 1)
    add("sim *IDN? round trips, in-process (<bench>@accsim)", f"{idn_rate:,.0f}/s",
        f"pyvisa-sim YAML {replay_idn:,.0f}/s",
        f"{idn_rate / replay_idn:.1f}x", ">= 20000/s", idn_rate >= 20000)

    settings = SweepSettings(10e6, 50e9, points, 1e3)
    vna = open_instrument(RESOURCES["vna"], backend)
    t_in = median_time_s(lambda: vna.measure_sparams(settings), repeat)
    add(f"sim 4-port {points}-pt REAL,64 capture (16 params), in-process", f"{t_in * 1e3:.1f} ms",
        f"pyvisa-sim replay of the same bytes {t_replay * 1e3:.0f} ms", f"{t_replay / t_in:.0f}x faster",
        "< 50 ms", t_in < 0.05)
    with SimServer(SimBench(seed=1), base_port=0) as server:
        vna = open_instrument(server.resource("vna"), "@py")
        t_sock = median_time_s(lambda: vna.measure_sparams(settings), repeat)
        vna.close()
    add(f"sim 4-port {points}-pt capture, loopback socket via pyvisa-py", f"{t_sock * 1e3:.1f} ms",
        f"pyvisa-sim replay {t_replay * 1e3:.0f} ms", f"{t_replay / t_sock:.0f}x faster", "< 150 ms", t_sock < 0.15)
