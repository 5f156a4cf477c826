"""Cleaning: duplicates, accuracy, area, impossible speeds; and `process` end to end on GeoLife."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smartip.mobility.fixes import concat, from_columns, haversine_m
from smartip.mobility.pipeline.clean import CleanParams, clean
from smartip.mobility.pipeline.run import PipelineParams, process
from smartip.mobility.readers.plt import read_geolife_user

REPO_ROOT = Path(__file__).resolve().parents[2]
TI_DATA = REPO_ROOT.parent / "shared" / "data" / "mobility" / "trackintel" / "tests" / "data"
needs_data = pytest.mark.skipif(not TI_DATA.is_dir(), reason=f"shared test data not found at {TI_DATA}")


def walk(n: int = 100, speed_mps: float = 1.4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=float) * 5.0
    lat = 47.0 + np.arange(n) * speed_mps * 5.0 / 111_195.0
    return t, lat, np.full(n, 8.0)


def test_spikes_and_jumps_are_dropped() -> None:
    t, lat, lon = walk()
    lat, lon = lat.copy(), lon.copy()
    lon[30] += 0.05  # a single spike ~3.8 km away for 5 s
    lon[60:62] += 0.05  # two consecutive jumped fixes
    kept, report = clean(from_columns(t, lat, lon), CleanParams(max_speed_mps=50.0))
    assert report.dropped == {"impossible_speed": 3}
    assert set(np.flatnonzero(~np.isin(t, kept.t_s))) == {30, 60, 61}
    speeds = haversine_m(kept.lat[:-1], kept.lon[:-1], kept.lat[1:], kept.lon[1:]) / np.diff(kept.t_s)
    assert speeds.max() < 50.0


def test_duplicates_accuracy_and_area() -> None:
    t, lat, lon = walk(20)
    acc = np.full(20, 5.0)
    acc[4] = 250.0
    acc[5] = np.nan  # unknown accuracy is kept
    t[8] = t[7]  # same time, other place: the second is dropped
    fixes = from_columns(t, lat, lon, acc)
    kept, report = clean(fixes, CleanParams(bbox=(46.9, 7.9, 47.0006, 8.1)))
    assert report.dropped["duplicate"] == 1
    assert report.dropped["poor_accuracy"] == 1
    outside = int(np.sum(np.delete(lat, [4, 8]) > 47.0006))
    assert report.dropped["outside_area"] == outside > 0
    assert len(kept) == 20 - report.total_dropped


def test_trackintel_mode_keeps_same_time_but_drops_exact_copies() -> None:
    t, lat, lon = walk(10)
    a = from_columns(t, lat, lon)
    twice = concat([a, a.take(np.array([3]))])
    t2 = t.copy()
    t2[5] = t2[4]
    same_time = from_columns(t2, lat, lon)
    lax = PipelineParams.trackintel_compatible().clean
    assert clean(twice, lax)[1].dropped == {"duplicate": 1}
    assert clean(same_time, lax)[1].dropped == {}


@needs_data
def test_process_geolife_end_to_end() -> None:
    fixes = read_geolife_user(TI_DATA / "geolife_long_10_MB" / "001")
    result = process(fixes)
    n = len(result.fixes)
    assert n > 0.95 * len(fixes)
    assert len(result.staypoints) > 10 and len(result.triplegs) > 10 and len(result.trips) > 10
    # every fix is in at most one stay point or tripleg, and ids point at existing objects
    both = (result.staypoint_of_fix >= 0) & (result.tripleg_of_fix >= 0)
    assert not both.any()
    assert result.tripleg_of_fix.max() == len(result.triplegs) - 1
    assert set(result.tripleg_modes) <= {"walk", "bicycle", "bus/tram", "car", "train"}
    # triplegs and stay points are ordered and do not overlap in time
    starts = np.sort(np.concatenate((result.staypoints.started_at_s, result.triplegs.started_at_s)))
    assert np.all(np.diff(starts) > 0)
    assert np.all(result.trips.finished_at_s >= result.trips.started_at_s)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_traces_do_not_fail(n: int) -> None:
    t, lat, lon = walk(n)
    result = process(from_columns(t, lat, lon))
    assert len(result.fixes) == n
    assert len(result.tripleg_modes) == len(result.triplegs) <= 1
    assert result.staypoint_of_fix.shape == result.tripleg_of_fix.shape == (n,)
