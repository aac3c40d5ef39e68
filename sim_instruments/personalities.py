"""Which simulated instrument answers which resource of the bench (model -> YAML device -> class)."""

from __future__ import annotations

from accbench.errors import InputError

#: role -> model -> device name in bench.yaml (its *IDN? and static dialogues)
DEVICES = {"vna": {"N5247B": "vna-pna", "E5080B": "vna-e5080b", "ZNA67": "vna-zna"},
           "bert": {"M8040A": "bert-m8040", "MP1900A": "bert-mp1900"},
           "power": {"N6705C": "power-n6705"}}
#: driver dialect -> the model the simulated bench uses for it
DIALECT_MODELS = {"keysight-pna": "N5247B", "rs-zna": "ZNA67", "keysight-m8040": "M8040A",
                  "anritsu-mp1900": "MP1900A", "keysight-n6705": "N6705C"}


def model_for(role: str, name: str) -> str:
    """A simulated model from a model name or a dialect name; unknown names are an InputError."""
    models = DEVICES[role]
    for model in models:
        if model.upper() == name.upper():
            return model
    model = DIALECT_MODELS.get(name.lower())
    if model in models:
        return model
    raise InputError(f"no simulated {role} {name!r}; use one of {', '.join(models)}")


def device_for(name: str, bench) -> str:
    """A resource's device name: role aliases (vna, bert, power) follow the bench's model choice."""
    if name in DEVICES:
        return DEVICES[name][bench.models[name]]
    return name


def create(device: str, bench):
    from accbench.sim.bert import SimAnritsuMP1900, SimKeysightM8040
    from accbench.sim.power import SimKeysightN6705
    from accbench.sim.vna import SimKeysightE5080B, SimKeysightPna, SimRsZna

    classes = {cls.DEVICE: cls for cls in (SimKeysightPna, SimKeysightE5080B, SimRsZna, SimKeysightM8040,
                                             SimAnritsuMP1900, SimKeysightN6705)}
    if device not in classes:
        raise InputError(f"no simulated instrument {device!r}; have {', '.join(classes)}")
    return classes[device](bench)
