"""Evaluating sweep points: what runs on the Dask workers (importable, top-level, no state).

A design point is synthesized (the twinax model of ``accbench synth``) and evaluated with the
functions behind ``accbench analyze``/``link``/``reach``; a corpus point is ``compute_com`` of one
file under one clause, as ``accbench com``. Any exception of a point becomes its row's ``error``
(status failed), so one bad file or closed link never stops a sweep.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from accbench.sweep.design import Job

MAX_ERROR_CHARS = 500


def evaluate_batch(job: Job, batch: Sequence[tuple[int, Mapping[str, Any]]], single_thread: bool = True) -> list[dict]:
    """Rows of ``batch`` ((index, point) pairs); the Dask task. ``single_thread`` keeps numba to one thread."""
    if single_thread:
        _one_numba_thread()
    worker = worker_name()
    return [evaluate_point(job, index, point, worker) for index, point in batch]


def evaluate_point(job: Job, index: int, point: Mapping[str, Any], worker: str = "") -> dict:
    """The row of one point: inputs, outputs (or the error), status, time taken and worker."""
    start = time.perf_counter()
    row: dict[str, Any] = {"point": index, **point}
    try:
        values = design_outputs(point, job.outputs) if job.kind == "design" else com_outputs(job, point)
        row.update(values, status="ok", error=None)
    except Exception as exc:  # a failed point is recorded, never fatal (KeyboardInterrupt still stops the sweep)
        row.update(status="failed", error=error_line(exc))
    row.update(elapsed_s=time.perf_counter() - start, worker=worker)
    return row


def error_line(exc: BaseException) -> str:
    """One bounded line naming the exception's type and its message."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def design_outputs(point: Mapping[str, Any], outputs: Sequence[str]) -> dict[str, Any]:
    """The output groups of one design point (see ``columns.OUTPUT_COLUMNS``)."""
    from accbench.sweep.point import build_point, stretch_m

    spec, setup = build_point(point)
    out: dict[str, Any] = {}
    baud = setup.config.baud
    if "loss" in outputs:
        from accbench.dsp.channel import TwinaxChannel

        sdd21 = TwinaxChannel(spec).sdd21(np.array([baud / 2]))
        out["il_db"] = float(-20 * np.log10(np.abs(sdd21[0])))
        out["il_db_per_m"] = out["il_db"] / spec.length_m
    if "sparams" in outputs:
        from accbench.dsp.analysis import AnalysisOptions, analyze
        from accbench.dsp.twinax import twinax_network

        result = analyze(twinax_network(spec), AnalysisOptions(baud=baud), name="twinax")
        out.update(il_fitted_db=result.il_fitted_db, ild_rms_db=result.ild_rms_db, fom_ild_db=result.fom_ild_db,
                   rl_db=result.rl_db, delay_s=result.delay_s)
    if "link" in outputs:
        link = setup.simulate(mode="stat", with_eye_width="eye_width" in outputs)
        out.update(ber=link.ber, ser=link.ser, margin_db=link.margin_db, eye_height=link.eye_height,
                   ctle_gdc_db=link.ctle["gdc_db"], ctle_gdc2_db=link.ctle["gdc2_db"], ffe_taps=link.ffe_taps,
                   sigma_slicer=link.sigma_slicer, power_w=link.power_w, pj_per_bit=link.pj_per_bit,
                   ber_pass=link.ber_pass, power_pass=link.power_pass)
        if "eye_width" in outputs:
            out["eye_width_ui"] = link.eye_width_ui
    if "reach" in outputs:
        reach = setup.reach(spec.length_m, stretch_m(point))
        out.update(reach_m=reach.reach_m, reach_upper_m=reach.reach_upper_m, reach_pass=reach.passed,
                   stretch_pass=reach.stretch_pass)
    return out


def com_outputs(job: Job, point: Mapping[str, Any]) -> dict[str, Any]:
    """COM, ERL, figures and the chosen equaliser of one corpus file under one clause (``accbench com``)."""
    from accbench.dsp.com import compute_com

    options = job.com or {}
    result = compute_com(Path(job.folder) / point["file"], clause=point["clause"],
                         tx_ffe=options.get("tx_ffe", True), host_class=options.get("host_class"),
                         mode=options.get("search", "smart"), thru_map=options.get("thru", "auto"))
    data = result.to_dict()
    figures = result.figures or {}
    eq = result.eq
    return {
        "com_db": result.com_db, "erl_db": result.erl_db, "com_pass": result.passed,
        "il_db": figures.get("il_db_at_nyquist"), "fitted_il_db": figures.get("fitted_il_db_at_nyquist"),
        "ild_rms_db": figures.get("ild_rms_db"), "fom_ild_db": figures.get("fom_ild_db"),
        "icn_mv": figures.get("icn_mv"), "g_dc_db": eq.get("g_dc_db"), "g_dc2_db": eq.get("g_dc2_db"),
        "tx_ffe": [float(v) for v in eq.get("tx_ffe", {}).values()], "dfe_taps": _floats(eq.get("dfe")),
        "rx_ffe": _floats(eq.get("rx_ffe")), "warnings": "; ".join(result.warnings),
        "com_json": json.dumps(data, default=float),
    }


def _floats(values: Any) -> list[float] | None:
    """A list of taps as floats (None stays None)."""
    return None if values is None else [float(v) for v in values]


def worker_name() -> str:
    """The Dask worker's address, or ``local:<pid>`` outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local:{os.getpid()}"


def _one_numba_thread() -> None:
    """One numba thread per task: the cluster's processes are the parallelism (no oversubscription)."""
    try:
        import numba

        if numba.get_num_threads() != 1:
            numba.set_num_threads(1)
    except (ImportError, ValueError):  # numba missing, or NUMBA_NUM_THREADS already pinned lower
        pass
