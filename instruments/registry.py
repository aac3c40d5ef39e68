"""Open a VISA resource and pick the driver of the model's dialect from ``*IDN?``."""

from __future__ import annotations

import re

from accbench.instruments.base import Identity, Instrument

from accbench.errors import ConnectionLost, InputError, InstrumentError, InstrumentTimeout


def _drivers() -> list[type[Instrument]]:
    from accbench.instruments.bert import AnritsuMP1900A, KeysightM8040A
    from accbench.instruments.power import KeysightN6705C
    from accbench.instruments.vna import KeysightPna, RsZna

    return [KeysightPna, RsZna, KeysightM8040A, AnritsuMP1900A, KeysightN6705C]


def supported_models() -> dict[str, list[str]]:
    """Dialect name -> model patterns, for messages and ``accbench identify``."""
    return {d.DIALECT: list(d.MODELS) for d in _drivers()}


def dialect_kinds() -> dict[str, str]:
    """Dialect name -> the role its driver fills (vna, bert, power)."""
    return {d.DIALECT: d.KIND for d in _drivers()}


def driver_for(identity: Identity, dialect: str | None = None, kind: str | None = None) -> type[Instrument]:
    """The driver class for ``identity`` (or the named ``dialect``); unknown models are an error."""
    drivers = _drivers()
    if dialect:
        for d in drivers:
            if d.DIALECT.lower() == dialect.lower():
                return d
        raise InputError(f"unknown dialect {dialect!r}; use one of {', '.join(d.DIALECT for d in drivers)}")
    for d in drivers:
        if any(re.search(p, identity.model, re.IGNORECASE) for p in d.MODELS):
            if kind and d.KIND != kind:
                raise InstrumentError(f"{identity.maker} {identity.model} is a {d.KIND}, not a {kind}")
            return d
    models = "; ".join(f"{d.DIALECT}: {', '.join(d.MODELS)}" for d in drivers)
    raise InstrumentError(f"unsupported model {identity.maker} {identity.model}; supported: {models} "
                          "(or force a dialect)", "dialect")


def open_resource(resource: str, backend: str = ""):
    """Open ``resource`` with the pyvisa backend (``''`` system VISA, ``'@py'`` pyvisa-py, a sim backend)."""
    import pyvisa

    try:
        manager = pyvisa.ResourceManager(backend) if backend else pyvisa.ResourceManager()
    except (OSError, ValueError) as exc:
        raise InputError(f"VISA backend {backend or 'system'!r} is not available ({exc}); try the pyvisa-py "
                         "backend '@py'", "backend") from exc
    try:
        handle = manager.open_resource(resource)
    except Exception as exc:
        raise ConnectionLost(f"cannot open {resource}: {exc}; check the address and that the instrument is on") \
            from exc
    if "SOCKET" in resource.upper():
        handle.read_termination = "\n"
        handle.write_termination = "\n"
    return handle


def open_instrument(resource: str, backend: str = "", dialect: str | None = None, kind: str | None = None,
                    log: bool = False, timeout_s: float = 10.0, locations: dict | None = None) -> Instrument:
    """Open, identify and wrap an instrument in the driver of its dialect.

    ``locations``: where a BERT's generator and analyzer live (module locations or slots), for the
    dialects whose chassis layout varies.
    """
    handle = open_resource(resource, backend)
    probe = Instrument(handle, timeout_s=timeout_s)
    try:
        identity = probe.identity
    except (ConnectionLost, InstrumentTimeout) as exc:
        probe.close()
        raise ConnectionLost(f"cannot reach {resource}: no answer to *IDN? ({exc}); check the address, "
                             "the backend and that the instrument is on") from exc
    try:
        cls = driver_for(identity, dialect, kind)
    except Exception:
        probe.close()
        raise
    extra = {}
    if locations:
        if not getattr(cls, "LOCATION_KEYS", ()):
            probe.close()
            raise InputError(f"{identity.model} ({cls.DIALECT}) takes no locations; drop them")
        extra["locations"] = locations
    try:
        inst = cls(handle, identity, opener=lambda: open_resource(resource, backend), log=log, timeout_s=timeout_s,
                   **extra)
        inst.prepare()
        return inst
    except Exception:  # a refused setting or a failed prepare: do not leave the session open
        probe.close()
        raise
