"""COM parameter tables, one TOML file per clause (``dsp/com/tables``), read into typed, SI-unit values.

Each table names its sources; ``ClauseParams.describe()`` carries them into every result, so a COM
figure always says which draft or configuration sheet its numbers come from.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from accbench.errors import InputError

TABLES = Path(__file__).with_name("tables")


def grid(triple: list[float]) -> np.ndarray:
    """``[min, step, max]`` -> the values, inclusive, rounded to the step's decimals."""
    low, step, high = (float(v) for v in triple)
    if step <= 0:
        return np.array([low])
    n = round((high - low) / step) + 1
    return np.round(low + step * np.arange(n), 10)


@dataclass(frozen=True)
class Segment:
    """One transmission-line stage: length (m) and differential impedance (ohm)."""

    length_mm: float | str
    zc_ohm: float


@dataclass(frozen=True)
class LineModel:
    """Loss and delay of the COM transmission line (93A-9..12): per mm, f in GHz."""

    gamma0: float
    a1: float
    a2: float
    tau_ns: float


@dataclass(frozen=True)
class ClauseParams:
    """Everything COM and ERL need for one clause, SI units (Hz, s, ohm, F, H, V)."""

    clause: str
    title: str
    method: str  # "93A" or "178A"
    baud: float
    f_step_hz: float
    levels: int
    samples_per_ui: int
    der_0: float
    t_r_s: float
    r_0: float
    r_d: float
    a_v: float
    a_fe: float
    a_ne: float
    r_lm: float
    a_dd_ui: float
    sigma_rj_ui: float
    snr_tx_db: float
    eta_0_v2_per_hz: float
    n_qb: int
    p_qc: float
    tx_taps: dict[int, np.ndarray]  # tap index (-3..1) -> the grid of values
    c0_min: float
    f_z_hz: float
    f_p1_hz: float
    f_p2_hz: float
    f_lf_hz: float
    g_dc_db: np.ndarray
    g_dc2_db: np.ndarray
    f_r: float
    b_max: np.ndarray
    b_min: np.ndarray
    rx_ffe: dict | None
    floating_dfe: dict | None
    mlsd: bool
    dcom_an_db: float
    device: dict
    packages: dict
    host: dict
    limits: dict
    erl: dict | None
    icn: dict | None
    sources: dict
    checked_against_standard: bool = False
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def ui_s(self) -> float:
        return 1.0 / self.baud

    def describe(self) -> dict:
        """The clause, its parameter sources and whether they were checked against the standard's text."""
        return {"clause": self.clause, "title": self.title, "method": self.method, "sources": dict(self.sources),
                "checked_against_standard": self.checked_against_standard}


def _line(table: dict) -> LineModel:
    return LineModel(float(table["gamma0"]), float(table["a1"]), float(table["a2"]), float(table["tau"]))


def _parse(data: dict) -> ClauseParams:
    s, ctle, tx = data["signal"], data["ctle"], data["tx_ffe"]
    taps = {-3: "c_m3", -2: "c_m2", -1: "c_m1", 1: "c_p1"}
    dfe = data.get("dfe", {"b_max": [], "b_min": []})
    packages = {}
    if "package" in data:
        pkg = data["package"]
        if "segments" in pkg or all(isinstance(v, dict) for v in pkg.values()):
            for name, table in pkg.items():
                segments = [Segment(length, float(z)) for length, z in table["segments"]]
                packages[name] = {"line": _line(table), "segments": segments}
        else:
            packages["93A"] = {"line": _line(pkg), "zc": [float(z) for z in pkg["zc"]],
                               **{k: [[float(x) for x in case] for case in pkg[k]]
                                  for k in ("zp_tx", "zp_rx", "zp_next", "zp_fext")}}
    host = {}
    if "host_classes" in data:
        host = {"line": _line(data["host_line"]), "zc": float(data["host_line"]["zc"]),
                "classes": dict(data["host_classes"]),
                "cable_classes": {k: [tuple(p) for p in v] for k, v in data["cable_classes"].items()}}
    elif "host_board" in data:
        hb = data["host_board"]
        host = {"board": {"line": _line(hb), "zc": float(hb["zc"]), "length_mm": float(hb["length_mm"]),
                          "c_0_f": float(hb["c_0_nf"]) * 1e-9, "c_1_f": float(hb["c_1_nf"]) * 1e-9}}
    dev = data["device"]
    return ClauseParams(
        clause=data["clause"], title=data["title"], method=data["method"],
        baud=float(s["f_b_gbd"]) * 1e9, f_step_hz=float(s["f_step_ghz"]) * 1e9, levels=int(s["levels"]),
        samples_per_ui=int(s["samples_per_ui"]), der_0=float(s["der_0"]), t_r_s=float(s["t_r_ns"]) * 1e-9,
        r_0=float(s["r_0_ohm"]), r_d=float(s["r_d_ohm"]), a_v=float(s["a_v"]), a_fe=float(s["a_fe"]),
        a_ne=float(s["a_ne"]), r_lm=float(s["r_lm"]), a_dd_ui=float(s["a_dd_ui"]),
        sigma_rj_ui=float(s["sigma_rj_ui"]), snr_tx_db=float(s["snr_tx_db"]),
        eta_0_v2_per_hz=float(s["eta_0_v2_per_ghz"]) * 1e-9, n_qb=int(s["n_qb"]), p_qc=float(s["p_qc"]),
        tx_taps={k: grid(tx[name]) for k, name in taps.items() if name in tx}, c0_min=float(tx["c0_min"]),
        f_z_hz=float(ctle["f_z_ghz"]) * 1e9, f_p1_hz=float(ctle["f_p1_ghz"]) * 1e9,
        f_p2_hz=float(ctle["f_p2_ghz"]) * 1e9, f_lf_hz=float(ctle["f_lf_ghz"]) * 1e9,
        g_dc_db=grid(ctle["g_dc_db"]), g_dc2_db=grid(ctle["g_dc2_db"]), f_r=float(ctle["f_r"]),
        b_max=np.array(dfe["b_max"], dtype=float), b_min=np.array(dfe["b_min"], dtype=float),
        rx_ffe=dict(data["rx_ffe"]) if "rx_ffe" in data else None,
        floating_dfe=dict(data["floating_dfe"]) if "floating_dfe" in data else None,
        mlsd=bool(data.get("mlsd", {}).get("enabled", False)),
        dcom_an_db=float(data.get("mlsd", {}).get("dcom_an_db", 3.0)),
        device={"c_d_f": [float(c) * 1e-9 for c in dev["c_d_nf"]], "l_s_h": [float(x) * 1e-9 for x in dev["l_s_nh"]],
                "c_b_f": float(dev["c_b_nf"]) * 1e-9, "c_p_f": float(dev["c_p_nf"]) * 1e-9},
        packages=packages, host=host, limits=dict(data.get("limits", {})),
        erl=dict(data["erl"]) if "erl" in data else None, icn=dict(data["icn"]) if "icn" in data else None,
        sources=dict(data.get("sources", {})), checked_against_standard=bool(data.get("checked_against_standard")),
        raw=data)


def clause_names() -> list[str]:
    return sorted(p.stem for p in TABLES.glob("*.toml"))


@lru_cache(maxsize=8)
def load_clause(name: str) -> ClauseParams:
    """The parameters of clause ``name`` (``802.3ck-cr``, ``802.3dj-cr``); unknown names are an InputError."""
    path = TABLES / f"{name}.toml"
    if not path.is_file():
        raise InputError(f"unknown clause {name!r}; use one of {', '.join(clause_names())}")
    return _parse(tomllib.loads(path.read_text(encoding="utf-8")))
