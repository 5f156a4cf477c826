"""The whole pipeline for one user's trace: `process(fixes, params) -> PipelineResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smartip.mobility.fixes import Fixes
from smartip.mobility.pipeline.clean import CleanParams, CleanReport, clean
from smartip.mobility.pipeline.modes import ModeFeatures, classify_modes, tripleg_features
from smartip.mobility.pipeline.staypoints import (
    StaypointParams,
    Staypoints,
    fix_staypoint_ids,
    generate_staypoints,
)
from smartip.mobility.pipeline.triplegs import TriplegParams, Triplegs, fix_tripleg_ids, generate_triplegs
from smartip.mobility.pipeline.trips import TripParams, Trips, generate_trips


@dataclass(frozen=True, slots=True)
class PipelineParams:
    """Defaults are trackintel's defaults (staypoints 100 m / 5 min / gap 15 min, activity > 15 min,
    tripleg gap 15 min, trip gap 15 min), so results can be compared one to one."""

    clean: CleanParams = field(default_factory=CleanParams)
    staypoints: StaypointParams = field(default_factory=StaypointParams)
    triplegs: TriplegParams = field(default_factory=TriplegParams)
    trips: TripParams = field(default_factory=TripParams)
    modes: bool = True

    @staticmethod
    def trackintel_compatible() -> PipelineParams:
        """Cleaning reduced to what trackintel does (drop rows equal in every column)."""
        lax = CleanParams(max_accuracy_m=np.inf, max_speed_mps=np.inf, keep_same_time=True, max_passes=0)
        return PipelineParams(clean=lax)


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class PipelineResult:
    fixes: Fixes  # the cleaned fixes every index below refers to
    clean_report: CleanReport
    staypoints: Staypoints
    triplegs: Triplegs
    trips: Trips
    staypoint_of_fix: np.ndarray  # -1 for none
    tripleg_of_fix: np.ndarray  # -1 for none
    tripleg_features: ModeFeatures | None
    tripleg_modes: np.ndarray  # str per tripleg ('' when modes are off)


def segment(fixes: Fixes, params: PipelineParams) -> tuple[Fixes, CleanReport, Staypoints, Triplegs, Trips]:
    """Clean + stay points + triplegs + trips (the part benchmarked against trackintel)."""
    kept, report = clean(fixes, params.clean)
    sp = generate_staypoints(kept, params.staypoints)
    sp_of_fix = fix_staypoint_ids(len(kept), sp)
    tpls = generate_triplegs(kept, sp_of_fix, params.triplegs)
    trips = generate_trips(kept, sp, tpls, params.trips)
    return kept, report, sp, tpls, trips


def process(fixes: Fixes, params: PipelineParams | None = None) -> PipelineResult:
    """Run everything on one user's time-sorted fixes (see `Fixes`); pure, no I/O."""
    params = params or PipelineParams()
    kept, report, sp, tpls, trips = segment(fixes, params)
    n = len(kept)
    features = tripleg_features(kept, tpls) if params.modes else None
    modes = classify_modes(features) if features is not None else np.full(len(tpls), "", dtype=object)
    return PipelineResult(
        fixes=kept,
        clean_report=report,
        staypoints=sp,
        triplegs=tpls,
        trips=trips,
        staypoint_of_fix=fix_staypoint_ids(n, sp),
        tripleg_of_fix=fix_tripleg_ids(n, tpls),
        tripleg_features=features,
        tripleg_modes=modes,
    )
