"""Signal processing for ACC qualification: S-parameter figures, twinax physics, link models.

Everything here works on scikit-rf ``Network`` objects and numpy arrays in SI units.
"""

from dsp.analysis import AnalysisOptions, AnalysisResult, analyze, analyze_file
from dsp.touchstone import read_touchstone, write_touchstone
from dsp.twinax import TwinaxSpec, twinax_network

__all__ = [
    "AnalysisOptions",
    "AnalysisResult",
    "TwinaxSpec",
    "analyze",
    "analyze_file",
    "read_touchstone",
    "twinax_network",
    "write_touchstone",
]
