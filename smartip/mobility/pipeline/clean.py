"""Cleaning of one trace before segmentation: duplicates, poor accuracy, outside the area, impossible speeds.

Order: (1) exact duplicates (same time and position) are dropped, and of several fixes with the same time only the
first is kept (unless `keep_same_time`, which reproduces trackintel, whose only cleaning is dropping rows equal in
every column); (2) fixes with `accuracy_m > max_accuracy_m` (unknown accuracy is kept); (3) fixes outside the
optional `bbox`; (4) spikes: a fix reached and left at more than `max_speed_mps` (or the first/last fix left or
reached that fast), repeated until none is left or `max_passes` is reached, so short runs of jumps go too.
All steps are whole-array numpy operations. Fixes are never edited, only dropped; the report counts each reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smartip.mobility.fixes import Fixes, haversine_m


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
    """Fixes reached and left too fast (ends: left or reached too fast)."""
    n = len(fixes)
    bad = np.zeros(n, dtype=bool)
    if n < 2:
        return bad
    dist = haversine_m(fixes.lat[:-1], fixes.lon[:-1], fixes.lat[1:], fixes.lon[1:])
    dt = np.diff(fixes.t_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        fast = (
            np.where(dt > 0, dist / np.where(dt > 0, dt, 1.0), np.where(dist > 0, np.inf, 0.0))
            > max_speed_mps
        )
    bad[1:-1] = fast[:-1] & fast[1:]
    bad[0] = fast[0] and (n == 2 or not fast[1])
    bad[-1] = fast[-1] and (n == 2 or not fast[-2])
    if n == 2 and fast[0]:
        bad[:] = [False, True]
    return bad
