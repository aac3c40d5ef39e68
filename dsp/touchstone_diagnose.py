"""Why scikit-rf could not read a Touchstone file: the one-line diagnosis of a failed parse.

Runs only after scikit-rf has failed, on the (already size- and line-bounded) text. It walks
the data the way scikit-rf does (a record is a frequency and then a fixed count of numbers,
a new record begins at the first value of a line) and names the first thing that breaks it:
a line of text where data should be, a garbled value, records of another port count, a line
missing or repeated inside a record, or a truncated last record. Messages never quote the
file's content: the path may point at any file.
"""

from __future__ import annotations

from dataclasses import dataclass

from accbench.dsp.touchstone_header import Header


@dataclass
class _Walk:
    """State of the walk over the data lines: counts, the first line lengths, the first misalignment."""

    count: int = 0
    records: int = 0
    filled: int = 0  # numbers of the current record after its frequency
    record_line: int = 0
    line_lengths: list[int] | None = None
    misaligned: str | None = None


def diagnose(text: str, name: str, nports: int | None, header: Header) -> str:
    """One line explaining why ``text`` (the file ``name``) does not parse as ``nports``-port data."""
    per_record = 0
    if nports:
        per_record = 2 * nports * nports if header.matrix_format == "full" else nports * (nports + 1)
    walk = _Walk(line_lengths=[])
    problem = _walk(text, name, header, per_record, walk)
    if problem:
        return problem
    if not walk.count:
        return f"{name}: no S-parameter data found; is this a Touchstone file?"
    if not nports:
        return f"{name}: scikit-rf could not read the file; check that it is a valid Touchstone file"
    said = "the extension says" if header.nports is None else "[Number of Ports] says"
    found = _record_ports(walk.line_lengths or []) if header.matrix_format == "full" else None
    if found and found != nports:
        fix = f"rename the file to .s{found}p" if header.nports is None else "correct [Number of Ports]"
        return f"{name}: the data holds {found}-port records but {said} {nports} ports; {fix}"
    if walk.misaligned:
        return walk.misaligned
    if walk.filled:
        declared = f" of the {header.nfreq} declared" if header.nfreq else ""
        return (f"{name}: the file ends in the middle of a frequency record ({walk.records - 1}{declared} complete "
                f"records of {per_record + 1} numbers, then {walk.filled + 1} more); it is truncated: re-export it")
    return f"{name}: scikit-rf could not read the file; check that it is a valid Touchstone file"


def _walk(text: str, name: str, header: Header, per_record: int, walk: _Walk) -> str | None:
    """Walk the data lines into ``walk``; return a message at once for text where data should be."""
    in_data = header.version == "1.0"
    keyword = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.partition("!")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            keyword = " ".join(line[1:].partition("]")[0].lower().split())
            if keyword in ("noise data", "end"):
                break
            in_data = in_data or keyword == "network data"
            continue
        if not in_data:
            if keyword == "reference":
                continue  # the values of [Reference] may continue on the next lines
            return (f"{name}: line {lineno} is neither a keyword, the option line nor a comment, and comes "
                    "before [Network Data]; remove it or start it with '!'")
        tokens = line.split()
        bad = _first_non_number(tokens)
        if bad:
            return (f"{name}: line {lineno}: value {bad} is not a number (text or a comma decimal); "
                    "the file is garbled (re-export it from the instrument or simulator)")
        _step(walk, lineno, len(tokens), per_record, name)
    return None


def _first_non_number(tokens: list[str]) -> int:
    """1-based position of the first token that is not a number, 0 when all are."""
    for k, token in enumerate(tokens, start=1):
        try:
            float(token)
        except ValueError:
            return k
    return 0


def _step(walk: _Walk, lineno: int, length: int, per_record: int, name: str) -> None:
    """Account one data line of ``length`` numbers; note the first record that overruns a line end."""
    walk.count += length
    if walk.line_lengths is not None and len(walk.line_lengths) < 64:
        walk.line_lengths.append(length)
    if not per_record:
        return
    if walk.filled == 0:
        walk.records += 1
        walk.record_line = lineno
        length -= 1  # the frequency
        if length == 0 and walk.misaligned is None:
            walk.misaligned = (f"{name}: line {lineno} holds a single number where frequency record "
                               f"{walk.records} starts; a record is the frequency and its values: remove the line")
    walk.filled += length
    if walk.filled > per_record and walk.misaligned is None:
        walk.misaligned = (f"{name}: line {lineno}: frequency record {walk.records} (from line {walk.record_line}) "
                           f"has more than {per_record + 1} numbers: a line is missing or repeated there; "
                           "re-export the file")
    walk.filled %= per_record  # (after a misalignment, the count goes on roughly)


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


def noise_block_problem(text: str, name: str, nrecords: int) -> str | None:
    """Why the noise block of a Touchstone 1 2-port is not one (lines out of order), or None.

    scikit-rf starts reading noise data at the first frequency lower than the one before;
    a real noise block has five values a line (frequency, NFmin, |Gopt|, angle, Rn/50), so a
    line of nine there is S-parameter data whose lines are out of order.
    """
    remaining = nrecords * 9
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.partition("!")[0].strip()
        if not line or line.startswith(("#", "[")):
            continue
        count = len(line.split())
        if remaining > 0:
            remaining -= count
            continue
        if count != 5:
            return (f"{name}: line {lineno}: the frequency goes down, where a 2-port file's noise data would start, "
                    f"but the line holds {count} values, not 5; the data lines are out of order: re-export the file")
    return None
