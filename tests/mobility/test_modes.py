"""Transport mode per tripleg: features against numpy, labels against trackintel, accuracy on GeoLife labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smartip.mobility.fixes import from_columns, haversine_m
from smartip.mobility.pipeline.modes import (
    GEOLIFE_MODES,
    classify_modes,
    evaluate,
    label_by_overlap,
    tripleg_features,
)
from smartip.mobility.pipeline.run import process
from smartip.mobility.pipeline.triplegs import Triplegs
from smartip.mobility.readers.plt import read_geolife_labels, read_geolife_user

REPO_ROOT = Path(__file__).resolve().parents[2]
TI_DATA = REPO_ROOT.parent / "shared" / "data" / "mobility" / "trackintel" / "tests" / "data"
MODES_DATA = TI_DATA / "geolife_modes"
needs_data = pytest.mark.skipif(not MODES_DATA.is_dir(), reason=f"shared test data not found at {MODES_DATA}")
LABELLED_USERS = ("010", "020")


def labelled_triplegs() -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Ground truth and prediction for every GeoLife tripleg with a label, plus per-user tripleg times."""
    truth, predicted, times = [], [], []
    for user in LABELLED_USERS:
        result = process(read_geolife_user(MODES_DATA / user))
        start, end, modes = read_geolife_labels(MODES_DATA / user / "labels.txt")
        mapped = np.array([GEOLIFE_MODES.get(m, m) for m in modes], dtype=object)
        tpl = result.triplegs
        label = label_by_overlap(tpl.started_at_s, tpl.finished_at_s, start, end, mapped)
        truth.append(label[label != ""])
        predicted.append(result.tripleg_modes[label != ""])
        times.append((user, tpl.started_at_s, tpl.finished_at_s))
    return np.concatenate(truth), np.concatenate(predicted), times


@needs_data
def test_coarse_mode_accuracy_on_labelled_geolife() -> None:
    truth, predicted, _ = labelled_triplegs()
    report = evaluate(truth, predicted)
    print("GeoLife labelled triplegs:", report)
    assert report["n"] >= 40
    assert report["coarse_accuracy"] >= 0.90
    assert report["accuracy"] >= 0.80


@needs_data
def test_beats_trackintel_simple_coarse_baseline() -> None:
    """trackintel's own predictor (speed cut-offs 15 / 100 km/h) on the same triplegs, for comparison."""
    ti = pytest.importorskip("trackintel")
    gpd = pytest.importorskip("geopandas")
    pd = pytest.importorskip("pandas")
    from shapely.geometry import LineString

    truth, predicted, _ = labelled_triplegs()
    rows, geoms, ours = [], [], []
    for user in LABELLED_USERS:
        result = process(read_geolife_user(MODES_DATA / user))
        start, end, modes = read_geolife_labels(MODES_DATA / user / "labels.txt")
        mapped = np.array([GEOLIFE_MODES.get(m, m) for m in modes], dtype=object)
        tpl, f = result.triplegs, result.fixes
        label = label_by_overlap(tpl.started_at_s, tpl.finished_at_s, start, end, mapped)
        for k in np.flatnonzero(label != ""):
            sl = slice(tpl.first_fix[k], tpl.end_fix[k])
            geoms.append(LineString(np.column_stack((f.lon[sl], f.lat[sl]))))
            rows.append(
                {"user_id": int(user), "started_at": tpl.started_at_s[k], "finished_at": tpl.finished_at_s[k]}
            )
            ours.append(label[k])
    frame = pd.DataFrame(rows)
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col], unit="s", utc=True)
    tpls = ti.Triplegs(gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326"))
    baseline = tpls.predict_transport_mode(method="simple-coarse")["mode"].astype(str).to_numpy()
    base_coarse = np.where(baseline == "slow_mobility", "active", "motorised")
    from smartip.mobility.pipeline.modes import coarse

    base_acc = float(np.mean(base_coarse == coarse(np.array(ours, dtype=object))))
    our_acc = evaluate(truth, predicted)["coarse_accuracy"]
    print(f"coarse accuracy: ours {our_acc:.3f}, trackintel simple-coarse {base_acc:.3f}")
    assert our_acc >= base_acc


@needs_data
def test_label_matching_agrees_with_trackintel() -> None:
    ti = pytest.importorskip("trackintel")
    gpd = pytest.importorskip("geopandas")
    pd = pytest.importorskip("pandas")
    from shapely.geometry import LineString

    _, labels = ti.io.read_geolife(str(MODES_DATA))
    agreed = 0
    for user in LABELLED_USERS:
        result = process(read_geolife_user(MODES_DATA / user))
        tpl = result.triplegs
        frame = pd.DataFrame(
            {
                "user_id": int(user),
                "started_at": pd.to_datetime(tpl.started_at_s, unit="s", utc=True),
                "finished_at": pd.to_datetime(tpl.finished_at_s, unit="s", utc=True),
            }
        )
        geoms = [LineString([(0, 0), (1, 1)])] * len(tpl)
        ref = ti.io.geolife_add_modes_to_triplegs(
            ti.Triplegs(gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")),
            {int(user): labels[int(user)]},
        )
        start, end, modes = read_geolife_labels(MODES_DATA / user / "labels.txt")
        ours = label_by_overlap(tpl.started_at_s, tpl.finished_at_s, start, end, modes)
        has = ref["mode"].notna().to_numpy()
        np.testing.assert_array_equal(ours[has], ref["mode"].to_numpy()[has])
        agreed += int(has.sum())
    assert agreed >= 40


@needs_data
def test_features_match_numpy_percentiles() -> None:
    result = process(read_geolife_user(MODES_DATA / "010"))
    f, tpl = result.fixes, result.triplegs
    feats = result.tripleg_features
    assert feats is not None
    for k in range(len(tpl)):
        sl = slice(tpl.first_fix[k], tpl.end_fix[k])
        d = haversine_m(f.lat[sl][:-1], f.lon[sl][:-1], f.lat[sl][1:], f.lon[sl][1:])
        dt = np.diff(f.t_s[sl])
        speed = d[dt > 0] / dt[dt > 0]
        assert feats.length_m[k] == pytest.approx(d.sum())
        assert feats.speed_p50[k] == pytest.approx(np.percentile(speed, 50))
        assert feats.speed_p85[k] == pytest.approx(np.percentile(speed, 85))
        assert feats.speed_p95[k] == pytest.approx(np.percentile(speed, 95))


@pytest.mark.parametrize(
    ("speed_mps", "expected"), [(1.3, "walk"), (4.5, "bicycle"), (13.0, "car"), (30.0, "train")]
)
def test_steady_synthetic_speeds(speed_mps: float, expected: str) -> None:
    rng = np.random.default_rng(1)
    n = 300
    t = np.arange(n) * 2.0
    v = np.clip(speed_mps * (1 + 0.2 * rng.standard_normal(n)), 0, None)  # speed fluctuates by 20 %
    lat = 47.0 + np.cumsum(v * 2.0) / 111_195.0
    fixes = from_columns(t, lat, np.full(n, 8.0))
    tpl = Triplegs(np.array([t[0]]), np.array([t[-1]]), np.array([0]), np.array([n]))
    assert classify_modes(tripleg_features(fixes, tpl))[0] == expected


def test_bus_like_stop_and_go_is_bus() -> None:
    n = 600
    t = np.arange(n) * 2.0
    v = np.where((np.arange(n) // 30) % 2 == 0, 9.0, 0.0)  # 60 s driving, 60 s at a stop
    lat = 47.0 + np.cumsum(v * 2.0) / 111_195.0
    fixes = from_columns(t, lat, np.full(n, 8.0))
    tpl = Triplegs(np.array([t[0]]), np.array([t[-1]]), np.array([0]), np.array([n]))
    assert classify_modes(tripleg_features(fixes, tpl))[0] == "bus/tram"
