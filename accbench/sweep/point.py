"""One design point (parameter name -> value, in the spec's units) turned into the library's objects.

The same builders as ``accbench synth``/``link``/``reach``: ``spec_from_wire`` for the twinax pair and
``build_link`` for the link around it, so a sweep point and the single-point commands cannot disagree.
A bad value raises the library's ``FieldError``; ``spec_names`` maps its fields back to spec names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from accbench.sweep.params import PARAMETERS

if TYPE_CHECKING:
    from accbench.dsp.linksetup import LinkSetup
    from accbench.dsp.twinax import TwinaxSpec

DEFAULT_STRETCH_M = 5.0
"""Stretch-goal reach when a spec gives none (the reach command's default)."""


def library_arguments(point: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The point's values as library arguments, by group: ``wire``, ``link`` and ``reach``."""
    groups: dict[str, dict[str, Any]] = {"wire": {}, "link": {}, "reach": {}}
    for name, value in point.items():
        param = PARAMETERS[name]
        groups[param.group][param.argument] = param.to_library(value)
    link = groups["link"]
    if "ffe_pre" in link or "ffe_post" in link:  # build_link takes the FFE as one (pre, post) pair
        link["ffe"] = (link.pop("ffe_pre", 2), link.pop("ffe_post", 5))
    return groups


def build_point(point: Mapping[str, Any]) -> tuple[TwinaxSpec, LinkSetup]:
    """The twinax spec and the link set-up of ``point`` (checked by the library, nothing computed yet)."""
    from accbench.dsp.linksetup import build_link
    from accbench.dsp.twinax import spec_from_wire

    args = library_arguments(point)
    spec = spec_from_wire(**args["wire"])
    setup = build_link(wire=spec, length_m=spec.length_m, **args["link"])
    return spec, setup


def stretch_m(point: Mapping[str, Any]) -> float:
    """The stretch-goal reach of ``point`` (m)."""
    return float(library_arguments(point)["reach"].get("stretch_m", DEFAULT_STRETCH_M))


def spec_names(fields: tuple[str, ...], point: Mapping[str, Any]) -> list[str]:
    """The spec parameters of ``point`` behind the library's ``fields`` (``roughness_rq_m`` -> ``roughness_rq_um``)."""
    found = []
    for name in point:
        param = PARAMETERS[name]
        argument = "ffe" if param.argument in ("ffe_pre", "ffe_post") else param.argument
        if param.argument in fields or argument in fields:
            found.append(name)
    return found
