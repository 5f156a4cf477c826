"""Trips by trackintel's `generate_trips(staypoints, triplegs, gap_threshold=15)`, vectorised.

Stay points and triplegs are merged in time order. A new trip starts after every activity stay point (the last of
a run of activities) and after a recording gap (next `started_at` minus this `finished_at` > gap threshold).
Non-activity stay points and triplegs between those breaks form one trip; groups without a tripleg are dropped.
A trip's origin (destination) stay point is the activity stay point right before (after) it, if the neighbour is
not another trip or a gap; its origin (destination) point is that stay point's location, else the first (last)
point of its first (last) tripleg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartip.mobility.fixes import Fixes
from smartip.mobility.pipeline.staypoints import Staypoints
from smartip.mobility.pipeline.triplegs import Triplegs


@dataclass(frozen=True, slots=True)
class TripParams:
    gap_threshold_min: float = 15.0


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class Trips:
    started_at_s: np.ndarray
    finished_at_s: np.ndarray
    origin_staypoint: np.ndarray  # -1 when unknown
    destination_staypoint: np.ndarray
    origin_lat: np.ndarray
    origin_lon: np.ndarray
    destination_lat: np.ndarray
    destination_lon: np.ndarray
    tripleg_trip: np.ndarray  # trip id of every tripleg (-1 for none)

    def __len__(self) -> int:
        return int(self.started_at_s.shape[0])


def generate_trips(fixes: Fixes, sp: Staypoints, tpls: Triplegs, params: TripParams = TripParams()) -> Trips:
    """Trips of one user's trace (see module docstring)."""
    gap_s = params.gap_threshold_min * 60.0
    n_sp, n_tp = len(sp), len(tpls)
    # the merged sequence: stay points first, then triplegs, stably sorted by start (trackintel's concat order)
    start = np.concatenate((sp.started_at_s, tpls.started_at_s))
    finish = np.concatenate((sp.finished_at_s, tpls.finished_at_s))
    is_tpl = np.concatenate((np.zeros(n_sp, bool), np.ones(n_tp, bool)))
    act = np.concatenate((sp.is_activity, np.zeros(n_tp, bool)))
    ident = np.concatenate((np.arange(n_sp), np.arange(n_tp)))
    order = np.argsort(start, kind="stable")
    start, finish, is_tpl, act, ident = start[order], finish[order], is_tpl[order], act[order], ident[order]
    m = start.size
    gap = np.zeros(m, bool)
    gap[:-1] = (start[1:] - finish[:-1]) > gap_s
    next_act = np.concatenate((act[1:], [False]))
    new_trip = act & ~next_act
    new_trip[1:] |= gap[:-1]
    if m:
        new_trip[0] = True
    group = np.cumsum(new_trip) - 1
    in_trip = ~act
    # trip groups: non-activity rows sharing a group; keep groups containing a tripleg
    groups_with_tpl = np.unique(group[in_trip & is_tpl])
    row_trip = np.full(m, -1, np.int64)
    sel = in_trip & np.isin(group, groups_with_tpl)
    row_trip[sel] = np.searchsorted(groups_with_tpl, group[sel])
    k = groups_with_tpl.size
    t_start = np.full(k, np.inf)
    t_end = np.full(k, -np.inf)
    np.minimum.at(t_start, row_trip[sel], start[sel])
    np.maximum.at(t_end, row_trip[sel], finish[sel])
    origin, dest = _neighbour_activities(start, finish, act, ident, gap, t_start, gap_s)
    tripleg_trip = np.full(n_tp, -1, np.int64)
    tsel = sel & is_tpl
    tripleg_trip[ident[tsel]] = row_trip[tsel]
    o_lat, o_lon, d_lat, d_lon = _endpoints(fixes, sp, tpls, tripleg_trip, k, origin, dest)
    return Trips(t_start, t_end, origin, dest, o_lat, o_lon, d_lat, d_lon, tripleg_trip)


def _neighbour_activities(
    start: np.ndarray,
    finish: np.ndarray,
    act: np.ndarray,
    ident: np.ndarray,
    gap: np.ndarray,
    trip_start: np.ndarray,
    gap_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """trackintel's shift trick: order trips, activity stay points and gap markers by start; read neighbours."""
    k = trip_start.size
    gap_at = finish[gap] + gap_s / 2.0
    first_marker = start[:1] - gap_s / 2.0  # the 'user change' marker before the first row
    key = np.concatenate((trip_start, start[act], gap_at, first_marker))
    kind = np.concatenate((np.zeros(k), np.ones(int(act.sum())), np.full(gap_at.size + first_marker.size, 2)))
    sp_id = np.concatenate((np.full(k, -1), ident[act], np.full(gap_at.size + first_marker.size, -1)))
    order = np.argsort(key, kind="stable")
    kind, sp_id = kind[order], sp_id[order]
    prev_sp = np.concatenate(([-1], sp_id[:-1]))
    next_sp = np.concatenate((sp_id[1:], [-1]))
    is_trip = kind == 0
    origin = np.full(k, -1, np.int64)
    dest = np.full(k, -1, np.int64)
    trip_idx = order[is_trip]  # trips keep their original positions 0..k-1 in the concatenation
    origin[trip_idx] = prev_sp[is_trip]
    dest[trip_idx] = next_sp[is_trip]
    return origin, dest


def _endpoints(
    fixes: Fixes,
    sp: Staypoints,
    tpls: Triplegs,
    tripleg_trip: np.ndarray,
    k: int,
    origin: np.ndarray,
    dest: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin/destination coordinates: the stay point's, else the first/last fix of the first/last tripleg."""
    first_tpl = np.full(k, np.iinfo(np.int64).max)
    last_tpl = np.full(k, -1)
    has = tripleg_trip >= 0
    ids = np.flatnonzero(has)
    np.minimum.at(first_tpl, tripleg_trip[has], ids)
    np.maximum.at(last_tpl, tripleg_trip[has], ids)
    o_fix = tpls.first_fix[first_tpl] if k else np.empty(0, np.int64)
    d_fix = tpls.end_fix[last_tpl] - 1 if k else np.empty(0, np.int64)
    o_lat = np.where(origin >= 0, sp.lat[np.maximum(origin, 0)] if len(sp) else 0.0, fixes.lat[o_fix])
    o_lon = np.where(origin >= 0, sp.lon[np.maximum(origin, 0)] if len(sp) else 0.0, fixes.lon[o_fix])
    d_lat = np.where(dest >= 0, sp.lat[np.maximum(dest, 0)] if len(sp) else 0.0, fixes.lat[d_fix])
    d_lon = np.where(dest >= 0, sp.lon[np.maximum(dest, 0)] if len(sp) else 0.0, fixes.lon[d_fix])
    return o_lat, o_lon, d_lat, d_lon
