"""Readable terminal tables of results (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _fmt(value, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return f"{value:.{digits}f}{unit}"


def _print_rows(title: str, rows: list[tuple[str, str]], console: Console | None) -> None:
    """Print (figure, value) rows as a two-column table."""
    table = Table(title=title, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    (console or Console()).print(table)


def print_crosstalk(result, console: Console | None = None) -> None:
    """Print a ``CrosstalkResult`` (one NEXT/FEXT file on its own) as a two-column table."""
    pm = result.port_map
    rows = [
        ("crosstalk", result.kind.upper()),
        ("port map", f"{pm.get('thru')} ({pm.get('source')})"),
        ("Nyquist", _fmt(result.nyquist_hz / 1e9, " GHz", 4)),
        ("coupling at Nyquist", _fmt(result.xt_nyquist_db, " dB")),
        ("peak coupling to the baud", f"{result.xt_peak_db:.2f} dB at {result.xt_peak_freq_hz / 1e9:.2f} GHz"),
        ("ICN of this aggressor", _fmt(result.icn_mv, " mV", 3)),
    ]
    _print_rows(f"{result.file} @ {result.baud / 1e9:g} GBd", rows, console)


def print_analysis(result, console: Console | None = None) -> None:
    """Print an ``AnalysisResult`` as a two-column table."""
    pm = result.port_map
    rows = [
        ("port map", f"thru {pm.get('thru')} ({pm.get('source')})"),
        ("Nyquist", _fmt(result.nyquist_hz / 1e9, " GHz", 4)),
        ("IL at Nyquist", _fmt(result.il_db, " dB")),
        ("fitted IL at Nyquist", _fmt(result.il_fitted_db, " dB")),
        ("fit band", f"{result.fit_band_hz[0] / 1e9:g}-{result.fit_band_hz[1] / 1e9:g} GHz"),
        ("ILD rms / peak", f"{result.ild_rms_db:.2f} / {result.ild_peak_db:.2f} dB"),
        ("FOM_ILD", _fmt(result.fom_ild_db, " dB", 3)),
        ("RL at Nyquist", _fmt(result.rl_db, " dB")),
        ("worst RL in band", f"{result.rl_worst_db:.2f} dB at {result.rl_worst_freq_hz / 1e9:.2f} GHz"),
        ("SCD21 at Nyquist", _fmt(result.scd21_db, " dB")),
        ("SCC21 at Nyquist", _fmt(result.scc21_db, " dB")),
        ("delay", _fmt(result.delay_s * 1e9, " ns", 3)),
        ("passive", f"{_fmt(result.passive)} (max singular value {result.max_singular_value:.4f})"),
        ("IEEE 370 causality / passivity / reciprocity",
         f"{result.causality_percent:.1f} / {result.passivity_percent:.1f} / "
         f"{result.reciprocity_percent:.1f} %"),
        ("frequency step", f"{result.freq_step_hz / 1e6:g} MHz "
                           f"({'ok' if result.freq_step_ok else 'TOO COARSE'}; "
                           f"<= {result.recommended_step_hz / 1e6:.3g} MHz)"),
        ("usable band", f"to {result.usable_bw_hz / 1e9:.2f} GHz ({result.usable_bw_reason})"),
    ]
    if result.mask:
        rows.append((f"mask {result.mask} margin",
                     f"{result.mask_margin_db:+.2f} dB at {result.mask_margin_freq_hz / 1e9:.3g} GHz"))
    if result.icn_mv is not None:
        rows.append(("ICN", _fmt(result.icn_mv, " mV", 3)))
    if result.deembedded:
        rows.append(("de-embedded", "yes (IEEE P370 2x-thru)"))
    _print_rows(f"{result.file} @ {result.baud / 1e9:g} GBd", rows, console)


def print_com(result, console: Console | None = None) -> None:
    """Print a ``ComResult``: COM and ERL against the clause's limits, and the chosen equalisation."""
    eq = result.eq
    taps = ", ".join(f"{k} {v:+.2f}" for k, v in eq["tx_ffe"].items() if v)
    rows = [("COM", f"{result.com_db:.2f} dB ({_verdict(result.checks.get('com'))}, "
                    f">= {result.limits.get('com_min_db', 3.0):g} dB)")]
    if result.erl_db is not None:
        rows.append(("ERL", f"{result.erl_db:.2f} dB ({_verdict(result.checks.get('erl'))}, "
                            f">= {result.limits.get('erl_min_db', float('nan')):g} dB)"))
    for case in result.cases:
        rows.append((f"COM {case.case}".strip(), f"{case.com_db:.2f} dB (FOM {case.fom_db:.2f} dB, "
                                                 f"{case.evaluations} candidates)"))
    rows += [("CTLE", f"gDC {eq['g_dc_db']:g} dB, gDC2 {eq['g_dc2_db']:g} dB"),
             ("TX FFE", taps or "off"),
             ("DFE", ", ".join(f"{b:.3f}" for b in eq.get("dfe", [])[:4]) or "-")]
    if eq.get("rx_ffe"):
        rows.append(("RX FFE taps", f"{len(eq['rx_ffe'])} (floating at {eq.get('rx_ffe_floating')})"))
    rows += [("verdict", "PASS" if result.passed else "FAIL"),
             ("time", f"{result.elapsed_s:.2f} s ({result.search} search)")]
    _print_rows(f"{result.clause} @ {result.baud / 1e9:g} GBd", rows, console)


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("pass" if ok else "FAIL")


def print_link(result, console: Console | None = None) -> None:
    """Print a ``LinkResult``."""
    rows = [
        ("length", "-" if result.length_m is None else f"{result.length_m:g} m"),
        ("BER / SER", f"{result.ber:.3e} / {result.ser:.3e}"),
        ("target BER", f"{result.target_ber:.2e} ({'pass' if result.ber_pass else 'FAIL'})"),
        ("Link margin (not IEEE COM)", f"{result.margin_db:.2f} dB"),
        ("eye height / width", f"{result.eye_height:.4f} / {result.eye_width_ui:.3f} UI"),
        ("CTLE", f"gDC {result.ctle['gdc_db']:g} dB, gDC2 {result.ctle['gdc2_db']:g} dB"),
        ("FFE taps", ", ".join(f"{c:+.3f}" for c in result.ffe_taps)),
        ("noise at slicer", f"{result.sigma_slicer:.2e} rms"),
        ("power", f"{result.power_w:.2f} W, {result.pj_per_bit:.2f} pJ/bit "
                  f"({'pass' if result.power_pass else 'FAIL'})"),
    ]
    if result.symbols:
        rows.insert(2, ("symbols / bit errors", f"{result.symbols} / {result.errors}"))
    _print_rows(f"PAM4 link @ {result.baud / 1e9:g} GBd ({result.mode})", rows, console)


def print_reach(result, console: Console | None = None) -> None:
    """Print a ``ReachResult``."""
    rows = [
        ("reach", f"{result.reach_m:.2f} m"),
        ("required", f"{result.required_m:g} m: {'PASS' if result.passed else 'FAIL'}"),
        ("stretch", f"{result.stretch_m:g} m: {'pass' if result.stretch_pass else 'not met'}"),
        ("margin at required length", f"{result.margin_db:.2f} dB (BER {result.ber_at_required:.2e})"),
        ("power", f"{result.power_w:.2f} W <= {result.power_max_w:g} W: "
                  f"{'PASS' if result.power_pass else 'FAIL'} ({result.pj_per_bit:.2f} pJ/bit)"),
    ]
    _print_rows(f"reach @ {result.baud / 1e9:g} GBd, BER <= {result.target_ber:.2e}", rows, console)


def print_capabilities(cap: dict | None, console: Console | None = None) -> None:
    """What the instrument model can do (``accbench identify``), with the documents the limits come from."""
    console = console or Console()
    if cap is None:
        console.print("capabilities: this model is not in accbench's capability table")
        return
    for key, value in cap.items():
        if key in ("model", "maker", "dialect", "sources", "notes"):
            continue
        if isinstance(value, list) and value and all(isinstance(v, float | int) for v in value):
            value = " .. ".join(f"{v:g}" for v in value)
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        console.print(f"  {key}: {value}")
    for what, source in cap.get("sources", {}).items():
        console.print(f"  source ({what}): {source}")
    for note in cap.get("notes", []):
        console.print(f"  note: {note}")
