"""The header of a Touchstone file: option line and Touchstone 2 keywords, checked and rewritten.

scikit-rf parses the option line positionally and each keyword by splitting its line at
fixed token positions; a field out of order, a missing value or an unknown keyword ends in
an IndexError or "could not convert string to float". This module checks every marker line
that ``touchstone_scan`` found, names the keyword and the fix when one is wrong, and returns
canonical spellings to substitute, so scikit-rf only ever sees a header it parses right.

scikit-rf (``skrf.io.touchstone``) reads Touchstone 2.0 and 2.1 with the keywords
[Version], [Number of Ports], [Two-Port Data Order], [Number of Frequencies],
[Number of Noise Frequencies], [Reference], [Matrix Format] (Full, Lower, Upper),
[Mixed-Mode Order], [Network Data], [Noise Data] and [End]; [Begin Information] /
[End Information] blocks (informative only) are blanked before it sees them.

Reference resistance bounds
---------------------------
``R_MIN_OHM`` = 1 mOhm and ``R_MAX_OHM`` = 1 MOhm. Cable files use 50 Ohm (100 Ohm
differential), power-integrity files go down to 0.1 Ohm, high-impedance probe models
reach kOhm; nine decades around them hold every real normalisation. Outside, S <-> Z and
the mixed-mode conversions lose all precision in float64 (R = 1e308 overflows), and 0,
negative, NaN or infinite values have no meaning at all.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from accbench.dsp.touchstone_scan import MAX_PORTS, Marker, Scan

from accbench.errors import TouchstoneError

R_MIN_OHM = 1e-3
R_MAX_OHM = 1e6

_UNITS = {"hz", "khz", "mhz", "ghz"}
_PARAMS = {"s", "y", "z", "g", "h"}
_FORMATS = {"db", "ma", "ri"}
_KEYWORDS = {k.lower(): k for k in (
    "[Version]", "[Number of Ports]", "[Two-Port Data Order]", "[Number of Frequencies]",
    "[Number of Noise Frequencies]", "[Reference]", "[Matrix Format]", "[Mixed-Mode Order]",
    "[Begin Information]", "[End Information]", "[Network Data]", "[Noise Data]", "[End]")}
_BEFORE_DATA = ("[Number of Ports]", "[Two-Port Data Order]", "[Number of Frequencies]", "[Reference]",
                "[Matrix Format]", "[Mixed-Mode Order]", "[Number of Noise Frequencies]")
_CHOICES = {"[Version]": ("2.0", "2.1"), "[Two-Port Data Order]": ("12_21", "21_12"),
            "[Matrix Format]": ("Full", "Lower", "Upper")}
_MIXED_MODE = re.compile(r"^(?:[dc]\d+,\d+|s\d+)$", re.IGNORECASE)


@dataclass
class Header:
    """What the header says (None where it does not say) and the byte ranges to substitute."""

    version: str = "1.0"
    nports: int | None = None
    nfreq: int | None = None
    matrix_format: str = "full"
    option_line: str = "# GHz S MA R 50"
    # (start, end, replacement); replacement None: keep only the line ends of that range
    rewrites: list[tuple[int, int, bytes | None]] = field(default_factory=list)


def _shown(text: str, limit: int = 24) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters (a message stays one short line)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def resistance_problem(text: str) -> str | None:
    """Why ``text`` is not a usable reference resistance in ohm, or None when it is."""
    try:
        value = float(text)
    except ValueError:
        return f"{_shown(text)} is not a number"
    if not math.isfinite(value) or not R_MIN_OHM <= value <= R_MAX_OHM:
        return (f"reference resistance {_shown(text)} is not a finite value between {R_MIN_OHM:g} and "
                f"{R_MAX_OHM:g} ohm")
    return None


def normalise_option_line(line: str) -> str:
    """Return the option line with its fields in the Touchstone order (unit, parameter, format, R).

    Files in the wild write ``# MHz MA S R 50`` or ``# S MHz MA R 50``; the fields are
    unambiguous, so order them instead of rejecting the file. Missing fields keep their
    Touchstone defaults (GHz S MA R 50); a reference resistance must be finite and within
    ``R_MIN_OHM``..``R_MAX_OHM``.
    """
    body, _, comment = line.strip()[1:].partition("!")
    tokens = body.split()
    fields = {"unit": "GHz", "param": "S", "format": "MA"}
    resistance = ["50"]
    i = 0
    while i < len(tokens):
        tok = tokens[i].lower()
        kind = "unit" if tok in _UNITS else "param" if tok in _PARAMS else "format" if tok in _FORMATS else None
        if kind:
            fields[kind] = tokens[i]
        elif tok == "r":
            values = _numbers_after(tokens, i)
            if not values:
                raise TouchstoneError(
                    f"option line {_shown(line.strip(), 60)}: 'R' has no reference resistance; write e.g. 'R 50'")
            i += len(values)
            resistance = values
        else:
            raise TouchstoneError(
                f"option line {_shown(line.strip(), 60)}: {_shown(tokens[i])} is not a Touchstone option "
                "(expected Hz/kHz/MHz/GHz, S/Y/Z/G/H, DB/MA/RI, R <ohms>)"
            )
        i += 1
    for value in resistance:
        problem = resistance_problem(value)
        if problem:
            raise TouchstoneError(f"option line {_shown(line.strip(), 60)}: {problem}; write e.g. 'R 50'")
    tail = f" !{comment}" if comment else ""
    return f"# {fields['unit']} {fields['param']} {fields['format']} R {' '.join(resistance)}{tail}"


def _numbers_after(tokens: list[str], i: int) -> list[str]:
    """The tokens after position ``i`` that parse as numbers (the values of an 'R')."""
    values = []
    for token in tokens[i + 1:]:
        try:
            float(token)
        except ValueError:
            break
        values.append(token)
    return values


def check_header(scan: Scan, ext_ports: int | None, is_ts: bool, name: str,
                 read_span: Callable[[int, int], str]) -> Header:
    """Check the option line and every keyword; return what they declare and the canonical rewrites.

    ``ext_ports`` is the port count of a ``.sNp`` extension (None for ``.ts``); ``read_span``
    returns the file's text between two byte offsets (for the values of [Reference]).
    """
    header = Header()
    if scan.option is not None:
        try:
            header.option_line = normalise_option_line(scan.option.text)
        except TouchstoneError as exc:
            raise TouchstoneError(f"{name}: line {scan.option.lineno}: {exc}") from None
        header.rewrites.append((scan.option.start, scan.option.end, header.option_line.encode()))
    if not scan.keywords:
        _check_parameter(header.option_line, ext_ports, name)
        if is_ts:
            raise TouchstoneError(f"{name}: [Version] is missing: a .ts file is Touchstone 2; "
                                  "start it with '[Version] 2.0' (or name a Touchstone 1 file .sNp)")
        return header
    found = _keywords(scan.keywords, name)
    _check_order(found, name)
    _check_after_end(found["[End]"], name, read_span)
    header.version = _choice(found, "[Version]", name)
    header.nports = _count(found, "[Number of Ports]", name, MAX_PORTS)
    header.nfreq = _count(found, "[Number of Frequencies]", name)
    _check_parameter(header.option_line, ext_ports or header.nports, name)
    if ext_ports is not None and ext_ports != header.nports:
        raise TouchstoneError(f"{name}: [Number of Ports] says {header.nports} but the extension says "
                              f"{ext_ports}; make them agree")
    if header.nports == 2 and "[Two-Port Data Order]" not in found:
        raise TouchstoneError(f"{name}: [Two-Port Data Order] is missing (required for 2-ports in Touchstone 2); "
                              "add '[Two-Port Data Order] 12_21' (or 21_12, as the writer used)")
    if "[Reference]" in found:
        starts = [m.start for m in [*found.values(), scan.option] if m is not None]
        _check_reference(found["[Reference]"], starts, header.nports, name, read_span)
    for keyword, marker in found.items():
        replacement = _canonical(keyword, marker, found, header, name)
        if replacement is not None:
            header.rewrites.append((marker.start, marker.end, replacement.encode()))
    if "[Begin Information]" in found or "[End Information]" in found:
        header.rewrites.append(_blank(found.get("[Begin Information]"), found.get("[End Information]"), name))
    return header


def _check_parameter(option_line: str, nports: int | None, name: str) -> None:
    """Refuse G- and H-parameters for anything but a 2-port (they are only defined there)."""
    parameter = option_line.split()[2].upper()
    if parameter in ("G", "H") and nports not in (None, 2):
        raise TouchstoneError(f"{name}: {parameter}-parameters are defined for 2-ports only, and this file has "
                              f"{nports} ports; fix the option line (S, Y or Z)")


def _keywords(markers: list[Marker], name: str) -> dict[str, Marker]:
    """Map canonical keyword -> its line; refuse unknown and repeated keywords.

    Lines inside a [Begin Information] block are informative only: not checked (the block is blanked).
    """
    found: dict[str, Marker] = {}
    inside = False
    for marker in markers:
        key = _keyword_of(marker.text)
        if inside and key != "[end information]":
            continue
        inside = key == "[begin information]"
        if key not in _KEYWORDS:
            shown = marker.text.split("]")[0][:40] + "]"
            close = difflib.get_close_matches(key, list(_KEYWORDS), n=1)
            hint = f"did you mean {_KEYWORDS[close[0]]}?" if close else "see the Touchstone 2.0 specification"
            raise TouchstoneError(f"{name}: line {marker.lineno}: {shown} is not a Touchstone 2 keyword; {hint}")
        keyword = _KEYWORDS[key]
        if keyword in found:
            raise TouchstoneError(f"{name}: line {marker.lineno}: {keyword} appears a second time "
                                  f"(first on line {found[keyword].lineno}); keep one")
        found[keyword] = marker
    if inside:
        raise TouchstoneError(f"{name}: line {found['[Begin Information]'].lineno}: [Begin Information] has no "
                              "[End Information] after it; close the block")
    return found


def _keyword_of(text: str) -> str:
    """The keyword of a marker line, lower-case with single spaces: '[Number  of ports]4' -> '[number of ports]'."""
    inside = text[1:].partition("]")[0]
    return "[" + " ".join(inside.lower().split()) + "]"


def _value(marker: Marker) -> str:
    """The text after the keyword's ']' up to a comment, stripped."""
    return marker.text.partition("]")[2].partition("!")[0].strip()


def _check_after_end(end: Marker, name: str, read_span: Callable[[int, int], str]) -> None:
    """Refuse anything but comments after [End] (scikit-rf would read it as more data)."""
    for k, line in enumerate(read_span(end.end, end.end + 2**16).splitlines()[1:], start=1):
        if line.partition("!")[0].strip():
            raise TouchstoneError(f"{name}: line {end.lineno + k}: data after [End] (line {end.lineno}); "
                                  "[End] closes the file: remove what follows or move it above")


def _check_order(found: dict[str, Marker], name: str) -> None:
    """Refuse missing mandatory keywords and keywords scikit-rf would apply at the wrong place."""
    first = min(found.values(), key=lambda m: m.start)
    if "[Version]" not in found:
        raise TouchstoneError(f"{name}: [Version] is missing: a Touchstone 2 file starts with '[Version] 2.0' "
                              "(a Touchstone 1 .sNp file has no [keywords])")
    if found["[Version]"] is not first:
        raise TouchstoneError(f"{name}: line {found['[Version]'].lineno}: [Version] comes after "
                              f"{_KEYWORDS[_keyword_of(first.text)]} (line {first.lineno}); move '[Version] 2.0' "
                              "to the top")
    for keyword in ("[Number of Ports]", "[Number of Frequencies]", "[Network Data]", "[End]"):
        if keyword not in found:
            fix = "end the file with [End] (is it truncated?)" if keyword == "[End]" else f"add {keyword}"
            raise TouchstoneError(f"{name}: {keyword} is missing (required in Touchstone 2); {fix}")
    data = found["[Network Data]"]
    for keyword in _BEFORE_DATA:
        if keyword in found and found[keyword].start > data.start:
            raise TouchstoneError(f"{name}: line {found[keyword].lineno}: {keyword} comes after [Network Data] "
                                  f"(line {data.lineno}); move it above")
    if "[Reference]" in found and found["[Reference]"].start < found["[Number of Ports]"].start:
        raise TouchstoneError(f"{name}: line {found['[Reference]'].lineno}: [Reference] comes before "
                              "[Number of Ports]; move it below")
    last = max(found.values(), key=lambda m: m.start)
    if last is not found["[End]"]:
        raise TouchstoneError(f"{name}: line {last.lineno}: {_KEYWORDS[_keyword_of(last.text)]} comes after [End] "
                              f"(line {found['[End]'].lineno}); [End] closes the file")


def _choice(found: dict[str, Marker], keyword: str, name: str) -> str:
    """The value of a keyword with a fixed set of values, in its canonical spelling."""
    marker = found[keyword]
    value = _value(marker)
    for option in _CHOICES[keyword]:
        if value.lower() == option.lower():
            return option
    raise TouchstoneError(f"{name}: line {marker.lineno}: {keyword} {_shown(value)} is not one of "
                          f"{', '.join(_CHOICES[keyword])}; write e.g. '{keyword} {_CHOICES[keyword][0]}'")


def _count(found: dict[str, Marker], keyword: str, name: str, limit: int | None = None) -> int:
    """The positive whole number a keyword gives (at most ``limit``)."""
    marker = found[keyword]
    value = _value(marker)
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise TouchstoneError(f"{name}: line {marker.lineno}: {keyword} needs a positive whole number, "
                              f"not {_shown(value)}; write e.g. '{keyword} 4'")
    if limit is not None and int(value) > limit:
        raise TouchstoneError(f"{name}: line {marker.lineno}: {keyword} {_shown(value)} is over the limit of "
                              f"{limit}; this tool reads files of up to {limit} ports")
    return int(value)


def _canonical(keyword: str, marker: Marker, found: dict[str, Marker], header: Header, name: str) -> str | None:
    """The keyword line as scikit-rf parses it, after checking its value; None to leave it as is."""
    value = _value(marker)
    if keyword in _CHOICES:
        value = _choice(found, keyword, name)
        if keyword == "[Matrix Format]":
            header.matrix_format = value.lower()
    elif keyword in ("[Number of Ports]", "[Number of Frequencies]", "[Number of Noise Frequencies]"):
        value = str(_count(found, keyword, name))
    elif keyword in ("[Reference]", "[Begin Information]", "[End Information]"):
        return None  # [Reference] values may continue on the next lines; the information block is blanked
    elif keyword == "[Mixed-Mode Order]":
        _check_mixed_mode(marker, value, header.nports or 0, name)
    elif value:
        raise TouchstoneError(f"{name}: line {marker.lineno}: {keyword} takes no value, found {_shown(value)}; "
                              f"put {keyword} on a line of its own")
    return f"{keyword} {value}".rstrip()


def _check_reference(marker: Marker, starts: list[int], nports: int, name: str,
                     read_span: Callable[[int, int], str]) -> None:
    """Refuse a [Reference] without one usable resistance per port before the next marker line.

    scikit-rf reads the next ``nports`` numbers wherever they are (even from the following
    keyword lines) and loops forever when the file ends first; so the count is checked here.
    ``starts`` are the byte offsets of every marker line.
    """
    following = [start for start in starts if start > marker.start]
    text = marker.text.partition("]")[2] + "\n" + read_span(marker.end, min(following, default=marker.end))
    values = [tok for line in text.splitlines() for tok in line.partition("!")[0].split()]
    if len(values) != nports:
        raise TouchstoneError(f"{name}: line {marker.lineno}: [Reference] gives {len(values)} value(s) for "
                              f"{nports} ports; give one resistance per port, e.g. '[Reference] "
                              f"{' '.join(['50'] * min(nports, 4))}{' ...' if nports > 4 else ''}'")
    for value in values:
        problem = resistance_problem(value)
        if problem:
            raise TouchstoneError(f"{name}: line {marker.lineno}: [Reference]: {problem}; write e.g. 50")


def _check_mixed_mode(marker: Marker, value: str, nports: int, name: str) -> None:
    """Refuse a [Mixed-Mode Order] that does not name one mode per port (D2,3 C2,3 S1 ...)."""
    tokens = value.split()
    ports = [int(p) for t in tokens if _MIXED_MODE.match(t) for p in t[1:].split(",")]
    if len(tokens) != nports or not all(_MIXED_MODE.match(t) for t in tokens) or not all(
            1 <= p <= nports for p in ports):
        raise TouchstoneError(f"{name}: line {marker.lineno}: [Mixed-Mode Order] {_shown(value)} does not name one "
                              f"mode per port for {nports} ports; write e.g. 'D1,2 C1,2 D3,4 C3,4'")


def _blank(begin: Marker | None, end: Marker | None, name: str) -> tuple[int, int, None]:
    """A rewrite (replacement None: keep only the line ends) that empties the information block."""
    if begin is None or end is None or end.start < begin.start:
        where = begin or end
        raise TouchstoneError(f"{name}: line {where.lineno}: [Begin Information] and [End Information] do not "
                              "enclose a block; write both, in that order")
    return begin.start, end.end, None
