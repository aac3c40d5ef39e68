"""Read and write Touchstone files through scikit-rf, with the traps of real files handled.

scikit-rf does the parsing; this module only fixes what it rejects although the file
is valid in practice (option-line fields in any order) and turns its low-level
exceptions into one clear ``TouchstoneError`` naming the problem and the fix.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import skrf as rf

from accbench.errors import TouchstoneError

_UNITS = {"hz", "khz", "mhz", "ghz"}
_PARAMS = {"s", "y", "z", "g", "h"}
_FORMATS = {"db", "ma", "ri"}
_EXT = re.compile(r"\.[sSyYzZ](\d+)[pP]$")


def ports_from_extension(name: str) -> int | None:
    """Port count named by a ``.sNp`` extension, or None for ``.ts`` / unknown."""
    match = _EXT.search(name)
    return int(match.group(1)) if match else None


def normalise_option_line(line: str) -> str:
    """Return the option line with its fields in the Touchstone order (unit, parameter, format, R).

    Files in the wild write ``# MHz MA S R 50`` or ``# S MHz MA R 50``; the fields are
    unambiguous, so order them instead of rejecting the file. Missing fields keep
    their Touchstone defaults (GHz S MA R 50).
    """
    body, _, comment = line.strip()[1:].partition("!")
    tokens = body.split()
    unit, param, fmt, resistance = "GHz", "S", "MA", ["50"]
    i = 0
    while i < len(tokens):
        tok = tokens[i].lower()
        if tok in _UNITS:
            unit = tokens[i]
        elif tok in _PARAMS:
            param = tokens[i]
        elif tok in _FORMATS:
            fmt = tokens[i]
        elif tok == "r":
            values = []
            while i + 1 < len(tokens) and _is_number(tokens[i + 1]):
                values.append(tokens[i + 1])
                i += 1
            if not values:
                raise TouchstoneError(
                    f"option line {line.strip()!r}: 'R' has no reference resistance; write e.g. 'R 50'"
                )
            resistance = values
        else:
            raise TouchstoneError(
                f"option line {line.strip()!r}: {tokens[i]!r} is not a Touchstone option "
                "(expected Hz/kHz/MHz/GHz, S/Y/Z/G/H, DB/MA/RI, R <ohms>)"
            )
        i += 1
    tail = f" !{comment}" if comment else ""
    return f"# {unit} {param} {fmt} R {' '.join(resistance)}{tail}"


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _fix_option_line(text: str) -> str:
    """Rewrite the first option line of ``text`` in canonical order (only that line)."""
    for match in re.finditer(r"^[ \t]*#.*$", text, flags=re.MULTILINE):
        fixed = normalise_option_line(match.group(0))
        return text[: match.start()] + fixed + text[match.end():]
    return text


def _record_ports(line_lengths: list[int]) -> int | None:
    """Port count implied by the first record of a v1 file: it starts at an odd-length line.

    A record is the frequency plus 2 n^2 numbers, so its first line has an odd count of
    values and the following lines of the record even counts.
    """
    if not line_lengths or line_lengths[0] % 2 == 0:
        return None
    total = line_lengths[0]
    for length in line_lengths[1:]:
        if length % 2:
            break
        total += length
    n = round(((total - 1) / 2) ** 0.5)
    return n if 1 + 2 * n * n == total else None


def _diagnose(text: str, name: str, nports: int | None) -> str:
    """Explain why scikit-rf could not read ``text``: garbled token, port count or truncation."""
    count = 0
    line_lengths: list[int] = []
    keyword_seen = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.partition("!")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            keyword_seen = True
            continue
        tokens = line.split()
        for token in tokens:
            try:
                float(token)
            except ValueError:
                if keyword_seen:
                    break
                return (
                    f"{name}: line {lineno}: {token!r} is not a number; the file is garbled "
                    "(re-export it from the instrument or simulator)"
                )
        count += len(tokens)
        if len(line_lengths) < 64:
            line_lengths.append(len(tokens))
    if not count:
        return f"{name}: no S-parameter data found; is this a Touchstone file?"
    if nports:
        found = _record_ports(line_lengths)
        if found and found != nports:
            return (f"{name}: the data holds {found}-port records but the extension says "
                    f"{nports} ports; rename the file to .s{found}p")
        per_record = 1 + 2 * nports * nports
        if count % per_record:
            return (
                f"{name}: the file ends in the middle of a frequency record ({count // per_record} "
                f"complete records of {per_record} numbers, then {count % per_record} more); "
                "it is truncated: re-export it"
            )
    return f"{name}: scikit-rf could not read the file; check that it is a valid Touchstone file"


def read_touchstone(path: str | Path) -> rf.Network:
    """Load a Touchstone 1.x/2.x file as a scikit-rf Network, checked for finite, ordered data.

    The Network keeps the file's comments (``network.comments``), from which port maps
    such as ``$PORT_MAP`` are read later.
    """
    p = Path(path)
    if not p.exists():
        raise TouchstoneError(f"{p}: no such file; check the path")
    if not p.is_file():
        raise TouchstoneError(f"{p}: is not a file; give the path of a .sNp or .ts file")
    nports = ports_from_extension(p.name)
    if nports is None and p.suffix.lower() != ".ts":
        raise TouchstoneError(
            f"{p}: extension {p.suffix!r} is not a Touchstone one; use .s2p/.s4p/.s8p or .ts"
        )
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if not text.strip():
        raise TouchstoneError(f"{p}: the file is empty; re-export it")
    text = _fix_option_line(text)
    buffer = io.StringIO(text)
    buffer.name = p.name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            network = rf.Network(buffer, name=p.stem)
    except TouchstoneError:
        raise
    except Exception as exc:  # scikit-rf raises ValueError, EOFError, IndexError...
        raise TouchstoneError(_diagnose(text, p.name, nports)) from exc
    check_network(network, p.name)
    return network


def check_network(network: rf.Network, name: str) -> None:
    """Raise TouchstoneError unless the Network has >= 2 points, finite data and rising frequency."""
    freq = network.f
    if freq.size < 2:
        raise TouchstoneError(f"{name}: only {freq.size} frequency point(s); a sweep needs many")
    if not np.all(np.diff(freq) > 0):
        bad = int(np.argmin(np.diff(freq) > 0)) + 1
        raise TouchstoneError(
            f"{name}: frequency is not strictly increasing at point {bad + 1} "
            f"({freq[bad]:.6g} Hz after {freq[bad - 1]:.6g} Hz); remove the repeated or "
            "out-of-order points"
        )
    finite = np.isfinite(network.s).all(axis=(1, 2))
    if not finite.all():
        bad = int(np.argmin(finite))
        raise TouchstoneError(
            f"{name}: S-parameters at {freq[bad] / 1e9:.6g} GHz are not finite (NaN or inf); "
            "re-export the file or remove that point"
        )


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
