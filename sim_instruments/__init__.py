"""Simulated instruments: one digital twin of the cable under test behind the real drivers.

``SimBench`` holds the simulated cables and faults; ``SimulatedStation`` is a qualification
plan's bench as a station (``accbench.station``); ``accbench.sim.visa`` is the in-process pyvisa
backend (``<name>@accsim``, built on pyvisa-sim; ``accbench.sim.registry`` names the benches) and
``SimServer`` the SCPI socket server.
"""

from accbench.sim.faults import FaultPlan, parse_faults
from accbench.sim.registry import backend_for, register, unregister
from accbench.sim.server import SimServer
from accbench.sim.station import SimConfig, SimulatedStation, parse_sim_table
from accbench.sim.twin import SimBench, SimDut, parse_dut

__all__ = ["FaultPlan", "SimBench", "SimConfig", "SimDut", "SimServer", "SimulatedStation", "backend_for",
           "parse_dut", "parse_faults", "parse_sim_table", "register", "unregister"]
