"""Fast path of the Touchstone reader for regular Touchstone 1 files: the numeric block parsed once.

scikit-rf reads a data line at a time (``str.split`` and ``float`` per number): about 0.3 s for a
2 MB 4-port file. Most files are regular: a header of ``!`` comments and the option line, then
numbers only. For those, scikit-rf still parses the header (every option, comment, port name and
convention stays its business) and this module parses the numeric block in one compiled pass; the
Touchstone object is then finished by scikit-rf's own ``load_file`` code (format, unit, z0, ...),
so the Network is the one scikit-rf builds, bit for bit.

The fast path is taken only where it provably equals scikit-rf's line parser, else ``None`` is
returned and the caller reads the file through scikit-rf (which also produces every diagnosis):

* a ``.sNp`` file without Touchstone 2 keywords (version 1.0, full matrices);
* the block after the header holds only the bytes ``0-9 + - . e E``, space, tab, CR and LF (no
  comment, keyword, option line, noise block marker, non-ASCII or other white space);
* every token matches Python's float grammar over those bytes (``[sign] digits [. digits]
  [e [sign] digits]``, at least one mantissa digit): scikit-rf would fail on any other token;
* with R = 2 N^2 + 1 numbers a record, the record starts (token k R) are all first on their line
  and no line starts at token k R + 1 (scikit-rf starts a record at a line whose first number
  arrives when its count of S values is a multiple of 2 N^2), and the count is a multiple of R;
* for a 2-port, frequencies never decrease (scikit-rf would switch to a noise block).

Numbers: Clinger's fast path, m * 10^e or m / 10^-e with the digits m <= 2^53 and |e| <= 22 (both
operands exact doubles, one correctly rounded IEEE operation: the correctly rounded value, which
Python's ``float`` returns too); every other token is converted by Python's ``float`` itself.
"""

from __future__ import annotations

import io

import numpy as np
import skrf as rf
from numba import njit
from skrf.io.touchstone import Touchstone

_POW10 = np.array([10.0**k for k in range(23)])  # exact doubles: 10^22 < 2^53 * 2^22 (5^22 < 2^53)
_MAX_MANTISSA = 2**53

# byte classes: 0 other, 1 digit, 2 sign, 3 point, 4 exponent mark, 5 blank (space, tab), 6 line end
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[ord("0"):ord("9") + 1] = 1
_CLASS[[ord("+"), ord("-")]] = 2
_CLASS[ord(".")] = 3
_CLASS[[ord("e"), ord("E")]] = 4
_CLASS[[ord(" "), ord("\t")]] = 5
_CLASS[[ord("\n"), ord("\r")]] = 6


@njit(cache=True, inline="always")
def _digit_run(codes, cls, i, n, mant, sig):  # pragma: no cover - compiled
    """Read the digits from ``i``: (next index, mantissa, significant digits, digits read)."""
    count = 0
    while i < n and cls[codes[i]] == 1:
        d = codes[i] - 48
        if sig > 0 or d != 0:
            sig += 1
            if sig <= 18:
                mant = mant * 10 + d
        count += 1
        i += 1
    return i, mant, sig, count


@njit(cache=True)
def _parse_block(codes, cls, pow10, per_record, out, slow):  # pragma: no cover - compiled
    """Parse the numeric block ``codes`` into ``out``; tokens for Python's float into ``slow``.

    Returns (count of numbers, count of slow tokens), or (-1, 0) where the block is not regular.
    ``slow`` rows: token index, start, end (byte offsets in ``codes``).
    """
    n = codes.size
    i = 0
    tok = 0
    nslow = 0
    new_line = True
    while i < n:
        c = cls[codes[i]]
        if c == 6:
            new_line = True
            i += 1
            continue
        if c == 5:
            i += 1
            continue
        if c == 0:
            return -1, 0
        # a token starts here
        phase = tok % per_record
        if new_line:
            if phase == 1:
                return -1, 0
        elif phase == 0:
            return -1, 0
        new_line = False
        start = i
        negative = False
        if c == 2:
            negative = codes[i] == 45  # '-'
            i += 1
        # sig: significant digits (after the leading zeros); the first 18 make the mantissa
        i, mant, sig, ndig = _digit_run(codes, cls, i, n, 0, 0)
        frac = 0
        if i < n and cls[codes[i]] == 3:
            i, mant, sig, frac = _digit_run(codes, cls, i + 1, n, mant, sig)
            ndig += frac
        if ndig == 0:
            return -1, 0
        exp = 0
        exp_digits = 0
        if i < n and cls[codes[i]] == 4:
            i += 1
            exp_negative = False
            if i < n and cls[codes[i]] == 2:
                exp_negative = codes[i] == 45
                i += 1
            while i < n and cls[codes[i]] == 1:
                if exp_digits < 6:
                    exp = exp * 10 + (codes[i] - 48)
                exp_digits += 1
                i += 1
            if exp_digits == 0:
                return -1, 0
            if exp_negative:
                exp = -exp
        if i < n and cls[codes[i]] < 5:
            return -1, 0  # the token goes on with a character the grammar does not allow there
        e10 = exp - frac
        if sig <= 15 and mant <= 9007199254740992 and exp_digits < 6 and -22 <= e10 <= 22:
            if e10 >= 0:
                value = np.float64(mant) * pow10[e10]
            else:
                value = np.float64(mant) / pow10[-e10]
            out[tok] = -value if negative else value
        else:
            out[tok] = 0.0
            slow[nslow, 0] = tok
            slow[nslow, 1] = start
            slow[nslow, 2] = i
            nslow += 1
        tok += 1
    if tok % per_record != 0:
        return -1, 0
    return tok, nslow


def _data_start(data: bytes, encoding: str) -> int | None:
    """Byte offset of the first line scikit-rf reads as data (None: no such line)."""
    at, first = 0, True
    size = len(data)
    while at < size:
        nl, cr = data.find(b"\n", at), data.find(b"\r", at)
        end = min(e for e in (nl, cr, size) if e >= 0)
        text = data[at:end].decode(encoding if first else encoding.removesuffix("-sig"), "replace").strip()
        if text and text[0] not in "!#":
            return at
        at, first = end + 1, False
    return None


class _BlockTouchstone(Touchstone):
    """scikit-rf's Touchstone over the header text, with the data block already parsed."""

    def __init__(self, header, freqs: np.ndarray, values: np.ndarray):
        self._block = (freqs, values)
        super().__init__(header)

    def _parse_file(self, fid):
        state = super()._parse_file(fid)
        if state.f or state.s or state.noise or not state.parse_network or state.matrix_format != "full":
            raise _NotRegular
        state.f, state.s = self._block
        return state


class _NotRegular(Exception):
    pass


def read_regular(data: bytes, name: str, stem: str, encoding: str, nports: int | None) -> rf.Network | None:
    """The Network scikit-rf reads from ``data`` (a ``.sNp`` file's bytes), or None off the fast path."""
    if nports is None:
        return None
    start = _data_start(data, encoding)
    if start is None:
        return None
    codes = np.frombuffer(data, dtype=np.uint8, offset=start)
    per_record = 2 * nports * nports + 1
    out = np.empty(codes.size // 2 + 1)
    slow = np.empty((codes.size // 2 + 1, 3), dtype=np.int64)
    count, nslow = _parse_block(codes, _CLASS, _POW10, per_record, out, slow)
    if count <= 0:
        return None
    for tok, s, e in slow[:nslow]:
        out[tok] = float(codes[s:e].tobytes())
    table = out[:count].reshape(-1, per_record)
    freqs = table[:, 0].copy()
    if nports == 2 and np.any(freqs[1:] < freqs[:-1]):
        return None
    buffer = io.BytesIO(data[:start])
    buffer.name = name  # scikit-rf takes the port count of a .sNp from the name
    header = io.TextIOWrapper(buffer, encoding=encoding, newline=None)
    try:
        ts = _BlockTouchstone(header, freqs, table[:, 1:].reshape(-1))
    except _NotRegular:
        return None
    network = rf.Network(name=stem)
    network.s_def = None
    _fill(network, ts)
    return network


def _fill(network: rf.Network, ts: Touchstone) -> None:
    """What ``rf.Network.read_touchstone`` does with its Touchstone (no noise block here)."""
    network.comments = ts.get_comments()
    network.comments_after_option_line = ts.comments_after_option_line
    network.variables = ts.get_comment_variables()
    f, network.s = ts.get_sparameter_arrays()
    network.port_names = ts.port_names
    network.frequency = rf.Frequency.from_f(f, unit="hz")
    network.frequency.unit = ts.frequency_unit
    network.gamma = ts.gamma
    network.z0 = ts.z0
    network.s_def = ts.s_def if network.s_def is None else network.s_def
    network.port_modes = ts.port_modes
