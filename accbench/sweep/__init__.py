"""Design and corpus sweeps evaluated on Dask distributed.

``run_sweep(spec, output)`` reads a sweep spec (``spec``: a grid or random design over the cable and
link parameters, or a folder of Touchstone files per COM clause), evaluates the points not yet
recorded on Dask (a local cluster or a running scheduler) and records one Parquet row per point.
The modules, one job each: ``params`` (what a design may vary), ``spec`` (reading and checking the
TOML), ``design`` (the points and their hash), ``point`` (a point as library objects), ``evaluate``
(what runs on the workers), ``columns`` (the table's schema), ``store`` (Parquet parts, merge,
resume), ``cluster`` (Dask) and ``runner`` (all of it in order).
"""

from accbench.sweep.runner import SweepSummary, run_sweep
from accbench.sweep.spec import SweepSpec, SweepSpecError, load_spec
from accbench.sweep.store import read_results

__all__ = ["SweepSpec", "SweepSpecError", "SweepSummary", "load_spec", "read_results", "run_sweep"]
