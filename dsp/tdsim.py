"""Time-domain PAM4 simulation (numba): symbol-spaced BER counting and oversampled waveforms.

The symbol-spaced engine streams the run in chunks: each chunk makes its symbols (i.i.d.
random, an LFSR started by GF(2) jump-ahead at the chunk's offset, or a table), then, in
cache-sized blocks, filters them with the fused response channel * FFE (one float32 filter;
the taps far from the cursor only for the few samples they could push across a threshold),
adds Gaussian noise at the slicer (a float32 ziggurat on the chunk's own xorshift128+ stream),
optionally a 1-tap DFE, slices, and counts symbol and bit errors. Chunks run in parallel
(``prange``, handed to the threads one at a time), and every chunk's random stream depends
only on (seed, chunk), so results do not depend on the number of threads.
Memory is constant but for two counts per chunk: a few chunk-sized buffers per running chunk.
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
from accbench.dsp.rng import ZIG_F, ZIG_R32, ZIG_X, ZIG_X32, fill_normals, fill_normals32, next_u64, seed_state
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
    """Symbols of one chunk: i.i.d. from the chunk's stream (kind 0), LFSR (1) or table (2).

    i.i.d. symbols are the 2-bit fields of 64-bit draws, lowest first, 32 to a draw; the
    unpacking of one draw is a fixed 32-step loop that vectorises.
    """
    if kind == 0:
        n = syms.size
        full = n // 32
        for j in range(full):
            bits = next_u64(rng)
            out = syms[32 * j: 32 * j + 32]
            for t in range(32):
                out[t] = np.int8((bits >> np.uint64(2 * t)) & np.uint64(3))
        if full * 32 < n:
            bits = next_u64(rng)
            for i in range(full * 32, n):
                syms[i] = np.int8(bits & np.uint64(3))
                bits >>= np.uint64(2)
    elif kind == 1:
        lfsr_symbols(lfsr_state, taps_mask, order, syms)
    else:
        base = offset % table.size
        for i in range(syms.size):
            syms[i] = table[(base + i) % table.size]


BLOCK = 1024
"""Symbols per cache block of the symbol-spaced engine (levels, filter output, noise: 12 kB)."""
TAP_GROUP = 8
"""Taps per pass of the block filter (the fused response is zero-padded to a multiple)."""


@njit(cache=True, fastmath=True)
def _fir_block(lev, rev, y):
    """y[m] = sum_q rev[q] lev[m + q]: tap-major over the block, 8 taps a pass (vectorises over m)."""
    y[:] = 0.0
    for q in range(0, rev.size, TAP_GROUP):
        t0 = rev[q]
        t1 = rev[q + 1]
        t2 = rev[q + 2]
        t3 = rev[q + 3]
        t4 = rev[q + 4]
        t5 = rev[q + 5]
        t6 = rev[q + 6]
        t7 = rev[q + 7]
        lq = lev[q:]
        for m in range(y.size):
            y[m] += (t0 * lq[m] + t1 * lq[m + 1] + t2 * lq[m + 2] + t3 * lq[m + 3]) + (
                t4 * lq[m + 4] + t5 * lq[m + 5] + t6 * lq[m + 6] + t7 * lq[m + 7])


@njit(cache=True, inline="always")
def _decide(v, thr):
    """PAM4 decision 0..3: how many of the thresholds -thr, 0, thr lie at or below v."""
    return np.int64(v >= -thr) + np.int64(v >= 0) + np.int64(v >= thr)


@njit(cache=True, fastmath=True)
def _far_sum(lev, rev, m, stop_low, start_high, stop_high):
    """sum_q rev[q] lev[m + q] over q < stop_low and start_high <= q < stop_high: the far taps."""
    acc = np.float32(0.0)
    for q in range(stop_low):
        acc += rev[q] * lev[m + q]
    for q in range(start_high, stop_high):
        acc += rev[q] * lev[m + q]
    return acc


@njit(cache=True, fastmath=True, parallel=True)
def _ber_kernel(taps, cursor, near_lo, near_hi, far_bound, dfe_tap, sigma, n_chunks, chunk, seed, kind, order,
                taps_mask, states, table, levels, gray, zx, zf, zx32, zr32):
    """Counts (symbol errors, bit errors) over n_chunks chunks; see module docstring.

    ``taps`` is the fused response channel * FFE. Each chunk draws its symbols, then runs in
    blocks of BLOCK symbols: levels, the fused filter (float32, tap-major), BLOCK normals from
    the chunk's stream, and the slicer. Without DFE the slicer is branch-free and vectorises in
    float32 lanes (decision = number of thresholds at or below the sample; Gray bit errors =
    1, 2, 1 for decisions 1, 2, 3 levels away), and the filter runs over the near taps
    ``taps[near_lo:near_hi]`` only (``near_window``): the others move a sample by at most
    ``far_bound``, so only samples that close to a threshold get the far taps' sum and are
    decided again (exact). With DFE every tap is filtered and the slicer runs symbol by symbol.
    """
    n_t = taps.size
    hist = n_t - 1  # symbols before the first counted one
    main = taps[cursor]
    thr = np.float32(2.0 * main / 3.0)
    n_pad = -(-n_t // TAP_GROUP) * TAP_GROUP
    rev = np.zeros(n_pad, dtype=np.float32)  # rev[q] multiplies lev[m + q]
    for q in range(n_t):
        rev[q] = taps[n_t - 1 - q]
    pruned = dfe_tap == 0.0 and near_hi - near_lo < n_t
    q_lo = n_t - near_hi if pruned else 0  # the filtered taps are rev[q_lo:q_hi]
    q_hi = n_t - near_lo if pruned else n_t
    rev_near = np.zeros(-(-(q_hi - q_lo) // TAP_GROUP) * TAP_GROUP, dtype=np.float32)
    rev_near[: q_hi - q_lo] = rev[q_lo:q_hi]
    bound = np.float32(far_bound if pruned else -1.0)
    lev_0 = np.float32(levels[0])
    lev_step = np.float32((levels[3] - levels[0]) / 3.0)  # equally spaced levels
    sig = np.float32(sigma)
    zero, half, one, two, two_half = (np.float32(0.0), np.float32(0.5), np.float32(1.0), np.float32(2.0),
                                      np.float32(2.5))
    sym_err = np.zeros(n_chunks, dtype=np.int64)
    bit_err = np.zeros(n_chunks, dtype=np.int64)
    for c in prange(n_chunks):
        syms = np.empty(chunk + hist, dtype=np.int8)
        lev = np.zeros(BLOCK + n_pad + TAP_GROUP, dtype=np.float32)
        y = np.empty(BLOCK, dtype=np.float32)
        noise = np.empty(BLOCK, dtype=np.float32)
        rng = seed_state(seed, c)
        _fill_symbols(syms, rng, kind, states[c], taps_mask, order, table, c * chunk)
        prev = 0.0
        se = 0
        be = 0
        for b0 in range(0, chunk, BLOCK):
            nb = min(BLOCK, chunk - b0)
            sb = syms[b0: b0 + nb + hist]
            for i in range(sb.size):
                lev[i] = lev_0 + lev_step * np.float32(sb[i])
            yb = y[:nb]
            _fir_block(lev[q_lo:], rev_near, yb)
            nz = noise[:nb]
            fill_normals32(nz, rng, zx, zf, zx32, zr32)
            sent = syms[b0 + hist - cursor: b0 + hist - cursor + nb]
            if dfe_tap == 0.0:  # float32 lanes: counts of one block (<= 3 BLOCK) are exact
                se_b = np.float32(0.0)
                be_b = np.float32(0.0)
                close = np.float32(0.0)
                for m in range(nb):
                    v = yb[m] + sig * nz[m]
                    d = (one if v >= -thr else zero) + (one if v >= zero else zero) + (one if v >= thr else zero)
                    diff = abs(d - np.float32(sent[m]))  # levels apart: 0..3
                    se_b += one if diff > half else zero
                    be_b += diff - (two if diff > two_half else zero)  # Gray: 1, 2, 1 bits
                    yb[m] = v
                    gap = min(abs(v + thr), abs(v), abs(v - thr))  # to the nearest threshold
                    nz[m] = gap
                    close += one if gap <= bound else zero
                se += np.int64(se_b)
                be += np.int64(be_b)
                if close > zero:  # decide again with the far taps where they could matter
                    for m in range(nb):
                        if nz[m] <= bound:
                            v = yb[m]
                            full = v + _far_sum(lev, rev, m, q_lo, q_hi, n_t)
                            old_diff = abs(_decide(v, thr) - np.int64(sent[m]))
                            new_diff = abs(_decide(full, thr) - np.int64(sent[m]))
                            se += (new_diff != 0) - (old_diff != 0)
                            be += (new_diff - 2 * (new_diff == 3)) - (old_diff - 2 * (old_diff == 3))
            else:
                for m in range(nb):
                    d = _slice(yb[m] + sig * nz[m] - dfe_tap * prev, thr)
                    prev = levels[d] * main
                    if d != sent[m]:
                        se += 1
                        be += _bit_errors(d, sent[m], gray)
        sym_err[c] = se
        bit_err[c] = be
    return sym_err.sum(), bit_err.sum()


TAIL_FRACTION = 1.0 / 64.0
"""Far taps whose sum of magnitudes stays below this fraction of the slicer threshold are filtered only where needed."""


def near_window(taps: np.ndarray, cursor: int, levels: np.ndarray = LEVELS) -> tuple[int, int, float]:
    """(lo, hi, bound): the taps ``taps[lo:hi]`` around the cursor that the engine filters every symbol with.

    Grown from the cursor towards the larger neighbour until the other taps can move a sample by
    at most TAIL_FRACTION of the slicer threshold (bound = their sum of |tap| x max |level|, plus
    8 x taps x float32 epsilon of the largest possible sample, well above the rounding of the
    float32 sums), then widened to whole groups of TAP_GROUP taps. When that saves less than one
    group: every tap, bound 0.
    """
    mag = np.abs(np.asarray(taps, dtype=np.float64)) * float(np.max(np.abs(levels)))
    n_t = mag.size
    lo, hi = cursor, cursor + 1
    far = float(mag.sum() - mag[cursor])
    target = TAIL_FRACTION * 2.0 * float(taps[cursor]) / 3.0
    while hi - lo < n_t and (far > target or (hi - lo) % TAP_GROUP):
        if hi < n_t and (lo == 0 or mag[hi] >= mag[lo - 1]):
            far -= float(mag[hi])
            hi += 1
        else:
            lo -= 1
            far -= float(mag[lo])
    if hi - lo > n_t - TAP_GROUP:
        return 0, n_t, 0.0
    return lo, hi, max(far, 0.0) + 8.0 * n_t * 2.0**-24 * float(mag.sum())  # >> float32 rounding of the sums


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
                 seed: int = 1, dfe_tap: float = 0.0, chunk: int = CHUNK, tail_bound: bool = True) -> TdCounts:
    """Count errors of ``n_symbols`` PAM4 symbols through a symbol-spaced linear link.

    ``channel`` is the symbol-spaced response (peak amplitude 1 levels in), ``ffe`` the FFE
    taps (default a single 1), ``cursor`` the index of the main cursor in channel * ffe
    (default its largest sample), ``sigma`` the Gaussian noise rms at the slicer, and
    ``dfe_tap`` an optional 1-tap DFE weight (relative to the main cursor). With ``tail_bound``
    (the default) a symbol skips the taps far from the cursor when they cannot change its
    decision (``near_window``); the counts are the same, False filters every tap for every symbol.
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
    lo, hi, bound = near_window(combined, int(cursor)) if tail_bound else (0, combined.size, 0.0)
    with numba.parallel_chunksize(1):  # chunks handed out one at a time: a stalled thread holds up one chunk
        se, be = _ber_kernel(combined, int(cursor), lo, hi, bound, float(dfe_tap) * combined[cursor], float(sigma),
                             n_chunks, chunk, int(seed), kind, np.int64(pattern.order), np.int64(pattern.taps_mask),
                             states, table, LEVELS, GRAY_BITS, ZIG_X, ZIG_F, ZIG_X32, ZIG_R32)
    return TdCounts(n_chunks * chunk, int(se), int(be))


WAVE_GROUP = 8
"""Symbols per lookup-table group of the oversampled waveform engine (8 bits -> 256 rows)."""
WAVE_BLOCK = 256
"""Output symbols per parallel block of the waveform engine."""


@njit(cache=True, parallel=True, fastmath=True)
def _waveform_kernel(symbols, pulse, samples_per_ui, levels):
    """numba kernel of ``oversampled_waveform``.

    The levels are equally spaced, so a symbol s = 2h + b (h, b in {0, 1}) launches
    levels[0] + 2 step h + step b: the waveform is a constant plus two binary streams through
    the pulse. For each group of 8 consecutive pulse UIs a table holds, for every 8-bit pattern,
    the sum of the selected UIs' samples (256 x os float32; all groups: 256 kB for a 64-UI
    pulse at 32 samples/UI). One UI of output is then 2 lookups per group instead of 8 x os
    multiply-adds per group. The first UIs, where symbols before the start are silent (level 0,
    not levels[0]), are summed directly. Output blocks run in parallel.
    """
    os_ = samples_per_ui
    span = -(-pulse.size // os_)
    n_groups = -(-span // WAVE_GROUP)
    n_taps = n_groups * WAVE_GROUP
    taps = np.zeros((n_taps, os_), dtype=np.float32)
    for i in range(pulse.size):
        taps[i // os_, i % os_] = pulse[i]
    table = np.zeros((n_groups * 256, os_), dtype=np.float32)
    for g in prange(n_groups):
        for code in range(1, 256):  # row(code) = row(code without its lowest bit) + that bit's UI
            bit = 0
            while not (code >> bit) & 1:
                bit += 1
            low = g * 256 + (code & (code - 1))
            for p in range(os_):
                table[g * 256 + code, p] = table[low, p] + taps[g * WAVE_GROUP + bit, p]
    step = (levels[3] - levels[0]) / 3.0
    const = np.zeros(os_, dtype=np.float32)
    for k in range(n_taps):
        for p in range(os_):
            const[p] += levels[0] * taps[k, p]
    w_h = np.float32(2.0 * step)
    w_b = np.float32(step)
    n = symbols.size
    out = np.empty((n, os_), dtype=np.float32)
    n_blocks = -(-n // WAVE_BLOCK)
    for bi in prange(n_blocks):
        start = bi * WAVE_BLOCK
        stop = min(n, start + WAVE_BLOCK)
        for m in range(start, min(stop, n_taps - 1)):  # the silent start: direct sum
            o = out[m]
            o[:] = 0.0
            for k in range(m + 1):
                a = np.float32(levels[symbols[m - k]])
                tk = taps[k]
                for p in range(os_):
                    o[p] += a * tk[p]
        first = max(start, n_taps - 1)
        if first >= stop:
            continue
        count = stop - first
        # rows[i, 2g] / rows[i, 2g + 1]: table rows of the h / b bits of symbols m - 8g - 7 .. m - 8g
        rows = np.empty((count, 2 * n_groups), dtype=np.int64)
        code_h = 0
        code_b = 0
        for j in range(first - n_taps + 1, stop):
            s = symbols[j]
            code_h = ((code_h << 1) | (s >> 1)) & 255
            code_b = ((code_b << 1) | (s & 1)) & 255
            for g in range(n_groups):  # the window ending at symbol j is group g of output j + 8g
                i = j + WAVE_GROUP * g - first
                if 0 <= i < count:
                    rows[i, 2 * g] = g * 256 + code_h
                    rows[i, 2 * g + 1] = g * 256 + code_b
        for i in range(count):
            o = out[first + i]
            for p in range(os_):
                o[p] = const[p]
            g = 0
            while g + 1 < n_groups:  # two groups a pass
                t0 = table[rows[i, 2 * g]]
                t1 = table[rows[i, 2 * g + 1]]
                t2 = table[rows[i, 2 * g + 2]]
                t3 = table[rows[i, 2 * g + 3]]
                for p in range(os_):
                    o[p] += w_h * (t0[p] + t2[p]) + w_b * (t1[p] + t3[p])
                g += 2
            if g < n_groups:
                t0 = table[rows[i, 2 * g]]
                t1 = table[rows[i, 2 * g + 1]]
                for p in range(os_):
                    o[p] += w_h * t0[p] + w_b * t1[p]
    return out.ravel()


def oversampled_waveform(symbols: np.ndarray, pulse: np.ndarray, samples_per_ui: int) -> np.ndarray:
    """Waveform of PAM4 ``symbols`` (0..3) through a pulse response sampled ``samples_per_ui`` per UI.

    Polyphase sum y[m*os + p] = sum_k a[m - k] pulse[k*os + p]; output length len(symbols)*os,
    in float32 (ample for eyes and jitter; twice the SIMD width of float64).
    """
    if samples_per_ui < 1:
        raise InputError("samples per UI must be >= 1")
    with numba.parallel_chunksize(4):  # blocks handed out a few at a time: a stalled thread holds up little
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
