"""One NEXT or FEXT file analysed on its own: its crosstalk level and the ICN it alone would add.

A crosstalk file has no thru path, so its port map cannot be found from the transmission
magnitudes: it is the map of the thru it belongs beside (``1-2,3-4`` unless ``thru`` says
otherwise), and the differential "SDD21" of the file is the aggressor-to-victim coupling.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import skrf as rf
from accbench.dsp.crosstalk import IcnParams, icn_v
from accbench.dsp.figures import db
from accbench.dsp.portmap import check_map_text, parse_thru, to_se2gmm_order
from accbench.dsp.touchstone import read_touchstone
from accbench.dsp.weighting import default_transition_s

from accbench.errors import BandError, FieldError, TouchstoneError

KINDS = ("next", "fext")
DEFAULT_MAP = "1-2,3-4"  # the order of the IEEE 802.3 channel files and of most exports


@dataclass(frozen=True)
class CrosstalkResult:
    """The coupling of one aggressor file (dB, negative) and its ICN alone (mV rms)."""

    file: str
    kind: str
    baud: float
    nyquist_hz: float
    port_map: dict
    xt_nyquist_db: float
    xt_peak_db: float
    xt_peak_freq_hz: float
    icn_mv: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        return out


def analyze_crosstalk_file(path: str | Path, kind: str, baud: float, thru: str = "auto",
                           icn: IcnParams | None = None, transition_s: float | None = None) -> CrosstalkResult:
    """Read a 4-port NEXT/FEXT file and give its coupling at Nyquist, its peak up to the baud, and its ICN."""
    if kind not in KINDS:
        raise FieldError(f"crosstalk kind {kind!r} is not one of {', '.join(KINDS)}", "crosstalk")
    network = read_touchstone(path)
    return analyze_crosstalk(network, kind, baud, thru, icn, transition_s, name=str(path))


def analyze_crosstalk(network: rf.Network, kind: str, baud: float, thru: str = "auto",
                      icn: IcnParams | None = None, transition_s: float | None = None,
                      name: str = "") -> CrosstalkResult:
    """``analyze_crosstalk_file`` on a Network already read."""
    name = name or network.name or "network"
    if network.nports != 4:
        raise TouchstoneError(f"{name}: a crosstalk file is a 4-port (two ports of the aggressor pair, two of "
                              f"the victim's), this one has {network.nports}", "crosstalk")
    warnings: list[str] = []
    check_map_text(thru)
    if thru.strip().lower() == "auto":
        port_map = replace(parse_thru(DEFAULT_MAP), source="assumed (crosstalk file)")
        warnings.append(f"port map {DEFAULT_MAP} assumed (a crosstalk file has no thru to detect it from); "
                        "give the map of its thru if that differs")
    else:
        port_map = parse_thru(thru)
    f = network.f
    nyquist = baud / 2
    if f[-1] < nyquist:
        raise BandError(f"{name}: the data ends at {f[-1] / 1e9:g} GHz, short of Nyquist {nyquist / 1e9:g} GHz; "
                        "measure higher or lower the baud", "baud")
    mm = to_se2gmm_order(network, port_map)
    mm.se2gmm(p=2)
    coupling = np.abs(mm.s[:, 1, 0])
    level_db = db(coupling)
    upto = f <= baud
    peak = int(np.argmax(np.where(upto, level_db, -np.inf)))
    params = icn or IcnParams()
    transition = transition_s or default_transition_s(baud)
    next_xt, fext_xt = ([coupling], []) if kind == "next" else ([], [coupling])
    icn_mv = 1e3 * icn_v(f, next_xt, fext_xt, baud, params, transition)
    if level_db[peak] > -3.0:
        warnings.append(f"coupling reaches {level_db[peak]:.1f} dB: that is a thru path, not crosstalk "
                        "(is the port map right, or is this the thru file?)")
    return CrosstalkResult(
        file=name, kind=kind, baud=baud, nyquist_hz=nyquist, port_map=port_map.to_dict(),
        xt_nyquist_db=float(np.interp(nyquist, f, level_db)), xt_peak_db=float(level_db[peak]),
        xt_peak_freq_hz=float(f[peak]), icn_mv=icn_mv, warnings=tuple(warnings),
    )
