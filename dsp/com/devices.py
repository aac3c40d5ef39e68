"""The transmitter and receiver ends COM adds to a channel: die, package, host board (93A.1.2, 178A.1.4).

Each end is a differential two-port referenced to 2 R0: the transmitter's port 1 faces its die and
port 2 the channel; the receiver's port 1 faces the channel. 802.3dj (Annex 178A) builds an end from
the host class (die ladder, class A or B package, partial host channel); 802.3ck (Annex 93A) from the
package test case and the host board of the configuration sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from accbench.dsp.com import twoport as tp
from accbench.dsp.com.params import ClauseParams, LineModel

from accbench.errors import InputError


@dataclass(frozen=True)
class EndCase:
    """Which transmitter and receiver ends to model: a host-class pair (178A) or a package test case (93A)."""

    tx: str
    rx: str
    case: int = 0  # 93A package test case (z_p select), 0-based

    @property
    def label(self) -> str:
        return f"{self.tx}-{self.rx}" if self.tx else f"package case {self.case + 1}"


def _line(freq_hz: np.ndarray, line: LineModel, zc: float, length_mm: float, r0: float) -> np.ndarray:
    gamma = tp.tline_gamma(freq_hz, line.gamma0, line.a1, line.a2, line.tau_ns)
    return tp.tline(freq_hz, zc, length_mm, gamma, r0)


def _die(freq_hz: np.ndarray, p: ClauseParams) -> np.ndarray:
    """Die ladder (shunt C_d(n), series L_s(n), n = 1..N) ending in the bump C_b (178A-9, 178A-10)."""
    r0, dev = p.r_0, p.device
    stages = []
    for c_d, l_s in zip(dev["c_d_f"], dev["l_s_h"], strict=True):
        stages += [tp.shunt_c(freq_hz, c_d, r0), tp.series_l(freq_hz, l_s, r0)]
    stages.append(tp.shunt_c(freq_hz, dev["c_b_f"], r0))
    return tp.cascade(*stages)


def _package_178a(freq_hz: np.ndarray, p: ClauseParams, host_class: str) -> np.ndarray:
    """Class A or B package of a host class (178A-11), then its partial host channel (178A-12, C_0 = C_1 = 0)."""
    classes = p.host["classes"]
    if host_class not in classes:
        raise InputError(f"host class {host_class!r}: use one of {', '.join(classes)}")
    spec = classes[host_class]
    pkg = p.packages[spec["package"]]
    stages = [_line(freq_hz, pkg["line"], seg.zc_ohm, spec["zp1_mm"] if seg.length_mm == "zp1" else seg.length_mm,
                    p.r_0) for seg in pkg["segments"]]
    stages.append(tp.shunt_c(freq_hz, p.device["c_p_f"], p.r_0))
    stages.append(_line(freq_hz, p.host["line"], p.host["zc"], spec["host_mm"], p.r_0))
    return tp.cascade(*stages)


def _package_93a(freq_hz: np.ndarray, p: ClauseParams, role: str, case: int) -> np.ndarray:
    """93A.1.2 package of the test case (segments from the die outward), C_p, then the host board."""
    pkg = p.packages["93A"]
    lengths = pkg[f"zp_{role}"][case]
    stages = [_line(freq_hz, pkg["line"], zc, length, p.r_0) for zc, length in zip(pkg["zc"], lengths, strict=True)]
    stages.append(tp.shunt_c(freq_hz, p.device["c_p_f"], p.r_0))
    board = p.host.get("board")
    if board is not None:
        stages += [tp.shunt_c(freq_hz, board["c_0_f"], p.r_0),
                   _line(freq_hz, board["line"], board["zc"], board["length_mm"], p.r_0),
                   tp.shunt_c(freq_hz, board["c_1_f"], p.r_0)]
    return tp.cascade(*stages)


def transmitter(freq_hz: np.ndarray, p: ClauseParams, end: EndCase, role: str = "tx") -> np.ndarray:
    """The transmitting end (``role`` tx, next or fext): port 1 at the die, port 2 at the channel."""
    if p.method == "178A":
        return tp.cascade(_die(freq_hz, p), _package_178a(freq_hz, p, end.tx))
    return tp.cascade(_die(freq_hz, p), _package_93a(freq_hz, p, role, end.case))


def receiver(freq_hz: np.ndarray, p: ClauseParams, end: EndCase) -> np.ndarray:
    """The receiving end: the transmitter model of its host class or package case, seen from the channel."""
    if p.method == "178A":
        return tp.flip(tp.cascade(_die(freq_hz, p), _package_178a(freq_hz, p, end.rx)))
    return tp.flip(tp.cascade(_die(freq_hz, p), _package_93a(freq_hz, p, "rx", end.case)))


def end_cases(p: ClauseParams, host_classes: str | None = None) -> list[EndCase]:
    """The ends COM is evaluated with: host pairs (``HL``, ``HL-HN``, a cable class ``CA-A``, or a comma
    list; default HL-HL) for 178A; every package test case for 93A (COM is the lowest)."""
    if p.method != "178A":
        if host_classes:
            raise InputError(f"{p.clause} has no host classes; give none", "host_classes")
        return [EndCase("", "", case) for case in range(len(p.packages["93A"]["zp_tx"]))]
    cases = []
    for item in (host_classes or "HL").split(","):
        item = item.strip()
        if item in p.host["cable_classes"]:
            cases += [EndCase(tx, rx) for tx, rx in p.host["cable_classes"][item]]
            continue
        tx, _, rx = item.partition("-")
        rx = rx or tx
        for cls in (tx, rx):
            if cls not in p.host["classes"]:
                raise InputError(f"host class {item!r}: use HL, HN, HH, a pair such as HL-HN, or a cable class "
                                 f"({', '.join(p.host['cable_classes'])})")
        cases.append(EndCase(tx, rx))
    return list(dict.fromkeys(cases))
