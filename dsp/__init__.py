"""Signal processing for ACC qualification: S-parameter figures, twinax physics, link models.

Everything here works on scikit-rf ``Network`` objects and numpy arrays in SI units. The
names below are imported lazily, so ``import dsp.tdsim`` does not load scikit-rf.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "AnalysisOptions": "dsp.analysis",
    "AnalysisResult": "dsp.analysis",
    "analyze": "dsp.analysis",
    "analyze_file": "dsp.analysis",
    "analyze_rates": "dsp.analysis",
    "read_touchstone": "dsp.touchstone",
    "write_touchstone": "dsp.touchstone",
    "TwinaxSpec": "dsp.twinax",
    "twinax_network": "dsp.twinax",
    "LinkConfig": "dsp.linkconfig",
    "simulate_link": "dsp.link",
    "find_reach": "dsp.reach",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dsp' has no attribute {name!r}")
