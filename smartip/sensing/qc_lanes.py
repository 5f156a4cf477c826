"""The spike check of many series at once, one series per SIMD lane (numba): ~1.6× the one-series loop.

The one-series loop in qc_rolling.py is bound by its instruction count (~150 scalar operations per reading:
the window update is a dependent sequence the compiler cannot vectorise). Here up to ``lanes`` series advance
together, step t of every series in one pass: the window of series l is column l of a (window + 2) × lanes
array, and every operation is a loop over the lanes, which the compiler turns into vector instructions.

Same rule, same arithmetic as qc_rolling.py (median, min-max MAD of the sorted window, branch-free update), so
the flags are identical; only the order of the work differs. The finite readings of each series are gathered
into column l of a time × lanes array first (series sorted by length, so that lanes of a group end together;
a shorter series is padded with its last value and its padding results are dropped), and the hits are
scattered back to the readings' positions afterwards.
"""

import numpy as np
import numpy.typing as npt
from numba import njit

SPIKE = 8
LANES = 64  # series per group: 8 AVX-512 vectors; more gains nothing measurable
BLOCK = 256  # steps per block: f, hits and positions of a block stay in the L2 cache

_jit = njit(cache=True, nogil=True, boundscheck=False)
F64 = npt.NDArray[np.float64]


@_jit
def _kth_deviation(s: F64, med: F64, j: int, w: int, out: F64) -> None:
    """out[l] ← j-th smallest (1-based) of |s[1..w, l] − med[l]| (sorted windows in the columns of ``s``)."""
    lanes = out.size
    for lane in range(lanes):
        out[lane] = np.inf
    for a in range(1, w - j + 2):
        for lane in range(lanes):
            m = med[lane]
            out[lane] = min(out[lane], max(abs(s[a, lane] - m), abs(s[a + j - 1, lane] - m)))


@_jit
def _step(
    s: F64,
    u: F64,
    f: F64,
    r: int,
    w: int,
    k: float,
    min_spread: float,
    hits: npt.NDArray[np.uint8],
    med: F64,
    mad: F64,
    mad2: F64,
) -> None:
    """Test row r of ``f`` against the windows in ``s``; write the next windows (row r − w out, row r in)
    to ``u``; the results go to row r − w of ``hits``."""
    lanes = med.size
    h = w // 2
    if w % 2:  # _kth_deviation(s, med, h + 1, w, mad), knowing that s[a] ≤ med ≤ s[a + h]: no abs()
        for lane in range(lanes):
            med[lane] = s[h + 1, lane]
            mad[lane] = np.inf
        for a in range(1, h + 2):
            for lane in range(lanes):
                m = med[lane]
                mad[lane] = min(mad[lane], max(m - s[a, lane], s[a + h, lane] - m))
    else:
        for lane in range(lanes):
            med[lane] = (s[h, lane] + s[h + 1, lane]) / 2
        _kth_deviation(s, med, h, w, mad)
        _kth_deviation(s, med, h + 1, w, mad2)
        for lane in range(lanes):
            mad[lane] = (mad[lane] + mad2[lane]) / 2
    for lane in range(lanes):
        x = f[r, lane]
        m = med[lane]
        hits[r - w, lane] = (x > m + k * mad[lane]) | (x < m - k * mad[lane])
    if min_spread > 0:
        for lane in range(lanes):
            hits[r - w, lane] &= abs(f[r, lane] - med[lane]) > k * min_spread
    for i in range(w):
        for lane in range(lanes):
            old = f[r - w, lane]
            a = s[i, lane]
            b = s[i + 1, lane]
            c = s[i + 2, lane]
            below = a if a < old else b
            here = b if b < old else c
            u[i + 1, lane] = max(below, min(here, f[r, lane]))


@_jit
def _gather(
    values: F64,
    cursor: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    f: F64,
    row0: int,
    rows: int,
    position: npt.NDArray[np.int64],
) -> None:
    """The next ``rows`` finite values of each lane's series (read from ``cursor`` on, up to ``end``) into
    ``f[row0 : row0 + rows]``, their indices into ``position`` (−1 past the series' end, where the lane
    repeats its last value)."""
    for lane in range(f.shape[1]):
        i = cursor[lane]
        e = end[lane]
        last = f[row0 - 1, lane] if row0 > 0 else 0.0
        for r in range(rows):
            while i < e and not abs(values[i]) < np.inf:
                i += 1
            if i < e:
                last = values[i]
                position[r, lane] = i
                i += 1
            else:
                position[r, lane] = -1
            f[row0 + r, lane] = last
        cursor[lane] = i


@_jit
def _scatter(
    hits: npt.NDArray[np.uint8],
    position: npt.NDArray[np.int64],
    rows: int,
    active: int,
    out: npt.NDArray[np.uint16],
) -> None:
    for lane in range(active):
        for r in range(rows):
            p = position[r, lane]
            if p >= 0:
                out[p] |= SPIKE * hits[r, lane]


@_jit
def _run_group(
    values: F64,
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    rows: int,
    active: int,
    w: int,
    k: float,
    min_spread: float,
    out: npt.NDArray[np.uint16],
) -> None:
    """Spike flags of the lanes' series ``values[start[l] : end[l]]`` (at most ``rows`` finite values each;
    lanes ≥ ``active`` are fillers and write nothing), in blocks of :data:`BLOCK` steps whose
    values sit in ``f`` below the w values before them: the working set stays in the L2 cache."""
    lanes = start.size
    cursor = start.copy()
    f = np.empty((w + BLOCK, lanes))
    position = np.empty((BLOCK, lanes), dtype=np.int64)
    hits = np.empty((BLOCK, lanes), dtype=np.uint8)
    _gather(values, cursor, end, f, 0, w, position)
    s = np.empty((w + 2, lanes))
    u = np.empty((w + 2, lanes))
    s[0] = u[0] = -np.inf
    s[w + 1] = u[w + 1] = np.inf
    for lane in range(lanes):
        first = np.sort(f[:w, lane])
        for i in range(w):
            s[i + 1, lane] = first[i]
    med, mad, mad2 = np.empty(lanes), np.empty(lanes), np.empty(lanes)
    in_u = False
    for t0 in range(w, rows, BLOCK):
        n = min(BLOCK, rows - t0)
        if t0 > w:
            f[:w] = f[BLOCK : BLOCK + w]  # the last w values of the previous block
        _gather(values, cursor, end, f, w, n, position)
        for r in range(w, w + n):
            if in_u:  # s → u, then u → s: no array swap in the loop
                _step(u, s, f, r, w, k, min_spread, hits, med, mad, mad2)
            else:
                _step(s, u, f, r, w, k, min_spread, hits, med, mad, mad2)
            in_u = not in_u
        _scatter(hits, position, n, active, out)


@_jit
def spike_flags(
    values: F64,
    starts: npt.NDArray[np.int64],
    out: npt.NDArray[np.uint16],
    window: int,
    k: float,
    min_spread: float,
    lanes: int,
) -> None:
    """OR SPIKE into ``out`` for every series of ``values`` (series g begins at ``starts[g]``), ``lanes``
    series at a time; the same flags as qc_rolling.series_flags with only the spike check."""
    n = values.size
    groups = starts.size
    ends = np.empty(groups, dtype=np.int64)
    ends[:-1] = starts[1:]
    ends[-1:] = n
    # Readings per series, an upper bound of its finite values (counting them would cost a pass over the
    # data): a lane runs that many steps at most, and one with ≤ w finite values just gets no flags.
    length = ends - starts
    order = np.argsort(-length, kind="mergesort")  # similar lengths share a group
    eligible = 0
    while eligible < groups and length[order[eligible]] > window:
        eligible += 1
    for first in range(0, eligible, lanes):
        members = order[first : min(first + lanes, eligible)]
        picked = np.full(lanes, members[0])  # filler lanes repeat the first series
        picked[: members.size] = members
        _run_group(
            values, starts[picked], ends[picked], length[members[0]], members.size, window, k, min_spread, out
        )
