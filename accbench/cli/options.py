"""Options shared by several commands, their translation into builder arguments, and builder errors into flags.

The library builders (``spec_from_wire``, ``build_link``) speak in their parameter names and SI
units; this module is the one place that knows which CLI option feeds which parameter, so an
error about ``diameter_m`` reaches the user as one about ``--diameter-mm``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from accbench.cli.params import count, quantity

F = TypeVar("F", bound=Callable[..., Any])

TWINAX_FLAGS: dict[str, str] = {
    "length_m": "--length-m", "awg": "--awg", "diameter_m": "--diameter-mm", "copper_grade": "--grade",
    "temper": "--temper", "conductivity_iacs_percent": "--iacs", "roughness_rq_m": "--rq-um",
    "roughness_model": "--roughness-model", "dielectric": "--dielectric", "eps_r": "--eps-r",
    "tan_delta": "--tan-delta", "diff_impedance_ohm": "--zdiff", "common_impedance_ohm": "--zcomm",
    "skew_s_per_m": "--skew-ps-per-m", "carbon_mg_m2": "--carbon-mg-m2", "carbon_model": "--carbon-model",
    "carbon_threshold_mg_m2": "--carbon-threshold", "f_max_hz": "--fmax", "f_step_hz": "--fstep",
}
"""Parameter of ``spec_from_wire`` -> the option of ``twinax_options`` (or synth's) that sets it."""

LINK_FLAGS: dict[str, str] = {
    **TWINAX_FLAGS, "file": "FILE", "wire": "--awg/--diameter-mm", "ideal": "--ideal",
    "measured_length_m": "--measured-length-m", "thru": "--thru", "baud": "--baud", "target_ber": "--target-ber",
    "ffe": "--ffe", "ffe_pre": "--ffe", "ffe_post": "--ffe", "ffe_method": "--ffe-method",
    "ffe_tap_limit": "--ffe-limit", "dfe": "--dfe", "host_tx_loss_db": "--host-loss-db",
    "host_rx_loss_db": "--host-loss-db", "end_loss_db": "--end-loss-db", "tx_ffe": "--tx-ffe", "lanes": "--lanes",
    "max_power_w": "--max-power-w", "ctle_setting": "--ctle", "noise_rms": "--noise-rms",
}
"""Parameter of ``build_link`` (and of the ``LinkConfig`` and wire it builds) -> the option that sets it."""

ANALYZE_FLAGS: dict[str, str] = {
    "baud": "--baud", "thru": "--thru", "ports": "--ports", "allow_nonpassive": "--allow-nonpassive",
    "host_classes": "--host-class", "host_class": "--host-class", "n_symbols": "--symbols", "mode": "--mode",
    "pattern_file": "--pattern-file", "pattern": "--pattern", "crosstalk": "--crosstalk", "fit_f_min_hz": "--fit-fmin",
    "fit_f_max_hz": "--fit-fmax", "mask": "--mask", "deembed": "--deembed",
}
"""Parameters of the analysis, COM and time-domain functions -> the options that set them."""


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    """Decorate ``func`` with ``options`` in the order they are listed (as stacked decorators would)."""
    for option in reversed(options):
        func = option(func)
    return func


def twinax_options(func: F) -> F:
    """The wire and twinax options shared by synth, link and reach."""
    return _apply(func, [
        click.option("--awg", type=quantity(), default=None, help="Wire gauge (AWG)."),
        click.option("--diameter-mm", type=quantity("", 0, open_low=True), default=None,
                     help="Wire diameter in mm (instead of --awg)."),
        click.option("--grade", default="Cu-ETP", show_default=True,
                     help="Copper: Cu-ETP (CW004A) or Cu-OFC (CW008A)."),
        click.option("--temper", default="annealed", show_default=True, help="annealed or hard-drawn."),
        click.option("--iacs", type=quantity("", 0, 120, open_low=True), default=None,
                     help="Conductivity in %IACS (overrides grade)."),
        click.option("--rq-um", type=quantity("", 0, 50), default=0.0, show_default=True,
                     help="Surface roughness Rq in um."),
        click.option("--roughness-model", default="hammerstad", show_default=True,
                     help="none, hammerstad, groiss or gradient (scikit-rf)."),
        click.option("--dielectric", default="foamed-pe", show_default=True,
                     help="foamed-pe, solid-pe, fep or foamed-fep."),
        click.option("--eps-r", type=quantity("", 1, 20), default=None,
                     help="Relative permittivity at 10 GHz (overrides)."),
        click.option("--tan-delta", type=quantity("", 0, 1), default=None, help="Loss tangent at 10 GHz (overrides)."),
        click.option("--zdiff", type=quantity("", 0, open_low=True), default=100.0, show_default=True,
                     help="Pair impedance in ohm."),
        click.option("--zcomm", type=quantity("", 0, open_low=True), default=30.0, show_default=True,
                     help="Common-mode impedance in ohm."),
        click.option("--skew-ps-per-m", type=quantity(), default=0.0, show_default=True, help="P/N skew in ps/m."),
        click.option("--carbon-mg-m2", type=quantity("", 0, 10000), default=0.0, show_default=True,
                     help="Surface carbon in mg/m^2."),
        click.option("--carbon-model", default="roughening", show_default=True,
                     help="Carbon hypothesis: roughening, shell or none."),
        click.option("--carbon-threshold", type=quantity("", 0, 10000), default=50.0, show_default=True,
                     help="Carbon (mg/m^2) below which it has no effect."),
    ])


def link_options(func: F) -> F:
    """Options of the link model shared by link and reach."""
    return _apply(func, [
        click.option("--baud", default="106.25G", show_default=True, type=quantity("Bd", 0, open_low=True),
                     help="Symbol rate (53.125G, 106.25G presets; 1-200 GBd)."),
        click.option("--target-ber", type=quantity("", 0, 0.5, open_low=True), default=2.4e-4, show_default=True,
                     help="BER target (KP4 pre-FEC threshold by default)."),
        click.option("--ffe", default="2,5", show_default=True, help="FFE pre,post taps."),
        click.option("--ffe-method", default="mmse", show_default=True, help="mmse or zf."),
        click.option("--ffe-limit", type=quantity("", 0, open_low=True), default=None,
                     help="Limit |c_k/c_0| of every FFE tap but the main one."),
        click.option("--dfe", is_flag=True, help="Add a 1-tap DFE (for comparison; an ACC is linear)."),
        click.option("--host-loss-db", type=quantity("dB", 0, 60), default=0.0, show_default=True,
                     help="Loss of each host channel (PCB) at Nyquist."),
        click.option("--end-loss-db", type=quantity("dB", 0, 60), default=0.0, show_default=True,
                     help="Fixed loss of each cable end (paddle card) at Nyquist."),
        click.option("--host-tx-file", type=click.Path(dir_okay=False), default=None,
                     help="Touchstone of the host TX channel (replaces --host-loss-db on that side)."),
        click.option("--host-rx-file", type=click.Path(dir_okay=False), default=None,
                     help="Touchstone of the host RX channel (replaces --host-loss-db on that side)."),
        click.option("--tx-ffe", default="0,0,1,0", show_default=True,
                     help="TX FFE preset c(-2),c(-1),c(0),c(1) within the 802.3dj limits."),
        click.option("--measured-length-m", type=quantity("m", 0, 100, open_low=True), default=None,
                     help="Length of the cable in FILE (needed to scale it to other lengths)."),
        click.option("--thru", default="auto", show_default=True, help="Port map of FILE (see analyze)."),
        click.option("--next", "next_files", multiple=True, type=click.Path(dir_okay=False),
                     help="NEXT aggressor Touchstone (repeatable)."),
        click.option("--fext", "fext_files", multiple=True, type=click.Path(dir_okay=False),
                     help="FEXT aggressor Touchstone (repeatable)."),
        click.option("--max-power-w", type=quantity("W", 0, 1000, open_low=True), default=5.0, show_default=True,
                     help="Power gate limit (W)."),
        click.option("--lanes", type=count(1, 64), default=4, show_default=True, help="Lanes per cable end."),
    ])


def resource_options(func: F) -> F:
    """VISA resource, backend and dialect options of the bench commands."""
    return _apply(func, [
        click.option("--resource", default=None,
                     help="VISA resource, e.g. TCPIP::192.168.0.10::hislip0::INSTR (default: the simulated bench)."),
        click.option("--backend", default="", help="pyvisa backend: '' (system VISA), '@py' (pyvisa-py), '@accsim' "
                                                   "(simulated bench; the default for its resources)."),
        click.option("--dialect", default=None, help="Force a dialect instead of choosing it from *IDN?."),
        click.option("--timeout-s", type=quantity("s", 0, 86400, open_low=True), default=10.0, show_default=True,
                     help="Default I/O timeout."),
        click.option("--sim-dut", default=None,
                     help="Simulated bench only: the connected cable, e.g. awg=26,length_m=3,carbon_mg_m2=80."),
    ])


def wire_arguments(kw: dict[str, Any]) -> dict[str, Any]:
    """Pop the ``twinax_options`` values from ``kw`` as ``spec_from_wire`` arguments (mm, um, ps -> SI)."""
    diameter_mm = kw.pop("diameter_mm")
    return {
        "awg": kw.pop("awg"), "diameter_m": None if diameter_mm is None else diameter_mm * 1e-3,
        "copper_grade": kw.pop("grade"), "temper": kw.pop("temper"), "conductivity_iacs_percent": kw.pop("iacs"),
        "roughness_rq_m": kw.pop("rq_um") * 1e-6, "roughness_model": kw.pop("roughness_model"),
        "dielectric": kw.pop("dielectric"), "eps_r": kw.pop("eps_r"), "tan_delta": kw.pop("tan_delta"),
        "diff_impedance_ohm": kw.pop("zdiff"), "common_impedance_ohm": kw.pop("zcomm"),
        "skew_s_per_m": kw.pop("skew_ps_per_m") * 1e-12, "carbon_mg_m2": kw.pop("carbon_mg_m2"),
        "carbon_model": kw.pop("carbon_model"), "carbon_threshold_mg_m2": kw.pop("carbon_threshold"),
    }


def link_arguments(kw: dict[str, Any]) -> dict[str, Any]:
    """Pop the ``link_options`` values from ``kw`` as ``build_link`` arguments (the option names but one)."""
    names = ("baud", "target_ber", "ffe", "ffe_method", "dfe", "host_loss_db", "end_loss_db", "host_tx_file",
             "host_rx_file", "tx_ffe", "measured_length_m", "thru", "next_files", "fext_files", "max_power_w",
             "lanes")
    return {"ffe_tap_limit": kw.pop("ffe_limit"), **{name: kw.pop(name) for name in names}}


def errors_named_by(flags: Mapping[str, str]) -> Callable[[F], F]:
    """Decorate a command so the library errors it meets carry its option names (``option_names``)."""
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with option_names(flags):
                return func(*args, **kwargs)
        return run  # type: ignore[return-value]
    return decorate


INSTRUMENT_FLAGS: dict[str, str] = {"dialect": "--dialect", "backend": "--backend", "pattern_file": "--pattern-file",
                                    "locations": "--location", "dut": "--sim-dut"}
"""Parameters of the instrument layer and the simulated cable description -> the bench commands' options."""


@contextmanager
def option_names(flags: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library ``InputError`` with the options of its fields in front, so the user knows what to fix."""
    from accbench.errors import AccbenchError, FieldError, InputError

    try:
        yield
    except AccbenchError as exc:
        names = list(dict.fromkeys(flags[name] for name in getattr(exc, "fields", ()) if name in flags))
        if not names:
            raise
        # the kind of error is kept (an interrupted run still exits 130); its fields are used up, so an outer
        # option_names does not name them twice
        kind = InputError if isinstance(exc, FieldError) else type(exc)
        raise kind(f"{'/'.join(names)}: {exc}") from exc
