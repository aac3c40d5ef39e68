"""Which simulated instrument answers which resource of the bench (YAML device name -> class)."""

from __future__ import annotations

from accbench.errors import InputError

#: resource alias -> the bench attribute choosing its dialect, and dialect -> device name
ALIASES = {"vna": ("vna_dialect", {"keysight-pna": "vna-pna", "rs-zna": "vna-zna"}),
           "bert": ("bert_dialect", {"keysight-m8040": "bert-m8040", "anritsu-mp1900": "bert-mp1900"}),
           "power": (None, {"keysight-n6705": "power-n6705"})}


def device_for(name: str, bench) -> str:
    """A resource's device name: aliases (vna, bert, power) follow the bench's dialect choice."""
    if name in ALIASES:
        attribute, devices = ALIASES[name]
        dialect = getattr(bench, attribute) if attribute else next(iter(devices))
        if dialect not in devices:
            raise InputError(f"simulated {name} dialect {dialect!r}: use one of {', '.join(devices)}")
        return devices[dialect]
    return name


def create(device: str, bench):
    from sim_instruments.bert import SimAnritsuMP1900, SimKeysightM8040
    from sim_instruments.power import SimKeysightN6705
    from sim_instruments.vna import SimKeysightPna, SimRsZna

    classes = {cls.DEVICE: cls for cls in (SimKeysightPna, SimRsZna, SimKeysightM8040, SimAnritsuMP1900,
                                             SimKeysightN6705)}
    if device not in classes:
        raise InputError(f"no simulated instrument {device!r}; have {', '.join(classes)}")
    return classes[device](bench)
