"""Qualification runs: plan (TOML) -> instruments -> analysis -> gates -> HDF5 record -> summary.

``bench.plan.load_plan`` validates a plan, ``bench.qualify.run_plan`` runs it (on the simulated
bench by default), ``bench.record`` writes and reads the run record, ``bench.traceability``
relates the verdicts to the wire lots' surface carbon.
"""
