"""pyvisa backend ``@accsim``: the accbench simulated bench (see ``sim_instruments.visa``)."""

from accbench.sim.visa import AccbenchSimLibrary

WRAPPER_CLASS = AccbenchSimLibrary

__all__ = ["WRAPPER_CLASS", "AccbenchSimLibrary"]
