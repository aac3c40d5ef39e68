"""The figure of merit of one equaliser candidate (transmitter FFE, CTLE) on a prepared channel set.

``Setup`` holds what every candidate shares (the paths' basis pulses, the receiver-noise basis); the
``fom_178a`` and ``fom_93a`` functions evaluate a candidate as the annexes define it:

* 178A (802.3dj): for every sampling offset within half a UI of the pulse peak, the MMSE receiver
  FFE/DFE with floating taps (``mmse.solve``) under the noise of 178A-17 (``noise``); the FOM is the best
  over the offsets.
* 93A (802.3ck): the cursor by the Mueller-Mueller criterion (93A-25, 93A-26), DFE taps forced to the
  post-cursors within their limits (with floating taps), and FOM = 10 log10(A_s^2 / (sigma_TX^2 +
  sigma_ISI^2 + sigma_J^2 + sigma_XT^2 + sigma_N^2)) (93A-36).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from accbench.dsp.com import floating, mmse
from accbench.dsp.com import noise as nz
from accbench.dsp.com import pulses as pu
from accbench.dsp.com.channel import Path, SystemGrid
from accbench.dsp.com.devices import EndCase
from accbench.dsp.com.folded import (
    N_TX,
    FoldedPath,
    bound_before,
    head_range,
    loudest_phase,
    phase_autocorr,
    samples_range,
    slope_basis,
    tap_autocorr,
)
from accbench.dsp.com.params import ClauseParams
from accbench.dsp.com.threads import pool, threads
from numba import njit
from scipy.linalg import toeplitz

NO_TX_FFE = pu.tx_taps({})


@dataclass
class Setup:
    """A channel set prepared for one clause and end case: basis pulses of each path, noise bases."""

    p: ClauseParams
    grid: SystemGrid
    end: EndCase
    thru: pu.PathPulses
    aggressors: list[pu.PathPulses]
    rx_basis: np.ndarray  # (4, 4, UIs): receiver noise autocorrelation basis at whole-UI lags
    lim: mmse.FfeLimits | None
    anchor: int = 0  # the unequalised pulse's peak in the victim window, with the FFE's 3-UI delay (93A)
    folded: FoldedPath | None = None  # the victim by phase, with cross-correlations
    slope: FoldedPath | None = None  # the victim's slope by phase
    folded_aggressors: list[FoldedPath] = field(default_factory=list)
    head_uis: int = 0  # UIs of the pulse's start that hold its peak, cursor and the FFE's reach
    # 93A only: the cursor rule, (head, anchor, spu, b_max(1)) -> sample index of h(0) in ``head`` (the
    # equalised pulse's first ``head_uis`` UIs, every phase). None: the built-in rule of MATLAB COM 4.50
    # (``fom93a.cursor_index``), compiled into the FOM; another rule (e.g. PyChOpMarg's, to compare with it)
    # is called from Python on the head and the rest of the FOM is unchanged.
    cursor_rule: Callable[[np.ndarray, int, int, float], int] | None = None
    # 178A: quantization step of (g_DC, g_DC2, TX taps, phase); a function of those alone, so the search's
    # fast score and the finalists' full scores (and offsets one UI apart) share it
    quant_memo: dict = field(default_factory=dict, repr=False)
    var_x: float = field(init=False)

    def __post_init__(self) -> None:
        self.var_x = nz.signal_variance(self.p.levels)

    @property
    def spu(self) -> int:
        return self.grid.samples_per_ui

    def rx_noise(self, weights: np.ndarray, lags: int) -> np.ndarray:
        """Receiver noise autocorrelation at the FFE input for CTLE ``weights``, lags 0 .. lags - 1."""
        return np.einsum("a,abk,b->k", weights, self.rx_basis[:, :, :lags], weights)


def prepare(p: ClauseParams, grid: SystemGrid, end: EndCase, paths: list[Path]) -> Setup:
    """Basis pulses of the victim and its aggressors and the receiver-noise basis."""
    count = threads()  # the paths are independent (their FFTs and array work release the GIL): on the cores
    on_cores = pool(count).map if count > 1 else map
    pulses = list(on_cores(lambda path: pu.path_pulses(p, grid, path), paths))
    lim = mmse.FfeLimits.from_table(p.rx_ffe) if p.rx_ffe else None
    unequalised = np.fft.irfft(pu.pulse_shaping(p, grid) * paths[0].h21, n=grid.n_time)
    anchor = int(np.argmax(unequalised)) - pulses[0].start + 3 * grid.samples_per_ui
    m = grid.samples_per_ui
    lags = lim.span if lim else 1
    to_fold = [("thru", paths[0].name, pulses[0].basis), ("slope", paths[0].name, slope_basis(pulses[0].basis, m)),
               *((a.kind, a.name, a.basis) for a in pulses[1:])]
    folded, slope, *aggs = on_cores(lambda item: FoldedPath.of(*item, m, lags), to_fold)
    reach = (lim.pre + p.b_max.size + 1) if lim else 1
    head = min(anchor // m + HEAD_MARGIN_UI + reach, folded.q.shape[-1])
    return Setup(p, grid, end, pulses[0], pulses[1:], nz.system_rx_noise_basis(p, grid), lim, anchor,
                 folded, slope, aggs, head)


HEAD_MARGIN_UI = 40  # the equalised pulse's peak lies within this many UIs after the unequalised one


@dataclass
class Fom:
    """The FOM of one candidate and what the final COM needs of it."""

    fom_db: float
    g_dc_db: float
    g_dc2_db: float
    taps: np.ndarray  # c(-3) .. c(3)
    ts: int  # cursor sample index within the victim window
    rx_ffe: np.ndarray | None = None  # (span,) FFE taps, zero where unused (178A)
    rx_cols: list[int] | None = None
    dfe: np.ndarray | None = None
    quant_step: float = 0.0
    offset: int = 0  # sampling offset from the pulse's peak (samples)


def candidate_pulses(s: Setup, g_dc_db: float, g_dc2_db: float, taps: np.ndarray):
    """(victim, transmitter-noise pulse, aggressors) of a candidate; NEXT aggressors carry no transmitter FFE."""
    w = pu.ctle_weights(g_dc_db, g_dc2_db)
    vic = s.thru.pulse(w, taps)
    htn = s.thru.pulse(w, NO_TX_FFE)
    aggs = [a.pulse(w, NO_TX_FFE if a.kind == "next" else taps) for a in s.aggressors]
    return w, vic, htn, aggs


NO_TX_ACC = tap_autocorr(NO_TX_FFE)


class _PhaseRows:
    """The noise rows of a candidate, per phase on demand (a candidate visits a few of the spu phases): the
    autocorrelations (lags 0 .. span - 1) of the victim (r_hh), its transmitter noise (r_tn) and slope (r_jj)
    at a phase; the crosstalk (each aggressor at the phase of its largest energy) and the receiver noise."""

    def __init__(self, s: Setup, w: np.ndarray, taps: np.ndarray, span: int) -> None:
        self.s, self.w, self.span = s, w, span
        self.acc = tap_autocorr(taps)
        self.tn_scale = 10 ** (-s.p.snr_tx_db / 10)
        self.r_rn = s.rx_noise(w, span)
        self.r_xn = np.zeros(span)
        for agg in s.folded_aggressors:
            acc = NO_TX_ACC if agg.kind == "next" else self.acc
            self.r_xn += s.var_x * phase_autocorr(agg.x, w, acc, loudest_phase(agg.x, w, acc), span)
        self.rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def at(self, phase: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(r_hh, r_tn, r_jj) of ``phase``."""
        if phase not in self.rows:
            s, w, span = self.s, self.w, self.span
            self.rows[phase] = (phase_autocorr(s.folded.x, w, self.acc, phase, span),
                                self.tn_scale * phase_autocorr(s.folded.x, w, NO_TX_ACC, phase, span),
                                phase_autocorr(s.slope.x, w, self.acc, phase, span))
        return self.rows[phase]


@njit(cache=True, nogil=True)
def _h_rows_at(head: np.ndarray, phase: int, spu: int, dh: int, pre: int, nb: int, span: int) -> np.ndarray:
    """(1 + nb, span): the cursor row and DFE rows of the symbol-spaced samples ``head[phase::spu]`` (cursor at
    sample ``dh``) against the FFE tap positions; zero before the head's start."""
    n_h = (head.size - phase + spu - 1) // spu
    d = dh + pre
    if d + nb >= n_h:
        raise ValueError("pulse head too short for the FFE")
    out = np.zeros((nb + 1, span))
    for i in range(nb + 1):
        for j in range(span):
            k = d + i - j
            if k >= 0:
                out[i, j] = head[phase + k * spu]
    return out


CEILING_SLACK_DB = 1e-9  # rounding allowance when an offset is skipped for its FOM ceiling
HEAD_BACK_UI = 40  # UIs before the earliest FFE tap's reach that the 178A head is computed from


def _peak_head(s: Setup, w: np.ndarray, taps: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(head, u0, peak): the equalised pulse's samples from UI ``u0`` to ``head_uis`` and the index (from the
    window's start) of its largest sample, the first of equals, as ``argmax`` over the whole head finds it.

    Only the UIs from a little before the FFE's reach are computed when two things are proved: the
    envelope bound (``folded.bound_before``) of every sample before ``u0`` lies below the largest sample
    found, so none of them is the peak; and every offset within half a UI of the peak reads its FFE rows
    (``_h_rows_at``) from UIs at or after ``u0``. Otherwise the whole head from UI 0.
    """
    m, lim = s.spu, s.lim
    u0 = max(s.anchor // m + lim.pre - lim.span - HEAD_BACK_UI, 0)
    if u0 > 0:
        head = head_range(s.folded.q, w, taps, u0, s.head_uis)
        i = int(np.argmax(head))
        peak = u0 * m + i
        if ((peak - m // 2) // m + lim.pre - lim.span + 1 >= u0
                and bound_before(s.folded.envelope[0], w, taps, u0 - 1) < head[i]):
            return head, u0, peak
    head = head_range(s.folded.q, w, taps, 0, s.head_uis)
    return head, 0, int(np.argmax(head))


def fom_178a(s: Setup, g_dc_db: float, g_dc2_db: float, taps: np.ndarray, start: int | None = None,
             want_taps: bool = True, ctle_steps: dict | None = None) -> Fom:
    """The 178A FOM: the MMSE FFE/DFE at every sampling offset in [-UI/2, UI/2] of the peak, the best kept.

    With ``start`` (an offset, in samples, from the peak), only a hill-climb from it: the offsets tried
    move one sample at a time while the FOM rises, all with the quantization step of the first and its
    floating-tap placement (the search's fast score; the finalists are scored in full). In full, offsets
    whose FOM ceiling (every FFE position free, no limits, no quantization noise) is below the best FOM
    found are skipped: they cannot be the best, so the result is the definition's. ``ctle_steps`` (the
    fast score's, one per search): the quantization step of the first candidate scored at each CTLE
    setting, used for the later ones of that setting (the fast score only ranks; the step varies little
    with the TX taps). ``want_taps=False`` leaves the receiver FFE and DFE taps of the best offset out
    (``rx_ffe``, ``rx_cols``, ``dfe`` None): a search needs only the FOM.
    """
    p, lim, m = s.p, s.lim, s.spu
    w = pu.ctle_weights(g_dc_db, g_dc2_db)
    rows = _PhaseRows(s, w, taps, lim.span)
    r_xn, r_rn = rows.r_xn, rows.r_rn
    head, u0, peak = _peak_head(s, w, taps)
    var_j = s.var_x * (p.a_dd_ui**2 + p.sigma_rj_ui**2)
    var_rj = s.var_x * p.sigma_rj_ui**2
    nb, half = p.b_max.size, m // 2
    tried: dict[int, tuple] = {}
    parts: dict[int, tuple] = {}

    def rows_of(offset: int) -> tuple:
        """(ts, phase, h_rows, r_row without the quantization noise, r_tn, r_jj) of an offset."""
        if offset not in parts:
            ts = peak + offset
            phase, dh = ts % m, ts // m
            r_hh, r_tn, r_jj = rows.at(phase)
            h_rows = _h_rows_at(head, phase, m, dh - u0, lim.pre, nb, lim.span)
            r_row = r_hh + (r_rn + r_xn + r_tn + var_j * r_jj) / s.var_x
            parts[offset] = (ts, phase, h_rows, r_row, r_tn, r_jj)
        return parts[offset]

    def to_db(mse: float) -> float:
        return 20 * np.log10(p.r_lm / (p.levels - 1) / np.sqrt(max(s.var_x * mse, 1e-300)))

    def at(offset: int) -> float:
        if offset not in tried:
            ts, phase, h_rows, r_row, r_tn, r_jj = rows_of(offset)
            delta = 0.0
            first = next(iter(tried.values())) if start is not None and tried else None  # the fast score's
            if p.n_qb:
                if first is not None:  # the fast score: one quantization step per candidate
                    delta = first[5]
                elif ctle_steps is not None and (g_dc_db, g_dc2_db) in ctle_steps:
                    delta = ctle_steps[g_dc_db, g_dc2_db]  # the fast score: its CTLE setting's first step
                else:
                    key = (g_dc_db, g_dc2_db, taps.tobytes(), phase)
                    delta = s.quant_memo.get(key)
                    if delta is None:
                        var_g = r_rn[0] + r_xn[0] + r_tn[0] + var_rj * r_jj[0]
                        samples = samples_range(s.folded.q, w, taps, phase, 0, s.folded.q.shape[-1] + N_TX - 1)
                        delta = s.quant_memo[key] = nz.quantization_step(p, samples, var_g)
                    if ctle_steps is not None:
                        ctle_steps[g_dc_db, g_dc2_db] = delta
                r_row = r_row.copy()
                r_row[0] += delta**2 / 12 / s.var_x
            if first is not None:
                # the fast score: the floating taps where the greedy placed them at the candidate's first offset
                # (the neighbouring offsets see the same reflections one sample away); solved there, no search
                cols = first[4]
                mse = floating.clipped_mse(h_rows, floating.toeplitz_of(r_row), cols, lim.pre, p.b_min, p.b_max,
                                           lim.w_min, lim.w_max)
            else:
                mse, cols = floating.greedy_mse(h_rows, r_row, lim.pre, lim.fixed, lim.groups, lim.group_taps,
                                                p.b_min, p.b_max, lim.w_min, lim.w_max)
            tried[offset] = (to_db(mse), ts, h_rows, r_row, cols, delta)
        return tried[offset][0]

    if start is None:
        # every offset's FOM is at most its ceiling (``floating.mse_floor``, no quantization noise): offsets are
        # scored best ceiling first, and those whose ceiling is below the best FOM found cannot win
        offsets = range(-half, half + 1)
        ceiling = {o: to_db(floating.mse_floor(*rows_of(o)[2:4], p.b_min, p.b_max)) for o in offsets}
        best = -np.inf
        for offset in sorted(offsets, key=lambda o: (-ceiling[o], o)):
            if ceiling[offset] < best - CEILING_SLACK_DB:
                break
            best = max(best, at(offset))
        fom, ts, h_rows, r_row, cols, delta = max(tried.items(), key=lambda kv: (kv[1][0], -kv[0]))[1]
    else:
        here = min(max(start, -half), half)
        while True:
            around = [o for o in (here - 1, here, here + 1) if -half <= o <= half]
            nxt = max(around, key=at)
            if nxt == here:
                break
            here = nxt
        fom, ts, h_rows, r_row, cols, delta = max(tried.values(), key=lambda t: t[0])
    if not want_taps:
        return Fom(float(fom), g_dc_db, g_dc2_db, taps, ts, quant_step=delta, offset=ts - peak)
    _, _, w_ffe, b = mmse._foms(h_rows, toeplitz(r_row), cols[None, :], lim.pre, p.b_min, p.b_max, lim.w_min,
                                lim.w_max, s.var_x, p.r_lm, p.levels, want_taps=True)
    full = np.zeros(lim.span)
    full[cols] = w_ffe[0]
    return Fom(float(fom), g_dc_db, g_dc2_db, taps, ts, full, [int(c) for c in cols], b[0], delta,
               offset=ts - peak)
