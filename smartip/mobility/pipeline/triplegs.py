"""Triplegs by trackintel's `generate_triplegs(method='between_staypoints')`, vectorised.

A tripleg is a maximal run of consecutive fixes that belong to no stay point, split where the time between two
fixes exceeds `gap_threshold` (default 15 min). Runs of fewer than two fixes, and runs whose points are all the
same (an invalid LineString for shapely, which trackintel drops), are not triplegs. `started_at` / `finished_at`
are the first / last fix times of the run. Since runs are contiguous, a tripleg is the index range
`first_fix .. end_fix-1` of the (sorted) fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartip.mobility.fixes import Fixes


@dataclass(frozen=True, slots=True)
class TriplegParams:
    gap_threshold_min: float = 15.0


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class Triplegs:
    started_at_s: np.ndarray
    finished_at_s: np.ndarray
    first_fix: np.ndarray
    end_fix: np.ndarray

    def __len__(self) -> int:
        return int(self.started_at_s.shape[0])


def generate_triplegs(
    fixes: Fixes, staypoint_of_fix: np.ndarray, params: TriplegParams = TriplegParams()
) -> Triplegs:
    """Triplegs between stay points; `staypoint_of_fix` is the per-fix stay point id (-1 for none)."""
    n = len(fixes)
    t = fixes.t_s
    moving = staypoint_of_fix < 0
    begins = np.zeros(n, dtype=bool)
    if n:
        begins[0] = True
        begins[1:] = (np.diff(t) > params.gap_threshold_min * 60.0) | (
            staypoint_of_fix[1:] != staypoint_of_fix[:-1]
        )
    begins &= moving
    first = np.flatnonzero(begins)
    # a run ends at the next run start or at the next stay point fix, whichever comes first
    stop_at = np.flatnonzero(~moving | begins)
    nxt = np.searchsorted(stop_at, first, side="right")
    end = np.where(nxt < stop_at.size, stop_at[np.minimum(nxt, stop_at.size - 1)], n)
    keep = (end - first) >= 2
    first, end = first[keep], end[keep]
    keep = _has_two_distinct_points(fixes, first, end)
    first, end = first[keep], end[keep]
    return Triplegs(t[first], t[end - 1], first, end)


def _has_two_distinct_points(fixes: Fixes, first: np.ndarray, end: np.ndarray) -> np.ndarray:
    """True where the run contains at least one step between different coordinates."""
    if not first.size:
        return np.zeros(0, dtype=bool)
    change = (fixes.lat[1:] != fixes.lat[:-1]) | (fixes.lon[1:] != fixes.lon[:-1])
    cum = np.concatenate(([0], np.cumsum(change)))
    # steps inside run [first, end): change[first .. end-2]
    return (cum[end - 1] - cum[first]) > 0


def fix_tripleg_ids(n: int, tpls: Triplegs) -> np.ndarray:
    """Per-fix tripleg id (-1 for none)."""
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, tpls.first_fix, 1)
    np.add.at(delta, tpls.end_fix, -1)
    inside = np.cumsum(delta[:n]) > 0
    ids = np.full(n, -1, dtype=np.int64)
    counter = np.cumsum(np.isin(np.arange(n), tpls.first_fix)) - 1
    ids[inside] = counter[inside]
    return ids
