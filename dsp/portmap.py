"""Which single-ended ports form the two thru paths of a differential pair, and at which end.

scikit-rf's ``se2gmm(p=2)`` wants ports (0, 1) to be the pair at end A and (2, 3) the pair
at end B, with thru paths 0->2 and 1->3. Real files come in other orders (1->2 & 3->4 is
the most common), and a wrong order silently shifts SDD21 by about 2 dB, so the mapping is
always found (from a ``$PORT_MAP`` comment, an explicit override, or the low-frequency
transmission magnitudes) and always reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import skrf as rf

from accbench.errors import InputError, TouchstoneError

# The three ways to split four ports into two pairs (0-based).
_PAIRINGS = (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)))


@dataclass(frozen=True)
class PortMap:
    """Thru paths of a 4-port: P travels ``p_thru[0] -> p_thru[1]``, N ``n_thru[0] -> n_thru[1]``.

    Ports are 1-based as in the file. ``source`` says how the map was found.
    """

    p_thru: tuple[int, int]
    n_thru: tuple[int, int]
    source: str

    @property
    def order(self) -> list[int]:
        """0-based file ports in scikit-rf's se2gmm order: P_A, N_A, P_B, N_B."""
        return [self.p_thru[0] - 1, self.n_thru[0] - 1, self.p_thru[1] - 1, self.n_thru[1] - 1]

    @property
    def label(self) -> str:
        """The map as users write it: ``1-2,3-4``."""
        return f"{self.p_thru[0]}-{self.p_thru[1]},{self.n_thru[0]}-{self.n_thru[1]}"

    def to_dict(self) -> dict:
        return {"thru": self.label, "end_a": [self.p_thru[0], self.n_thru[0]],
                "end_b": [self.p_thru[1], self.n_thru[1]], "source": self.source}


def check_map_text(thru: str) -> None:
    """Refuse an empty port map (it would otherwise read as ``auto``)."""
    if not thru.strip():
        raise InputError("the port map is empty: give auto, or the two thru paths as a-b,c-d (e.g. 1-2,3-4)", "thru")


def parse_thru(text: str) -> PortMap:
    """Parse an explicit override such as ``1-2,3-4`` (P thru, then N thru; first port at end A)."""
    match = re.fullmatch(r"\s*(\d)\s*-\s*(\d)\s*,\s*(\d)\s*-\s*(\d)\s*", text)
    if not match:
        raise InputError(
            f"port map {text!r}: write the two thru paths as 'a-b,c-d' (e.g. 1-2,3-4), or 'auto'", "thru"
        )
    a, b, c, d = (int(x) for x in match.groups())
    if sorted((a, b, c, d)) != [1, 2, 3, 4]:
        raise InputError(f"port map {text!r}: each of the ports 1..4 must appear exactly once", "thru")
    return PortMap((a, b), (c, d), "override")


def parse_port_map_comment(comments: str) -> PortMap | None:
    """Read a PLTS-style ``$PORT_MAP: 1|1|<<<<<<|2|2|>>>>>>|...`` comment, if present.

    Each entry is (logical port, physical port, side); ``<<<`` marks end A, ``>>>`` end B.
    The k-th port at end A and the k-th port at end B form the k-th thru path.
    """
    match = re.search(r"\$PORT_MAP\s*:\s*([^\n]+)", comments or "")
    if not match:
        return None
    fields = [f.strip() for f in match.group(1).split("|") if f.strip()]
    if len(fields) % 3:
        return None
    end_a, end_b = [], []
    for k in range(0, len(fields), 3):
        port, side = fields[k], fields[k + 2]
        if not port.isdigit():
            return None
        if side.startswith("<"):
            end_a.append(int(port))
        elif side.startswith(">"):
            end_b.append(int(port))
    if len(end_a) != 2 or len(end_b) != 2 or sorted(end_a + end_b) != [1, 2, 3, 4]:
        return None
    return PortMap((end_a[0], end_b[0]), (end_a[1], end_b[1]), "$PORT_MAP comment")


def _low_band(freq_hz: np.ndarray) -> slice:
    """Indices of the low-frequency points used to judge the thru paths (10 MHz..1 GHz)."""
    start = int(np.searchsorted(freq_hz, 10e6))
    stop = max(int(np.searchsorted(freq_hz, 1e9)), start + 5)
    return slice(start, min(stop, freq_hz.size))


def detect_port_map(network: rf.Network) -> PortMap:
    """Find the thru paths from the transmission magnitudes below 1 GHz.

    The pairing with the largest mean |S| on its two paths wins; it must beat the next
    one clearly, else the file is ambiguous and the user must say ``--thru``. End A holds
    the lower-numbered port of each thru path (the convention of every common export).
    """
    mag = np.abs(network.s[_low_band(network.f)]).mean(axis=0)
    scores = [0.5 * (mag[a, b] + mag[b, a] + mag[c, d] + mag[d, c]) / 2
              for (a, b), (c, d) in _PAIRINGS]
    ranked = np.argsort(scores)[::-1]
    best, second = scores[ranked[0]], scores[ranked[1]]
    if best < 0.3:
        raise TouchstoneError(
            f"no thru path found: every transmission |S| below 1 GHz is small (best {best:.2f}); "
            "a NEXT/FEXT file is analysed on its own with the crosstalk option (next or fext) "
            "or beside its thru as an aggressor; a thru with an unusual order needs the port map (1-2,3-4)",
            "thru", "crosstalk"
        )
    if best < 2.0 * second:
        raise TouchstoneError(
            "cannot tell the thru paths from the transmission magnitudes "
            f"(best pairing |S| = {best:.2f}, next {second:.2f}); "
            "give the port map, e.g. 1-2,3-4", "thru"
        )
    (a, b), (c, d) = _PAIRINGS[ranked[0]]
    if _arrival_s(network, a, d) < _arrival_s(network, a, c) - _ARRIVAL_MARGIN_S:
        # port d, not c, is at the same end as a: the N thru runs d -> c
        return PortMap((a + 1, b + 1), (d + 1, c + 1), "auto (|S| below 1 GHz, near end by delay)")
    return PortMap((a + 1, b + 1), (c + 1, d + 1), "auto (|S| below 1 GHz)")


_ARRIVAL_MARGIN_S = 50e-12


def _arrival_s(network: rf.Network, i: int, j: int) -> float:
    """Time of the strongest response from port i to port j (inverse FFT of S_ji and S_ij).

    Coupling between ports at the same end (NEXT) arrives at once; between ports at
    opposite ends (FEXT) after the line delay. That tells which ports share an end.
    """
    f = network.f
    step = float(np.median(np.diff(f)))
    grid = np.arange(0.0, f[-1] + step / 2, step)
    spectrum = 0.5 * (network.s[:, j, i] + network.s[:, i, j])
    re = np.interp(grid, f, spectrum.real)
    im = np.interp(grid, f, spectrum.imag)
    window = np.hanning(2 * grid.size)[grid.size:]
    impulse = np.fft.irfft((re + 1j * im) * window, n=2 * (grid.size - 1))
    half = impulse.size // 2
    return float(np.argmax(np.abs(impulse[:half]))) / (impulse.size * step)


def resolve_port_map(network: rf.Network, thru: str = "auto") -> tuple[PortMap, list[str]]:
    """Choose the map: explicit ``thru``, else a ``$PORT_MAP`` comment, else detection.

    Returns the map and warnings (e.g. a comment that disagrees with the magnitudes).
    """
    if network.nports != 4:
        raise TouchstoneError(f"a port map needs a 4-port network, got {network.nports} ports")
    warnings: list[str] = []
    check_map_text(thru)
    if thru.strip().lower() != "auto":
        return parse_thru(thru), warnings
    from_comment = parse_port_map_comment(network.comments or "")
    try:
        detected = detect_port_map(network)
    except TouchstoneError:
        if from_comment is None:
            raise
        return from_comment, warnings
    if from_comment is None:
        return detected, warnings
    if {frozenset(from_comment.p_thru), frozenset(from_comment.n_thru)} != {
        frozenset(detected.p_thru), frozenset(detected.n_thru)
    }:
        warnings.append(
            f"$PORT_MAP comment says thru {from_comment.label} but the magnitudes say "
            f"{detected.label}; the comment is used (give the port map to override it)"
        )
    return from_comment, warnings


def to_se2gmm_order(network: rf.Network, port_map: PortMap) -> rf.Network:
    """Return a copy of ``network`` with its ports in scikit-rf se2gmm order (P_A, N_A, P_B, N_B)."""
    order = port_map.order
    if order == [0, 1, 2, 3]:
        return network.copy()
    return network.subnetwork(order)
