"""Time-domain benchmark cases (issues 3 and 16): the numba engines against the best numpy/scipy/BLAS
code a competent user would write for the same statistics, measured in the same run.

Run alone: python3 benchmarks/td_bench.py [--repeat N]   (or as part of benchmarks/run.py)

Symbol-spaced link (noise, PAM4 slicer, symbol and bit errors): the baselines work in float32 with
the channel and FFE fused into one filter (np.convolve(channel, ffe) once), draw int8 symbols and
float32 normals (SFC64, numpy's fastest bit generator, into reused buffers), and split the chunks
over two threads (numpy releases the GIL in all of it). Three filters are tried, the best counts:
a Toeplitz matrix product (BLAS sgemm over a strided view of the levels), np.convolve and
scipy.signal.oaconvolve. While the baselines run, BLAS is held to one thread per worker thread
(threadpoolctl, when installed; otherwise BLAS threads as configured, which the row says).
Oversampled waveform (32 samples/UI): the baseline is the BLAS formulation, a (symbols x span)
sliding window of the levels times the (span x 32) pulse matrix, float32 like the engine, run
both as one thread with BLAS's own threads and as two threads with one BLAS thread each.
Every rate is given per wall second and per CPU second (all threads of the process).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.timing import Timed, paired_wall_cpu_s, wall_times_s  # noqa: E402

THREADS = 2
LEVELS32 = np.array([-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0], dtype=np.float32)
TOEPLITZ_BLOCK = 32  # outputs per row of the Toeplitz product (a row reads BLOCK + taps - 1 levels)


def bench_channel() -> tuple[np.ndarray, np.ndarray]:
    """A 64-UI symbol-spaced channel and an 8-tap FFE."""
    channel = np.exp(-np.arange(64) / 4.0)
    channel /= channel.sum() / 1.5
    return channel, np.array([0.02, -0.1, 1.0, -0.2, 0.05, 0.01, 0.0, 0.0])


def blas_one_thread() -> tuple[Callable[[], contextlib.AbstractContextManager], str]:
    """A factory of contexts holding BLAS to one thread (threadpoolctl), and a note saying whether it can."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext, "BLAS threads as configured"
    return lambda: threadpool_limits(1, user_api="blas"), "BLAS 1 thread/worker"


def toeplitz_fir(taps: np.ndarray, block: int = TOEPLITZ_BLOCK) -> Callable[[np.ndarray], np.ndarray]:
    """'valid' convolution with ``taps`` as one sgemm: rows of ``block`` outputs times a Toeplitz matrix."""
    taps32 = np.asarray(taps, dtype=np.float32)
    n_t = taps32.size
    toeplitz = np.zeros((block + n_t - 1, block), dtype=np.float32)
    for p in range(block):
        toeplitz[p: p + n_t, p] = taps32[::-1]

    def fir(levels: np.ndarray) -> np.ndarray:
        rows = (levels.size - n_t + 1) // block
        windows = as_strided(levels, shape=(rows, block + n_t - 1), strides=(block * levels.itemsize, levels.itemsize),
                             writeable=False)
        return (windows @ toeplitz).ravel()

    return fir


def make_fir(kind: str, taps: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The baseline's filter: 'toeplitz' (BLAS), 'convolve' (numpy) or 'oaconvolve' (scipy), float32."""
    taps32 = np.asarray(taps, dtype=np.float32)
    if kind == "toeplitz":
        return toeplitz_fir(taps32)
    if kind == "convolve":
        return lambda levels: np.convolve(levels, taps32, mode="valid")
    if kind == "oaconvolve":
        from scipy.signal import oaconvolve

        return lambda levels: oaconvolve(levels, taps32, mode="valid")
    raise ValueError(f"unknown filter {kind!r}")


def numpy_link(taps: np.ndarray, cursor: int, sigma: float, n_symbols: int, fir: str = "toeplitz",
               threads: int = THREADS, chunk: int = 1 << 16, seed: int = 1) -> tuple[int, int]:
    """(symbol errors, bit errors) of ``n_symbols`` random PAM4 symbols through the fused response ``taps``.

    Same statistics as the engine without DFE: Gray bits (MSB = upper half, LSB = inner levels),
    thresholds 0 and +-2/3 of the main cursor ``taps[cursor]``, Gaussian noise of rms ``sigma``.
    Chunks are split over ``threads`` threads, each with its own SFC64 stream.
    """
    fir_fn = make_fir(fir, taps)
    hist = taps.size - 1
    if chunk % TOEPLITZ_BLOCK:
        raise ValueError("chunk must be a multiple of the Toeplitz block")
    thr = np.float32(2.0 * taps[cursor] / 3.0)
    sig = np.float32(sigma)
    step = np.float32(LEVELS32[1] - LEVELS32[0])
    n_chunks = -(-n_symbols // chunk)
    seeds = np.random.SeedSequence(seed).spawn(threads)

    def work(i: int) -> tuple[int, int]:
        rng = np.random.Generator(np.random.SFC64(seeds[i]))
        noisy = np.empty(chunk, dtype=np.float32)
        levels = np.empty(chunk + hist, dtype=np.float32)
        sym_err = bit_err = 0
        for _ in range(i, n_chunks, threads):
            symbols = rng.integers(0, 4, chunk + hist, dtype=np.int8)
            np.multiply(symbols, step, out=levels)
            levels += LEVELS32[0]
            rng.standard_normal(dtype=np.float32, out=noisy)
            noisy *= sig
            noisy += fir_fn(levels)
            sent = symbols[hist - cursor: hist - cursor + chunk]
            msb = (noisy >= 0) != (sent >= 2)
            lsb = (np.abs(noisy) < thr) != ((sent == 1) | (sent == 2))
            sym_err += np.count_nonzero(msb | lsb)
            bit_err += np.count_nonzero(msb) + np.count_nonzero(lsb)
        return sym_err, bit_err

    if threads == 1:
        return work(0)
    with ThreadPoolExecutor(threads) as pool:
        counts = list(pool.map(work, range(threads)))
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def blas_waveform(symbols: np.ndarray, pulse: np.ndarray, samples_per_ui: int, threads: int = 1,
                  block: int = 4096) -> np.ndarray:
    """The oversampled waveform as matrix products: sliding windows of the levels x the pulse matrix.

    Row m of the window view is a[m - span + 1 .. m] (zeros before the start), column p of the
    (span x os) matrix holds pulse[(span - 1 - j) os + p]: their product is UI m's os samples.
    Blocks of ``block`` UIs, split over ``threads`` threads; float32 like the engine.
    """
    os_ = samples_per_ui
    span = -(-pulse.size // os_)
    padded = np.zeros(span * os_, dtype=np.float32)
    padded[: pulse.size] = pulse
    pulse_matrix = np.ascontiguousarray(padded.reshape(span, os_)[::-1])
    levels = np.concatenate([np.zeros(span - 1, dtype=np.float32), LEVELS32[symbols]])
    windows = sliding_window_view(levels, span)
    out = np.empty((symbols.size, os_), dtype=np.float32)

    def work(i: int) -> None:
        for b in range(i * block, symbols.size, threads * block):
            np.matmul(windows[b: b + block], pulse_matrix, out=out[b: b + block])

    if threads == 1:
        work(0)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
    return out.ravel()


def _best(candidates: dict[str, Callable[[], object]], repeat: int = 2) -> str:
    """The name of the fastest candidate (best of ``repeat`` wall times after a warm-up)."""
    best = {name: min(wall_times_s(func, repeat)) for name, func in candidates.items()}
    return min(best, key=best.get)


def _rates(t: Timed, work: float) -> tuple[float, float]:
    return t.rate(work / 1e6)


def run_cases(add, repeat: int) -> None:
    """Add the rows: symbol-spaced engine vs the best fair baseline (per wall and per CPU second),
    and the 32 samples/UI waveform vs the BLAS formulation."""
    from accbench.dsp.tdsim import oversampled_waveform, simulate_ber

    channel, ffe = bench_channel()
    taps = np.convolve(channel, ffe)
    cursor = int(np.argmax(np.abs(taps)))
    n = 1 << 23
    blas_ctx, blas_note = blas_one_thread()

    def baseline(kind: str) -> Callable[[], object]:
        def run():
            with blas_ctx():
                return numpy_link(taps, cursor, 0.02, n, kind)
        return run

    labels = {"toeplitz": "Toeplitz sgemm", "convolve": "np.convolve", "oaconvolve": "scipy oaconvolve"}
    kind = _best({k: baseline(k) for k in labels})
    t_eng, t_base = paired_wall_cpu_s(lambda: simulate_ber(channel, ffe, sigma=0.02, n_symbols=n), baseline(kind),
                                      max(3, repeat))
    (e_wall, e_cpu), (b_wall, b_cpu) = _rates(t_eng, n), _rates(t_base, n)
    desc = f"numpy f32 fused, {THREADS} thr, {labels[kind]}"
    if kind == "toeplitz":
        desc += f", {blas_note}"
    add("time domain, symbol-spaced (64-UI channel, 8-tap FFE)", f"{e_wall:.1f} Msym/s", f"{desc}: {b_wall:.1f} Msym/s",
        f"{e_wall / b_wall:.2f}x", ">= 3x", e_wall / b_wall >= 3)
    add("  same, per CPU-second (all threads)", f"{e_cpu:.1f} Msym/cpu-s", f"{b_cpu:.1f} Msym/cpu-s",
        f"{e_cpu / b_cpu:.2f}x", "-", True)

    rng = np.random.default_rng(2)
    symbols = rng.integers(0, 4, 200_000).astype(np.int8)
    pulse = rng.normal(size=64 * 32)

    def blas_run(threads: int) -> Callable[[], object]:
        if threads == 1:
            return lambda: blas_waveform(symbols, pulse, 32)

        def run():
            with blas_ctx():
                return blas_waveform(symbols, pulse, 32, threads=threads)
        return run

    w_labels = {1: "1 thr x BLAS threads", THREADS: f"{THREADS} thr x {blas_note}"}
    w_kind = _best({k: blas_run(k) for k in w_labels})
    t_os, t_blas = paired_wall_cpu_s(lambda: oversampled_waveform(symbols, pulse, 32), blas_run(w_kind),
                                     max(3, repeat))
    (o_wall, o_cpu), (w_wall, w_cpu) = _rates(t_os, symbols.size), _rates(t_blas, symbols.size)
    add("time domain, 32 samples/UI waveform (64-UI pulse)", f"{o_wall:.2f} Msym/s",
        f"BLAS window x pulse matrix ({w_labels[w_kind]}): {w_wall:.2f} Msym/s", f"{o_wall / w_wall:.2f}x", ">= 2x",
        o_wall / w_wall >= 2)
    add("  same, per CPU-second (all threads)", f"{o_cpu:.2f} Msym/cpu-s", f"{w_cpu:.2f} Msym/cpu-s",
        f"{o_cpu / w_cpu:.2f}x", "-", True)


def main() -> None:
    import argparse

    from benchmarks.timing import print_table

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = []
    run_cases(lambda *row: rows.append((*row[:5], "yes" if row[5] else "NO")), args.repeat)
    print_table("accbench time-domain benchmarks (median of paired repeats)", rows)


if __name__ == "__main__":
    main()
