"""Time-domain PAM4 simulation (numba): symbol-spaced BER counting and oversampled waveforms.

The symbol-spaced engine streams the run in chunks: each chunk makes its symbols (i.i.d.
random, an LFSR started by GF(2) jump-ahead at the chunk's offset, or a table), convolves
them with the channel's symbol-spaced response, applies the FFE, adds Gaussian noise at the
slicer, optionally a 1-tap DFE, slices, and counts symbol and bit errors. Chunks run in
parallel (``prange`` over worker slots, buffers reused), and every chunk's random stream
depends only on (seed, chunk), so results do not depend on the number of threads.
Memory is constant: a few chunk-sized buffers per thread, whatever the symbol count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from accbench.dsp.patterns import (
    GRAY_BITS,
    LEVELS,
    PRBS_SEED_STATE,
    Pattern,
    chunk_states,
    jump_matrix,
    lfsr_symbols,
)
from accbench.dsp.rng import ZIG_F, ZIG_X, fill_normals, next_u64, seed_state
from numba import njit, prange

from accbench.errors import InputError

CHUNK = 16384


@dataclass(frozen=True)
class TdCounts:
    """Counts of one time-domain run."""

    symbols: int
    symbol_errors: int
    bit_errors: int

    @property
    def ser(self) -> float:
        return self.symbol_errors / self.symbols

    @property
    def ber(self) -> float:
        return self.bit_errors / (2 * self.symbols)


@njit(cache=True, inline="always")
def _slice(v: float, thr: float) -> int:
    """PAM4 decision (symbol 0..3) with thresholds -thr, 0, +thr."""
    if v < 0.0:
        return 0 if v < -thr else 1
    return 3 if v >= thr else 2


@njit(cache=True, inline="always")
def _bit_errors(decided: int, sent: int, gray: np.ndarray) -> int:
    """Bits that differ between the Gray codes of two symbols."""
    x = gray[decided] ^ gray[sent]
    return (x & 1) + (x >> 1)


@njit(cache=True, inline="always")
def _fill_symbols(syms, rng, kind, lfsr_state, taps_mask, order, table, offset):
    """Symbols of one chunk: i.i.d. from the chunk's stream (kind 0), LFSR (1) or table (2)."""
    if kind == 0:
        bits = np.uint64(0)
        for i in range(syms.size):
            if i % 32 == 0:
                bits = next_u64(rng)
            syms[i] = np.int8(bits & np.uint64(3))
            bits >>= np.uint64(2)
    elif kind == 1:
        lfsr_symbols(lfsr_state, taps_mask, order, syms)
    else:
        base = offset % table.size
        for i in range(syms.size):
            syms[i] = table[(base + i) % table.size]


@njit(cache=True, fastmath=True, parallel=True)
def _ber_kernel(channel, ffe, cursor, dfe_tap, sigma, n_chunks, chunk, seed, kind, order, taps_mask,
                states, table, levels, gray, zx, zf, n_workers):
    """Counts (symbol errors, bit errors) over n_chunks chunks; see module docstring.

    Filters run tap-major over the whole chunk in float32 (the inner loop over symbols
    vectorises); noise, DFE and slicer then run symbol by symbol.
    """
    n_ch = channel.size
    n_ffe = ffe.size
    hist = n_ch + n_ffe  # symbols before the first counted one
    main = 0.0  # combined cursor amplitude sets the slicer thresholds
    for k in range(n_ffe):
        j = cursor - k
        if 0 <= j < n_ch:
            main += ffe[k] * channel[j]
    thr = 2.0 * main / 3.0
    rev_ch = channel[::-1].astype(np.float32)  # rev[k] = channel[n_ch - 1 - k]
    rev_ffe = ffe[::-1].astype(np.float32)
    lev32 = levels.astype(np.float32)
    sym_err = np.zeros(n_workers, dtype=np.int64)
    bit_err = np.zeros(n_workers, dtype=np.int64)
    for w in prange(n_workers):
        syms = np.empty(chunk + hist, dtype=np.int8)
        lev = np.empty(chunk + hist, dtype=np.float32)
        rx = np.empty(chunk + n_ffe, dtype=np.float32)
        y = np.empty(chunk, dtype=np.float32)
        noise = np.empty(chunk)
        for c in range(w, n_chunks, n_workers):
            rng = seed_state(seed, c)
            _fill_symbols(syms, rng, kind, states[c], taps_mask, order, table, c * chunk)
            for i in range(chunk + hist):
                lev[i] = lev32[syms[i]]
            # channel: rx[j] = sum_k channel[k] a[j + n_ch - 1 - k] (a dot product per sample)
            for j in range(chunk + n_ffe):
                acc = np.float32(0.0)
                for k in range(n_ch):
                    acc += rev_ch[k] * lev[j + k]
                rx[j] = acc
            # FFE: y[m] = sum_k ffe[k] rx[m + n_ffe - 1 - k]
            for m in range(chunk):
                acc = np.float32(0.0)
                for k in range(n_ffe):
                    acc += rev_ffe[k] * rx[m + k]
                y[m] = acc
            fill_normals(noise, rng, zx, zf)
            prev = 0.0
            se = 0
            be = 0
            for m in range(chunk):
                d = _slice(y[m] + sigma * noise[m] - dfe_tap * prev, thr)
                prev = levels[d] * main
                sent = syms[m + hist - 2 - cursor]
                if d != sent:
                    se += 1
                    be += _bit_errors(d, sent, gray)
            sym_err[w] += se
            bit_err[w] += be
    return sym_err.sum(), bit_err.sum()


def _chunking(n_symbols: int, chunk: int, pattern: Pattern):
    """(n_chunks, chunk, source kind, LFSR state at each chunk start, table) for a run."""
    n_chunks = max(1, -(-n_symbols // chunk))
    chunk = -(-n_symbols // n_chunks)
    kind = 0 if pattern.order == 0 and pattern.table is None else (1 if pattern.table is None else 2)
    states = np.zeros(n_chunks, dtype=np.int64)
    table = np.zeros(1, dtype=np.int8) if pattern.table is None else pattern.table.astype(np.int8)
    if kind == 1:
        cols = np.array(jump_matrix(pattern.order, pattern.taps_mask, 2 * chunk), dtype=np.int64)
        start = PRBS_SEED_STATE & ((1 << pattern.order) - 1)
        states = chunk_states(cols, np.int64(start), n_chunks)
    return n_chunks, chunk, kind, states, table


def simulate_ber(channel: np.ndarray, ffe: np.ndarray | None = None, cursor: int | None = None,
                 sigma: float = 0.0, n_symbols: int = 1_000_000, pattern: Pattern | None = None,
                 seed: int = 1, dfe_tap: float = 0.0, chunk: int = CHUNK) -> TdCounts:
    """Count errors of ``n_symbols`` PAM4 symbols through a symbol-spaced linear link.

    ``channel`` is the symbol-spaced response (peak amplitude 1 levels in), ``ffe`` the FFE
    taps (default a single 1), ``cursor`` the index of the main cursor in channel * ffe
    (default its largest sample), ``sigma`` the Gaussian noise rms at the slicer, and
    ``dfe_tap`` an optional 1-tap DFE weight (relative to the main cursor).
    """
    channel = np.ascontiguousarray(channel, dtype=np.float64)
    ffe = np.array([1.0]) if ffe is None else np.ascontiguousarray(ffe, dtype=np.float64)
    if n_symbols <= 0:
        raise InputError(f"symbol count {n_symbols} must be > 0")
    if sigma < 0:
        raise InputError("noise rms must be >= 0")
    combined = np.convolve(channel, ffe)
    if cursor is None:
        cursor = int(np.argmax(np.abs(combined)))
    if combined[cursor] <= 0:
        raise InputError("the main cursor of the equalised response is not positive")
    pattern = pattern or Pattern("random")
    n_chunks, chunk, kind, states, table = _chunking(n_symbols, chunk, pattern)
    se, be = _ber_kernel(channel, ffe, int(cursor), float(dfe_tap) * combined[cursor], float(sigma),
                         n_chunks, chunk, int(seed), kind, np.int64(pattern.order), np.int64(pattern.taps_mask),
                         states, table, LEVELS, GRAY_BITS, ZIG_X, ZIG_F,
                         min(4 * numba.get_num_threads(), n_chunks))
    return TdCounts(n_chunks * chunk, int(se), int(be))


GROUP = 4
"""Symbols per lookup-table group of the oversampled engine (4 symbols -> 256 patterns)."""


@njit(cache=True, parallel=True, fastmath=True)
def _waveform_kernel(symbols, pulse, samples_per_ui, levels):
    """numba kernel of ``oversampled_waveform``.

    PAM4 has four levels, so the contribution of each group of 4 consecutive symbols to one
    UI of output is one of 256 vectors: a table of (span/4, 256, os) float32 built once
    turns the 4 x os multiply-adds per group into os additions. Output blocks run in parallel.
    """
    os_ = samples_per_ui
    span = -(-pulse.size // os_)
    n_groups = -(-span // GROUP)
    taps = np.zeros((n_groups * GROUP, os_), dtype=np.float32)
    for i in range(pulse.size):
        taps[i // os_, i % os_] = pulse[i]
    table = np.zeros((n_groups, 256, os_), dtype=np.float32)
    for g in prange(n_groups):
        for code in range(256):
            for i in range(GROUP):
                a = levels[(code >> (2 * i)) & 3]
                for p in range(os_):
                    table[g, code, p] += a * taps[g * GROUP + i, p]
    n = symbols.size
    out = np.empty(n * os_, dtype=np.float32)
    block = 2048
    n_blocks = -(-n // block)
    pad = n_groups * GROUP
    for b in prange(n_blocks):
        acc = np.empty(os_, dtype=np.float32)
        codes = np.empty(block + pad, dtype=np.int64)
        start = b * block - pad
        # codes[i] packs symbols j, j-1, j-2, j-3 (j = start + i); before the start they are level 0 = silent
        for i in range(block + pad):
            c = 0
            for q in range(GROUP):
                j = start + i - q
                s = symbols[j] if 0 <= j < n else -1
                c |= (s if s >= 0 else 0) << (2 * q)
            codes[i] = c
        for m in range(b * block, min(n, (b + 1) * block)):
            acc[:] = 0.0
            if m < pad:  # the first UIs: symbols before the start are silent, not level -1
                for k in range(min(m + 1, pad)):
                    a = levels[symbols[m - k]]
                    for p in range(os_):
                        acc[p] += a * taps[k, p]
            else:
                base = m - start
                for g in range(n_groups):
                    code = codes[base - GROUP * g]
                    for p in range(os_):
                        acc[p] += table[g, code, p]
            out[m * os_: (m + 1) * os_] = acc
    return out


def oversampled_waveform(symbols: np.ndarray, pulse: np.ndarray, samples_per_ui: int) -> np.ndarray:
    """Waveform of PAM4 ``symbols`` (0..3) through a pulse response sampled ``samples_per_ui`` per UI.

    Polyphase sum y[m*os + p] = sum_k a[m - k] pulse[k*os + p]; output length len(symbols)*os,
    in float32 (ample for eyes and jitter; twice the SIMD width of float64).
    """
    if samples_per_ui < 1:
        raise InputError("samples per UI must be >= 1")
    return _waveform_kernel(np.ascontiguousarray(symbols, dtype=np.int8),
                            np.ascontiguousarray(pulse, dtype=np.float64), int(samples_per_ui), LEVELS)


@njit(cache=True, fastmath=True, parallel=True)
def _os_ber_kernel(pulse, spu, c0, sigma, rj, dd, n_chunks, chunk, seed, kind, order, taps_mask, states,
                   table, levels, gray, zx, zf, n_workers):
    """Oversampled BER kernel: sample each symbol at c0 + jitter (linear interpolation)."""
    n_p = pulse.size
    after = c0 // spu + 2  # future symbols reaching the sampling instant (precursors)
    before = (n_p - c0) // spu + 2  # past symbols still ringing
    total = chunk + before + after
    main = pulse[c0]
    thr = 2.0 * main / 3.0
    sym_err = np.zeros(n_workers, dtype=np.int64)
    bit_err = np.zeros(n_workers, dtype=np.int64)
    for w in prange(n_workers):
        syms = np.empty(total, dtype=np.int8)
        lev = np.empty(total)
        gauss = np.empty(2 * chunk)
        for c in range(w, n_chunks, n_workers):
            rng = seed_state(seed, c)
            _fill_symbols(syms, rng, kind, states[c], taps_mask, order, table, c * chunk)
            for i in range(total):
                lev[i] = levels[syms[i]]
            fill_normals(gauss, rng, zx, zf)
            se = 0
            be = 0
            for m in range(chunk):
                sym_index = m + before  # index of the decided symbol in syms
                offset = rj * gauss[chunk + m]
                if dd > 0:
                    offset += dd if (next_u64(rng) >> np.uint64(63)) else -dd
                pos = c0 + offset  # sampling instant relative to the decided symbol's launch
                i0 = int(np.floor(pos))
                frac = pos - i0
                v0 = 0.0
                v1 = 0.0
                # w(n) = sum_k a[k] p[n - k spu]: symbols j = sym_index + q contribute p[i0 - q spu]
                for q in range(-(before - 1), after):
                    idx = i0 - q * spu
                    if 0 <= idx < n_p - 1:
                        a = lev[sym_index + q]
                        v0 += a * pulse[idx]
                        v1 += a * pulse[idx + 1]
                d = _slice((1.0 - frac) * v0 + frac * v1 + sigma * gauss[m], thr)
                sent = syms[sym_index]
                if d != sent:
                    se += 1
                    be += _bit_errors(d, sent, gray)
            sym_err[w] += se
            bit_err[w] += be
    return sym_err.sum(), bit_err.sum()


def simulate_ber_oversampled(pulse: np.ndarray, samples_per_ui: int, sigma: float = 0.0, rj_ui: float = 0.0,
                             dd_ui: float = 0.0, n_symbols: int = 1_000_000, pattern: Pattern | None = None,
                             seed: int = 1, chunk: int = 8192) -> TdCounts:
    """Count errors with the waveform sampled once per UI at the pulse peak plus jitter.

    ``pulse`` is the equalised pulse at ``samples_per_ui``; random jitter (rms ``rj_ui``) and
    dual-Dirac jitter (+-``dd_ui``) move each sampling instant, and the waveform is linearly
    interpolated there: jitter acts through the true pulse shape, not a slope approximation.
    """
    pulse = np.ascontiguousarray(pulse, dtype=np.float64)
    if n_symbols <= 0:
        raise InputError(f"symbol count {n_symbols} must be > 0")
    if min(sigma, rj_ui, dd_ui) < 0:
        raise InputError("noise and jitter must be >= 0")
    c0 = int(np.argmax(pulse))
    pattern = pattern or Pattern("random")
    n_chunks, chunk, kind, states, table = _chunking(n_symbols, chunk, pattern)
    se, be = _os_ber_kernel(pulse, int(samples_per_ui), c0, float(sigma), float(rj_ui * samples_per_ui),
                            float(dd_ui * samples_per_ui), n_chunks, chunk, int(seed), kind,
                            np.int64(pattern.order), np.int64(pattern.taps_mask), states, table, LEVELS,
                            GRAY_BITS, ZIG_X, ZIG_F, min(4 * numba.get_num_threads(), n_chunks))
    return TdCounts(n_chunks * chunk, int(se), int(be))
