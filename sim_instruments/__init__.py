"""Simulated instruments: one digital twin of the cable under test behind the real drivers.

``SimBench`` holds the simulated cables and faults; ``sim_instruments.visa`` is the in-process
pyvisa backend (``@accsim``, built on pyvisa-sim) and ``SimServer`` the SCPI socket server.
"""

from sim_instruments.faults import FaultPlan, parse_faults
from sim_instruments.server import SimServer
from sim_instruments.twin import SimBench, SimDut, current_bench, parse_dut, set_bench

__all__ = ["FaultPlan", "SimBench", "SimDut", "SimServer", "current_bench", "parse_dut", "parse_faults", "set_bench"]
