"""Compiled per-series QC kernel (numba): range, stuck and rolling median ± k·MAD in one pass.

Why compiled: the spike rule needs, for every reading, the median and the MAD of the previous ``window`` valid
readings. Vectorised numpy has to rebuild each window from scratch (a sorting network: ~100 passes over the
data); a loop keeps the window sorted and updates it by one removal and one insertion. numba turns that loop
into machine code, single-threaded (no ``parallel``), compiled once per machine (``cache=True`` stores the
machine code in ``__pycache__`` or numba's user cache directory). :mod:`smartip.sensing.qc` imports this
module lazily, on the first series check, so importing ``qc`` stays cheap.

The sorted window update is branch-free (a mispredicted branch per reading would cost more than the work):
with ``s`` sorted and padded by −inf/+inf, removing ``old`` gives ``u[i] = s[i] if s[i] < old else s[i+1]``
and inserting ``new`` gives ``t[i] = max(u[i−1], min(u[i], new))``.

Exactness. The median ``m`` is the middle element of the sorted window (odd window) or the mean of the two
middle ones, as ``statistics.median``. The deviations ``dᵢ = |sᵢ − m|`` along the sorted window first fall and
then rise (rounding is monotone), so their j-th smallest is ``min over a of max(d[a], d[a+j−1])`` (the tightest
block of j neighbours). The MAD thus comes from the same floating-point numbers as ``median(|xᵢ − m|)``, and the
test is written as the rule: ``x > m + k·MAD or x < m − k·MAD``.
"""

import numpy as np
import numpy.typing as npt
from numba import njit

MISSING = 1
RANGE = 2
STUCK = 4
SPIKE = 8
PM_ORDER = 16
HIGH_RH = 32
RH_PINNED = 64

_jit = njit(cache=True, nogil=True, boundscheck=False)
_inline = njit(cache=True, nogil=True, boundscheck=False, inline="always")  # helpers of the loop


@_inline
def _kth_deviation(sp: npt.NDArray[np.float64], w: int, m: float, j: int) -> float:
    """j-th smallest (1-based) of ``|x − m|`` over the padded sorted window ``sp[1 : w + 1]``."""
    best = np.inf
    for a in range(1, w - j + 2):
        best = min(best, max(abs(sp[a] - m), abs(sp[a + j - 1] - m)))
    return best


@_inline
def _is_spike(sp: npt.NDArray[np.float64], w: int, x: float, k: float, min_spread: float) -> bool:
    """openSenseMap's outlier test of ``x`` against the padded sorted window, with the optional floor."""
    h = w // 2
    if w % 2:
        m = sp[h + 1]
        mad = np.inf  # _kth_deviation(sp, w, m, h + 1), knowing that sp[a] ≤ m ≤ sp[a + h]
        for a in range(1, h + 2):
            mad = min(mad, max(m - sp[a], sp[a + h] - m))
    else:
        m = (sp[h] + sp[h + 1]) / 2
        mad = (_kth_deviation(sp, w, m, h) + _kth_deviation(sp, w, m, h + 1)) / 2
    hit = x > m + k * mad or x < m - k * mad
    if min_spread > 0:
        hit = hit and abs(x - m) > k * min_spread
    return hit


@_inline
def _replace(
    sp: npt.NDArray[np.float64], tp: npt.NDArray[np.float64], w: int, old: float, new: float
) -> None:
    """``tp`` ← the padded sorted window ``sp`` with one ``old`` removed and ``new`` inserted (branch-free)."""
    below = sp[0]  # u[i - 1], starting at the -inf sentinel
    b = sp[1]
    for i in range(w):
        c = sp[i + 2]
        here = b if b < old else c  # u[i]
        tp[i + 1] = max(below, min(here, new))
        below = here
        b = c


@_inline
def _step(
    sp: npt.NDArray[np.float64],
    tp: npt.NDArray[np.float64],
    w: int,
    old: float,
    x: float,
    k: float,
    min_spread: float,
) -> bool:
    """Test ``x`` against the window in ``sp``, then write the next window (``old`` out, ``x`` in) to ``tp``."""
    hit = _is_spike(sp, w, x, k, min_spread)
    _replace(sp, tp, w, old, x)
    return hit


@_inline
def _insert(sp: npt.NDArray[np.float64], filled: int, new: float) -> None:
    """Insert ``new`` into the padded sorted prefix ``sp[1 : filled + 1]`` while the window fills."""
    i = filled + 1
    while sp[i - 1] > new:
        sp[i] = sp[i - 1]
        i -= 1
    sp[i] = new


@_inline
def _stuck_back_fill(out: npt.NDArray[np.uint16], run_start: int, i: int) -> None:
    for j in range(run_start, i):
        out[j] |= STUCK


@_jit
def _one_series(
    x: npt.NDArray[np.float64],
    out: npt.NDArray[np.uint16],
    lo: float,
    hi: float,
    check_range: bool,
    stuck_n: int,
    window: int,
    k: float,
    min_spread: float,
) -> None:
    """Flags of one time-ordered series, OR-ed into ``out`` (the same length as ``x``)."""
    w = max(window, 1)
    ring = np.empty(w)  # the last `window` finite values; the oldest at `oldest`
    # The same values sorted, between -inf and +inf sentinels, in `even` and `odd` by turns: each step reads
    # one and writes the next window to the other (two named arrays: swapping array variables in the loop
    # would cost reference counting, one buffer with offsets defeats the compiler's alias analysis).
    even = np.empty(w + 2)
    odd = np.empty(w + 2)
    even[0] = odd[0] = -np.inf
    even[w + 1] = odd[w + 1] = np.inf
    in_odd = False
    filled = 0
    oldest = 0
    run_start = 0
    for i in range(x.size):
        v = x[i]
        finite = abs(v) < np.inf
        flag = 0
        if check_range:
            if not finite:
                flag |= MISSING
            if v < lo or v > hi:  # ±inf outside the limits are both MISSING and RANGE; NaN is neither
                flag |= RANGE
        if i == 0 or v != x[i - 1]:  # NaN never repeats; ±inf may repeat but is never flagged
            run_start = i
        if stuck_n > 0 and finite and i - run_start + 1 >= stuck_n:
            if i - run_start + 1 == stuck_n:
                _stuck_back_fill(out, run_start, i)
            flag |= STUCK
        if window > 0 and finite:
            if filled == window:
                if in_odd:
                    hit = _step(odd, even, w, ring[oldest], v, k, min_spread)
                else:
                    hit = _step(even, odd, w, ring[oldest], v, k, min_spread)
                in_odd = not in_odd
                flag |= SPIKE * hit  # no branch: spikes are too frequent to predict
                ring[oldest] = v
                oldest = oldest + 1 if oldest + 1 < w else 0
            else:
                _insert(even, filled, v)
                ring[filled] = v
                filled += 1
        out[i] |= flag


@_jit
def series_flags(
    values: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    out: npt.NDArray[np.uint16],
    lo: float,
    hi: float,
    check_range: bool,
    stuck_n: int,
    window: int,
    k: float,
    min_spread: float,
) -> None:
    """OR the per-series flags of ``values`` into ``out``; series g is ``values[starts[g]:starts[g+1]]``.

    ``check_range``: MISSING (not finite) and RANGE (outside [lo, hi]); ``stuck_n`` > 0: STUCK on runs of ≥ n
    identical finite readings; ``window`` > 0: SPIKE (median ± k·MAD of the previous ``window`` finite
    readings, and farther than k·min_spread from the median when min_spread > 0). No check looks across series.
    """
    n = values.size
    for g in range(starts.size):
        a = starts[g]
        b = starts[g + 1] if g + 1 < starts.size else n
        _one_series(values[a:b], out[a:b], lo, hi, check_range, stuck_n, window, k, min_spread)


@_jit
def row_flags(
    pm1: npt.NDArray[np.float64],
    pm25: npt.NDArray[np.float64],
    pm10: npt.NDArray[np.float64],
    rh: npt.NDArray[np.float64],
    tolerance: float,
    high_rh: float,
    pinned_rh: float,
    out: npt.NDArray[np.uint16],
) -> None:
    """PM_ORDER and humidity flags of each row into ``out``, in one pass (qc.pm_order_flags and
    qc.humidity_flags, fused); an absent quantity is passed as an empty array and not compared."""
    has_pm1, has_pm10, has_rh = pm1.size > 0, pm10.size > 0, rh.size > 0
    for i in range(pm25.size):
        b = pm25[i]
        flag = 0
        if has_pm10 and b > pm10[i] + tolerance:
            flag |= PM_ORDER
        if has_pm1 and pm1[i] > b + tolerance:
            flag |= PM_ORDER
        if has_rh:
            h = rh[i]
            flag |= HIGH_RH * (h >= high_rh) | RH_PINNED * (h >= pinned_rh)
        out[i] = flag
