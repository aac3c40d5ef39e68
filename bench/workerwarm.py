"""Imported last by the worker process server of a parallel run: the compiled kernels loaded once.

The statistical engine's numba kernels load (or compile) on first call; called here, in the
server every worker is forked from, each worker starts with them ready instead of paying for
them on its first cable. Import it only in that server (``accbench.bench.parallel.PRELOAD``).
"""

from __future__ import annotations

import numpy as np
from accbench.dsp.statistical import stat_ber


def warm() -> None:
    """Run each kernel once on a tiny input."""
    stat_ber(np.array([0.05, 1.0, 0.1, -0.02]), 1, 0.01, dd_amplitude=0.005, crosstalk=[np.array([0.01, -0.01])])


warm()
