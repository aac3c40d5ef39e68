"""Streaming pre-scan of a Touchstone file: size, line length, binary content, marker lines.

It runs before scikit-rf sees a byte. scikit-rf reads the whole file into memory and splits
each line into a Python list, so a 200 MB file of one line made it grow to 7 GB; this scan
reads the file in 1 MiB chunks, never holds more than one chunk plus one line, and refuses
what no Touchstone writer produces. On the way it picks out the marker lines (the option
line ``#`` and the Touchstone 2 ``[keywords]``) that ``touchstone_header`` checks.

Limits (module constants, in bytes)
-----------------------------------
``MAX_FILE_BYTES`` = 256 MiB
    A 4-port sweep of 200,000 points is 33 numbers a point: 107 MB at 16 characters a number
    (scikit-rf's writer) and about 150 MB at the widest exports seen (PLTS, 20+ characters),
    so 256 MiB leaves room for every real cable file. Reading costs about 6 bytes of memory and
    0.12 us per byte of file (measured: 107 MB, 200,000 points: 610 MB, 12.5 s on one core), so
    256 MiB bounds it to about 1.5 GB and half a minute.
``MAX_LINE_BYTES`` = 1 MiB
    Touchstone 1 wraps records at four pairs a line; writers that put one record on a line
    reach 51 kB for a 32-port (2,049 numbers of 25 characters). 1 MiB is 20 times that, and
    bounds the list scikit-rf builds from one line to about 60,000 tokens.
``MAX_PORTS`` = 512
    Cable, backplane and package models stay below a few hundred ports; the bound keeps the
    one record scikit-rf allocates from the port count alone (ports^2 complex values) at 4 MiB.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accbench.errors import TouchstoneError

MAX_FILE_BYTES = 256 * 2**20
MAX_LINE_BYTES = 2**20
MAX_PORTS = 512
MAX_MARKER_LINES = 100  # Touchstone 2 has 13 keywords; a legal file has fewer than 20 marker lines
_CHUNK_BYTES = 2**20
_BOM = b"\xef\xbb\xbf"

_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive (unpack it first)",
    b"\xff\xfe": "UTF-16 text (save it as ASCII or UTF-8)",
    b"\xfe\xff": "UTF-16 text (save it as ASCII or UTF-8)",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x7fELF": "an executable",
    b"\x80": "a Python pickle (accbench never loads pickles)",
}


@dataclass(frozen=True)
class Marker:
    """A line starting with ``#`` (option line) or ``[`` (keyword): where it is and what it says."""

    lineno: int
    start: int  # byte offset of the line's first character
    end: int  # byte offset just past the line's text (its line end excluded)
    text: str  # the line, stripped


@dataclass
class Scan:
    """What the pre-scan learned: encoding, the first option line and every keyword line."""

    size_bytes: int
    encoding: str = "utf-8-sig"
    option: Marker | None = None
    keywords: list[Marker] = field(default_factory=list)


def scan_file(path: Path, name: str) -> Scan:
    """Check size, line lengths and content of ``path`` chunk by chunk; collect its marker lines.

    Raises TouchstoneError (one line, naming ``name``) for an empty, oversized or binary file
    and for a line longer than ``MAX_LINE_BYTES``, after reading at most one chunk past it.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TouchstoneError(
            f"{name}: the file is {size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES / 2**20:.0f} MiB limit "
            "(a 200,000-point 4-port sweep is about 150 MB); export fewer points or split the band"
        )
    if size == 0:
        raise TouchstoneError(f"{name}: the file is empty; re-export it")
    scan = Scan(size_bytes=size)
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry, offset, lineno = b"", 0, 1  # carry: the unfinished last line; offset, lineno: where carry starts
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK_BYTES)
            if offset == 0 and not carry:
                _refuse_signature(chunk, name)
            block = carry + chunk
            cut = len(block) if not chunk else max(block.rfind(b"\n"), block.rfind(b"\r")) + 1
            complete, carry = block[:cut], block[cut:]
            if len(carry) > MAX_LINE_BYTES:
                _refuse_long_line(name, lineno + complete.count(b"\n"))
            _scan_block(complete, offset, lineno, scan, name)
            if scan.encoding != "latin-1":
                try:
                    decoder.decode(complete, final=not chunk)
                except UnicodeDecodeError:
                    scan.encoding = "latin-1"  # scikit-rf's fallback too: text with accented comments
            offset += len(complete)
            lineno += complete.count(b"\n")
            if not chunk:
                return scan


def _refuse_signature(head: bytes, name: str) -> None:
    """Raise if the file starts with the signature of a well-known binary format."""
    for magic, what in _SIGNATURES.items():
        if head.startswith(magic):
            raise TouchstoneError(f"{name}: this is {what}, not a Touchstone text file; give the .sNp export")


def _refuse_long_line(name: str, lineno: int) -> None:
    """Raise the one-line error for a line over ``MAX_LINE_BYTES``."""
    raise TouchstoneError(
        f"{name}: line {lineno} is longer than {MAX_LINE_BYTES // 2**20} MiB; a Touchstone file wraps its "
        "records over lines: re-export it (is this a Touchstone file?)"
    )


def _scan_block(block: bytes, offset: int, lineno: int, scan: Scan, name: str) -> None:
    """Check one block of whole lines (starting at file ``offset``, line ``lineno``) and collect markers.

    Vectorised over the block (numpy): a Python loop over lines would cost seconds a file.
    """
    codes = np.frombuffer(block, dtype=np.uint8)
    if offset == 0 and block.startswith(_BOM):
        codes = codes.copy()
        codes[: len(_BOM)] = ord(" ")  # a UTF-8 byte-order mark counts as blank before the first marker
    control = (codes < 9) | ((codes > 13) & (codes < 32)) | (codes == 127)  # tab, LF, VT, FF, CR allowed
    if control.any():
        at = int(np.argmax(control))
        line = lineno + block.count(b"\n", 0, at)
        raise TouchstoneError(
            f"{name}: line {line} holds binary data (byte 0x{codes[at]:02x}); "
            "this is not a Touchstone text file: give the .sNp export"
        )
    ends = np.flatnonzero((codes == 10) | (codes == 13))
    if ends.size:
        lengths = np.diff(ends, prepend=-1) - 1
        longest = int(np.argmax(lengths))
        if lengths[longest] > MAX_LINE_BYTES:
            _refuse_long_line(name, lineno + block.count(b"\n", 0, int(ends[longest])))
    for start, end in _marker_lines(codes, ends, want_option=scan.option is None):
        marker = Marker(lineno + block.count(b"\n", 0, start), offset + start, offset + end,
                        block[start:end].decode("utf-8", "replace").replace("\ufeff", "").strip())
        if marker.text.startswith("#"):
            scan.option = marker
            continue
        scan.keywords.append(marker)
        if len(scan.keywords) > MAX_MARKER_LINES:
            raise TouchstoneError(
                f"{name}: more than {MAX_MARKER_LINES} [keyword] lines (from line {scan.keywords[0].lineno}); "
                "Touchstone 2 has 13 keywords: is this a Touchstone file?"
            )


def _marker_lines(codes: np.ndarray, ends: np.ndarray, want_option: bool) -> list[tuple[int, int]]:
    """(start, end) offsets of the lines whose first non-blank character is '[' (or the first '#').

    ``ends`` are the offsets of the line terminators in ``codes``; ``want_option``: also
    return the first line starting with '#' (scikit-rf reads the first option line only).
    """
    starts = np.concatenate(([0], ends + 1))
    starts = starts[starts < codes.size]
    if not starts.size:
        return []
    first = _first_solid(codes, starts)
    keyword = first[codes[first] == ord("[")]
    option = first[codes[first] == ord("#")][:1] if want_option else first[:0]
    found = np.sort(np.concatenate((keyword[: MAX_MARKER_LINES + 1], option)))
    line_ends = np.searchsorted(ends, found)
    return [(int(f), int(ends[e]) if e < ends.size else codes.size) for f, e in zip(found, line_ends, strict=True)]


def _first_solid(codes: np.ndarray, starts: np.ndarray, steps: int = 8) -> np.ndarray:
    """Offset of the first character at or after each line start that is not a space or a tab.

    Line terminators count as solid (a blank line stops there); a start with none after it (a
    blank last line without terminator) is dropped. Most lines have at most a few blanks in front,
    so the offsets step forward from the starts; a block with longer indents is searched whole.
    """
    at = starts.copy()
    for _ in range(steps):
        c = codes[np.minimum(at, codes.size - 1)]
        blank = ((c == 32) | (c == 9)) & (at < codes.size)
        if not blank.any():
            return at[at < codes.size]
        at[blank] += 1
    solid = np.flatnonzero((codes != 32) & (codes != 9))
    if not solid.size:
        return starts[:0]
    first = solid[np.minimum(np.searchsorted(solid, starts), solid.size - 1)]
    return first[first >= starts]
