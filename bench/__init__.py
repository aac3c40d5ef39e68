"""Qualification runs: plan (TOML) -> station -> per cable (measure, judge by declared gates, record) -> summary.

``accbench.bench.plan.load_plan`` validates a plan, ``accbench.bench.qualify.run_plan`` runs it on a
station (``accbench.api.qualify`` picks the simulated one by default), ``accbench.bench.record``
writes and reads the run record, ``accbench.bench.traceability`` relates the verdicts to the wire
lots' surface carbon.
"""
