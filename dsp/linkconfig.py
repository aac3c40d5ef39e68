"""Parameters of the PAM4 link model, defaulting to IEEE 802.3dj 200GBASE-CR1 (Clause 179, D3.3 COM).

Every field is overridable; ``to_dict`` lists the values used in each result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from accbench.errors import FieldError


@dataclass(frozen=True)
class LinkConfig:
    """Link model settings, SI units (UI-based jitter in UI). Defaults: 802.3dj CR1 COM table."""

    baud: float = 106.25e9
    target_ber: float = 2.4e-4  # KP4 RS(544,514) pre-FEC threshold
    der0: float = 2e-4  # detector error ratio at which the link margin is read
    com_pass_db: float = 3.0
    tx_amplitude_v: float = 0.4  # peak launch amplitude (levels +-1 map to +-this)
    snr_tx_db: float = 33.5
    eta0_v2_per_ghz: float = 7.5e-9  # host RX input-referred noise density (one-sided)
    acc_eta_v2_per_ghz: float = 7.5e-9  # ACC redriver input-referred noise density
    sigma_rj_ui: float = 0.01
    a_dd_ui: float = 0.02
    tx_bt_ratio: float = 0.75  # Bessel-Thomson launch filter -3 dB at ratio * baud
    rx_bw_ratio: float = 0.55  # receiver filter fr = ratio * baud
    ctle_gdc_db: tuple[float, ...] = tuple(float(g) for g in np.arange(0, -21, -1))
    ctle_gdc2_db: tuple[float, ...] = tuple(float(g) for g in np.arange(0, -7, -1))
    ctle_fz_ratio: float = 1 / 2.5
    ctle_fp1_ratio: float = 1 / 2.5
    ctle_fp2_ratio: float = 1.0
    ctle_flf_ratio: float = 1 / 80
    ffe_pre: int = 2
    ffe_post: int = 5
    ffe_method: str = "mmse"  # or "zf"
    ffe_tap_limit: float | None = None  # |c_k / c_0| <= limit for k != 0, or None
    tx_ffe: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.0)  # c(-2), c(-1), c(0), c(1)
    dfe_tap: bool = False
    host_tx_loss_db: float = 0.0  # host TX channel loss at Nyquist (PCB model)
    host_rx_loss_db: float = 0.0  # host RX channel (after the ACC) loss at Nyquist
    end_loss_db: float = 0.0  # fixed loss of each cable end (paddle card) at Nyquist
    samples_per_ui: int = 32
    window_ui: int = 256
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1e9 <= self.baud <= 200e9:
            raise FieldError(f"baud {self.baud / 1e9:g} GBd is outside 1..200 GBd", "baud")
        if not 0 < self.target_ber < 0.5:
            raise FieldError(f"target BER {self.target_ber} must be in (0, 0.5)", "target_ber")
        if self.ffe_pre < 0 or self.ffe_post < 0 or self.ffe_pre + self.ffe_post > 60:
            raise FieldError("FFE taps: pre and post must be >= 0, at most 60 in all", "ffe_pre", "ffe_post")
        if self.ffe_tap_limit is not None and not self.ffe_tap_limit > 0:
            raise FieldError(f"FFE tap limit {self.ffe_tap_limit} must be > 0", "ffe_tap_limit")
        if self.ffe_method not in ("mmse", "zf"):
            raise FieldError(f"FFE method {self.ffe_method!r}: use mmse or zf", "ffe_method")
        if len(self.tx_ffe) != 4:
            raise FieldError(f"TX FFE {self.tx_ffe}: give four taps c(-2), c(-1), c(0), c(1)", "tx_ffe")
        c_m2, c_m1, c_0, c_1 = self.tx_ffe
        if not (0 <= c_m2 <= 0.14 and -0.34 <= c_m1 <= 0 and -0.2 <= c_1 <= 0 and c_0 > 0):
            raise FieldError(
                f"TX FFE {self.tx_ffe} is outside the 802.3dj limits: c(-2) 0..0.14, c(-1) -0.34..0, "
                "c(1) -0.2..0, c(0) > 0", "tx_ffe"
            )
        for name in ("host_tx_loss_db", "host_rx_loss_db", "end_loss_db"):
            loss = getattr(self, name)
            if not 0 <= loss <= 60:
                raise FieldError(f"fixed loss {loss} dB must be within 0..60 dB", name)

    @property
    def nyquist_hz(self) -> float:
        """Half the symbol rate, where losses and masks are quoted."""
        return self.baud / 2

    def with_(self, **changes: object) -> LinkConfig:
        """A copy with ``changes`` applied (and checked again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """The settings used, for a result's JSON (the CTLE grids as their ranges)."""
        out = asdict(self)
        out["ctle_gdc_db"] = [min(self.ctle_gdc_db), max(self.ctle_gdc_db)]
        out["ctle_gdc2_db"] = [min(self.ctle_gdc2_db), max(self.ctle_gdc2_db)]
        out["tx_ffe"] = list(self.tx_ffe)
        return out
