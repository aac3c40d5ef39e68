"""Bad Touchstone files: each one answered by one TouchstoneError line, never a traceback or a hang.

One table row per case (how the file is built, a word the message must contain); then the
files that must still read (bundled fixtures, Touchstone 2 variants, line endings); then the
frequency-scale warnings; then Hypothesis mutations of small valid files, which must read
into a finite Network or raise TouchstoneError, with no other exception or warning.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import skrf as rf
from accbench.dsp.touchstone import TouchstoneWarning, read_touchstone
from accbench.dsp.touchstone_scan import MAX_FILE_BYTES, MAX_LINE_BYTES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accbench.errors import TouchstoneError

from .conftest import FIXTURES

FREQ_GHZ = np.round(np.arange(1, 201) * 0.1, 3)  # 0.1 .. 20 GHz, step 100 MHz
DELAY_S = 2e-9


def _cable(nports: int, freq_ghz: np.ndarray = FREQ_GHZ) -> np.ndarray:
    """S-parameters of a lossy cable: thru 1->2 (and 3->4), small reflections and crosstalk."""
    thru = 10 ** (-3 * np.sqrt(freq_ghz / 20) / 20) * np.exp(-2j * np.pi * freq_ghz * 1e9 * DELAY_S)
    s = np.full((freq_ghz.size, nports, nports), 0.01 + 0.0j)
    for a, b in ((0, 1), (2, 3))[: nports // 2]:
        s[:, a, a] = s[:, b, b] = 0.05
        s[:, b, a] = s[:, a, b] = thru
    return s


def _records(nports: int, scale: float = 1.0, freq_ghz: np.ndarray = FREQ_GHZ, v2: bool = False) -> str:
    """Data lines (RI) with frequencies written as ``freq_ghz * scale``; rows of four pairs for n > 2."""
    s = _cable(nports, freq_ghz)
    lines = []
    for f, matrix in zip(freq_ghz, s, strict=True):
        order = matrix.T if nports == 2 and not v2 else matrix  # Touchstone 1 2-ports: 11 21 12 22
        pairs = [f"{z.real:.6g} {z.imag:.6g}" for z in order.ravel()]
        rows = [pairs[i:i + 4] for i in range(0, len(pairs), 4)] if nports > 2 else [pairs]
        lines.append(f"{f * scale:.9g} " + " ".join(rows[0]))
        lines += ["  " + " ".join(row) for row in rows[1:]]
    return "\n".join(lines) + "\n"


def _v1(nports: int = 4, option: str = "# GHz S RI R 50", scale: float = 1.0) -> str:
    return f"! synthetic cable\n{option}\n" + _records(nports, scale)


def _v2(*, version: str = "[Version] 2.0", ports: str = "[Number of Ports] 4", nfreq: str | None = None,
        extra: str = "", data: str = "[Network Data]", end: str = "[End]", nports: int = 4) -> str:
    """A Touchstone 2 text; each keyword can be replaced (or dropped with '')."""
    nfreq = f"[Number of Frequencies] {FREQ_GHZ.size}" if nfreq is None else nfreq
    order = "[Two-Port Data Order] 12_21\n" if nports == 2 else ""
    head = [version, "# GHz S RI R 50", ports, order.strip(), nfreq, extra, data]
    return "\n".join(line for line in head if line) + "\n" + _records(nports, v2=True) + end + "\n"


def _text(name: str, text: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return path
    return build


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path
    return build


def _sparse(name: str, size: int) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        with path.open("wb") as fh:
            fh.truncate(size)  # no disk used: refused from its size alone
        return path
    return build


def _folder(name: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        (tmp / name).mkdir()
        return tmp / name
    return build


def _swap(lines: list[str], i: int, j: int) -> list[str]:
    lines[i], lines[j] = lines[j], lines[i]
    return lines


V1 = _v1()
FIRST = V1.splitlines()[2].split()
CASES = [
    # reference resistance
    ("r-zero", _text("a.s4p", _v1(option="# GHz S RI R 0")), "reference resistance"),
    ("r-negative", _text("a.s4p", _v1(option="# GHz S RI R -50")), "reference resistance"),
    ("r-nan", _text("a.s4p", _v1(option="# GHz S RI R nan")), "R 50"),
    ("r-inf", _text("a.s4p", _v1(option="# GHz S RI R inf")), "R 50"),
    ("r-1e308", _text("a.s4p", _v1(option="# GHz S RI R 1e308")), "reference resistance"),
    ("r-tiny", _text("a.s4p", _v1(option="# GHz S RI R 1e-9")), "reference resistance"),
    ("r-per-port-bad", _text("a.s4p", _v1(option="# GHz S RI R 50 50 0 50")), "reference resistance"),
    ("r-missing-value", _text("a.s4p", _v1(option="# GHz S RI R")), "no reference resistance"),
    ("option-unknown", _text("a.s4p", _v1(option="# GHz S XX R 50")), "not a Touchstone option"),
    # frequency scale
    ("hz-as-ghz", _text("a.s4p", _v1(option="# GHz S RI R 50", scale=1e9)), "Hz, not GHz"),
    ("hz-as-khz", _text("a.s4p", _v1(option="# kHz S RI R 50", scale=1e9)), "Hz, not kHz"),
    ("mhz-as-ghz", _text("a.s4p", _v1(option="# GHz S RI R 50", scale=1e3)), "MHz, not GHz"),
    ("ghz-as-hz", _text("a.s4p", _v1(option="# Hz S RI R 50")), "GHz, not Hz"),
    ("no-option-hz-data", _text("a.s4p", _records(4, scale=1e9)), "above any S-parameter"),
    ("negative-frequency", _text("a.s4p", V1.replace(f"\n{FIRST[0]} ", "\n-0.1 ", 1)), "negative"),
    ("infinite-frequency", _text("a.s4p", V1.replace(f"\n{FIRST[0]} ", "\n1e999 ", 1)), "not finite"),
    ("nan-frequency", _text("a.s4p", V1.replace(f"\n{FIRST[0]} ", "\nnan ", 1)), "not finite"),
    ("decreasing", _text("a.s4p", V1.replace("\n0.3 ", "\n0.15 ", 1)), "strictly increasing"),
    ("one-point", _text("a.s4p", "# GHz S RI R 50\n" + _records(4, freq_ghz=FREQ_GHZ[:1])), "only 1"),
    # values
    ("nan-value", _text("a.s4p", V1.replace(f" {FIRST[1]} ", " nan ", 1)), "not finite"),
    ("huge-value", _text("a.s4p", V1.replace(f" {FIRST[1]} ", " 1e300 ", 1)), "garbled"),
    ("db-overflow", _text("a.s4p", _v1(option="# GHz S DB R 50").replace(f" {FIRST[1]} ", " 1e308 ", 1)),
     "not finite"),
    ("garbled-token", _text("a.s4p", V1.replace(f" {FIRST[3]} ", " x20 ", 1)), "garbled"),
    ("comma-decimal", _text("a.s4p", V1.replace(f" {FIRST[3]} ", " 0,5 ", 1)), "comma"),
    ("truncated", _text("a.s4p", V1[: len(V1) // 2]), "truncated"),
    ("port-count", _text("a.s2p", V1), "rename the file to .s4p"),
    ("empty", _bytes("a.s4p", b""), "empty"),
    ("blank", _text("a.s4p", "\n \n\t\n"), "no S-parameter data"),
    ("comments-only", _text("a.s4p", "! only\n! comments\n"), "no S-parameter data"),
    # paths and names
    ("missing", lambda tmp: tmp / "absent.s4p", "no such file"),
    ("folder", _folder("dir.s4p"), "not a file"),
    ("txt", _text("a.txt", V1), "not a Touchstone"),
    ("s0p", _text("a.s0p", V1), "ports"),
    ("s9999p", _text("a.s9999p", V1), "ports"),
    # binary and encodings
    ("png", _bytes("a.s4p", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4), "PNG"),
    ("gzip", _bytes("a.s4p", b"\x1f\x8b\x08\x00" + bytes(64)), "gzip"),
    ("zip", _bytes("a.s4p", b"PK\x03\x04" + bytes(64)), "ZIP"),
    ("utf16", _bytes("a.s4p", V1.encode("utf-16")), "UTF-16"),
    ("nul-bytes", _bytes("a.s4p", V1.encode()[:300] + b"\x00\x00" + V1.encode()[300:]), "binary"),
    ("control-byte", _bytes("a.s4p", V1.encode().replace(b"\n1 ", b"\n\x1b1 ", 1)), "binary"),
    ("random-binary", _bytes("a.s4p", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
     "binary"),
    # resource limits
    ("long-line", _bytes("a.s4p", b"# GHz S RI R 50\n" + b"0.5 " * (MAX_LINE_BYTES // 4 + 10)), "longer than"),
    ("too-big", _sparse("a.s4p", MAX_FILE_BYTES + 1), "MiB limit"),
    ("many-keywords", _text("a.ts", "[Version] 2.0\n" + "[End]\n" * 200), "more than 100"),
    # Touchstone 2 keywords
    ("ts2-wrong-nfreq", _text("a.ts", _v2(nfreq="[Number of Frequencies] 150")), "[Number of Frequencies]"),
    ("ts2-nfreq-zero", _text("a.ts", _v2(nfreq="[Number of Frequencies] 0")), "[Number of Frequencies]"),
    ("ts2-nfreq-missing", _text("a.ts", _v2(nfreq="")), "[Number of Frequencies]"),
    ("ts2-ports-vs-data", _text("a.ts", _v2(ports="[Number of Ports] 8")), "[Number of Ports]"),
    ("ts2-2-ports-vs-data", _text("a.ts", _v2(ports="[Number of Ports] 2\n[Two-Port Data Order] 12_21")),
     "[Number of Ports]"),
    ("ts2-ports-vs-ext", _text("a.s2p", _v2()), "[Number of Ports]"),
    ("ts2-ports-text", _text("a.ts", _v2(ports="[Number of Ports] four")), "[Number of Ports]"),
    ("ts2-ports-huge", _text("a.ts", _v2(ports="[Number of Ports] 100000")), "limit"),
    ("ts2-ports-missing", _text("a.ts", _v2(ports="")), "[Number of Ports]"),
    ("ts2-unknown-keyword", _text("a.ts", _v2(extra="[Foo Bar] 1")), "[Foo Bar]"),
    ("ts2-misspelled", _text("a.ts", _v2(ports="[Number of Port] 4")), "did you mean [Number of Ports]"),
    ("ts2-no-version", _text("a.ts", _v2(version="")), "[Version]"),
    ("ts2-no-version-no-keywords", _text("a.ts", _v1()), "[Version]"),
    ("ts2-keywords-in-s4p", _text("a.s4p", _v2(version="")), "[Version]"),
    ("ts2-version-3", _text("a.ts", _v2(version="[Version] 3.0")), "[Version]"),
    ("ts2-version-not-first", _text("a.ts", _v2(version="").replace("[Number of Ports] 4",
                                                                     "[Number of Ports] 4\n[Version] 2.0")),
     "[Version]"),
    ("ts2-matrix-diagonal", _text("a.ts", _v2(extra="[Matrix Format] Diagonal")), "[Matrix Format]"),
    ("ts2-matrix-after-data", _text("a.ts", _v2().replace("[End]", "[Matrix Format] Full\n[End]")),
     "[Matrix Format]"),
    ("ts2-no-network-data", _text("a.ts", _v2(data="")), "[Network Data]"),
    ("ts2-network-data-value", _text("a.ts", _v2(data="[Network Data] 1")), "[Network Data]"),
    ("ts2-no-end", _text("a.ts", _v2(end="")), "[End]"),
    ("ts2-keyword-after-end", _text("a.ts", _v2(end="[End]\n[Noise Data]")), "[End]"),
    ("ts2-duplicate", _text("a.ts", _v2(extra="[Number of Ports] 4")), "second time"),
    ("ts2-reference-short", _text("a.ts", _v2(extra="[Reference] 50 50")), "[Reference]"),
    ("ts2-reference-zero", _text("a.ts", _v2(extra="[Reference] 50 0 50 50")), "[Reference]"),
    ("ts2-reference-nan", _text("a.ts", _v2(extra="[Reference] 50 nan 50 50")), "[Reference]"),
    ("ts2-reference-last-line", _text("a.ts", _v2(end="[End]\n[Reference] 50")), "[Reference]"),
    ("ts2-reference-before-ports", _text("a.ts", _v2(ports="", extra="[Reference] 50 50 50 50\n"
                                                     "[Number of Ports] 4")), "[Reference]"),
    ("ts2-two-port-order-missing", _text("a.ts", _v2(ports="[Number of Ports] 2", nports=2).replace(
        "[Two-Port Data Order] 12_21\n", "")), "[Two-Port Data Order]"),
    ("ts2-two-port-order-bad", _text("a.ts", _v2(ports="[Number of Ports] 2", nports=2).replace(
        "12_21", "13_31")), "[Two-Port Data Order]"),
    ("ts2-mixed-mode-bad", _text("a.ts", _v2(extra="[Mixed-Mode Order] D1,2 C1,2")), "[Mixed-Mode Order]"),
    ("ts2-mixed-mode-port", _text("a.ts", _v2(extra="[Mixed-Mode Order] D1,2 C1,2 D3,9 C3,9")),
     "[Mixed-Mode Order]"),
    ("ts2-information-open", _text("a.ts", _v2(extra="[Begin Information]\nvendor x")), "[Begin Information]"),
    ("ts2-truncated", _text("a.ts", _v2(end="").rsplit("\n", 30)[0] + "\n[End]\n"), "truncated"),
    ("ts2-data-after-end", _text("a.ts", _v2(end="[End]\n" + _records(4, freq_ghz=np.array([20.1])))),
     "after [End]"),
    ("ts2-extra-record", _text("a.ts", _v2(end=_records(4, freq_ghz=np.array([20.1])) + "[End]")),
     "[Number of Frequencies]"),
    ("g-params-4-port", _text("a.s4p", _v1(option="# GHz G RI R 50")), "2-ports only"),
    ("s2p-lines-swapped", _text("a.s2p", "\n".join(_swap(_v1(nports=2).splitlines(), 5, 10))), "out of order"),
    ("lone-number", _text("a.s2p", "# GHz S RI R 50\n5\n" + _records(2)), "single number"),
    ("line-missing", _text("a.s4p", "\n".join(line for k, line in enumerate(V1.splitlines()) if k != 40)),
     "missing or repeated"),
]


@pytest.mark.parametrize(("case", "build", "word"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_gives_one_line_naming_the_file(tmp_path, case, build, word):
    path = build(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TouchstoneError) as info:
            read_touchstone(path)
    message = str(info.value)
    assert word in message, message
    assert "\n" not in message and path.name in message
    assert "Traceback" not in message and len(message) < 400


def test_a_200_mb_single_line_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.s4p"
    block = b"0.123456789 " * (2**20 // 12)
    with path.open("wb") as fh:
        fh.write(b"# Hz S RI R 50\n")
        for _ in range(200):
            fh.write(block)
    start = time.perf_counter()
    with pytest.raises(TouchstoneError, match="longer than"):
        read_touchstone(path)
    assert time.perf_counter() - start < 5.0


@pytest.mark.slow
def test_a_200000_point_4_port_file_is_accepted(tmp_path):
    freq_ghz = np.linspace(0.01, 50, 200_000)
    path = tmp_path / "long.s4p"
    path.write_text("# GHz S RI R 50\n" + _records(4, freq_ghz=freq_ghz))
    network = read_touchstone(path)
    assert network.frequency.npoints == 200_000 and network.nports == 4


# ---- files that must still read, without a warning ----

BUNDLED = sorted(p for p in FIXTURES.rglob("*") if p.suffix.lower() == ".ts" or
                 (p.suffix[:2].lower() == ".s" and p.suffix.lower().endswith("p") and p.suffix[2:-1].isdigit()))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_every_bundled_file_reads_without_warning(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        network = read_touchstone(path)
    assert np.isfinite(network.s).all() and network.frequency.npoints >= 2


def test_bundled_files_found():
    assert len(BUNDLED) >= 8


GOOD = [
    ("v1-4port", "a.s4p", V1),
    ("v1-2port", "a.s2p", _v1(nports=2)),
    ("v1-hz", "a.s4p", _v1(option="# Hz S RI R 50", scale=1e9)),
    ("v1-mhz-reordered", "a.s4p", _v1(option="# RI R 50 S MHz", scale=1e3)),
    ("v1-per-port-r", "a.s4p", _v1(option="# GHz S RI R 50 50 50 50")),
    ("crlf", "a.s4p", V1.replace("\n", "\r\n")),
    ("cr-only", "a.s4p", V1.replace("\n", "\r")),
    ("latin1-comment", "a.s4p", "! Temperatur 23 \u00b0C, \u00b5m\n" + V1),
    ("bom", "a.s4p", "\ufeff" + V1),
    ("v2", "a.ts", _v2()),
    ("v2-2port", "a.ts", _v2(ports="[Number of Ports] 2", nports=2)),
    ("v2-s4p", "a.s4p", _v2()),
    ("v2-odd-spelling", "a.ts", _v2(ports="[number  of ports]4").replace("[Network Data]", "[NETWORK DATA]")),
    ("v2-reference", "a.ts", _v2(extra="[Reference] 50 50\n 50 50")),
    ("v2-information", "a.ts", _v2(extra="[Begin Information]\n[Number of Ports] 4\nvendor x\n[End Information]")),
    ("v2-mixed-mode", "a.ts", _v2(extra="[Mixed-Mode Order] S1 S2 S3 S4")),
]


@pytest.mark.parametrize(("case", "name", "text"), GOOD, ids=[g[0] for g in GOOD])
def test_valid_variants_read_like_the_plain_file(tmp_path, case, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1" if "latin1" in case else "utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        network = read_touchstone(path)
    nports = network.nports
    np.testing.assert_allclose(network.f, FREQ_GHZ * 1e9, rtol=1e-9)
    np.testing.assert_allclose(network.s, _cable(nports), atol=2e-6)


def test_two_port_with_a_noise_block_still_reads(tmp_path):
    path = tmp_path / "amp.s2p"
    path.write_text(_v1(nports=2) + "1 0.5 0.2 30 0.3\n2 0.6 0.25 40 0.3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        network = read_touchstone(path)
    assert network.noisy and network.frequency.npoints == FREQ_GHZ.size


@pytest.mark.parametrize("matrix", ["Lower", "Upper"])
def test_v2_triangular_matrix_reads_as_full(tmp_path, matrix):
    s = _cable(4)
    rows = np.tril_indices(4) if matrix == "Lower" else np.triu_indices(4)
    data = "".join(f"{f:.9g} " + " ".join(f"{z.real:.6g} {z.imag:.6g}" for z in m[rows]) + "\n"
                   for f, m in zip(FREQ_GHZ, s, strict=True))
    text = _v2(extra=f"[Matrix Format] {matrix}").split("[Network Data]")[0] + "[Network Data]\n" + data + "[End]\n"
    path = tmp_path / "t.ts"
    path.write_text(text)
    network = read_touchstone(path)
    np.testing.assert_allclose(network.s, s, atol=2e-6)


# ---- frequency-scale warnings ----

@pytest.mark.parametrize(("option", "scale", "likely"), [("# MHz S RI R 50", 1.0, "GHz"),
                                                          ("# kHz S RI R 50", 1.0, "GHz"),
                                                          ("# Hz S RI R 50", 1e3, "MHz"),
                                                          ("# Hz S RI R 50", 1e6, "kHz")])
def test_implausible_scale_warns_with_the_likely_unit(tmp_path, option, scale, likely):
    path = tmp_path / "scaled.s4p"
    path.write_text(_v1(option=option, scale=scale))
    with pytest.warns(TouchstoneWarning, match=f"look like {likely}") as record:
        network = read_touchstone(path)
    assert network.nports == 4
    assert len(record) == 1 and "\n" not in str(record[0].message) and "scaled.s4p" in str(record[0].message)


def test_warnings_go_to_notes_when_given(tmp_path):
    path = tmp_path / "scaled.s4p"
    path.write_text(_v1(option="# MHz S RI R 50"))
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_touchstone(path, notes)
    assert len(notes) == 1 and "delay" in notes[0] and "GHz" in notes[0]


# ---- property tests: mutations of small valid files ----

SMALL_FREQ = np.arange(1, 21) * 1.0  # 1 .. 20 GHz
BASES = {
    "a.s2p": "# GHz S RI R 50\n" + _records(2, freq_ghz=SMALL_FREQ),
    "a.s4p": "! small\n# GHz S MA R 50\n" + _records(4, freq_ghz=SMALL_FREQ),
    "a.ts": ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 2\n[Two-Port Data Order] 12_21\n"
             f"[Number of Frequencies] {SMALL_FREQ.size}\n[Reference] 50 50\n[Network Data]\n"
             + _records(2, freq_ghz=SMALL_FREQ, v2=True) + "[End]\n"),
}
GARBAGE = st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e308", "1e999", "1e-320", "0", "-0", "-1", "x",
                           "0,5", "#", "!", "[End]", "[Foo]", "R", "1e30", "9" * 400, "\u00e9", "\t", "--1",
                           "[Number of Ports] 9", "[Network Data]", "0x10"]) | st.text(max_size=6)
OPTION_TOKENS = st.lists(st.sampled_from(["Hz", "kHz", "MHz", "GHz", "S", "Y", "Z", "G", "H", "DB", "MA", "RI",
                                          "R", "50", "0", "-50", "nan", "1e308", "x", "!", "#"]), max_size=8)


@st.composite
def _mutated(draw) -> tuple[str, str]:
    """A base file with one to three mutations: token replaced, line dropped/duplicated/swapped, option fuzzed."""
    name = draw(st.sampled_from(sorted(BASES)))
    lines = BASES[name].splitlines()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["token", "token", "drop", "dup", "swap", "option"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "token":
            tokens = lines[i].split() or [""]
            tokens[draw(st.integers(0, len(tokens) - 1))] = draw(GARBAGE)
            lines[i] = " ".join(tokens)
        elif kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "option":
            k = next((n for n, line in enumerate(lines) if line.startswith("#")), 0)
            lines[k] = "# " + " ".join(draw(OPTION_TOKENS))
    return name, "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_mutated())
def test_mutated_files_read_finite_or_raise_touchstone_error(tmp_path_factory, case):
    name, text = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", TouchstoneWarning)  # a warning is a legal answer, any other is not
        try:
            network = read_touchstone(path)
        except TouchstoneError as exc:
            assert "\n" not in str(exc) and name in str(exc)
            return
    assert np.isfinite(network.s).all() and np.isfinite(network.f).all()
    assert np.isfinite(network.z0).all()
    assert isinstance(network, rf.Network)
