"""Signal processing for ACC qualification: S-parameter figures, twinax physics, link models.

Everything here works on scikit-rf ``Network`` objects and numpy arrays in SI units. The
names below are imported lazily, so ``import accbench.dsp.tdsim`` does not load scikit-rf.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "AnalysisOptions": "accbench.dsp.analysis",
    "AnalysisResult": "accbench.dsp.analysis",
    "analyze": "accbench.dsp.analysis",
    "analyze_file": "accbench.dsp.analysis",
    "analyze_rates": "accbench.dsp.analysis",
    "read_touchstone": "accbench.dsp.touchstone",
    "write_touchstone": "accbench.dsp.touchstone",
    "TwinaxSpec": "accbench.dsp.twinax",
    "twinax_network": "accbench.dsp.twinax",
    "LinkConfig": "accbench.dsp.linkconfig",
    "simulate_link": "accbench.dsp.link",
    "find_reach": "accbench.dsp.reach",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'accbench.dsp' has no attribute {name!r}")
