"""One builder for a link run: the channel (Touchstone file, twinax wire or ideal), its ``LinkConfig``,
crosstalk, host channels and power model, so ``accbench link``/``reach`` and a notebook build the same link.

    setup = build_link(wire={"awg": 26, "carbon_mg_m2": 80}, length_m=3, baud=106.25e9)
    result = setup.simulate()   # or setup.reach(required_m=3)

Bad values raise ``FieldError`` (an ``InputError``) naming the parameter of ``build_link`` (or of
``spec_from_wire`` / ``LinkConfig``) in ``fields``; a front end maps those names to its own options.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accbench.dsp.channel import IdealChannel, MeasuredChannel, TwinaxChannel
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.power import PowerModel
from accbench.dsp.twinax import TwinaxSpec, spec_from_wire

from accbench.errors import FieldError

if TYPE_CHECKING:
    from accbench.dsp.link import LinkResult
    from accbench.dsp.reach import ReachResult

Channel = IdealChannel | TwinaxChannel | MeasuredChannel
WIRE_PARAMETERS = tuple(inspect.signature(spec_from_wire).parameters)
"""Keys a ``wire`` mapping may hold: the parameters of ``spec_from_wire``."""
DEFAULT_WIRE_LENGTH_M = 3.0
"""Length of a wire channel when no length is given (the CR1 reach)."""


@dataclass(frozen=True)
class LinkSetup:
    """A link ready to simulate: the channel at its length, the model settings and what surrounds the cable."""

    channel: Channel
    config: LinkConfig
    length_m: float | None = None
    crosstalk: tuple[MeasuredChannel, ...] = ()
    power: PowerModel = field(default_factory=PowerModel)
    hosts: tuple[MeasuredChannel | None, MeasuredChannel | None] = (None, None)
    ideal: bool = False

    def simulate(self, **options: Any) -> LinkResult:
        """``simulate_link`` of this link; ``options`` are its run settings (mode, n_symbols, noise_rms, ...)."""
        from accbench.dsp.link import simulate_link

        return simulate_link(self.channel, self.config, self.length_m, crosstalk_channels=self.crosstalk,
                             ideal=self.ideal, power=self.power, host_channels=self.hosts, **options)

    def reach(self, required_m: float | None = None, stretch_m: float = 5.0, **options: Any) -> ReachResult:
        """``find_reach`` of this link's channel; ``required_m`` defaults to the set-up length (else 3 m)."""
        from accbench.dsp.reach import find_reach

        if required_m is None:
            required_m = self.length_m if self.length_m is not None else DEFAULT_WIRE_LENGTH_M
        return find_reach(self.channel, self.config, required_m, stretch_m, crosstalk_channels=self.crosstalk,
                          power=self.power, host_channels=self.hosts, **options)


def parse_floats(value: str | Sequence[float], field_name: str, count: int, label: str = "") -> tuple[float, ...]:
    """``count`` numbers from '0,-0.1,0.8,-0.1' (or a sequence), so text and code give the same tuple."""
    problem = f"{label or field_name} {value!r}: give {count} comma-separated numbers"
    try:
        values = tuple(float(v) for v in (value.split(",") if isinstance(value, str) else value))
    except (TypeError, ValueError) as exc:
        raise FieldError(problem, field_name) from exc
    if len(values) != count:
        raise FieldError(problem, field_name)
    return values


def parse_pair(value: str | Sequence[int], field_name: str, label: str = "") -> tuple[int, int]:
    """Two integers from '2,5' (or a pair), e.g. the FFE pre- and post-cursor taps."""
    try:
        items = value.split(",") if isinstance(value, str) else value
        first, second = (int(v) for v in items)
    except (TypeError, ValueError) as exc:
        raise FieldError(f"{label or field_name} {value!r}: give two integers, e.g. 2,5", field_name) from exc
    return first, second


def wire_to_spec(wire: TwinaxSpec | Mapping[str, Any], length_m: float | None = None) -> TwinaxSpec:
    """The twinax spec of a wire given as a spec or as ``spec_from_wire`` arguments, at ``length_m`` if given."""
    if isinstance(wire, TwinaxSpec):
        return wire if length_m is None else wire.with_length(length_m)
    unknown = sorted(set(wire) - set(WIRE_PARAMETERS))
    if unknown:
        raise FieldError(f"wire: unknown parameter(s) {', '.join(unknown)}; use {', '.join(WIRE_PARAMETERS)}",
                         "wire")
    if length_m is None:
        length_m = wire.get("length_m", DEFAULT_WIRE_LENGTH_M)
    return spec_from_wire(**{**wire, "length_m": length_m})


def build_link(file: str | Path | None = None, *, wire: TwinaxSpec | Mapping[str, Any] | None = None,
               ideal: bool = False, length_m: float | None = None, measured_length_m: float | None = None,
               thru: str = "auto", next_files: Sequence[str | Path] = (), fext_files: Sequence[str | Path] = (),
               baud: float = 106.25e9, target_ber: float = 2.4e-4, ffe: str | Sequence[int] = (2, 5),
               ffe_method: str = "mmse", ffe_tap_limit: float | None = None, dfe: bool = False,
               host_loss_db: float = 0.0, end_loss_db: float = 0.0, host_tx_file: str | Path | None = None,
               host_rx_file: str | Path | None = None, tx_ffe: str | Sequence[float] = (0.0, 0.0, 1.0, 0.0),
               lanes: int = 4, max_power_w: float = 5.0) -> LinkSetup:
    """The link over exactly one channel: a Touchstone ``file``, a ``wire`` (twinax model) or ``ideal``.

    ``length_m`` is the cable length to simulate (a file is scaled to it from ``measured_length_m``;
    a wire defaults to 3 m). ``host_loss_db`` is each host channel's loss at Nyquist, replaced on a
    side by ``host_tx_file``/``host_rx_file``; ``lanes`` and ``max_power_w`` set the power gate.
    """
    from accbench.dsp.touchstone import read_touchstone

    pre, post = parse_pair(ffe, "ffe", "FFE taps pre,post")
    taps = parse_floats(tx_ffe, "tx_ffe", 4, "TX FFE c(-2),c(-1),c(0),c(1)")
    host_files = tuple(None if h is None else str(h) for h in (host_tx_file, host_rx_file))
    cfg = LinkConfig(baud=baud, target_ber=target_ber, ffe_pre=pre, ffe_post=post, ffe_method=ffe_method,
                     ffe_tap_limit=ffe_tap_limit, dfe_tap=dfe, host_tx_loss_db=host_loss_db,
                     host_rx_loss_db=host_loss_db, end_loss_db=end_loss_db, tx_ffe=taps,
                     extra={"host_tx_file": host_files[0], "host_rx_file": host_files[1]})
    if not (isinstance(lanes, Integral) and lanes >= 1):
        raise FieldError(f"lanes {lanes!r}: need >= 1 lane per cable end", "lanes")
    if not max_power_w > 0:
        raise FieldError(f"power limit {max_power_w} W must be > 0", "max_power_w")
    power = PowerModel(lanes_per_end=lanes, max_w=max_power_w)
    spec = None if wire is None else wire_to_spec(wire, length_m)
    if sum((file is not None, spec is not None, bool(ideal))) != 1:
        raise FieldError("give exactly one channel: a Touchstone file, a wire or the ideal channel",
                         "file", "wire", "ideal")
    if measured_length_m is not None and not measured_length_m > 0:
        raise FieldError(f"measured length {measured_length_m} m must be > 0", "measured_length_m")
    hosts = tuple(None if h is None else MeasuredChannel.from_network(read_touchstone(h), name=h)
                  for h in host_files)
    if ideal:
        return LinkSetup(IdealChannel(), cfg, length_m, power=power, ideal=True)
    if spec is not None:
        return LinkSetup(TwinaxChannel(spec), cfg, length_m, power=power, hosts=hosts)
    channel = MeasuredChannel.from_network(read_touchstone(file), measured_length_m, thru, str(file))
    if length_m is not None and measured_length_m is None:
        raise FieldError("a measured channel is scaled to another length only from its measured_length_m",
                         "measured_length_m")
    crosstalk = tuple(MeasuredChannel.from_xt(read_touchstone(x), channel, str(x))
                      for x in (*next_files, *fext_files))
    return LinkSetup(channel, cfg, length_m, crosstalk, power, hosts)
