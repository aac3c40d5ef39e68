"""Fast, deterministic random numbers for the numba engines: xorshift128+ and a ziggurat normal.

numba's ``np.random`` works, but a ziggurat on xorshift128+ keeps the Gaussian at a few
nanoseconds and the stream is fully determined by (seed, chunk), so parallel chunks give the
same result on any number of threads. The ziggurat tables (Marsaglia & Tsang, 256 layers)
are built here at import.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.optimize import brentq

_LAYERS = 256


def _tail_area(r: float) -> float:
    """Integral of exp(-x^2/2) from r to infinity."""
    from scipy.special import erfc

    return np.sqrt(np.pi / 2) * erfc(r / np.sqrt(2))


def _ziggurat_x(r: float) -> tuple[np.ndarray, float]:
    """Layer edges for tail start r, and how far the top layer misses f(0) = 1.

    Every layer has the base layer's area v = r f(r) + tail(r); the recursion
    x[i+1] = f^-1(f(x[i]) + v / x[i]) must end exactly at f = 1 for the right r.
    """
    f = lambda v: np.exp(-0.5 * v * v)  # noqa: E731
    area = r * f(r) + _tail_area(r)
    x = np.zeros(_LAYERS + 1)
    x[0] = area / f(r)
    x[1] = r
    for i in range(1, _LAYERS - 1):
        y = f(x[i]) + area / x[i]
        if y >= 1.0:  # r too small: the layers reach the top too early
            return x, (y - 1.0) + (_LAYERS - 1 - i)
        x[i + 1] = np.sqrt(-2.0 * np.log(y))
    return x, f(x[_LAYERS - 1]) + area / x[_LAYERS - 1] - 1.0


def _build_tables() -> tuple[np.ndarray, np.ndarray]:
    r = brentq(lambda v: _ziggurat_x(v)[1], 3.0, 4.5, xtol=1e-15)
    x, _ = _ziggurat_x(r)
    x[_LAYERS] = 0.0
    return x, np.exp(-0.5 * x * x)


ZIG_X, ZIG_F = _build_tables()

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def seed_state(seed: int, stream: int) -> np.ndarray:
    """xorshift128+ state for (seed, stream), scrambled with splitmix64 so nearby seeds differ."""
    state = np.empty(2, dtype=np.uint64)
    z = np.uint64(seed) * _GOLDEN + np.uint64(stream) * np.uint64(0xBF58476D1CE4E5B9) + np.uint64(1)
    for i in range(2):
        z = z + _GOLDEN
        t = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        t = (t ^ (t >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        state[i] = t ^ (t >> np.uint64(31))
    if state[0] == 0 and state[1] == 0:
        state[0] = np.uint64(1)
    return state


@njit(cache=True, inline="always")
def xorshift_step(s0: np.uint64, s1: np.uint64) -> tuple[np.uint64, np.uint64, np.uint64]:
    """One xorshift128+ step of the state (s0, s1): the new state and its 64 random bits (inlined, so a
    block fill keeps the state in registers)."""
    a = s0 ^ (s0 << np.uint64(23))
    s1_next = a ^ s1 ^ (a >> np.uint64(17)) ^ (s1 >> np.uint64(26))
    return s1, s1_next, s1_next + s1


@njit(cache=True, inline="always")
def next_u64(state: np.ndarray) -> np.uint64:
    """Advance xorshift128+ and return 64 random bits."""
    state[0], state[1], r = xorshift_step(state[0], state[1])
    return r


@njit(cache=True, inline="always")
def next_uniform(state: np.ndarray) -> float:
    """Uniform in (0, 1]."""
    return (np.float64(next_u64(state) >> np.uint64(11)) + 1.0) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def next_normal(state: np.ndarray, zx: np.ndarray, zf: np.ndarray) -> float:
    """Standard normal by the ziggurat method (exact, including the tail beyond r)."""
    while True:
        r = next_u64(state)
        k = np.int64(r & np.uint64(255))
        u = np.float64(np.int64(r >> np.uint64(11))) * (2.0 / 9007199254740992.0) - 1.0
        z = u * zx[k]
        if abs(z) < zx[k + 1]:
            return z
        if k == 0:  # tail beyond r (Marsaglia's method)
            while True:
                t = -np.log(next_uniform(state)) / zx[1]
                e = -np.log(next_uniform(state))
                if 2.0 * e > t * t:
                    break
            return zx[1] + t if u > 0 else -(zx[1] + t)
        y = zf[k] + next_uniform(state) * (zf[k + 1] - zf[k])
        if y < np.exp(-0.5 * z * z):
            return z


@njit(cache=True)
def normals(n: int, seed: int) -> np.ndarray:
    """n standard normals from stream 0 of ``seed`` (for tests)."""
    state = seed_state(seed, 0)
    out = np.empty(n)
    for i in range(n):
        out[i] = next_normal(state, ZIG_X, ZIG_F)
    return out


@njit(cache=True, fastmath=True)
def fill_normals(out: np.ndarray, state: np.ndarray, zx: np.ndarray, zf: np.ndarray) -> None:
    """Fill ``out`` with standard normals (ziggurat), keeping the xorshift state in registers.

    Same algorithm as ``next_normal``; the fast path (98.8 % of draws) touches no memory but
    the two small tables, which is what makes a block fill several times faster.
    """
    s0 = state[0]
    s1 = state[1]
    i = 0
    n = out.size
    while i < n:
        s0, s1, r = xorshift_step(s0, s1)
        k = np.int64(r & np.uint64(255))
        u = np.float64(np.int64(r >> np.uint64(11))) * (2.0 / 9007199254740992.0) - 1.0
        z = u * zx[k]
        if abs(z) < zx[k + 1]:
            out[i] = z
            i += 1
            continue
        state[0] = s0
        state[1] = s1
        accepted, value = _ziggurat_slow(state, k, u, zx, zf)
        if accepted:
            out[i] = value
            i += 1
        s0 = state[0]
        s1 = state[1]
    state[0] = s0
    state[1] = s1


ZIG_X32 = ZIG_X.astype(np.float32)
"""Layer edges in float32, for the float32 fast path."""
ZIG_R32 = (ZIG_X[1:] / ZIG_X[:-1]).astype(np.float32)
"""x[k+1]/x[k]: a draw u in (-1, 1) of layer k lies inside the layer's rectangle iff |u| < this."""
_U24 = 1.0 / 8388608.0  # 2**-23


@njit(cache=True)
def _ziggurat_slow(state: np.ndarray, k: int, u: float, zx: np.ndarray, zf: np.ndarray) -> tuple[bool, float]:
    """The ziggurat's rare path for a draw (k, u) outside layer k's rectangle: (accepted, value).

    Layer 0 samples the tail beyond r (Marsaglia's method); any other layer accepts u x[k] when a
    uniform point in the wedge lies under the density, and otherwise rejects the draw.
    """
    if k == 0:
        while True:
            t = -np.log(next_uniform(state)) / zx[1]
            e = -np.log(next_uniform(state))
            if 2.0 * e > t * t:
                break
        return True, (zx[1] + t if u > 0 else -(zx[1] + t))
    z = u * zx[k]
    y = zf[k] + next_uniform(state) * (zf[k + 1] - zf[k])
    return y < np.exp(-0.5 * z * z), z


@njit(cache=True, fastmath=True)
def fill_normals32(out: np.ndarray, state: np.ndarray, zx: np.ndarray, zf: np.ndarray, zx32: np.ndarray,
                   zr32: np.ndarray) -> None:
    """Fill float32 ``out`` with standard normals: the ziggurat on 32-bit halves of xorshift128+.

    Each 64-bit output gives two draws (low half first): 8 bits pick the layer, 24 bits give
    u = (m + 1/2) 2^-23 - 1 in (-1, 1), symmetric. The fast path (98.5 % of draws) is a float32
    compare and multiply; the rest take ``_ziggurat_slow`` (exact tail and wedges, in float64)
    and a rejected draw is simply followed by the next one, as in the ziggurat. An unused half
    at the end is dropped, so a fill of n values always consumes whole 64-bit outputs.
    """
    s0 = state[0]
    s1 = state[1]
    i = 0
    n = out.size
    scale = np.float32(_U24)
    shift = np.float32(1.0 - 0.5 * _U24)
    while i < n:
        s0, s1, r = xorshift_step(s0, s1)
        for h in range(2):
            if i >= n:
                break
            w = r >> np.uint64(32) if h else r & np.uint64(0xFFFFFFFF)
            k = np.int64(w & np.uint64(255))
            u = np.float32(np.int64(w >> np.uint64(8))) * scale - shift
            if abs(u) < zr32[k]:
                out[i] = u * zx32[k]
                i += 1
                continue
            state[0] = s0
            state[1] = s1
            accepted, z = _ziggurat_slow(state, k, np.float64(u), zx, zf)
            if accepted:
                out[i] = z
                i += 1
            s0 = state[0]
            s1 = state[1]
    state[0] = s0
    state[1] = s1


@njit(cache=True)
def normals32(n: int, seed: int) -> np.ndarray:
    """n float32 standard normals from stream 0 of ``seed`` by ``fill_normals32`` (for tests)."""
    out = np.empty(n, dtype=np.float32)
    fill_normals32(out, seed_state(seed, 0), ZIG_X, ZIG_F, ZIG_X32, ZIG_R32)
    return out
