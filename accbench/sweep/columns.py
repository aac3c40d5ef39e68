"""The columns of a sweep's result table: the point's inputs, each output group's figures, and the bookkeeping.

One row per point: ``point`` (its index in the design), the inputs as the spec names them, the
outputs of the groups the spec asks for (null on a failed point), then ``status`` (ok/failed),
``error`` (the one-line reason of a failure), ``elapsed_s`` and ``worker``. Units are in the names
or, where a name is the library's own (``eye_height``: peak level 1), stated here.
"""

from __future__ import annotations

import pyarrow as pa

from accbench.sweep.params import PARAMETERS

F64, BOOL, TEXT, TAPS = pa.float64(), pa.bool_(), pa.string(), pa.list_(pa.float64())

OUTPUT_COLUMNS: dict[str, tuple[tuple[str, pa.DataType, str], ...]] = {
    "loss": (
        ("il_db", F64, "insertion loss of the twinax pair at Nyquist (baud / 2), positive dB"),
        ("il_db_per_m", F64, "il_db per metre of cable"),
    ),
    "sparams": (
        ("il_fitted_db", F64, "fitted IL at Nyquist of the synthesized 4-port (accbench analyze)"),
        ("ild_rms_db", F64, "rms IL deviation over the fit band"),
        ("fom_ild_db", F64, "FOM_ILD"),
        ("rl_db", F64, "return loss at Nyquist"),
        ("delay_s", F64, "propagation delay"),
    ),
    "link": (
        ("ber", F64, "statistical BER at the slicer"),
        ("ser", F64, "symbol error rate"),
        ("margin_db", F64, "link margin of the ACC model at DER0 (not IEEE COM)"),
        ("eye_height", F64, "eye height at the target BER, relative to the peak level (1)"),
        ("ctle_gdc_db", F64, "CTLE gDC chosen by the search"),
        ("ctle_gdc2_db", F64, "CTLE gDC2 chosen by the search"),
        ("ffe_taps", TAPS, "RX FFE taps chosen (pre-cursors first)"),
        ("sigma_slicer", F64, "Gaussian noise rms at the slicer (peak level 1)"),
        ("power_w", F64, "cable power of the power model"),
        ("pj_per_bit", F64, "energy per bit"),
        ("ber_pass", BOOL, "ber <= target_ber"),
        ("power_pass", BOOL, "power_w within max_power_w"),
    ),
    "eye_width": (("eye_width_ui", F64, "width of the sampling phases with an open eye at the target BER"),),
    "reach": (
        ("reach_m", F64, "longest length closing the link at the target BER (EQ re-optimised per length)"),
        ("reach_upper_m", F64, "shortest length evaluated that fails: the crossing lies between the two"),
        ("reach_pass", BOOL, "reach_m >= length_m"),
        ("stretch_pass", BOOL, "reach_m >= stretch_m"),
    ),
    "com": (
        ("com_db", F64, "COM of the worst end case"),
        ("erl_db", F64, "ERL (null where the clause reports none)"),
        ("com_pass", BOOL, "every check of the clause passes"),
        ("il_db", F64, "IL at the clause's Nyquist"),
        ("fitted_il_db", F64, "fitted IL at Nyquist"),
        ("ild_rms_db", F64, "rms ILD over the clause's fit band"),
        ("fom_ild_db", F64, "FOM_ILD with the clause's settings"),
        ("icn_mv", F64, "ICN (null without aggressors)"),
        ("g_dc_db", F64, "CTLE gDC chosen"),
        ("g_dc2_db", F64, "CTLE gDC2 chosen"),
        ("tx_ffe", TAPS, "TX FFE chosen, c(-3)..c(3)"),
        ("dfe_taps", TAPS, "DFE taps"),
        ("rx_ffe", TAPS, "RX FFE taps (Annex 178A; null for 93A)"),
        ("warnings", TEXT, "the result's warnings, joined by '; '"),
        ("com_json", TEXT, "the whole result as accbench com --json prints it"),
    ),
}
"""Output group -> (column, type, meaning)."""

BOOKKEEPING = (("status", TEXT), ("error", TEXT), ("elapsed_s", F64), ("worker", TEXT))
_INPUT_TYPES = {"number": F64, "integer": pa.int64(), "text": TEXT, "bool": BOOL}


def schema(input_names: tuple[str, ...], outputs: tuple[str, ...], corpus: bool) -> pa.Schema:
    """The table's schema: point, inputs, the outputs' columns, bookkeeping (fixed, so every part file agrees)."""
    fields = [pa.field("point", pa.int64(), nullable=False)]
    if corpus:
        fields += [pa.field("file", TEXT), pa.field("clause", TEXT)]
    else:
        fields += [pa.field(name, _INPUT_TYPES[PARAMETERS[name].kind]) for name in input_names]
    for group in outputs:
        fields += [pa.field(name, kind) for name, kind, _ in OUTPUT_COLUMNS[group]]
    fields += [pa.field(name, kind) for name, kind in BOOKKEEPING]
    return pa.schema(fields)
