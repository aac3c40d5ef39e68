"""Issue 5 benchmark cases: the simulated bench's round trips and 4-port captures, each timed paired with
pyvisa-sim's own YAML replay of the same byte count (alternating runs, medians; issue 16)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.timing import paired_times_s

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
    """Add the rows: *IDN? rate, in-process and socket 2001-point 4-port capture, each timed paired with
    pyvisa-sim's replay of the same bytes (alternating runs, median of ``repeat``, like the other cases)."""
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
    res = pyvisa.ResourceManager(backend).open_resource(RESOURCES["vna"])
    settings = SweepSettings(10e6, 50e9, points, 1e3)
    vna = open_instrument(RESOURCES["vna"], backend)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replay.yaml"
        path.write_text(REPLAY_YAML.format(freq="1" * freq_bytes, trace="2" * trace_bytes))
        replay = pyvisa.ResourceManager(f"{path}@sim").open_resource("TCPIP0::replay::INSTR")
        replay.read_termination = replay.write_termination = "\n"

        def replay_capture():
            replay.query("FREQ?")
            for _ in range(16):
                replay.query("TRACE?")

        n_idn = 500
        t_idn, t_replay_idn = paired_times_s(lambda: [res.query("*IDN?") for _ in range(n_idn)],
                                             lambda: [replay.query("*IDN?") for _ in range(n_idn)], repeat)
        idn_rate, replay_idn = n_idn / t_idn, n_idn / t_replay_idn
        add("sim *IDN? round trips, in-process (<bench>@accsim)", f"{idn_rate:,.0f}/s",
            f"pyvisa-sim YAML {replay_idn:,.0f}/s", f"{idn_rate / replay_idn:.1f}x", ">= 20000/s", idn_rate >= 20000)
        t_in, t_replay = paired_times_s(lambda: vna.measure_sparams(settings), replay_capture, repeat)
        add(f"sim 4-port {points}-pt REAL,64 capture (16 params), in-process", f"{t_in * 1e3:.1f} ms",
            f"pyvisa-sim replay of the same bytes {t_replay * 1e3:.0f} ms", f"{t_replay / t_in:.0f}x faster",
            "< 50 ms", t_in < 0.05)
        with SimServer(SimBench(seed=1), base_port=0) as server:
            sock = open_instrument(server.resource("vna"), "@py")
            t_sock, t_replay_s = paired_times_s(lambda: sock.measure_sparams(settings), replay_capture, repeat)
            sock.close()
        add(f"sim 4-port {points}-pt capture, loopback socket via pyvisa-py", f"{t_sock * 1e3:.1f} ms",
            f"pyvisa-sim replay {t_replay_s * 1e3:.0f} ms", f"{t_replay_s / t_sock:.0f}x faster", "< 150 ms",
            t_sock < 0.15)
        replay.close()
    vna.close()
    res.close()
