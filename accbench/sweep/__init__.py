"""Design and corpus sweeps evaluated on Dask distributed."""
