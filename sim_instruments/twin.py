"""The digital twin: cables under test built from the physics models, and the bench that holds them.

A ``SimDut`` is one cable: the twinax model (wire, surface carbon, grade, AWG, length,
roughness) with its ACC ends (the link model's linear EQ and the power model). The
``SimBench`` holds the DUTs, which one is "connected" (as a switch matrix would), the symbol
rate the BERT runs at, the seeded random stream and the fault plan; every simulated
instrument answers from it, so all three see the same cable.

Threads: ``SimBench.lock`` guards only the bench-wide state (the connected cable, the random
draws' counts, the fault schedule) and is held for microseconds, never during a computation;
each instrument serialises its own messages with its own lock (``SimInstrument.lock``). The
S-parameters of recent sweeps are kept in ``SPARAMETER_CACHE``, a least-recently-used cache
bounded in bytes and entries, so no sequence of sweeps makes the twin's memory grow without bound.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
from accbench.dsp.power import PowerModel
from accbench.dsp.twinax import TwinaxSpec, spec_from_wire

from accbench.errors import FieldError, InputError

SYNC_LOSS_BER = 1e-2  # above this the error detector cannot hold pattern lock
SPARAMETER_CACHE_BYTES = 64 * 2**20  # two 100001-point 4-port sweeps, or sixteen of 16001 points
SPARAMETER_CACHE_ENTRIES = 64
SWEEP_CHUNK_POINTS = 16_384  # larger grids are computed in blocks: a bounded working set per sweep


@dataclass(frozen=True)
class SimDut:
    """One simulated cable: its twinax spec, power model and the faults of this unit."""

    serial: str = "SIM-0001"
    spec: TwinaxSpec = field(default_factory=TwinaxSpec)
    power: PowerModel = field(default_factory=PowerModel)
    extra_power_w: float = 0.0  # a unit drawing more than the model (a faulty redriver)
    wire_lot: str = ""
    noise_factor: float = 1.0  # redriver noise density x this^2: a noisy unit the S-parameters cannot show
    lanes: int = 1

    def to_dict(self) -> dict:
        return {"serial": self.serial, "wire_lot": self.wire_lot, "spec": self.spec.to_dict(),
                "power": self.power.to_dict(), "extra_power_w": self.extra_power_w,
                "noise_factor": self.noise_factor, "lanes": self.lanes}


_DUT_KEYS = {"awg": float, "length_m": float, "carbon_mg_m2": float, "grade": str, "copper_grade": str,
             "roughness_rq_m": float, "roughness_um": float, "diameter_mm": float, "serial": str,
             "extra_power_w": float, "skew_ps_per_m": float, "temper": str, "carbon_model": str,
             "lot": str, "noise_factor": float}


def parse_dut(text: str) -> SimDut:
    """``awg=26,length_m=3,carbon_mg_m2=80`` -> SimDut (the same description as ``accbench synth``)."""
    values: dict = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in _DUT_KEYS:
            raise InputError(f"cable description {item!r}: use key=value with keys {', '.join(sorted(_DUT_KEYS))}",
                             "dut")
        try:
            values[key] = _DUT_KEYS[key](raw.strip())
        except ValueError as exc:
            raise InputError(f"cable description {key}={raw!r} is not a number", "dut") from exc
    wire: dict = {"awg": values.get("awg", TwinaxSpec().awg)}
    for key in ("length_m", "carbon_mg_m2", "roughness_rq_m", "temper", "carbon_model"):
        if key in values:
            wire[key] = values[key]
    if "grade" in values or "copper_grade" in values:
        wire["copper_grade"] = values.get("grade", values.get("copper_grade"))
    if "roughness_um" in values:
        wire["roughness_rq_m"] = values["roughness_um"] * 1e-6
    if "diameter_mm" in values:
        wire["diameter_m"], wire["awg"] = values["diameter_mm"] * 1e-3, None
    if "skew_ps_per_m" in values:
        wire["skew_s_per_m"] = values["skew_ps_per_m"] * 1e-12
    try:
        spec = spec_from_wire(**wire)
    except FieldError as exc:
        raise InputError(f"cable description: {exc}", "dut") from exc
    return SimDut(values.get("serial", "SIM-0001"), spec,
                  extra_power_w=values.get("extra_power_w", 0.0), wire_lot=values.get("lot", ""),
                  noise_factor=values.get("noise_factor", 1.0))


@lru_cache(maxsize=256)
def _link(spec: TwinaxSpec, power: PowerModel, baud: float, noise_factor: float = 1.0) -> tuple[float, float]:
    """(BER, cable watts) of the twin's link at ``baud``: statistical model, EQ optimised."""
    from accbench.dsp.channel import TwinaxChannel
    from accbench.dsp.link import simulate_link
    from accbench.dsp.linkconfig import LinkConfig

    cfg = LinkConfig(baud=baud)
    result = simulate_link(TwinaxChannel(spec), cfg, power=power, with_eye_width=False)
    if noise_factor == 1.0:
        return float(result.ber), float(result.power_w)
    # a noisy redriver: more noise at the same EQ settings (the cable's preset), so the same watts
    noisy = cfg.with_(acc_eta_v2_per_ghz=cfg.acc_eta_v2_per_ghz * noise_factor**2)
    ctle = (result.ctle["gdc_db"], result.ctle["gdc2_db"])
    return float(simulate_link(TwinaxChannel(spec), noisy, ctle_setting=ctle, with_eye_width=False).ber), \
        float(result.power_w)


class ArrayCache:
    """A thread-safe least-recently-used cache of numpy arrays, bounded in total bytes and in entries.

    Values are stored read-only (callers share them); one larger than the whole budget is computed
    and returned but not kept. Computations run outside the cache's lock, so a long one does not
    hold up lookups of other keys (two threads missing the same key both compute it).
    """

    def __init__(self, max_bytes: int, max_entries: int):
        self.max_bytes = int(max_bytes)
        self.max_entries = int(max_entries)
        self.nbytes = 0  # bytes of the arrays held now (the cache's own accounting)
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The array under ``key``, computed by ``compute()`` (and kept, evicting the oldest) on a miss."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = np.asarray(compute())
        value.flags.writeable = False
        self._put(key, value)
        return value

    def _put(self, key: Hashable, value: np.ndarray) -> None:
        """Keep ``value`` if it fits the budget, evicting least-recently-used entries to make room."""
        if value.nbytes > self.max_bytes or self.max_entries < 1:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.nbytes -= 0 if old is None else old.nbytes
            while self._items and (self.nbytes + value.nbytes > self.max_bytes
                                   or len(self._items) >= self.max_entries):
                _, evicted = self._items.popitem(last=False)
                self.nbytes -= evicted.nbytes
            self._items[key] = value
            self.nbytes += value.nbytes

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
            self.nbytes = 0


SPARAMETER_CACHE = ArrayCache(SPARAMETER_CACHE_BYTES, SPARAMETER_CACHE_ENTRIES)


def _network_s(spec: TwinaxSpec, freq_key: tuple) -> np.ndarray:
    """The cable's 4-port S at ``linspace(*freq_key)``, through the bounded ``SPARAMETER_CACHE``."""

    def compute() -> np.ndarray:
        from accbench.dsp.twinax import twinax_network

        start, stop, points = freq_key
        grid = np.linspace(start, stop, points)
        if points <= SWEEP_CHUNK_POINTS or grid[0] == 0:  # the model takes its DC point from f[0] == 0
            return twinax_network(spec, grid).s
        out = np.empty((points, 4, 4), dtype=complex)
        for first in range(0, points, SWEEP_CHUNK_POINTS):  # the model is pointwise in frequency
            block = slice(first, first + SWEEP_CHUNK_POINTS)
            out[block] = twinax_network(spec, grid[block]).s
        return out

    return SPARAMETER_CACHE.get((spec, freq_key), compute)


class SimBench:
    """DUTs, the selected one, the running symbol rate, the seeded randomness and the faults."""

    def __init__(self, duts: list[SimDut] | None = None, seed: int = 1, faults=None,
                 vna_dialect: str = "keysight-pna", bert_dialect: str = "keysight-m8040",
                 noise_floor_db: float = -80.0, fixture=None, vna_model: str | None = None,
                 bert_model: str | None = None, layout: dict | None = None, left_over: dict | None = None,
                 time_scale: float = 0.0):
        """``fixture``: a 4-port test-fixture half (se2gmm port order) the VNA sees on both sides of
        every cable (the second side flipped), as a real bench's fixture boards would be.
        ``vna_model`` / ``bert_model`` (or the dialects) choose the simulated models; ``layout``
        places their modules (``{"m8040": {"M1": "M8045A", "M2": "M8046A"}, "mp1900": {7: "MU196020A",
        5: "MU196040B"}, "n6705": ("N6781A", "N6762A", "Not Present", "Not Present")}``);
        ``left_over``: state a previous user left (``{"vna.trigger": "MAN"}``); ``time_scale``: real
        seconds per modelled second of instrument time (a VNA sweep, a BER gate, a supply capture;
        0: they take only the time their computation does, 1: the instruments' own time)."""
        from accbench.sim.faults import FaultPlan
        from accbench.sim.personalities import model_for

        self.duts: dict[str, SimDut] = {}
        for dut in duts or [SimDut()]:
            self.add(dut)
        self.selected = next(iter(self.duts))
        self.lane = 1
        self.baud = 53.125e9
        self.seed = seed
        self._draws: dict[str, int] = {}
        self.faults = faults if faults is not None else FaultPlan([], seed)
        self.models = {"vna": model_for("vna", vna_model or vna_dialect),
                       "bert": model_for("bert", bert_model or bert_dialect), "power": "N6705C"}
        self.layout = dict(layout or {})
        self.left_over = dict(left_over or {})
        self.time_scale = float(time_scale)
        self.modelled_s = 0.0  # instrument time modelled so far (sweeps, gates, captures), in the instruments' seconds
        self.noise_floor_db = noise_floor_db
        self.fixture = fixture
        self.lock = threading.RLock()  # bench-wide state only, held briefly (see the module docstring)
        self.instruments: dict = {}
        self.dut_faults: set[tuple[str, str]] = set()

    def bert_locations(self) -> dict:
        """Where the simulated BERT's generator and analyzer sit (what a bench file would name)."""
        if self.models["bert"] == "MP1900A":
            slots = self.layout.get("mp1900", {7: "MU196020A", 5: "MU196040B"})
            by_kind = {kind: slot for slot, kind in slots.items()}
            return {"ppg_module": by_kind.get("MU196020A"), "ed_module": by_kind.get("MU196040B")}
        modules = self.layout.get("m8040", {"M1": "M8045A", "M2": "M8046A"})
        gen = next((m for m, kind in modules.items() if kind == "M8045A"), "M1")
        ana = next((m for m, kind in modules.items() if kind == "M8046A"), "M2")
        return {"generator": f"{gen}.DataOut1", "generator_group": f"{gen}.DataOut1,{gen}.DataOut2",
                "analyzer": f"{ana}.DataIn", "clock": f"{gen}.ClkGen"}

    def add(self, dut: SimDut) -> None:
        self.duts[dut.serial] = dut

    def select(self, serial: str, lane: int = 1) -> None:
        """Connect cable ``serial`` (lane ``lane``), as a switch matrix or the operator would."""
        if serial not in self.duts:
            raise InputError(f"no simulated cable {serial!r}; have {', '.join(self.duts)}")
        if not 1 <= lane <= self.duts[serial].lanes:
            raise InputError(f"cable {serial} has lanes 1..{self.duts[serial].lanes}, not {lane}")
        with self.lock:
            self.selected, self.lane = serial, lane
            self._draws = {}
            self.faults.connect(serial, lane)

    def random(self, stream: str) -> np.random.Generator:
        """A random stream for one draw, keyed by the seed, the connected cable and lane, the stream
        name and the draw's number since the cable was connected: a cable measures the same whatever
        was measured before it (so a resumed run repeats an uninterrupted one)."""
        with self.lock:
            count = self._draws.get(stream, 0)
            self._draws[stream] = count + 1
            key = [self.seed, zlib.crc32(self.selected.encode()), self.lane, zlib.crc32(stream.encode()), count]
        return np.random.default_rng(key)

    @property
    def dut(self) -> SimDut:
        return self.duts[self.selected]

    # --- the physics the instruments answer from
    def sparameters(self, start_hz: float, stop_hz: float, points: int,
                    spec: TwinaxSpec | None = None) -> np.ndarray:
        """The 4-port S of the connected cable (or of ``spec``) at ``linspace(start, stop, points)``
        (noise-free, read-only), fixtures included."""
        s = _network_s(spec or self.dut.spec, (float(start_hz), float(stop_hz), int(points)))
        if self.fixture is None:
            return s
        import skrf as rf

        fixture = self.fixture.interpolate(rf.Frequency.from_f(np.linspace(start_hz, stop_hz, points), unit="Hz"))
        return (fixture ** rf.Network(frequency=fixture.frequency, s=s) ** fixture.flipped()).s

    def link(self, baud: float | None = None) -> tuple[float, float]:
        """(model BER, model watts) of the connected cable at ``baud`` (default: the running one)."""
        return _link(self.dut.spec, self.dut.power, float(baud or self.baud), self.dut.noise_factor)

    def cable_watts(self) -> float:
        """What the connected cable draws at the running rate (model plus the unit's own excess)."""
        return self.link()[1] + self.dut.extra_power_w

    def has_fault(self, kind: str) -> bool:
        return (self.selected, kind) in self.dut_faults

    def sync_lost(self, baud: float, patterns_match: bool = True) -> bool:
        """The detector loses lock on a closed eye (model BER above ``SYNC_LOSS_BER``), a pattern
        mismatch between generator and analyzer, or an injected sync loss on the connected cable."""
        return self.link(baud)[0] > SYNC_LOSS_BER or not patterns_match or self.has_fault("sync_loss")

    def instrument_time(self, seconds: float, since: float) -> None:
        """``seconds`` of modelled instrument time that began at ``since`` (``time.monotonic``): counted, and
        waited for in real time (scaled by ``time_scale``) beyond what the computation took already."""
        with self.lock:
            self.modelled_s += seconds
        if self.time_scale > 0:
            left = since + seconds * self.time_scale - time.monotonic()
            if left > 0:
                time.sleep(left)

    def bert_gate(self, baud: float, gate_s: float, lost: bool) -> dict:
        """Counts of one gate: symbol errors binomial in the model's SER (Gray: one bit per symbol error).

        Out of sync (``lost``: the detector has no lock), the counts are those of random data.
        """
        with self.lock:  # the cable and its draw together (another client may switch cables)
            dut, rng = self.dut, self.random("bert")
            self.modelled_s += gate_s  # the gate runs in (scaled) real time on the instrument (``Gate``)
        ber, _ = _link(dut.spec, dut.power, float(baud or self.baud), dut.noise_factor)
        symbols = round(baud * gate_s)
        if lost:
            symbol_errors = int(rng.binomial(symbols, 0.75))
            errors = int(rng.binomial(2 * symbols, 0.5))
        else:
            symbol_errors = int(rng.binomial(symbols, min(2 * ber, 1.0)))
            errors = symbol_errors
        return {"bits": 2 * symbols, "errors": errors, "symbols": symbols, "symbol_errors": symbol_errors,
                "sync_lost": lost, "model_ber": ber}

    def instrument(self, role_model: str):
        """The simulated instrument behind a resource (created once, so settings survive reconnects)."""
        from accbench.sim.personalities import create

        with self.lock:
            if role_model not in self.instruments:
                self.instruments[role_model] = create(role_model, self)
            return self.instruments[role_model]

    def describe(self) -> dict:
        return {"selected": self.selected, "lane": self.lane, "duts": [d.to_dict() for d in self.duts.values()],
                "seed": self.seed, "baud": self.baud, "models": dict(self.models),
                "faults": [asdict(f) for f in self.faults.faults]}
