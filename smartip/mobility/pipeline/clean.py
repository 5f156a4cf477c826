"""Cleaning of one trace before segmentation: duplicates, poor accuracy, outside the area, impossible speeds.

Order: (1) exact duplicates (same time and position) are dropped, and of several fixes with the same time only the
first is kept (unless `keep_same_time`, which reproduces trackintel, whose only cleaning is dropping rows equal in
every column); (2) fixes with `accuracy_m > max_accuracy_m` (unknown accuracy is kept); (3) fixes outside the
optional `bbox`; (4) jumps: a run of up to MAX_JUMP_FIXES fixes entered and left at more than `max_speed_mps` while going
straight past it is possible (a single spike is the one-fix case; a too-fast first or last step drops that end
fix), repeated until none is left or `max_passes` is reached.
All steps are whole-array numpy operations. Fixes are never edited, only dropped; the report counts each reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smartip.mobility.fixes import Fixes, haversine_m

MAX_JUMP_FIXES = 5


@dataclass(frozen=True, slots=True)
class CleanParams:
    max_accuracy_m: float = 100.0
    max_speed_mps: float = 100.0  # 360 km/h: above high-speed rail, below aircraft (GeoLife has some flights)
    bbox: tuple[float, float, float, float] | None = None  # (min_lat, min_lon, max_lat, max_lon)
    keep_same_time: bool = False
    max_passes: int = 4


@dataclass(frozen=True, slots=True)
class CleanReport:
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def total_dropped(self) -> int:
        return sum(self.dropped.values())


def clean(fixes: Fixes, params: CleanParams = CleanParams()) -> tuple[Fixes, CleanReport]:
    """Return the kept fixes (still sorted by time) and how many were dropped for each reason."""
    dropped: dict[str, int] = {}
    fixes = _drop(fixes, _duplicates(fixes, params.keep_same_time), "duplicate", dropped)
    poor = fixes.accuracy_m > params.max_accuracy_m  # NaN compares False: unknown accuracy is kept
    fixes = _drop(fixes, poor, "poor_accuracy", dropped)
    if params.bbox is not None:
        lat0, lon0, lat1, lon1 = params.bbox
        out = (fixes.lat < lat0) | (fixes.lat > lat1) | (fixes.lon < lon0) | (fixes.lon > lon1)
        fixes = _drop(fixes, out, "outside_area", dropped)
    for _ in range(params.max_passes):
        spikes = _spikes(fixes, params.max_speed_mps)
        if not spikes.any():
            break
        fixes = _drop(fixes, spikes, "impossible_speed", dropped)
    return fixes, CleanReport(dropped)


def _drop(fixes: Fixes, mask: np.ndarray, reason: str, dropped: dict[str, int]) -> Fixes:
    count = int(mask.sum())
    if not count:
        return fixes
    dropped[reason] = dropped.get(reason, 0) + count
    return fixes.take(~mask)


def _duplicates(fixes: Fixes, keep_same_time: bool) -> np.ndarray:
    """Mask of fixes to drop; input is sorted by time, so equal times are adjacent."""
    n = len(fixes)
    dup = np.zeros(n, dtype=bool)
    if n < 2:
        return dup
    if not keep_same_time:
        dup[1:] = fixes.t_s[1:] == fixes.t_s[:-1]
        return dup
    # trackintel: rows equal in every column (time, position, altitude, accuracy), wherever they are
    cols = (fixes.alt_m, fixes.accuracy_m, fixes.lon, fixes.lat, fixes.t_s)
    order = np.lexsort(cols)
    same = np.ones(n - 1, dtype=bool)
    for col in cols:
        c = col[order]
        same &= (c[1:] == c[:-1]) | (np.isnan(c[1:]) & np.isnan(c[:-1]))
    dup[order[1:][same]] = True
    return dup


def _spikes(fixes: Fixes, max_speed_mps: float) -> np.ndarray:
    """Jumps: runs of up to MAX_JUMP_FIXES fixes entered by a too-fast step and left by the next too-fast step,
    when going straight from before the run to after it is possible; a too-fast first/last step drops the end fix."""
    n = len(fixes)
    bad = np.zeros(n, dtype=bool)
    if n < 2:
        return bad
    fast = _speeds(fixes, np.arange(n - 1), np.arange(1, n)) > max_speed_mps
    steps = np.flatnonzero(fast)  # step i goes from fix i to fix i+1
    if steps.size >= 2:
        out, back = steps[:-1], steps[1:]
        short = (back - out) <= MAX_JUMP_FIXES
        plausible = _speeds(fixes, out, np.minimum(back + 1, n - 1)) <= max_speed_mps
        run = short & plausible & (back + 1 < n)
        delta = np.zeros(n + 1, dtype=np.int64)
        np.add.at(delta, out[run] + 1, 1)
        np.add.at(delta, back[run] + 1, -1)
        bad |= np.cumsum(delta[:n]) > 0
    if fast[0] and not bad[1]:
        bad[0] = n > 2 and not fast[1]
    if fast[-1] and not bad[-2]:
        bad[-1] = True if n == 2 else not fast[-2]
    return bad


def _speeds(fixes: Fixes, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Speed from fix a to fix b (inf when b is at the same time but elsewhere)."""
    dist = haversine_m(fixes.lat[a], fixes.lon[a], fixes.lat[b], fixes.lon[b])
    dt = fixes.t_s[b] - fixes.t_s[a]
    safe = np.where(dt > 0, dt, 1.0)
    return np.where(dt > 0, dist / safe, np.where(dist > 0, np.inf, 0.0))
