"""Stay points, triplegs and trips agree with trackintel (the reference implementation) on GeoLife and on
random traces, and with the expected outputs shipped in trackintel's test data."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartip.mobility.fixes import Fixes, from_columns, haversine_m
from smartip.mobility.pipeline.run import PipelineParams, segment
from smartip.mobility.pipeline.staypoints import StaypointParams
from smartip.mobility.readers.plt import read_geolife_user

ti = pytest.importorskip("trackintel")
pd = pytest.importorskip("pandas")
gpd = pytest.importorskip("geopandas")

REPO_ROOT = Path(__file__).resolve().parents[2]
TI_DATA = REPO_ROOT.parent / "shared" / "data" / "mobility" / "trackintel" / "tests" / "data"
needs_data = pytest.mark.skipif(not TI_DATA.is_dir(), reason=f"shared test data not found at {TI_DATA}")


def _seconds(col: Any) -> np.ndarray:
    return (col - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


def trackintel_segment(fixes: Fixes, sp: StaypointParams) -> dict[str, Any]:
    """Run trackintel's own pipeline on the same fixes (one user) and return plain arrays."""
    frame = gpd.GeoDataFrame(
        {
            "user_id": 0,
            "tracked_at": pd.to_datetime(fixes.t_s, unit="s", utc=True),
            "elevation": fixes.alt_m.astype(float),
        },
        geometry=gpd.points_from_xy(fixes.lon, fixes.lat),
        crs="EPSG:4326",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pfs = ti.Positionfixes(frame)
        pfs, stps = pfs.generate_staypoints(
            method="sliding",
            dist_threshold=sp.dist_threshold_m,
            time_threshold=sp.time_threshold_min,
            gap_threshold=sp.gap_threshold_min,
            include_last=sp.include_last,
        )
        out: dict[str, Any] = {"sp_start": np.empty(0), "tpl_start": np.empty(0), "trip_start": np.empty(0)}
        if len(stps) == 0:
            return out  # trackintel cannot build triplegs without stay points (returns a plain GeoDataFrame)
        stps = stps.create_activity_flag(time_threshold=sp.activity_threshold_min)
        try:
            pfs, tpls = pfs.generate_triplegs(stps)
        except IndexError:  # trackintel 1.4 crashes when every fix is in a stay point (no tripleg at all)
            tpls = stps.iloc[:0]
        out.update(
            sp_start=_seconds(stps.started_at),
            sp_end=_seconds(stps.finished_at),
            sp_lat=stps.geometry.y.to_numpy(),
            sp_lon=stps.geometry.x.to_numpy(),
            sp_act=stps.is_activity.to_numpy(),
            tpl_start=_seconds(tpls.started_at) if len(tpls) else np.empty(0),
            tpl_end=_seconds(tpls.finished_at) if len(tpls) else np.empty(0),
        )
        if len(tpls) == 0:
            return out
        _, _, trips = ti.preprocessing.generate_trips(stps, tpls, gap_threshold=15)
    out.update(
        trip_start=_seconds(trips.started_at),
        trip_end=_seconds(trips.finished_at),
        trip_origin=trips.origin_staypoint_id.fillna(-1).to_numpy(dtype=np.int64),
        trip_dest=trips.destination_staypoint_id.fillna(-1).to_numpy(dtype=np.int64),
        trip_o_lat=np.array([g.geoms[0].y for g in trips.geometry]),
        trip_d_lon=np.array([g.geoms[1].x for g in trips.geometry]),
    )
    return out


def assert_agree(fixes: Fixes, sp_params: StaypointParams) -> tuple[int, int, int]:
    params = dataclasses.replace(PipelineParams.trackintel_compatible(), staypoints=sp_params, modes=False)
    kept, _, sp, tpls, trips = segment(fixes, params)
    ref = trackintel_segment(kept, sp_params)
    np.testing.assert_array_equal(sp.started_at_s, ref["sp_start"])
    if not len(sp):
        return 0, len(tpls), len(trips)  # nothing more to compare: see trackintel_segment
    if len(sp):
        np.testing.assert_array_equal(sp.finished_at_s, ref["sp_end"])
        np.testing.assert_array_equal(sp.is_activity, ref["sp_act"])
        assert haversine_m(sp.lat, sp.lon, ref["sp_lat"], ref["sp_lon"]).max() < 0.01
    np.testing.assert_array_equal(tpls.started_at_s, ref["tpl_start"])
    if len(tpls):
        np.testing.assert_array_equal(tpls.finished_at_s, ref["tpl_end"])
    np.testing.assert_array_equal(trips.started_at_s, ref["trip_start"])
    if len(trips):
        np.testing.assert_array_equal(trips.finished_at_s, ref["trip_end"])
        np.testing.assert_array_equal(trips.origin_staypoint, ref["trip_origin"])
        np.testing.assert_array_equal(trips.destination_staypoint, ref["trip_dest"])
        np.testing.assert_allclose(trips.origin_lat, ref["trip_o_lat"], atol=1e-9)
        np.testing.assert_allclose(trips.destination_lon, ref["trip_d_lon"], atol=1e-9)
    return len(sp), len(tpls), len(trips)


@needs_data
@pytest.mark.parametrize("user", ["000", "001"])
@pytest.mark.parametrize(
    "sp_params",
    [StaypointParams(), StaypointParams(25.0, 5.0, 1e6), StaypointParams(50.0, 2.0, 15.0, include_last=True)],
)
def test_geolife_long_agrees_with_trackintel(user: str, sp_params: StaypointParams) -> None:
    fixes = read_geolife_user(TI_DATA / "geolife_long" / user)
    counts = assert_agree(fixes, sp_params)
    assert counts[0] > 0 and counts[1] > 0


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("user", ["002", "010"])
def test_geolife_10mb_users_agree_with_trackintel(user: str) -> None:
    assert_agree(read_geolife_user(TI_DATA / "geolife_long_10_MB" / user), StaypointParams())


@needs_data
def test_shipped_expected_trips_are_reproduced() -> None:
    """trackintel's tests/data/geolife_long/trips.csv and sp_tpls.csv (stay points 25 m / 5 min, no gap limit)."""
    expected = pd.read_csv(TI_DATA / "geolife_long" / "trips.csv")
    sp_tpls = pd.read_csv(TI_DATA / "geolife_long" / "sp_tpls.csv")
    params = dataclasses.replace(
        PipelineParams.trackintel_compatible(), staypoints=StaypointParams(25.0, 5.0, 1e6), modes=False
    )
    sp_offset = 0
    for user in (0, 1):
        _, _, sp, tpls, trips = segment(read_geolife_user(TI_DATA / "geolife_long" / f"{user:03d}"), params)
        exp = expected[expected.user_id == user]
        assert len(trips) == len(exp)
        np.testing.assert_array_equal(trips.started_at_s, _seconds(pd.to_datetime(exp.started_at, utc=True)))
        np.testing.assert_array_equal(
            trips.finished_at_s, _seconds(pd.to_datetime(exp.finished_at, utc=True))
        )
        origin = exp.origin_staypoint_id.fillna(-1 + sp_offset).to_numpy() - sp_offset
        np.testing.assert_array_equal(trips.origin_staypoint, origin)
        dest = exp.destination_staypoint_id.fillna(-1 + sp_offset).to_numpy() - sp_offset
        np.testing.assert_array_equal(trips.destination_staypoint, dest)
        rows = sp_tpls[sp_tpls.user_id == user]
        exp_sp = rows[rows.type == "staypoint"]
        np.testing.assert_array_equal(sp.started_at_s, _seconds(pd.to_datetime(exp_sp.started_at, utc=True)))
        np.testing.assert_array_equal(sp.is_activity, exp_sp.is_activity.to_numpy())
        exp_tpl = rows[rows.type == "tripleg"]
        np.testing.assert_array_equal(
            tpls.finished_at_s, _seconds(pd.to_datetime(exp_tpl.finished_at, utc=True))
        )
        sp_offset += len(sp)


def synthetic_trace(seed: int, n_episodes: int) -> Fixes:
    """Alternating stays (jitter around a place) and moves, with irregular sampling, gaps and repeated fixes."""
    rng = np.random.default_rng(seed)
    t, lat, lon = [1.2e9], [39.98], [116.32]
    for _ in range(n_episodes):
        stay = rng.random() < 0.5
        count = int(rng.integers(2, 120))
        dt = rng.choice([1.0, 5.0, 30.0, 120.0], size=count)
        if rng.random() < 0.15:
            dt[0] = rng.uniform(600, 3600)  # sometimes a recording gap
        speed = 0.0 if stay else rng.choice([1.4, 5.0, 15.0])
        heading = rng.uniform(0, 2 * np.pi)
        step = speed * dt / 111_000
        jitter = rng.normal(0, 15 / 111_000, (count, 2))
        lat.extend(lat[-1] + np.cumsum(step * np.cos(heading)) + jitter[:, 0])
        lon.extend(lon[-1] + np.cumsum(step * np.sin(heading)) + jitter[:, 1])
        t.extend(t[-1] + np.cumsum(dt))
    la, lo = np.round(np.asarray(lat), 6), np.round(np.asarray(lon), 6)
    repeat = rng.random(la.size) < 0.05  # identical consecutive positions, as GPS loggers write when still
    la[1:][repeat[1:]] = la[:-1][repeat[1:]]
    lo[1:][repeat[1:]] = lo[:-1][repeat[1:]]
    return from_columns(np.asarray(t), la, lo)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    episodes=st.integers(1, 25),
    dist=st.sampled_from([25.0, 50.0, 100.0]),
    minutes=st.sampled_from([1.0, 5.0]),
    include_last=st.booleans(),
)
def test_random_traces_agree_with_trackintel(
    seed: int, episodes: int, dist: float, minutes: float, include_last: bool
) -> None:
    assert_agree(synthetic_trace(seed, episodes), StaypointParams(dist, minutes, 15.0, include_last))
