"""Read and write Touchstone files through scikit-rf, with the traps of real files handled.

scikit-rf does the parsing; this module guards it and explains what goes wrong:

1. ``touchstone_scan`` streams the file once, in chunks, and refuses what would make
   scikit-rf use unbounded memory or time (file size, line length, port count) or is not
   text at (binary data, images, archives), before anything is read whole;
2. ``touchstone_header`` checks the option line (fields in any order, a usable reference
   resistance) and every Touchstone 2 keyword, and rewrites them in the spelling scikit-rf
   parses;
3. scikit-rf reads the rewritten bytes (kept as bytes, decoded line by line: a str copy
   would take four times the memory); its low-level exceptions become one diagnosis;
4. ``touchstone_checks`` checks the Network: grid, values, port impedance, the declared
   record count, and a frequency scale a cable can have.

Every problem is one ``TouchstoneError`` whose message is one line naming the file, the
problem and the fix. A frequency scale that is implausible but possible is a warning: a
``TouchstoneWarning`` through ``warnings.warn``, or a line appended to ``notes`` (the same
text that ``AnalysisResult.warnings`` holds) when the caller passes a list.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import skrf as rf
from accbench.dsp.touchstone_checks import (
    check_frequency_count,
    check_network,
    check_port_impedance,
    frequency_scale_warnings,
)
from accbench.dsp.touchstone_diagnose import diagnose, noise_block_problem
from accbench.dsp.touchstone_header import Header, check_header, normalise_option_line
from accbench.dsp.touchstone_scan import MAX_PORTS, Scan, scan_file

from accbench.errors import TouchstoneError

__all__ = ["TouchstoneWarning", "check_network", "normalise_option_line", "ports_from_extension",
           "read_touchstone", "select_ports", "write_touchstone"]

_EXT = re.compile(r"\.[sSyYzZ](\d+)[pP]$")
_SPAN_BYTES = 2**16  # most of a header range read back for [Reference] values


class TouchstoneWarning(UserWarning):
    """A Touchstone file that reads but looks wrong (e.g. a frequency unit off by 1000)."""


def ports_from_extension(name: str) -> int | None:
    """Port count named by a ``.sNp`` extension, or None for ``.ts`` / unknown."""
    match = _EXT.search(name)
    return int(match.group(1)) if match else None


def read_touchstone(path: str | Path, notes: list[str] | None = None) -> rf.Network:
    """Load a Touchstone 1.x/2.x file as a scikit-rf Network, checked for finite, ordered, plausible data.

    The Network keeps the file's comments (``network.comments``), from which port maps
    such as ``$PORT_MAP`` are read later. Warnings (an implausible frequency scale) are
    appended to ``notes`` when given, else issued as ``TouchstoneWarning``.

    Raises
    ------
    TouchstoneError
        One line naming the file, the problem and the fix, for every file it cannot read.
    """
    p = Path(path)
    nports = _check_path(p)
    scan = scan_file(p, p.name)
    header = check_header(scan, nports, p.suffix.lower() == ".ts", p.name, lambda a, b: _read_span(p, scan, a, b))
    data = _rewritten(p.read_bytes(), header.rewrites)
    network = _parse(data, p, scan, header, nports)
    check_network(network, p.name)
    check_port_impedance(network, p.name)
    check_frequency_count(network, header.nfreq, p.name)
    for message in frequency_scale_warnings(network, p.name, header.option_line):
        if notes is not None:
            notes.append(message)
        else:
            warnings.warn(message, TouchstoneWarning, stacklevel=2)
    return network


def _check_path(p: Path) -> int | None:
    """Refuse a missing path, a folder or a foreign extension; return the port count of the extension."""
    if not p.exists():
        raise TouchstoneError(f"{p}: no such file; check the path")
    if not p.is_file():
        raise TouchstoneError(f"{p}: is not a file; give the path of a .sNp or .ts file")
    nports = ports_from_extension(p.name)
    if nports is None and p.suffix.lower() != ".ts":
        raise TouchstoneError(
            f"{p}: extension {p.suffix!r} is not a Touchstone one; use .s2p/.s4p/.s8p or .ts"
        )
    if nports is not None and not 1 <= nports <= MAX_PORTS:
        raise TouchstoneError(f"{p.name}: extension {p.suffix!r} names {nports} ports; this tool reads 1 to "
                              f"{MAX_PORTS} ports: rename the file to .sNp with its port count")
    return nports


def _read_span(p: Path, scan: Scan, start: int, end: int) -> str:
    """The file's text between two byte offsets (at most ``_SPAN_BYTES`` of it)."""
    with p.open("rb") as fh:
        fh.seek(start)
        return fh.read(max(0, min(end - start, _SPAN_BYTES))).decode(scan.encoding, "replace")


def _rewritten(data: bytes, rewrites: list[tuple[int, int, bytes | None]]) -> bytes:
    """``data`` with each (start, end) range replaced (None: by its own line ends only), in one copy."""
    if not rewrites:
        return data
    pieces, at = [], 0
    for start, end, replacement in sorted(rewrites, key=lambda r: r[0]):
        if start < at:
            continue  # inside an already replaced range (a keyword inside a blanked block)
        pieces += [data[at:start], replacement if replacement is not None else re.sub(rb"[^\r\n]", b"",
                                                                                       data[start:end])]
        at = end
    pieces.append(data[at:])
    return b"".join(pieces)


def _parse(data: bytes, p: Path, scan: Scan, header: Header, nports: int | None) -> rf.Network:
    """Let scikit-rf read ``data``; turn any of its exceptions into one diagnosis of the file.

    A regular Touchstone 1 file takes the fast path (``touchstone_fast``: scikit-rf parses the
    header, the numeric block is parsed once); it returns the Network scikit-rf builds or None,
    and anything it cannot take goes through scikit-rf's own reader below.
    """
    if not scan.keywords and header.version == "1.0" and nports is not None:
        network = _parse_fast(data, p, scan.encoding, nports)
        if network is not None:
            if network.s_def is None:
                network.s_def = rf.network.S_DEF_DEFAULT
            return network  # never noisy: a noise block is not on the fast path
    buffer = io.BytesIO(data)
    buffer.name = p.name  # scikit-rf takes the port count of a .sNp from the name
    stream = io.TextIOWrapper(buffer, encoding=scan.encoding, newline=None)
    network = rf.Network(name=p.stem)
    network.s_def = None  # as rf.Network(file) does: the file (HFSS comments) may set it
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            network.read_touchstone(stream)
    except Exception as exc:  # scikit-rf raises ValueError, EOFError, IndexError, LinAlgError...
        text = data.decode(scan.encoding, "replace")
        raise TouchstoneError(diagnose(text, p.name, nports or header.nports, header)) from exc
    if network.s_def is None:
        network.s_def = rf.network.S_DEF_DEFAULT
    if network.noisy and header.version == "1.0":
        problem = noise_block_problem(data.decode(scan.encoding, "replace"), p.name, network.f.size)
        if problem:
            raise TouchstoneError(problem)
    return network


def _parse_fast(data: bytes, p: Path, encoding: str, nports: int) -> rf.Network | None:
    """The fast path's Network, or None (then scikit-rf reads the file and diagnoses what fails)."""
    from accbench.dsp.touchstone_fast import read_regular

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return read_regular(data, p.name, p.stem, encoding, nports)
    except Exception:  # any surprise: scikit-rf's reader decides and explains
        return None


def select_ports(network: rf.Network, ports: list[int]) -> rf.Network:
    """Return the sub-network of the given 1-based ports (e.g. one lane of an 8-port file)."""
    if len(ports) != 4 or len(set(ports)) != 4:
        raise TouchstoneError(f"ports: give four different port numbers, not {ports}", "ports")
    bad = [p for p in ports if not 1 <= p <= network.nports]
    if bad:
        raise TouchstoneError(
            f"ports {bad} out of range: the file has ports 1..{network.nports}", "ports"
        )
    sub = network.subnetwork([p - 1 for p in ports])
    sub.comments = ""  # a port map of the full file does not apply to the subset
    return sub


def write_touchstone(network: rf.Network, path: str | Path, comments: str = "") -> Path:
    """Write ``network`` as Touchstone 1.x (RI, Hz), with ``comments`` in the header."""
    p = Path(path)
    expected = ports_from_extension(p.name)
    if expected is not None and expected != network.nports:
        raise TouchstoneError(
            f"{p}: extension says {expected} ports but the network has {network.nports}; "
            f"name it .s{network.nports}p"
        )
    stem = p.with_suffix("") if expected is not None else p
    network = network.copy()
    network.comments = comments
    network.write_touchstone(
        filename=stem.name, dir=str(stem.parent), form="ri", r_ref=50.0, write_z0=False
    )
    return stem.with_suffix(f".s{network.nports}p")
