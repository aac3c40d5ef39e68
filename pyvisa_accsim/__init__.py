"""pyvisa backend ``@accsim``: the accbench simulated bench (see ``accbench.sim.visa``)."""

from accbench.sim.visa import AccbenchSimLibrary

WRAPPER_CLASS = AccbenchSimLibrary

__all__ = ["WRAPPER_CLASS", "AccbenchSimLibrary"]
