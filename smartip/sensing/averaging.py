"""Time averaging with completeness rules, vectorised (numpy).

Completeness follows 2008/50/EC Annex VII §1 (unchanged in 2024/2881): an average is valid only when at least
75 % of its constituent values are present (1-h: 45 min; 8-h: 6 of 8 hours; 24-h: 18 of 24 hours; maximum
daily 8-h mean: 18 of the 24 running 8-h means). Invalid averages are NaN. Missing values are NaN.
"""

import math

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid

FloatArray = npt.NDArray[np.float64]
MIN_FRACTION = 0.75
HOUR = np.timedelta64(1, "h")


def min_count(window: int, min_fraction: float = MIN_FRACTION) -> int:
    """Smallest number of valid values that makes an average over ``window`` values valid (24 → 18, 8 → 6)."""
    return max(1, math.ceil(window * min_fraction - 1e-9))


def running_mean(values: npt.ArrayLike, window: int, min_fraction: float = MIN_FRACTION) -> FloatArray:
    """Trailing running mean over ``window`` consecutive slots ending at each slot (NaN = missing).

    ``values`` must be on a regular grid (e.g. one slot per clock hour, see :func:`to_hour_grid`).
    """
    x = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(x)
    csum = np.concatenate(([0.0], np.cumsum(np.where(valid, x, 0.0))))
    ccount = np.concatenate(([0], np.cumsum(valid)))
    hi = np.arange(1, x.size + 1)
    lo = np.maximum(hi - window, 0)
    count = ccount[hi] - ccount[lo]
    total = csum[hi] - csum[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return np.where(count >= min_count(window, min_fraction), mean, np.nan)


def to_hour_grid(timestamps: npt.ArrayLike) -> tuple[np.datetime64, npt.NDArray[np.int64], int]:
    """Place hourly timestamps on a regular hourly grid.

    Returns ``(start, slot, n_slots)``: ``slot[i]`` is the grid position of ``timestamps[i]``. Raises
    :class:`Invalid` when a timestamp is not on a whole hour or occurs twice (the row is named).
    """
    ts = np.asarray(timestamps, dtype="datetime64[s]")
    if ts.size == 0:
        return np.datetime64("1970-01-01T00", "s"), np.zeros(0, dtype=np.int64), 0
    if np.isnat(ts).any():
        raise Invalid(f"row {int(np.argmax(np.isnat(ts))) + 1}: missing timestamp", field="timestamp")
    start = ts.min()
    offset_s = (ts - start).astype(np.int64)
    off_hour = offset_s % 3600 != 0
    if off_hour.any():
        row = int(np.argmax(off_hour)) + 1
        raise Invalid(f"row {row}: timestamp {ts[row - 1]} is not on the hourly grid", field="timestamp")
    slot = offset_s // 3600
    n_slots = int(slot.max()) + 1
    seen = np.bincount(slot, minlength=n_slots)
    if (seen > 1).any():
        dup = int(np.argmax(seen > 1))
        row = int(np.argmax(slot == dup)) + 1
        raise Invalid(f"row {row}: duplicate timestamp {ts[row - 1]}", field="timestamp")
    return start, slot, n_slots


def scatter_to_grid(slot: npt.NDArray[np.int64], n_slots: int, values: npt.ArrayLike) -> FloatArray:
    """Values indexed by ``slot`` on a grid of ``n_slots`` (missing slots NaN)."""
    grid = np.full(n_slots, np.nan)
    grid[slot] = np.asarray(values, dtype=np.float64)
    return grid


def hourly_means(
    timestamps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    interval_s: float = 145.0,
    min_fraction: float = MIN_FRACTION,
) -> tuple[npt.NDArray[np.datetime64], FloatArray, npt.NDArray[np.int64]]:
    """Hour-beginning means of irregular readings (e.g. a Sensor.Community node every ~145 s).

    An hour is valid when its readings cover ≥ ``min_fraction`` of it: ``count × interval_s ≥ 0.75 × 3600``.
    Returns ``(hour_starts, means, counts)`` over every clock hour from the first to the last reading.
    """
    ts = np.asarray(timestamps, dtype="datetime64[s]")
    x = np.asarray(values, dtype=np.float64)
    if ts.shape != x.shape:
        raise Invalid("timestamps and values differ in length", field="values")
    ok = np.isfinite(x) & ~np.isnat(ts)
    if not ok.any():
        return np.zeros(0, dtype="datetime64[s]"), np.zeros(0), np.zeros(0, dtype=np.int64)
    hour = ts[ok].astype("datetime64[h]")
    first = hour.min()
    idx = (hour - first).astype(np.int64)
    n = int(idx.max()) + 1
    counts = np.bincount(idx, minlength=n)
    sums = np.bincount(idx, weights=x[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    needed = min_fraction * 3600.0 / interval_s
    means = np.where(counts >= needed - 1e-9, means, np.nan)
    starts = (first + np.arange(n)).astype("datetime64[s]")
    return starts, means, counts


def nowcast(hourly: npt.ArrayLike, *, hours: int = 12, min_recent: int = 2) -> FloatArray:
    """EPA NowCast for PM at each hour of a regular hourly series (NaN = missing hour).

    ``w* = 1 − (max − min)/max`` over the last 12 hours, ``w = max(w*, 0.5)``, NowCast = Σ wⁱ·cᵢ / Σ wⁱ with i the
    number of hours ago (0 = current hour), over the valid hours. Valid only when ≥ 2 of the 3 newest hours are
    present (AirNow). Raw hourly values are used; truncation happens at the index lookup.
    """
    x = np.asarray(hourly, dtype=np.float64)
    n = x.size
    padded = np.concatenate((np.full(hours - 1, np.nan), x))
    # window[i, j] = value j hours before hour i
    win = np.lib.stride_tricks.sliding_window_view(padded, hours)[:, ::-1]
    valid = np.isfinite(win)
    recent_ok = valid[:, :3].sum(axis=1) >= min_recent
    with np.errstate(invalid="ignore", divide="ignore"):
        cmax = np.where(valid, win, -np.inf).max(axis=1)
        cmin = np.where(valid, win, np.inf).min(axis=1)
        w = np.where(cmax > 0, 1.0 - (cmax - cmin) / cmax, 1.0)
    w = np.maximum(w, 0.5)
    powers = w[:, None] ** np.arange(hours)[None, :]
    powers = np.where(valid, powers, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (powers * np.where(valid, win, 0.0)).sum(axis=1) / powers.sum(axis=1)
    out = np.where(recent_ok, result, np.nan)
    return out[:n]


def day_slots(start: np.datetime64, n_slots: int) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.int64]]:
    """Calendar day of each hourly slot: ``(days, day_index_per_slot)``."""
    hours = start.astype("datetime64[h]") + np.arange(n_slots)
    day = hours.astype("datetime64[D]")
    days, inverse = np.unique(day, return_inverse=True)
    return days, inverse.astype(np.int64)


def daily_mean(
    values: npt.ArrayLike, day_index: npt.NDArray[np.int64], n_days: int, min_hours: int = 18
) -> FloatArray:
    """Calendar-day mean of hourly values; valid with ≥ ``min_hours`` valid hours (18 of 24)."""
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x)
    counts = np.bincount(day_index[ok], minlength=n_days)
    sums = np.bincount(day_index[ok], weights=x[ok], minlength=n_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts >= min_hours, sums / counts, np.nan)


def daily_max(
    values: npt.ArrayLike, day_index: npt.NDArray[np.int64], n_days: int, min_count_: int = 18
) -> FloatArray:
    """Calendar-day maximum of hourly values (or running means); valid with ≥ ``min_count_`` valid values."""
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x)
    counts = np.bincount(day_index[ok], minlength=n_days)
    out = np.full(n_days, -np.inf)
    np.maximum.at(out, day_index[ok], x[ok])
    return np.where(counts >= min_count_, out, np.nan)
