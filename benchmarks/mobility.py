"""Mobility pipeline benchmark and agreement report (one run prints everything).

- Segmentation (clean + stay points + triplegs + trips) of the GeoLife "10 MB" sample (11 users, 164k fixes)
  repeated as extra users to >= 1.6 million fixes, against trackintel with the same (default) parameters:
  the ratio and absolute rates, and the agreement of stay points / triplegs / trips with trackintel's.
- Agreement with the expected outputs shipped in trackintel's test data (geolife_long trips.csv, sp_tpls.csv).
- Transport modes on the labelled GeoLife triplegs: confusion matrix, fine and coarse (active / motorised)
  accuracy, with trackintel's 'simple-coarse' predictor on the same triplegs for comparison.
- Reader and storage figures; then map matching of the GeoLife street triplegs, repeated to >= 1.6 million
  fixes, on the SparseTaxi Beijing graph (benchmarks/geolife_matching.py), and of 15 s traces on Porto.

    python benchmarks/mobility.py [--min-fixes 1600000] [--skip-trackintel]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from smartip.mobility.fixes import Fixes, encode, haversine_m  # noqa: E402
from smartip.mobility.pipeline.modes import (  # noqa: E402
    GEOLIFE_MODES,
    classify_modes,
    coarse,
    evaluate,
    label_by_overlap,
    tripleg_features,
)
from smartip.mobility.pipeline.run import PipelineParams, process, segment  # noqa: E402
from smartip.mobility.pipeline.staypoints import StaypointParams  # noqa: E402
from smartip.mobility.readers.plt import read_geolife_labels, read_geolife_user  # noqa: E402

TI_DATA = REPO_ROOT.parent / "shared" / "data" / "mobility" / "trackintel" / "tests" / "data"
LONG_10MB = TI_DATA / "geolife_long_10_MB"
DAY_S = 86_400.0


def load_users() -> tuple[list[Fixes], float]:
    started = time.perf_counter()
    users = [read_geolife_user(p) for p in sorted(LONG_10MB.iterdir()) if p.is_dir()]
    return users, time.perf_counter() - started


def repeated(users: list[Fixes], min_fixes: int) -> list[Fixes]:
    """Copies of every user's trace as new users until there are at least `min_fixes` fixes."""
    out: list[Fixes] = []
    copy = 0
    while sum(len(f) for f in out) < min_fixes:
        for f in users:
            shift = copy * 1000 * DAY_S  # new user, new days: no overlap with the original
            out.append(Fixes(f.t_s + shift, f.lat, f.lon, f.accuracy_m, f.alt_m))
        copy += 1
    return out


def run_ours(traces: list[Fixes], params: PipelineParams) -> tuple[float, float, list[Any]]:
    """Wall and CPU seconds (the machine is shared, so CPU time is the steadier figure) and the results."""
    wall, cpu = time.perf_counter(), time.process_time()
    results = [segment(f, params) for f in traces]
    return time.perf_counter() - wall, time.process_time() - cpu, results


def run_trackintel(traces: list[Fixes]) -> tuple[float, float, Any, Any, Any]:
    import geopandas as gpd
    import pandas as pd
    import trackintel as ti

    lengths = [len(f) for f in traces]
    frame = gpd.GeoDataFrame(
        {
            "user_id": np.repeat(np.arange(len(traces)), lengths),
            "tracked_at": pd.to_datetime(np.concatenate([f.t_s for f in traces]), unit="s", utc=True),
            "elevation": np.concatenate([f.alt_m for f in traces]).astype(float),
        },
        geometry=gpd.points_from_xy(
            np.concatenate([f.lon for f in traces]), np.concatenate([f.lat for f in traces])
        ),
        crs="EPSG:4326",
    )
    pfs = ti.Positionfixes(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, cpu = time.perf_counter(), time.process_time()
        pfs, sp = pfs.generate_staypoints(method="sliding")  # defaults: 100 m, 5 min, gap 15 min
        sp = sp.create_activity_flag()  # > 15 min
        pfs, tpls = pfs.generate_triplegs(sp)  # between_staypoints, gap 15 min
        _, _, trips = ti.preprocessing.generate_trips(sp, tpls)  # gap 15 min
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, sp, tpls, trips


def ti_version() -> str:
    import trackintel

    return str(trackintel.__version__)


def _seconds(col: Any) -> np.ndarray:
    import pandas as pd

    return (col - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


def agreement(results: list[Any], sp: Any, tpls: Any, trips: Any) -> dict[str, str]:
    """Per user: same count, and then start/end within 1 s and stay point location within 1 m."""
    counts = {"staypoints": [0, 0, 0, 0], "triplegs": [0, 0, 0, 0], "trips": [0, 0, 0, 0]}
    for user, (_, _, s, t, tr) in enumerate(results):
        pairs = {
            "staypoints": (s, sp[sp.user_id == user]),
            "triplegs": (t, tpls[tpls.user_id == user]),
            "trips": (tr, trips[trips.user_id == user]),
        }
        for name, (ours, ref) in pairs.items():
            c = counts[name]
            c[0] += len(ref)
            c[3] += len(ours)
            if len(ref) != len(ours):
                continue
            c[1] += len(ref)
            same_time = (np.abs(ours.started_at_s - _seconds(ref.started_at)) <= 1) & (
                np.abs(ours.finished_at_s - _seconds(ref.finished_at)) <= 1
            )
            if name == "staypoints":
                same_time &= (
                    haversine_m(ours.lat, ours.lon, ref.geometry.y.to_numpy(), ref.geometry.x.to_numpy()) < 1
                )
            c[2] += int(same_time.sum())
    return {
        k: f"trackintel {c[0]}, ours {c[3]}; in users with equal counts {c[1]}, matching time(+location) {c[2]} "
        f"({100 * c[2] / max(c[0], 1):.2f} %)"
        for k, c in counts.items()
    }


def shipped_expectations() -> str:
    import pandas as pd

    expected = pd.read_csv(TI_DATA / "geolife_long" / "trips.csv")
    params = dataclasses.replace(
        PipelineParams.trackintel_compatible(), staypoints=StaypointParams(25.0, 5.0, 1e6), modes=False
    )
    total = same = 0
    for user in (0, 1):
        _, _, _, _, trips = segment(read_geolife_user(TI_DATA / "geolife_long" / f"{user:03d}"), params)
        exp = expected[expected.user_id == user]
        total += len(exp)
        if len(exp) == len(trips):
            start = _seconds(pd.to_datetime(exp.started_at, utc=True))
            end = _seconds(pd.to_datetime(exp.finished_at, utc=True))
            same += int(
                np.sum((np.abs(start - trips.started_at_s) <= 1) & (np.abs(end - trips.finished_at_s) <= 1))
            )
    return f"geolife_long/trips.csv: {same} of {total} trips reproduced (count, start and end within 1 s)"


def legacy_expectations() -> str:
    """geolife/geolife_staypoints.csv predates trackintel's current sliding algorithm (it holds 10 s stay points,
    impossible with a 5 min threshold); count how many of its stay points start at the same second as ours."""
    import pandas as pd

    legacy = pd.read_csv(TI_DATA / "geolife" / "geolife_staypoints.csv")
    start = _seconds(pd.to_datetime(legacy.started_at, utc=True))
    fixes = read_geolife_user(LONG_10MB / "000")
    _, _, sp, _, _ = segment(fixes, dataclasses.replace(PipelineParams.trackintel_compatible(), modes=False))
    window = (sp.started_at_s >= start.min()) & (sp.started_at_s <= start.max())
    same = int(np.isin(start, sp.started_at_s).sum())
    return (
        f"geolife/geolife_staypoints.csv (legacy trackintel output): {len(legacy)} stay points, ours in the same "
        f"period {int(window.sum())}, same start second {same} (current trackintel gives the same stay points as ours, so it does not reproduce this file either)"
    )


def segment_mode_report() -> dict[str, Any]:
    """Modes on the label intervals themselves (perfect segmentation): fixes inside each labelled interval."""
    from smartip.mobility.pipeline.triplegs import Triplegs

    folder = TI_DATA / "geolife_modes"
    truth, predicted = [], []
    for user in ("010", "020"):
        fixes = process(read_geolife_user(folder / user), PipelineParams(modes=False)).fixes
        start, end, modes = read_geolife_labels(folder / user / "labels.txt")
        a = np.searchsorted(fixes.t_s, start, "left")
        b = np.searchsorted(fixes.t_s, end, "right")
        ok = (b - a) >= 10
        tpl = Triplegs(fixes.t_s[a[ok]], fixes.t_s[b[ok] - 1], a[ok], b[ok])
        truth.append(np.array([GEOLIFE_MODES.get(m, m) for m in modes[ok]], dtype=object))
        predicted.append(classify_modes(tripleg_features(fixes, tpl)))
    return evaluate(np.concatenate(truth), np.concatenate(predicted))


def mode_report() -> dict[str, Any]:
    folder = TI_DATA / "geolife_modes"
    truth, predicted, baseline_speed = [], [], []
    for user in ("010", "020"):
        result = process(read_geolife_user(folder / user))
        start, end, modes = read_geolife_labels(folder / user / "labels.txt")
        mapped = np.array([GEOLIFE_MODES.get(m, m) for m in modes], dtype=object)
        tpl = result.triplegs
        label = label_by_overlap(tpl.started_at_s, tpl.finished_at_s, start, end, mapped)
        has = label != ""
        truth.append(label[has])
        predicted.append(result.tripleg_modes[has])
        feats = result.tripleg_features
        assert feats is not None
        baseline_speed.append((feats.length_m / np.maximum(feats.duration_s, 1e-9))[has])
    t, p = np.concatenate(truth), np.concatenate(predicted)
    report = evaluate(t, p)
    # trackintel 'simple-coarse': mean speed < 15 km/h is slow mobility
    base = np.where(np.concatenate(baseline_speed) < 15 / 3.6, "active", "motorised")
    report["trackintel_simple_coarse_accuracy"] = float(np.mean(base == coarse(t)))
    return report


def print_confusion(table: dict[str, dict[str, int]]) -> None:
    names = list(table)
    print("    true \\ predicted " + "".join(f"{n:>10}" for n in names))
    for a in names:
        print(f"    {a:>19}" + "".join(f"{table[a][b]:>10}" for b in names))


def _benchmark_module(name: str) -> Any:
    path = REPO_ROOT / "benchmarks" / f"{name}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def matching_figures(users: list[Fixes], min_fixes: int) -> None:
    """Map matching of the GeoLife fixes themselves (street triplegs, repeated to ``min_fixes``) on the
    SparseTaxi Beijing graph (benchmarks/geolife_matching.py), in this process and in two worker processes;
    then simulated car traces at 15 s on Porto for the cost of sparse sampling."""
    geolife = _benchmark_module("geolife_matching")
    if geolife is None:
        print("map matching: benchmarks/geolife_matching.py not present")
        return
    try:
        rows = geolife.geolife_figures(users, min_fixes)
        geolife.print_figures(rows)
        for row in rows:
            print(
                f"MATCHING RATE GeoLife, {row['workers']} process(es): {row['fixes_per_s']:,} fixes/s wall, "
                f"{row['fixes_per_cpu_s']:,} fixes per CPU-second; x{row['fixes_per_s'] / 10_000:.1f} (wall) and "
                f"x{row['fixes_per_cpu_s'] / 10_000:.1f} (CPU) the 10,000 fixes/s target"
            )
        sparse = _benchmark_module("mobility_matching")
        traces = sparse.simulated_traces(sparse.NETWORKS["porto"], 200, interval_s=15.0, seed=5)
        print("map matching, 200 simulated Porto car routes at 15 s, 10 m noise:", sparse.run(traces))
    except Exception as exc:  # report, do not hide, a failure of the other benchmark
        print(f"map matching failed: {type(exc).__name__}: {exc}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-fixes", type=int, default=1_600_000)
    parser.add_argument("--skip-trackintel", action="store_true")
    args = parser.parse_args()

    users, read_s = load_users()
    n_read = sum(len(f) for f in users)
    print(
        f"read GeoLife PLT: {n_read} fixes of {len(users)} users in {read_s:.2f} s ({n_read / read_s:,.0f} fixes/s)"
    )
    traces = repeated(users, args.min_fixes)
    n = sum(len(f) for f in traces)
    print(f"benchmark set: {n:,} fixes, {len(traces)} users (GeoLife repeated)")

    ours_s, ours_cpu, ours = run_ours(traces, PipelineParams(modes=False))
    print(
        f"ours, default cleaning + stay points + triplegs + trips: {ours_s:.2f} s wall, {ours_cpu:.2f} s CPU "
        f"({n / ours_s:,.0f} fixes/s wall, {n / ours_cpu:,.0f} fixes/s CPU)"
    )
    print(
        f"    {sum(len(r[2]) for r in ours)} stay points, {sum(len(r[3]) for r in ours)} triplegs, "
        f"{sum(len(r[4]) for r in ours)} trips; dropped by cleaning: {sum(r[1].total_dropped for r in ours)}"
    )
    compat_s, compat_cpu, compat = run_ours(traces, PipelineParams.trackintel_compatible())
    print(
        f"ours, trackintel-compatible cleaning: {compat_s:.2f} s wall, {compat_cpu:.2f} s CPU "
        f"({n / compat_s:,.0f} fixes/s wall)"
    )

    started = time.perf_counter()
    for kept, _, _, tpls, _ in ours:
        classify_modes(tripleg_features(kept, tpls))
    print(f"modes for all triplegs: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    blobs = [encode(f) for f in users]
    size = sum(len(b) for b in blobs)
    print(
        f"storage blobs: {size / n_read:.2f} bytes/fix (raw columns 32), encoded in {time.perf_counter() - started:.2f} s"
    )

    if not args.skip_trackintel:
        ti_s, ti_cpu, sp, tpls, trips = run_trackintel(traces)
        print(
            f"trackintel {ti_version()} same parameters: {ti_s:.2f} s wall, {ti_cpu:.2f} s CPU "
            f"({n / ti_s:,.0f} fixes/s wall, {n / ti_cpu:,.0f} fixes/s CPU)"
        )
        print(
            f"SPEED-UP trackintel / ours, default cleaning: {ti_s / ours_s:.1f}x wall, {ti_cpu / ours_cpu:.1f}x CPU; "
            f"trackintel-compatible cleaning: {ti_s / compat_s:.1f}x wall, {ti_cpu / compat_cpu:.1f}x CPU"
        )
        for name, text in agreement(compat, sp, tpls, trips).items():
            print(f"agreement {name}: {text}")
    print("shipped expectation", shipped_expectations())
    print("shipped expectation", legacy_expectations())

    report = mode_report()
    print(
        f"modes on {report['n']} labelled GeoLife triplegs: accuracy {report['accuracy']:.3f}, "
        f"coarse (active/motorised) {report['coarse_accuracy']:.3f}; trackintel simple-coarse "
        f"{report['trackintel_simple_coarse_accuracy']:.3f}"
    )
    print_confusion(report["confusion"])
    seg = segment_mode_report()
    print(
        f"modes on {seg['n']} labelled intervals as segments: accuracy {seg['accuracy']:.3f}, "
        f"coarse {seg['coarse_accuracy']:.3f}"
    )
    print_confusion(seg["confusion"])
    matching_figures(users, args.min_fixes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
