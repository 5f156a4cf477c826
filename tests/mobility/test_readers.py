"""Trace readers and writers, checked against real data and reference parsers (trackintel, pandas, gpxpy)."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from smartip.core.errors import Invalid
from smartip.mobility.fixes import Fixes, from_columns
from smartip.mobility.readers import format_for, read_trace
from smartip.mobility.readers.batch import read_batch
from smartip.mobility.readers.csv import read_csv
from smartip.mobility.readers.geojson import read_geojson, write_geojson
from smartip.mobility.readers.gpx import read_gpx, write_gpx
from smartip.mobility.readers.plt import read_geolife_user, read_plt

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT.parent / "shared" / "data" / "mobility"
MALFORMED = Path(__file__).resolve().parent / "malformed"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared test data not found at {DATA}")


def _epoch_s(series: object) -> np.ndarray:
    import pandas as pd

    return (pd.to_datetime(series, utc=True) - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


@needs_data
def test_plt_matches_trackintel_reader() -> None:
    ti = pytest.importorskip("trackintel")
    folder = DATA / "trackintel" / "tests" / "data" / "geolife_long"
    pfs, _ = ti.io.read_geolife(str(folder))
    for user in (0, 1):
        ours = read_geolife_user(folder / f"{user:03d}")
        ref = pfs[pfs.user_id == user].sort_values("tracked_at", kind="stable")
        assert len(ours) == len(ref)
        np.testing.assert_array_equal(ours.t_s, _epoch_s(ref.tracked_at))
        np.testing.assert_allclose(ours.lat, ref.geometry.y, atol=1e-9)
        np.testing.assert_allclose(ours.lon, ref.geometry.x, atol=1e-9)
        known = ref.elevation.to_numpy() != -777 * 0.3048
        np.testing.assert_allclose(ours.alt_m[known], ref.elevation.to_numpy()[known], rtol=1e-6)


@needs_data
@pytest.mark.parametrize(
    "name",
    [
        "trackintel/examples/data/geolife_trajectory.csv",
        "trackintel/examples/data/posmo_trajectory.csv",
        "movingpandas-examples/data/liverpool_bus/route14_outbound.csv",
    ],
)
def test_csv_matches_pandas(name: str) -> None:
    pd = pytest.importorskip("pandas")
    path = DATA / name
    ref = pd.read_csv(path, sep=None, engine="python")
    time_col = "tracked_at" if "tracked_at" in ref else "timestamp"
    ref = ref.assign(t=_epoch_s(ref[time_col])).sort_values("t", kind="stable")
    ours = read_csv(path)
    assert len(ours) == len(ref)
    np.testing.assert_allclose(ours.t_s, ref.t, atol=1e-3)
    np.testing.assert_allclose(ours.lat, ref.latitude)
    np.testing.assert_allclose(ours.lon, ref.longitude)
    if "accuracy" in ref:
        np.testing.assert_allclose(ours.accuracy_m, ref.accuracy.astype("float32"))


def _sample() -> Fixes:
    rng = np.random.default_rng(7)
    n = 200
    t = 1_714_557_600 + np.cumsum(rng.integers(1, 10, n)).astype(float)
    return from_columns(
        t,
        47.37 + np.cumsum(rng.normal(0, 1e-4, n)),
        8.54 + np.cumsum(rng.normal(0, 1e-4, n)),
        alt_m=rng.uniform(400, 500, n),
    )


def test_gpx_written_by_us_parses_in_gpxpy_and_back() -> None:
    gpxpy = pytest.importorskip("gpxpy")
    fixes = _sample()
    text = write_gpx(fixes)
    points = [p for trk in gpxpy.parse(text).tracks for seg in trk.segments for p in seg.points]
    assert len(points) == len(fixes)
    np.testing.assert_allclose([p.latitude for p in points], fixes.lat, atol=1e-7)
    np.testing.assert_allclose([p.time.timestamp() for p in points], fixes.t_s)
    back = read_gpx(io.BytesIO(text.encode()))
    np.testing.assert_allclose(back.lat, fixes.lat, atol=1e-7)
    np.testing.assert_allclose(back.t_s, fixes.t_s)
    np.testing.assert_allclose(back.alt_m, fixes.alt_m, atol=0.06)


def test_gpx_written_by_gpxpy_reads_here() -> None:
    import datetime as dt

    pytest.importorskip("gpxpy")
    import gpxpy.gpx

    fixes = _sample()
    doc = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack()
    doc.tracks.append(track)
    for half in (slice(0, 100), slice(100, 200)):  # two segments are read as one trace
        seg = gpxpy.gpx.GPXTrackSegment()
        track.segments.append(seg)
        for t, lat, lon in zip(fixes.t_s[half], fixes.lat[half], fixes.lon[half], strict=True):
            when = dt.datetime.fromtimestamp(t, dt.UTC)
            seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, lon, time=when))
    ours = read_gpx(io.BytesIO(doc.to_xml().encode()))
    np.testing.assert_allclose(ours.t_s, fixes.t_s)
    np.testing.assert_allclose(ours.lat, fixes.lat, atol=1e-9)
    assert gpxpy.parse(doc.to_xml()).get_points_no() == len(ours)


def test_geojson_round_trip_and_points() -> None:
    fixes = _sample()
    back = read_geojson(io.BytesIO(json.dumps(write_geojson(fixes)).encode()))
    np.testing.assert_allclose(back.t_s, fixes.t_s)
    np.testing.assert_allclose(back.lon, fixes.lon, atol=1e-7)
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"time": int(t * 1000), "accuracy": 8},
            }
            for t, lat, lon in zip(fixes.t_s[::-1], fixes.lat[::-1], fixes.lon[::-1], strict=True)
        ],
    }
    got = read_geojson(io.BytesIO(json.dumps(points).encode()))
    np.testing.assert_allclose(got.t_s, fixes.t_s)  # reversed input comes back sorted
    assert np.all(got.accuracy_m == 8)


def test_batch_aliases_and_orders() -> None:
    fixes = _sample()
    items = [
        {"timestamp": int(t * 1000), "latitude": la, "longitude": lo, "horizontalAccuracy": 4.5}
        for t, la, lo in zip(fixes.t_s, fixes.lat, fixes.lon, strict=True)
    ]
    items[3], items[4] = items[4], items[3]
    got = read_batch({"locations": items})
    np.testing.assert_allclose(got.t_s, fixes.t_s)
    np.testing.assert_allclose(got.lat, fixes.lat)
    with pytest.raises(Invalid, match="time goes backwards at fix 4"):
        read_batch({"locations": items}, on_backwards="reject")


MALFORMED_EXPECT = {
    "broken.gpx": "broken XML at line",
    "no_time.gpx": "missing <time> at track point 2",
    "entities.gpx": "DTD or entities is refused",
    "external_entity.gpx": "DTD or entities is refused",
    "not_gpx.gpx": "not a GPX document",
    "no_points.gpx": "no track points",
    "bad_lat.gpx": "bad lat 'north' at track point 2",
    "out_of_range.csv": "lat 95.0 out of range",
    "wrong_columns.csv": r"lacks column\(s\) lat, lon, time",
    "missing_time.csv": "missing time at line 3",
    "bad_time.csv": "bad time 'yesterday' at line 3",
    "short_row.csv": "line 3 has 2 fields",
    "empty.csv": "empty CSV",
    "header_only.csv": "no rows",
    "broken.geojson": "broken JSON",
    "missing_time.geojson": "missing time at feature 2",
    "coordtimes_mismatch.geojson": "coordTimes does not match",
    "batch_missing_time.json": r"missing time at fixes\[1\]",
    "batch_not_object.json": "must be an object with a 'fixes' list",
    "truncated_line.plt": "expected 7 comma-separated fields at line 8",
}


@pytest.mark.parametrize("name", sorted(MALFORMED_EXPECT))
def test_malformed_corpus_gives_clear_errors(name: str) -> None:
    with pytest.raises(Invalid, match=MALFORMED_EXPECT[name]):
        read_trace(MALFORMED / name)


def test_every_malformed_file_is_covered() -> None:
    assert {p.name for p in MALFORMED.iterdir()} - set(MALFORMED_EXPECT) == {"backwards.csv"}


def test_time_going_backwards_is_sorted_or_rejected() -> None:
    path = MALFORMED / "backwards.csv"
    got = read_trace(path)
    assert np.all(np.diff(got.t_s) > 0)
    np.testing.assert_allclose(got.lat, [47.1002, 47.1, 47.1001])
    with pytest.raises(Invalid, match="time goes backwards at fix 2"):
        read_trace(path, on_backwards="reject")


@needs_data
def test_real_route_without_times_is_refused() -> None:
    with pytest.raises(Invalid, match="missing <time> at track point 1"):
        read_trace(DATA / "mappymatch" / "tests" / "test_assets" / "test_trace.gpx")


def test_format_for_suffixes() -> None:
    assert format_for("a.GPX") == "gpx" and format_for("b.json") == "batch"
    with pytest.raises(Invalid, match="unknown trace format"):
        format_for("c.kml")


def test_json_over_size_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.geojson"
    big.write_bytes(b'{"type": "FeatureCollection", "features": [' + b" " * 50_000_001 + b"]}")
    with pytest.raises(Invalid, match="file too large"):
        read_trace(big)


@pytest.mark.slow
def test_100_mb_csv_streams_with_bounded_memory(tmp_path: Path) -> None:
    """A 100 MB CSV is streamed: peak Python memory stays far below the file size (typed columns only)."""
    path = tmp_path / "big.csv"
    filler = "x" * 400  # a wide extra column: many bytes per fix, as in real exports with notes
    rows_per_block = 10_000
    with path.open("w") as fh:
        fh.write("time,lat,lon,accuracy,note\n")
        t = 1_714_557_600
        while fh.tell() < 100_000_000:
            block = [
                f"{t + i},{47 + i * 1e-7:.7f},{8 + i * 1e-7:.7f},5,{filler}\n" for i in range(rows_per_block)
            ]
            fh.write("".join(block))
            t += rows_per_block
    size = path.stat().st_size
    assert size >= 100_000_000
    tracemalloc.start()
    fixes = read_csv(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(fixes) > 200_000
    assert np.all(np.diff(fixes.t_s) == 1)
    assert peak < size * 0.6, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_plt_stream_reads_from_bytes() -> None:
    text = (MALFORMED / "truncated_line.plt").read_text().splitlines()[:7]
    got = read_plt(io.BytesIO(("\n".join(text) + "\n").encode()))
    assert len(got) == 1 and got.lat[0] == 39.984702 and np.isclose(got.alt_m[0], 492 * 0.3048)


def test_gpx_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    """Points are parsed one by one and dropped from the tree: memory follows the fixes, not the XML."""
    path = tmp_path / "big.gpx"
    note = "x" * 200
    with path.open("w") as fh:
        fh.write(
            '<?xml version="1.0"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n'
        )
        for i in range(10_000):
            fh.write(
                f'<trkpt lat="{47 + i * 1e-6:.7f}" lon="8.5"><ele>400.0</ele>'
                f"<time>2024-05-01T{10 + i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z</time>"
                f"<extensions><note>{note}</note></extensions></trkpt>\n"
            )
        fh.write("</trkseg></trk></gpx>\n")
    size = path.stat().st_size
    tracemalloc.start()
    fixes = read_gpx(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(fixes) == 10_000 and np.all(np.diff(fixes.t_s) == 1)
    assert peak < size * 0.3, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_gpx_10_without_namespace_route_points_and_accuracy() -> None:
    text = b"""<?xml version="1.0"?>
<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0">
<rte><rtept lat="51.05" lon="3.72"><time>2024-05-01T12:00:00+02:00</time></rtept></rte>
<trk><trkseg><trkpt lat="51.0501" lon="3.7201"><time>2024-05-01T10:00:05.500Z</time>
<extensions><my:accuracy xmlns:my="urn:x">7.5</my:accuracy></extensions></trkpt></trkseg></trk></gpx>"""
    got = read_gpx(io.BytesIO(text))
    np.testing.assert_allclose(got.t_s - got.t_s[0], [0.0, 5.5])
    assert np.isnan(got.accuracy_m[0]) and got.accuracy_m[1] == 7.5
    plain = read_gpx(io.BytesIO(text.replace(b' xmlns="http://www.topografix.com/GPX/1/0"', b"")))
    np.testing.assert_array_equal(plain.t_s, got.t_s)
