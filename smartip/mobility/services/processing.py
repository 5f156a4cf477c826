"""Trace processing: the pure pipeline (clean, stay points, trips, modes) and map matching derive a trace's stay
points, trips, legs and matched street segments, with the trimmed trip ends that aggregation uses.

Two phases, so that a failure never leaves anything half-written: `derive` is CPU-heavy (seconds for a long
trace) and only reads, so it runs outside any transaction; `store` then locks the trace row and swaps the old
derived rows for the new ones in one short transaction. A job that fails keeps the previous rows (or none), a
job run twice for the same trace replaces rather than duplicates, and two workers on the same trace cannot
interleave their rows. The job itself (`smartip.mobility.tasks.process_trace_job`) calls `run_processing`,
which moves `Trace.status` through queued → processing → done | failed (with a reason).
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from django.db import transaction

from smartip.accounts.models import User
from smartip.cities.models import City
from smartip.core.errors import Conflict, DomainError, Invalid, gettext_noop
from smartip.core.geo import h3_cell
from smartip.mobility import aggregates as agg
from smartip.mobility.fixes import Fixes, haversine_m
from smartip.mobility.models import (
    MatchedSegment,
    StayPoint,
    StreetNetwork,
    StreetSegment,
    Trace,
    Trip,
    Tripleg,
)
from smartip.mobility.services.common import H3_RES, MATCH_MODE, setting, utc

logger = logging.getLogger(__name__)


@dataclass
class DerivedLeg:
    leg: Tripleg
    segments: list[MatchedSegment]


@dataclass
class DerivedTrip:
    trip: Trip
    legs: list[DerivedLeg]


@dataclass
class Derived:
    """Unsaved rows derived from one trace, ready for `store`."""

    staypoints: list[StayPoint]
    trips: list[DerivedTrip]
    matched_with: str


# --- queueing -----------------------------------------------------------------------------------------------


def enqueue_processing(*, trace: Trace) -> None:
    """Mark the trace queued and enqueue its job when the current transaction commits (at once without one)."""
    trace.mark_queued()
    transaction.on_commit(partial(_enqueue, trace.pk))


def _enqueue(trace_id: int) -> None:
    from smartip.mobility.tasks import process_trace_job

    try:
        process_trace_job.enqueue(trace_id=trace_id)
    except Exception as exc:  # the upload is committed: say so on the trace rather than fail the request
        logger.exception("could not queue the processing of trace %s", trace_id)
        Trace(pk=trace_id).mark_failed(f"could not be queued for processing ({type(exc).__name__})")


def retry_processing(*, owner: User, trace_id: int) -> Trace:
    """Queue the owner's failed, never processed or stuck trace again (see `Trace.can_be_processed_again`);
    `Conflict` for one done, or queued or running for less than `STALE_JOB`."""
    from smartip.mobility.services.traces import get_own_trace

    trace = get_own_trace(owner=owner, trace_id=trace_id)
    if not trace.can_be_processed_again:
        raise Conflict(
            gettext_noop(
                "trace %(id)s is %(status)s: only a failed, unprocessed or stuck (an hour or more) trace is "
                "processed again"
            ),
            field="trace_id",
            id=trace_id,
            status=trace.status,
        )
    enqueue_processing(trace=trace)
    return trace


def failure_reason(exc: BaseException) -> str:
    """What the owner is told: a domain error's own message; for anything else only its kind (the job log
    keeps the traceback for operators)."""
    if isinstance(exc, DomainError):
        return exc.message
    return f"internal error ({type(exc).__name__}); you can try again later"


def run_processing(*, trace_id: int, rng: random.Random | None = None) -> dict[str, Any]:
    """The job's body: process one trace, keeping its status; re-raises after marking it failed, so the queue
    records the failure too. A trace deleted before or during the job is not an error."""
    trace = Trace.objects.select_related("city").filter(pk=trace_id).first()
    if trace is None:
        return {"trace_id": trace_id, "status": "gone"}
    trace.mark_processing()
    try:
        stored = process_trace(trace=trace, rng=rng)
    except Exception as exc:
        trace.mark_failed(failure_reason(exc))
        raise
    if stored is None:
        return {"trace_id": trace_id, "status": "gone"}
    return {"trace_id": trace_id, "status": trace.status, "trips": trace.trips.count()}


# --- processing ---------------------------------------------------------------------------------------------


def matcher_for(city: City) -> Any:
    """The engine named by `MAPMATCH_ENGINE` ("valhalla" by default; "fake" in tests), or None when the
    real engine has no street network for this city (trips are then stored without matched segments)."""
    from smartip.mobility.matching.engine import get_matcher

    name = setting("MAPMATCH_ENGINE", "valhalla")
    if name != "valhalla":
        return get_matcher(name)
    network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at", "-pk").first()
    if network is None:
        return None
    return get_matcher("valhalla", network=network.tiles_config)


def process_trace(*, trace: Trace, rng: random.Random | None = None) -> Trace | None:
    """(Re)derive stay points, trips, triplegs and matched segments of a trace, replacing the old derived rows
    in one transaction, and mark it done; None when the trace was deleted meanwhile."""
    derived = derive(trace=trace, rng=rng or _trim_rng(trace))
    with transaction.atomic():
        return trace if store(trace=trace, derived=derived) else None


def _trim_rng(trace: Trace) -> random.Random:
    """The draws of the trimmed trip ends: fixed per phone session (its trace is processed again after every
    batch, and trip k must get the same trim each time), fresh otherwise (a trace is processed once)."""
    from smartip.mobility.models import TraceSession

    seed = TraceSession.objects.filter(trace=trace).values_list("trim_seed", flat=True).first()
    return random.Random(secrets.randbits(64) if seed is None else seed)


def derive(*, trace: Trace, rng: random.Random) -> Derived:
    """Unsaved rows from the trace's fixes; reads the city's network and neighbourhoods, writes nothing."""
    from smartip.mobility.pipeline.run import process

    result = process(trace.fixes)
    staypoints = _staypoints(result.staypoints)
    matcher = matcher_for(trace.city)
    segments_by_way = _segment_ids(trace.city)
    trips = []
    for i in range(len(result.trips)):
        trip = _derive_trip(trace.city, result, i, matcher, segments_by_way, rng)
        if trip is not None:
            trips.append(trip)
    return Derived(staypoints, trips, "" if matcher is None else type(matcher).__name__)


def store(*, trace: Trace, derived: Derived) -> bool:
    """Replace the trace's derived rows and mark it done, inside the caller's transaction; False (and nothing
    written) when the trace no longer exists. The row lock serialises two jobs on the same trace."""
    if not list(Trace.objects.select_for_update().filter(pk=trace.pk).values_list("pk", flat=True)):
        return False
    StayPoint.objects.filter(trace=trace).delete()
    Trip.objects.filter(trace=trace).delete()
    for sp in derived.staypoints:
        sp.trace = trace
    StayPoint.objects.bulk_create(derived.staypoints)
    for t in derived.trips:
        t.trip.trace = trace
    Trip.objects.bulk_create([t.trip for t in derived.trips])
    legs = []
    for t in derived.trips:
        for d in t.legs:
            d.leg.trip = t.trip
            legs.append(d)
    Tripleg.objects.bulk_create([d.leg for d in legs])
    segments = []
    for d in legs:
        for s in d.segments:
            s.tripleg = d.leg
            segments.append(s)
    MatchedSegment.objects.bulk_create(segments, batch_size=2000)
    trace.mark_done(matched_with=derived.matched_with)
    return True


def _staypoints(sp: Any) -> list[StayPoint]:
    return [
        StayPoint(
            started_at=utc(sp.started_at_s[k]),
            finished_at=utc(sp.finished_at_s[k]),
            lat=float(sp.lat[k]),
            lon=float(sp.lon[k]),
            is_activity=bool(sp.is_activity[k]),
        )
        for k in range(len(sp))
    ]


def _derive_trip(
    city: City, result: Any, i: int, matcher: Any, segments_by_way: dict[int, int], rng: random.Random
) -> DerivedTrip | None:
    """One trip with its legs; its aggregation ends are trimmed by a random 200-500 m (drawn here, once)."""
    from smartip.mobility.matching.matcher import is_matchable

    tpls, fx = result.triplegs, result.fixes
    legs = np.flatnonzero(result.trips.tripleg_trip == i)
    if not len(legs):
        return None
    part = fx.take(np.arange(int(tpls.first_fix[legs[0]]), int(tpls.end_fix[legs[-1]])))
    window = agg.trim_window(part.t_s, part.lat, part.lon, *agg.draw_trim_m(rng))
    trip = _trip_row(city, result.trips, i, part, window, [str(result.tripleg_modes[k]) for k in legs])
    derived_legs = []
    for k in legs:
        leg_fixes = fx.take(np.arange(int(tpls.first_fix[k]), int(tpls.end_fix[k])))
        mode = str(result.tripleg_modes[k])
        leg = Tripleg(
            mode=mode,
            started_at=utc(tpls.started_at_s[k]),
            finished_at=utc(tpls.finished_at_s[k]),
            distance_m=_length_m(leg_fixes),
        )
        match_mode = MATCH_MODE.get(mode, mode)
        segments = []
        if matcher is not None and is_matchable(match_mode):
            segments = _matched_segments(matcher, leg_fixes, match_mode, window, segments_by_way)
        derived_legs.append(DerivedLeg(leg, segments))
    return DerivedTrip(trip, derived_legs)


def _length_m(fixes: Fixes) -> float:
    if len(fixes) < 2:
        return 0.0
    return float(haversine_m(fixes.lat[:-1], fixes.lon[:-1], fixes.lat[1:], fixes.lon[1:]).sum())


def _trip_row(
    city: City, trips: Any, i: int, part: Fixes, window: tuple[float, float] | None, modes: list[str]
) -> Trip:
    """A trip row; its aggregation ends (neighbourhood, H3) come from the trimmed ends, none if too short."""
    ends: dict[str, Any] = {}
    if window is not None:
        for side, at_s in (("origin", window[0]), ("destination", window[1])):
            lat, lon = agg.position_at(part.t_s, part.lat, part.lon, at_s)
            ends[f"{side}_neighbourhood"] = city.neighbourhood_at(lat, lon)
            ends[f"{side}_h3"] = h3_cell(lat, lon, H3_RES)
    main = max(set(modes), key=modes.count) if modes else ""
    return Trip(
        started_at=utc(trips.started_at_s[i]),
        finished_at=utc(trips.finished_at_s[i]),
        origin_lat=_finite(trips.origin_lat[i]),
        origin_lon=_finite(trips.origin_lon[i]),
        destination_lat=_finite(trips.destination_lat[i]),
        destination_lon=_finite(trips.destination_lon[i]),
        modes=modes,
        main_mode=main,
        distance_m=_length_m(part),
        **ends,
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _segment_ids(city: City) -> dict[int, int]:
    network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at", "-pk").first()
    if network is None:
        return {}
    return dict(StreetSegment.objects.filter(network=network).values_list("osm_way_id", "pk"))


def _typical_accuracy_m(fixes: Fixes) -> float | None:
    """The median accuracy the phone reported for these fixes, None when it reported none."""
    known = fixes.accuracy_m[np.isfinite(fixes.accuracy_m)]
    return float(np.median(known)) if known.size else None


def _matched_segments(
    matcher: Any,
    fixes: Fixes,
    mode: str,
    window: tuple[float, float] | None,
    segments_by_way: dict[int, int],
) -> list[MatchedSegment]:
    try:
        result = matcher.match(
            fixes.lat, fixes.lon, fixes.t_s, mode=mode, accuracy_m=_typical_accuracy_m(fixes)
        )
    except Invalid:
        return []  # an unmatchable leg (too short, no street in reach) keeps its trip, without segments
    rows = []
    for s in result.segments:
        if not np.isfinite(s.start_s):
            continue
        # a way counts when part of its traversal lies between the trimmed ends (OSM ways are often long)
        in_end = window is None or s.end_s <= window[0] or s.start_s >= window[1]
        rows.append(
            MatchedSegment(
                segment_id=segments_by_way.get(s.way_id),
                osm_way_id=s.way_id,
                entered_at=utc(s.start_s),
                duration_s=float(s.end_s - s.start_s) if np.isfinite(s.end_s) else 0.0,
                length_m=float(s.length_m),
                speed_mps=_finite(s.speed_mps),
                in_trip_end=in_end,
            )
        )
    return rows
