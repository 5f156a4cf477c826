"""Stay points by trackintel's 'sliding' method (Li et al. 2008), reproduced exactly but vectorised.

trackintel walks every fix with a Python loop: a window starts at fix `s`; the first later fix `j` that either
follows a recording gap (`t[j] - t[j-1] > gap_threshold`) or lies at least `dist_threshold` metres from `s` ends
the window, and the next window starts at `j`. The window is a stay point when it ended by distance (not by a gap)
and `t[j] - t[s] >= time_threshold`; it covers fixes `s .. j-1` and finishes at `t[j]`. With `include_last` the
trailing window becomes a stay point too (all remaining fixes, finishing at the last fix) when long enough.

Here the exit index of every fix is first computed for small look-aheads with whole-array numpy operations;
only windows longer than that (people standing still) are searched by a numpy scan over a growing window, once
per window. The only Python loop is the walk along window starts, one step per window, not per fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartip.mobility.fixes import EARTH_RADIUS_M, Fixes

COSINE_MARGIN = 1e-13  # about 4 cm at 100 m; pairs closer than that to the threshold are decided in metres
LOOKAHEAD = 24  # fixes examined for every fix at once; longer windows are searched lazily


@dataclass(frozen=True, slots=True)
class StaypointParams:
    """trackintel `generate_staypoints` defaults (minutes as in trackintel; metres for distance)."""

    dist_threshold_m: float = 100.0
    time_threshold_min: float = 5.0
    gap_threshold_min: float = 15.0
    include_last: bool = False
    activity_threshold_min: float = 15.0  # trackintel `create_activity_flag` default (strictly longer)


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class Staypoints:
    """Stay points of one trace; fixes `first_fix[k] .. end_fix[k]-1` belong to stay point k."""

    started_at_s: np.ndarray
    finished_at_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    first_fix: np.ndarray
    end_fix: np.ndarray
    is_activity: np.ndarray

    def __len__(self) -> int:
        return int(self.started_at_s.shape[0])


def gap_mask(t_s: np.ndarray, gap_threshold_s: float) -> np.ndarray:
    """`gap[j]` is True when the time since fix j-1 exceeds the threshold (gap[0] is False)."""
    gap = np.zeros(t_s.shape[0], dtype=bool)
    gap[1:] = np.diff(t_s) > gap_threshold_s
    return gap


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class _Sphere:
    """Radians and cosines of the fixes, computed once (same arithmetic as `fixes.haversine_m`)."""

    lat: np.ndarray
    lon: np.ndarray
    cos_lat: np.ndarray

    @staticmethod
    def of(fixes: Fixes) -> _Sphere:
        lat = np.radians(fixes.lat)
        return _Sphere(lat, np.radians(fixes.lon), np.cos(lat))

    def cosine(self, a: np.ndarray | int, b: np.ndarray | slice) -> np.ndarray:
        """Cosine of the central angle (spherical law of cosines, trackintel's arithmetic)."""
        return np.asarray(
            np.cos(self.lat[a] - self.lat[b])
            - self.cos_lat[a] * self.cos_lat[b] * (1.0 - np.cos(self.lon[a] - self.lon[b]))
        )

    def at_least(self, a: np.ndarray | int, b: np.ndarray | slice, dist_m: float) -> np.ndarray:
        """`haversine(a, b) >= dist_m`, decided on the cosine (no arccos) except within a hair of the threshold,
        where the exact metre distance is computed, so results are identical to comparing metres."""
        c = self.cosine(a, b)
        limit = np.cos(dist_m / EARTH_RADIUS_M)
        out = c < limit
        close = np.abs(c - limit) < COSINE_MARGIN
        if close.any():
            exact = EARTH_RADIUS_M * np.arccos(np.clip(c[close], -1.0, 1.0)) >= dist_m
            out[close] = exact
        return out


def _short_exits(sphere: _Sphere, gap: np.ndarray, dist_m: float) -> np.ndarray:
    """Exit index for every fix whose window is at most LOOKAHEAD long; -1 where unknown; n for 'none'."""
    n = gap.shape[0]
    exits = np.full(n, -1, dtype=np.int64)
    active = np.arange(n, dtype=np.int64)
    for k in range(1, LOOKAHEAD + 1):
        j = active + k
        beyond = j >= n
        exits[active[beyond]] = n
        active, j = active[~beyond], j[~beyond]
        if not active.size:
            break
        done = gap[j] | sphere.at_least(active, j, dist_m)
        exits[active[done]] = j[done]
        active = active[~done]
    return exits


def _search_exit(sphere: _Sphere, gap: np.ndarray, dist_m: float, s: int) -> int:
    """Exit index of the window starting at s, scanning a growing window with numpy; n when none."""
    n = gap.shape[0]
    lo, width = s + 1, 256
    while lo < n:
        hi = min(n, lo + width)
        hit = np.flatnonzero(gap[lo:hi] | sphere.at_least(s, slice(lo, hi), dist_m))
        if hit.size:
            return lo + int(hit[0])
        lo, width = hi, width * 4
    return n


def window_walk(fixes: Fixes, gap: np.ndarray, dist_m: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Window starts and their exits along trackintel's walk, and the start of the trailing open window."""
    n = len(fixes)
    sphere = _Sphere.of(fixes)
    exits = _short_exits(sphere, gap, dist_m).tolist()
    starts: list[int] = []
    ends: list[int] = []
    s = 0
    while n > 0:
        j = exits[s]
        if j < 0:
            j = _search_exit(sphere, gap, dist_m, s)
        if j >= n:
            break
        starts.append(s)
        ends.append(j)
        s = j
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), s


def generate_staypoints(fixes: Fixes, params: StaypointParams = StaypointParams()) -> Staypoints:
    """Stay points as trackintel's `generate_staypoints(method='sliding')` with the same parameters."""
    n = len(fixes)
    t = fixes.t_s
    gap = gap_mask(t, params.gap_threshold_min * 60.0)
    starts, ends, last_start = window_walk(fixes, gap, params.dist_threshold_m)
    time_s = params.time_threshold_min * 60.0
    is_sp = ~gap[ends] & ((t[ends] - t[starts]) >= time_s)
    first, end = starts[is_sp], ends[is_sp]
    finished = t[end]
    if params.include_last and n:
        last = n - 1
        if t[last] - t[last_start] >= time_s:
            first = np.append(first, last_start)
            end = np.append(end, n)
            finished = np.append(finished, t[last])
    lat, lon = _angle_centroids(fixes, first, end)
    started = t[first]
    is_activity = (finished - started) > params.activity_threshold_min * 60.0
    return Staypoints(started, finished, lat, lon, first, end, is_activity)


def fix_staypoint_ids(n: int, sp: Staypoints) -> np.ndarray:
    """Per-fix stay point id (-1 for none)."""
    ids = np.full(n, -1, dtype=np.int64)
    if len(sp):
        lengths = sp.end_fix - sp.first_fix
        member = np.repeat(np.arange(len(sp)), lengths)
        offsets = np.arange(member.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ids[sp.first_fix[member] + offsets] = member
    return ids


def _angle_centroids(fixes: Fixes, first: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """trackintel's centroid: the distinct points of each stay point; mean latitude, circular mean longitude."""
    if not first.size:
        return np.empty(0), np.empty(0)
    lengths = end - first
    member = np.repeat(np.arange(first.size), lengths)
    idx = np.repeat(first - (np.cumsum(lengths) - lengths), lengths) + np.arange(member.size)
    lat, lon = fixes.lat[idx], fixes.lon[idx]
    order = np.lexsort((lon, lat, member))
    member, lat, lon = member[order], lat[order], lon[order]
    distinct = np.ones(member.size, dtype=bool)
    distinct[1:] = (member[1:] != member[:-1]) | (lat[1:] != lat[:-1]) | (lon[1:] != lon[:-1])
    member, lat, lon = member[distinct], lat[distinct], lon[distinct]
    count = np.bincount(member, minlength=first.size)
    mean_lat = np.bincount(member, weights=lat, minlength=first.size) / count
    rad = np.radians(lon)
    sin = np.bincount(member, weights=np.sin(rad), minlength=first.size) / count
    cos = np.bincount(member, weights=np.cos(rad), minlength=first.size) / count
    return mean_lat, np.degrees(np.arctan2(sin, cos))
