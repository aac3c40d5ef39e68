"""The linear ACC link: host TX -> host channel -> cable -> ACC redriver (CTLE) -> host channel -> RX.

Every stage is linear, so the link is one channel with the redriver's CTLE inside and two
noise sources (host RX and redriver). ``equalize`` searches the CTLE grid and, for each
setting, computes MMSE (or ZF) FFE taps, keeping the setting of best SNR at the slicer;
``simulate_link`` then answers with the statistical engine or the numba time-domain one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np
from accbench.dsp.ffe import SYMBOL_VARIANCE, ffe_taps
from accbench.dsp.filters import bessel_thomson, butterworth4, ctle, ctle_terms, ctle_weights, pcb_trace
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.patterns import get_pattern, pattern_symbols
from accbench.dsp.power import PowerModel, power_gate
from accbench.dsp.pulse import Cursors, pulse_from_response, pulse_grid, sample_cursors
from accbench.dsp.statistical import stat_ber
from accbench.dsp.tdsim import oversampled_waveform, simulate_ber, simulate_ber_oversampled

from accbench.errors import InputError


@dataclass(frozen=True)
class Equalized:
    """The chosen equalisation and everything the engines need."""

    gdc_db: float
    gdc2_db: float
    ffe: np.ndarray
    cursors: Cursors  # pre-FFE, at the slicer phase
    equalized: np.ndarray  # cursors * ffe
    main: int  # index of the main cursor in ``equalized``
    sigma: float  # Gaussian noise rms at the slicer (all sources)
    sigma_parts: dict
    dd_amplitude: float
    snr_db: float
    pulse: np.ndarray  # oversampled pulse with CTLE, before FFE
    crosstalk: list = field(default_factory=list)


@dataclass(frozen=True)
class LinkResult:
    """One link simulation: error rates, eye, margin, chosen EQ, power, and the config used."""

    baud: float
    length_m: float | None
    mode: str
    symbols: int | None
    ser: float
    ber: float
    errors: int | None
    eye_height: float
    eye_width_ui: float
    margin_db: float  # the ACC model's margin 20 log10((main/3)/A_ni) at DER0; not IEEE COM
    ctle: dict
    ffe_taps: list
    dfe: bool
    sigma_slicer: float
    noise: dict
    power_w: float
    pj_per_bit: float
    power_pass: bool
    target_ber: float
    ber_pass: bool
    config: dict

    def to_dict(self) -> dict:
        return asdict(self)


def _ffe_response(taps: np.ndarray, freq_hz: np.ndarray, baud: float, first: int) -> np.ndarray:
    k = np.arange(taps.size) + first
    return np.exp(-2j * np.pi * np.outer(freq_hz, k) / baud) @ taps


PEAK_WINDOW_UI = 32
"""UIs at the start of the pulse window where the CTLE grid's pulse peaks are looked for first (the pulse
starts ``PRE_WINDOW_UI`` in; a peak beyond is still found, by a bound on the rest)."""


def _combine(weights: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """sum_k weights[..., k] parts[k] in a fixed order, so the same setting gives the same bits in any slice."""
    w = np.asarray(weights)
    shape = (*w.shape[:-1], 1)  # parts[k]: samples, or settings x samples
    out = w[..., 0].reshape(shape) * parts[0]
    for k in range(1, w.shape[-1]):
        out += w[..., k].reshape(shape) * parts[k]
    return out


def _read_only(*arrays: np.ndarray) -> None:
    """Mark shared arrays read-only, so no model's caller can change another's."""
    for array in arrays:
        array.flags.writeable = False


class _ConfigTerms:
    """What a link model needs of a ``LinkConfig`` alone: the grid, TX and RX filters, the CTLE grid as
    weights of four responses, and the noise PSDs with their FFE moments (computed once per config)."""

    def __init__(self, cfg: LinkConfig):
        f = pulse_grid(cfg.baud, cfg.samples_per_ui, cfg.window_ui)
        nyq = cfg.nyquist_hz
        self.freq = f
        self.df = f[1] - f[0]
        self.tx = bessel_thomson(f, cfg.tx_bt_ratio * cfg.baud) * _ffe_response(np.asarray(cfg.tx_ffe), f, cfg.baud,
                                                                                 -2)
        self.host_tx = pcb_trace(f, cfg.host_tx_loss_db, nyq)
        self.host_rx = pcb_trace(f, cfg.host_rx_loss_db, nyq)
        self.end = (lambda ff: pcb_trace(ff, cfg.end_loss_db, nyq) ** 2) if cfg.end_loss_db > 0 else None
        self.rx_filter = butterworth4(f, cfg.rx_bw_ratio * cfg.baud)
        self.grid = [(g, g2) for g in cfg.ctle_gdc_db for g2 in cfg.ctle_gdc2_db]
        self.ctle_terms = ctle_terms(f, cfg.baud, cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio, cfg.ctle_fp2_ratio,
                                     cfg.ctle_flf_ratio)
        self.ctle_weights = ctle_weights(np.array(cfg.ctle_gdc_db)[:, None], np.array(cfg.ctle_gdc2_db)[None, :]
                                         ).reshape(len(self.grid), 4)
        self.n_taps = cfg.ffe_pre + 1 + cfg.ffe_post
        self.cos = np.cos(2 * np.pi * np.outer(f, np.arange(self.n_taps)) / cfg.baud)
        self.noise_scale = 1e-9 / cfg.tx_amplitude_v**2
        self.rx_psd = cfg.eta0_v2_per_ghz * self.noise_scale * np.abs(self.rx_filter) ** 2
        self.rx_sum = np.sum(self.rx_psd)
        self.rx_moments = (self.rx_psd @ self.cos) * self.df
        self.post = self.host_rx * self.rx_filter
        self.acc = self.acc_terms(cfg, self.post)
        _read_only(self.freq, self.tx, self.host_tx, self.host_rx, self.rx_filter, self.ctle_terms, self.ctle_weights,
                   self.cos, self.rx_psd, self.rx_moments, self.post, *self.acc)

    def ctle_grid(self, cfg: LinkConfig) -> np.ndarray:
        """Every CTLE setting's response (settings x freq, row-major like ``grid``)."""
        gdc, gdc2 = np.array(cfg.ctle_gdc_db)[:, None, None], np.array(cfg.ctle_gdc2_db)[None, :, None]
        return ctle(self.freq, cfg.baud, gdc, gdc2, cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio, cfg.ctle_fp2_ratio,
                    cfg.ctle_flf_ratio).reshape(len(self.grid), self.freq.size)

    def acc_terms(self, cfg: LinkConfig, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sum, FFE moments) of the redriver's noise PSD behind every CTLE setting and ``post``."""
        acc = cfg.acc_eta_v2_per_ghz * self.noise_scale * np.abs(self.ctle_grid(cfg) * post) ** 2
        return np.sum(acc, axis=1), (acc @ self.cos) * self.df


_TERMS: OrderedDict[str, _ConfigTerms] = OrderedDict()
_TERMS_LOCK = threading.Lock()
_TERMS_KEPT = 4  # a run uses one config per rate


def config_terms(cfg: LinkConfig) -> _ConfigTerms:
    """The ``_ConfigTerms`` of ``cfg``, kept for the last few configs (every cable of a rate shares them)."""
    key = repr(cfg)
    with _TERMS_LOCK:
        terms = _TERMS.get(key)
        if terms is not None:
            _TERMS.move_to_end(key)
            return terms
    terms = _ConfigTerms(cfg)
    with _TERMS_LOCK:
        _TERMS[key] = terms
        while len(_TERMS) > _TERMS_KEPT:
            _TERMS.popitem(last=False)
    return terms


class LinkFamily:
    """One channel under one config at any length: everything that does not depend on the length
    (filters, host channels, crosstalk, the channel's per-metre response) computed once, so a reach
    search pays per length only for the cable's response and the equaliser search."""

    def __init__(self, channel, cfg: LinkConfig, crosstalk_channels: tuple = (),
                 host_channels: tuple = (None, None)):
        """``host_channels`` (TX side, RX side): measured channels replacing the PCB loss model."""
        self.channel = channel
        self.cfg = cfg
        t = config_terms(cfg)
        self.terms = t
        f = t.freq
        host_tx_ch, host_rx_ch = host_channels
        host_tx = t.host_tx if host_tx_ch is None else host_tx_ch.sdd21(f)
        self.launch = t.tx * host_tx
        if host_rx_ch is None:
            self.post, self.acc = t.post, t.acc
        else:
            self.post = host_rx_ch.sdd21(f) * t.rx_filter
            self.acc = t.acc_terms(cfg, self.post)
        self.host_delay = sum(h.delay_s() for h in host_channels if h is not None)
        scaler = getattr(channel, "scaler", None)
        if scaler is not None:
            self._cable = scaler(f, t.end)
        else:  # any other length-scalable channel: sdd21(freq, length) only
            ends = 1.0 if t.end is None else t.end(f)
            self._cable = lambda length_m: channel.sdd21(f, length_m) * ends
        self.xt_pre = [self.launch * x.sdd21(f) for x in crosstalk_channels]
        self.xt_delay = [x.delay_s() for x in crosstalk_channels]
        _read_only(self.launch, self.post, *self.acc, *self.xt_pre)  # every model of the family shares them
        self.evaluated: dict[float | None, tuple] = {}  # length -> (StatResult, Equalized) of ``evaluate``

    def model(self, length_m: float | None = None) -> LinkModel:
        """The link with the cable at ``length_m``."""
        return LinkModel(self.channel, self.cfg, length_m, family=self)

    def evaluate(self, length_m: float | None = None):
        """(statistical result, equalisation) at ``length_m`` with the CTLE/FFE optimised (kept in ``evaluated``)."""
        if length_m not in self.evaluated:
            eq = self.model(length_m).equalize()
            cfg = self.cfg
            stat = stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude,
                            eq.crosstalk, cfg.dfe_tap)
            self.evaluated[length_m] = (stat, eq)
        return self.evaluated[length_m]


class LinkModel:
    """Frequency responses of one link (channel at one length); cheap to re-equalise."""

    def __init__(self, channel, cfg: LinkConfig, length_m: float | None = None,
                 crosstalk_channels: tuple = (), ideal: bool = False, host_channels: tuple = (None, None),
                 family: LinkFamily | None = None):
        """``host_channels`` (TX side, RX side): measured channels replacing the PCB loss model;
        ``family``: the length-independent parts already computed for this channel and config."""
        self.cfg = cfg
        self.ideal = ideal
        if ideal:
            f = pulse_grid(cfg.baud, cfg.samples_per_ui, cfg.window_ui)
            self.freq = f
            self.pre = np.ones(f.size, dtype=complex)
            self.post = np.ones(f.size, dtype=complex)
            self.delay = 0.0
            self.xt_pre = []
            return
        family = family or LinkFamily(channel, cfg, crosstalk_channels, host_channels)
        self.family = family
        t = family.terms
        self.freq = t.freq
        self.delay = channel.delay_s(length_m) + family.host_delay
        self.pre = family.launch * family._cable(length_m)
        self.post = family.post
        self.rx_filter = t.rx_filter
        self.xt_pre = family.xt_pre
        self.xt_delay = family.xt_delay

    def _noise_psd(self, h_ctle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One-sided noise PSDs (host RX, redriver; per Hz, peak amplitude 1) at the FFE input."""
        scale = 1e-9 / self.cfg.tx_amplitude_v**2
        rx = self.cfg.eta0_v2_per_ghz * scale * np.abs(self.rx_filter) ** 2
        acc = self.cfg.acc_eta_v2_per_ghz * scale * np.abs(h_ctle * self.post) ** 2
        return rx, acc

    def _grid_basis(self) -> np.ndarray:
        """The pulses of the four CTLE responses (4 x samples): every grid setting's pulse is their weighted sum."""
        cfg, t = self.cfg, self.family.terms
        return pulse_from_response((self.pre * self.post) * t.ctle_terms, cfg.baud, cfg.samples_per_ui,
                                   cfg.window_ui, self.delay)

    def grid_pulses(self) -> np.ndarray:
        """The pulse behind every CTLE setting of the grid (settings x samples)."""
        return _combine(self.family.terms.ctle_weights, self._grid_basis())

    def _grid_cursors(self, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cursors, slopes, main index) of every grid setting at its pulse's peak phase, without forming
        every pulse: the peak is looked for in the first ``PEAK_WINDOW_UI`` and the rest of a pulse only
        when a bound on it (from the four basis pulses) does not rule the peak out there."""
        weights = self.family.terms.ctle_weights
        spu, width = self.cfg.samples_per_ui, basis.shape[1]
        window = min(width, PEAK_WINDOW_UI * spu)
        head = weights @ basis[:, :window]  # for the peak's place only (cursors come from the ordered sums)
        peak = np.argmax(head, axis=1)
        if window < width:
            bound = np.abs(weights) @ np.max(np.abs(basis[:, window:]), axis=1)
            for i in np.flatnonzero(~(head[np.arange(peak.size), peak] > bound)):
                peak[i] = int(np.argmax(_combine(weights[i], basis)))
        # by phase (basis x phase x UI), with the sample before phase 0 and after the last phase (wrapping
        # around the window as the pulse's indices do): a setting's cursors and neighbours are three rows
        by_phase = basis.reshape(basis.shape[0], width // spu, spu).transpose(0, 2, 1)
        rows = np.concatenate([np.roll(by_phase[:, -1:], 1, axis=2), by_phase, np.roll(by_phase[:, :1], -1, axis=2)],
                              axis=1)
        phase = peak % spu + 1
        values = _combine(weights, rows[:, phase])
        slopes = (_combine(weights, rows[:, phase + 1]) - _combine(weights, rows[:, phase - 1])) * (spu / 2.0)
        return values, slopes, peak // spu

    def equalize(self, ctle_setting: tuple[float, float] | None = None, noise_rms: float | None = None,
                 dfe: bool | None = None) -> Equalized:
        """Best CTLE (grid, or the given (gdc, gdc2)) with its FFE; see module docstring."""
        cfg = self.cfg
        dfe = cfg.dfe_tap if dfe is None else dfe
        if ctle_setting is not None:
            check_ctle_setting(ctle_setting, cfg)
        if noise_rms is not None and not (np.isfinite(noise_rms) and noise_rms >= 0):
            raise InputError(f"noise rms {noise_rms!r} must be a finite number >= 0", "noise_rms")
        if self.ideal:
            return self._ideal(noise_rms)
        if ctle_setting is not None:
            h = ctle(self.freq, cfg.baud, ctle_setting[0], ctle_setting[1], cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio,
                     cfg.ctle_fp2_ratio, cfg.ctle_flf_ratio)
            pulse = pulse_from_response((self.pre * self.post) * h, cfg.baud, cfg.samples_per_ui, cfg.window_ui,
                                        self.delay)
            best = self._setting(ctle_setting, h, pulse, noise_rms, dfe)
        else:
            grid, weights = self.family.terms.grid, self.family.terms.ctle_weights
            basis = self._grid_basis()
            if cfg.ffe_method == "mmse" and cfg.ffe_tap_limit is None and len(grid) > 1:
                snr = self._cursor_snr(*self._grid_cursors(basis), None, noise_rms, dfe)
                order = [int(np.argmax(snr))] if np.isfinite(snr).any() else []
            else:
                order = range(len(grid))
            best = None
            for i in order:
                h = ctle(self.freq, cfg.baud, grid[i][0], grid[i][1], cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio,
                         cfg.ctle_fp2_ratio, cfg.ctle_flf_ratio)
                found = self._setting(grid[i], h, _combine(weights[i], basis), noise_rms, dfe)
                if found is not None and (best is None or found.snr_db > best.snr_db):
                    best = found
        if best is None:
            raise InputError("no CTLE setting gives a positive main cursor: the channel is closed")
        return best

    def _setting(self, setting: tuple[float, float], h_ctle: np.ndarray, pulse: np.ndarray,
                 noise_rms: float | None, dfe: bool) -> Equalized | None:
        """The FFE, noise and SNR of one CTLE setting (None when its main cursor is not positive)."""
        cfg = self.cfg
        df = self.freq[1] - self.freq[0]
        cur = sample_cursors(pulse, cfg.samples_per_ui)
        if cur.values[cur.main] <= 0:
            return None
        rx_psd, acc_psd = self._noise_psd(h_ctle)
        n_in = float(np.sum(rx_psd + acc_psd) * df) + 10 ** (-cfg.snr_tx_db / 10) * float(np.sum(cur.values**2)) + \
            cfg.sigma_rj_ui**2 * float(np.sum(cur.slopes**2))
        if noise_rms is not None:
            n_in = noise_rms**2
        taps = ffe_taps(cur.values, cur.main, cfg.ffe_pre, cfg.ffe_post, n_in / SYMBOL_VARIANCE,
                        cfg.ffe_method, cfg.ffe_tap_limit)
        eq = np.convolve(cur.values, taps)
        d = cur.main + cfg.ffe_pre
        parts = self._sigma_parts(eq, cur, taps, rx_psd, acc_psd, df, noise_rms)
        sigma2 = sum(v**2 for v in parts.values())
        isi = eq.copy()
        isi[d] = 0.0
        if dfe and d + 1 < isi.size:
            isi[d + 1] = 0.0
        snr = eq[d] ** 2 * SYMBOL_VARIANCE / (SYMBOL_VARIANCE * np.sum(isi**2) + sigma2)
        slopes_eq = np.convolve(cur.slopes, taps)
        dd = 0.0 if noise_rms is not None else cfg.a_dd_ui * float(np.sqrt(np.sum(slopes_eq**2)))
        xt = self._crosstalk(h_ctle, taps)
        return Equalized(setting[0], setting[1], taps, cur, eq, d, float(np.sqrt(sigma2)), parts, dd,
                         float(10 * np.log10(snr)), pulse, xt)

    def _grid_snr(self, h_ctle: np.ndarray | None, pulses: np.ndarray, noise_rms: float | None,
                  dfe: bool) -> np.ndarray:
        """Slicer SNR of every CTLE setting at once (MMSE FFE, no tap limit; -inf: main cursor <= 0);
        ``h_ctle`` None: the settings are the config's grid (its noise terms are kept with the config).

        The same quantities as ``_setting``, vectorised over the grid: the MMSE normal equations
        of a convolution matrix need only the cursors' autocorrelation and the row at the main.
        """
        spu = self.cfg.samples_per_ui
        peak = np.argmax(pulses, axis=1)
        width = pulses.shape[1]
        idx = peak[:, None] % spu + spu * np.arange(width // spu)[None, :]
        values = np.take_along_axis(pulses, idx, axis=1)
        slopes = (np.take_along_axis(pulses, (idx + 1) % width, axis=1)
                  - np.take_along_axis(pulses, (idx - 1) % width, axis=1)) * (spu / 2.0)
        return self._cursor_snr(values, slopes, peak // spu, h_ctle, noise_rms, dfe)

    def _cursor_snr(self, values: np.ndarray, slopes: np.ndarray, main: np.ndarray, h_ctle: np.ndarray | None,
                    noise_rms: float | None, dfe: bool) -> np.ndarray:
        """``_grid_snr`` from each setting's cursors and slopes at its peak phase (main: the peak's UI)."""
        cfg = self.cfg
        pre = cfg.ffe_pre
        n = pre + 1 + cfg.ffe_post
        k_all = np.arange(values.shape[0])
        df = self.freq[1] - self.freq[0]
        m = values.shape[1]
        valid = values[k_all, main] > 0
        if h_ctle is None:  # the model's own CTLE grid: its noise terms are the config's
            (rx_sum, rx_moments), (acc_sum, acc_moments) = (self.family.terms.rx_sum,
                                                            self.family.terms.rx_moments), self.family.acc
        else:
            rx_psd, acc_psd = self._noise_psd(h_ctle)
            cos = self._cosines(n)
            rx_sum, rx_moments = np.sum(rx_psd), (rx_psd @ cos) * df
            acc_sum, acc_moments = np.sum(acc_psd, axis=1), (acc_psd @ cos) * df
        if noise_rms is not None:
            n_in = np.full(k_all.size, noise_rms**2)
        else:
            n_in = (rx_sum + acc_sum) * df + \
                10 ** (-cfg.snr_tx_db / 10) * np.sum(values**2, axis=1) + cfg.sigma_rj_ui**2 * np.sum(slopes**2, axis=1)
        # normal equations of ffe.ffe_taps' MMSE least squares (unknowns: the other taps and the gain)
        auto = np.stack([np.sum(values[:, : m - lag] * values[:, lag:], axis=1) for lag in range(n)], axis=1)
        gram = auto[:, np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])]
        rows = main[:, None] + pre - np.arange(n)[None, :]
        at_main = np.where((rows >= 0) & (rows < m), values[k_all[:, None], np.clip(rows, 0, m - 1)], 0.0)
        others = [j for j in range(n) if j != pre]
        lam = np.maximum(n_in / SYMBOL_VARIANCE, 1e-12) / SYMBOL_VARIANCE
        system = np.zeros((k_all.size, n, n))
        system[:, : n - 1, : n - 1] = gram[:, others][:, :, others] + lam[:, None, None] * np.eye(n - 1)
        system[:, : n - 1, n - 1] = -at_main[:, others]
        system[:, n - 1, : n - 1] = -at_main[:, others]
        system[:, n - 1, n - 1] = 1.0
        rhs = np.concatenate([-gram[:, others, pre], at_main[:, pre : pre + 1]], axis=1)
        solution = np.linalg.solve(system, rhs[..., None])[..., 0]
        taps = np.ones((k_all.size, n))
        taps[:, others] = solution[:, :-1]
        eq = np.zeros((k_all.size, m + n - 1))
        slopes_eq = np.zeros_like(eq)
        for j in range(n):
            eq[:, j : j + m] += taps[:, j : j + 1] * values
            slopes_eq[:, j : j + m] += taps[:, j : j + 1] * slopes
        d = main + pre
        if noise_rms is not None:
            sigma2 = np.full(k_all.size, noise_rms**2)
        else:
            tap_auto = np.stack([np.sum(taps[:, : n - lag] * taps[:, lag:], axis=1) for lag in range(n)], axis=1)
            weights = np.concatenate([tap_auto[:, :1], 2 * tap_auto[:, 1:]], axis=1)
            rx = weights @ rx_moments
            acc = np.sum(weights * acc_moments, axis=1)
            sigma2 = (10 ** (-cfg.snr_tx_db / 10) * np.sum(eq**2, axis=1) + np.maximum(rx, 0.0)
                      + np.maximum(acc, 0.0) + cfg.sigma_rj_ui**2 * np.sum(slopes_eq**2, axis=1))
        main_eq = eq[k_all, d]
        isi = np.sum(eq**2, axis=1) - main_eq**2
        if dfe:
            post = np.where(d + 1 < eq.shape[1], eq[k_all, np.minimum(d + 1, eq.shape[1] - 1)], 0.0)
            isi = isi - post**2
        snr = main_eq**2 * SYMBOL_VARIANCE / (SYMBOL_VARIANCE * np.maximum(isi, 0.0) + sigma2)
        return np.where(valid, snr, -np.inf)

    def _cosines(self, n: int) -> np.ndarray:
        """cos(2 pi f m / fb) for m < n on the model grid (kept with the config: the FFE noise moments)."""
        cos = self.family.terms.cos
        return cos if cos.shape[1] == n else np.cos(2 * np.pi * np.outer(self.freq, np.arange(n)) / self.cfg.baud)

    def _through_ffe(self, psd: np.ndarray, taps: np.ndarray, df: float) -> float:
        """Variance of noise of one-sided ``psd`` after the FFE: int psd |C(f)|^2 df.

        |C(f)|^2 = r0 + 2 sum_m r_m cos(2 pi f m / fb) with r the taps' autocorrelation, so
        only len(taps) cosine moments of the PSD are needed.
        """
        n = taps.size
        moments = (psd @ self._cosines(n)) * df
        r = np.correlate(taps, taps, mode="full")[n - 1:]
        return float(r[0] * moments[0] + 2 * np.dot(r[1:], moments[1:]))

    def _sigma_parts(self, eq, cur, taps, rx_psd, acc_psd, df, noise_rms) -> dict:
        cfg = self.cfg
        if noise_rms is not None:
            return {"slicer": float(noise_rms)}
        slopes_eq = np.convolve(cur.slopes, taps)
        return {
            "tx": float(np.sqrt(10 ** (-cfg.snr_tx_db / 10) * np.sum(eq**2))),
            "rx": float(np.sqrt(max(self._through_ffe(rx_psd, taps, df), 0.0))),
            "acc": float(np.sqrt(max(self._through_ffe(acc_psd, taps, df), 0.0))),
            "rj": float(cfg.sigma_rj_ui * np.sqrt(np.sum(slopes_eq**2))),
        }

    def _crosstalk(self, h_ctle, taps) -> list:
        """Symbol-spaced responses of the aggressors through the chosen EQ, at their worst phase.

        Aggressors launch like the victim (same amplitude, TX filter and FFE, host TX channel).
        """
        out = []
        cfg = self.cfg
        for pre, delay in zip(self.xt_pre, self.xt_delay, strict=True):
            pulse = pulse_from_response(pre * h_ctle * self.post, cfg.baud, cfg.samples_per_ui,
                                        cfg.window_ui, delay)
            # worst sampling phase of the aggressor: the one with the largest rms
            phases = [np.convolve(pulse[p::cfg.samples_per_ui], taps) for p in range(cfg.samples_per_ui)]
            out.append(max(phases, key=lambda x: float(np.sum(x**2))))
        return out

    def _ideal(self, noise_rms: float | None) -> Equalized:
        spu = self.cfg.samples_per_ui
        pulse = np.zeros(spu * 8)
        pulse[spu * 2: spu * 3] = 1.0
        cur = Cursors(np.array([1.0]), np.zeros(1), 0, 0)
        sigma = 0.0 if noise_rms is None else float(noise_rms)
        return Equalized(0.0, 0.0, np.ones(1), cur, np.array([1.0]), 0, sigma, {"slicer": sigma}, 0.0,
                         float("inf") if sigma == 0 else float(10 * np.log10(SYMBOL_VARIANCE / sigma**2)),
                         pulse, [])


def _equalized_pulse(eq: Equalized, samples_per_ui: int) -> np.ndarray:
    """The oversampled pulse after the FFE (taps one UI apart)."""
    out = np.zeros(eq.pulse.size + samples_per_ui * eq.ffe.size)
    for k, c in enumerate(eq.ffe):
        out[k * samples_per_ui: k * samples_per_ui + eq.pulse.size] += c * eq.pulse
    return out


def phase_scan(model: LinkModel, eq: Equalized, cfg: LinkConfig) -> tuple[np.ndarray, list]:
    """Statistical results at every sampling phase around the chosen one: (offset_ui, [StatResult | None]).

    The FFE stays as equalised at the chosen phase; a phase whose main cursor is not positive is None.
    This is the bathtub (BER vs sampling instant) and what the eye width is read from.
    """
    spu = cfg.samples_per_ui
    offsets = np.arange(-spu // 2, spu // 2)
    if model.ideal:
        return offsets / spu, [None] * offsets.size
    peak = int(np.argmax(eq.pulse))
    results = []
    for off in offsets:
        idx = peak + off
        values = eq.pulse[idx % spu::spu]
        main = idx // spu
        if main >= values.size:
            results.append(None)
            continue
        eqv = np.convolve(values, eq.ffe)
        d = main + cfg.ffe_pre
        if eqv[d] <= 0:
            results.append(None)
            continue
        results.append(stat_ber(eqv, d, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude, eq.crosstalk,
                                cfg.dfe_tap))
    return offsets / spu, results


def eye_width_ui(model: LinkModel, eq: Equalized, cfg: LinkConfig) -> float:
    """Width (UI) of sampling phases whose eye height at the target BER is positive."""
    if model.ideal:
        return 1.0
    _, results = phase_scan(model, eq, cfg)
    return sum(r is not None and r.eye_height > 0 for r in results) / cfg.samples_per_ui


def check_ctle_setting(setting: tuple[float, float], cfg: LinkConfig) -> None:
    """Refuse a fixed CTLE (gDC, gDC2) outside the receiver's gain ranges (dB), where its model does not hold."""
    names = (("gDC", cfg.ctle_gdc_db), ("gDC2", cfg.ctle_gdc2_db))
    if len(setting) != 2:
        raise InputError(f"CTLE setting {setting!r}: give gDC or gDC,gDC2 in dB", "ctle_setting")
    for value, (name, grid) in zip(setting, names, strict=True):
        if not (np.isfinite(value) and min(grid) <= value <= max(grid)):
            raise InputError(f"CTLE {name} {value:g} dB is outside the receiver's {min(grid):g}..{max(grid):g} dB",
                             "ctle_setting")


MAX_RUN_S = 3600.0
"""Longest time-domain run accepted: beyond an hour the statistical mode answers the same question."""
SYMBOLS_PER_S = {"time": 2e7, "time-os": 1e6}
"""Conservative engine throughput on 2 cores (the benchmarks measure ~3e7 and ~3e6): sets the symbol budget."""


def check_symbol_budget(mode: str, n_symbols: int) -> None:
    """Refuse a symbol count that is not a positive whole number or would run past ``MAX_RUN_S``.

    The streamed engines use constant memory, so the bound is on time: an estimate from the
    engine's throughput, so ``--symbols 1e20`` is answered at once instead of running for ages.
    """
    if isinstance(n_symbols, bool) or not isinstance(n_symbols, (int, np.integer)) or n_symbols <= 0:
        raise InputError(f"symbols {n_symbols!r} must be a whole number > 0", "n_symbols")
    rate = SYMBOLS_PER_S.get(mode)
    if rate is not None and n_symbols / rate > MAX_RUN_S:
        limit = int(rate * MAX_RUN_S)
        hours = n_symbols / rate / 3600
        raise InputError(f"symbols {n_symbols:.3g} would take about {hours:.3g} h in the {mode} mode; "
                         f"use at most {limit:.2g}, or the stat mode for BERs this low", "n_symbols")


def simulate_link(channel, cfg: LinkConfig, length_m: float | None = None, mode: str = "stat",
                  n_symbols: int = 1_000_000, noise_rms: float | None = None,
                  ctle_setting: tuple[float, float] | None = None, pattern: str = "random",
                  pattern_file: str | None = None, seed: int = 1, crosstalk_channels: tuple = (),
                  ideal: bool = False, power: PowerModel | None = None, eye_path: str | None = None,
                  with_eye_width: bool = True, host_channels: tuple = (None, None)) -> LinkResult:
    """Simulate the link at ``length_m`` and return a ``LinkResult``.

    ``mode`` 'stat' gives the statistical answer; 'time' counts errors over ``n_symbols``
    with the symbol-spaced numba engine; 'time-os' with the 32-samples/UI engine, where RJ and
    DD jitter move the sampling instant (the statistical eye figures are reported beside both).
    """
    if mode not in ("stat", "time", "time-os"):
        raise InputError(f"mode {mode!r}: use stat, time or time-os")
    check_symbol_budget(mode, n_symbols)
    pat = get_pattern(pattern, pattern_file)
    model = LinkModel(channel, cfg, length_m, crosstalk_channels, ideal, host_channels)
    eq = model.equalize(ctle_setting, noise_rms)
    stat = stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude,
                    eq.crosstalk, cfg.dfe_tap)
    width = eye_width_ui(model, eq, cfg) if with_eye_width else float("nan")
    ser, ber, errors, symbols = stat.ser, stat.ber, None, None
    if mode == "time":
        xt_var = sum(SYMBOL_VARIANCE * float(np.sum(x**2)) for x in eq.crosstalk)
        dd_var = eq.dd_amplitude**2  # dual-Dirac +-A has variance A^2: added as Gaussian here
        sigma_td = float(np.sqrt(eq.sigma**2 + xt_var + dd_var))
        dfe_weight = 0.0
        if cfg.dfe_tap and eq.main + 1 < eq.equalized.size:
            dfe_weight = eq.equalized[eq.main + 1] / eq.equalized[eq.main]
        counts = simulate_ber(eq.cursors.values, eq.ffe, eq.main, sigma_td, n_symbols, pat, seed, dfe_weight)
        ser, ber, errors, symbols = counts.ser, counts.ber, counts.bit_errors, counts.symbols
    if mode == "time-os":
        if cfg.dfe_tap:
            raise InputError("the oversampled time-domain mode has no DFE; use the time or stat mode", "mode")
        xt_var = sum(SYMBOL_VARIANCE * float(np.sum(x**2)) for x in eq.crosstalk)
        rj = 0.0 if (noise_rms is not None or ideal) else cfg.sigma_rj_ui
        dd = 0.0 if (noise_rms is not None or ideal) else cfg.a_dd_ui
        gauss = float(np.sqrt(max(eq.sigma**2 - eq.sigma_parts.get("rj", 0.0) ** 2, 0.0) + xt_var))
        counts = simulate_ber_oversampled(_equalized_pulse(eq, cfg.samples_per_ui), cfg.samples_per_ui, gauss,
                                          rj, dd, n_symbols, pat, seed)
        ser, ber, errors, symbols = counts.ser, counts.ber, counts.bit_errors, counts.symbols
    if eye_path:
        from accbench.dsp.eyeplot import plot_eye

        pulse_eq = _equalized_pulse(eq, cfg.samples_per_ui)
        symbols_eye = pattern_symbols(pat, 4000, seed)
        wave = oversampled_waveform(symbols_eye, pulse_eq, cfg.samples_per_ui)
        plot_eye(wave, cfg.samples_per_ui, eq.sigma, eye_path, f"{cfg.baud / 1e9:g} GBd PAM4")
    peaking = abs(eq.gdc_db) + abs(eq.gdc2_db)
    verdict = power_gate(power or PowerModel(), cfg.baud, peaking)
    return LinkResult(
        baud=cfg.baud, length_m=length_m if length_m is not None else getattr(channel, "length_m", None),
        mode=mode, symbols=symbols, ser=ser, ber=ber, errors=errors, eye_height=stat.eye_height,
        eye_width_ui=width, margin_db=stat.margin_db,
        ctle={"gdc_db": eq.gdc_db, "gdc2_db": eq.gdc2_db, "searched": ctle_setting is None},
        ffe_taps=[float(c) for c in eq.ffe], dfe=cfg.dfe_tap, sigma_slicer=eq.sigma, noise=eq.sigma_parts,
        power_w=verdict.power_w, pj_per_bit=verdict.pj_per_bit, power_pass=verdict.passed,
        target_ber=cfg.target_ber, ber_pass=ber <= cfg.target_ber, config=cfg.to_dict(),
    )
