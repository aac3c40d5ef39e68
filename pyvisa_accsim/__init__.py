"""pyvisa backend ``@accsim``: the accbench simulated bench (see ``sim_instruments.visa``)."""

from sim_instruments.visa import AccbenchSimLibrary

WRAPPER_CLASS = AccbenchSimLibrary

__all__ = ["WRAPPER_CLASS", "AccbenchSimLibrary"]
